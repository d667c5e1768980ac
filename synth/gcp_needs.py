"""The one table of what each GCP resource type needs: the API it calls and the deployer's role.

Pure data, read by constructs/gcp/apis.py (which enables the APIs and orders every resource
after its own) and by the GCP DEPLOY policies (which judge the synthesized JSON against it).
Sources: https://cloud.google.com/service-usage/docs/enable-disable (an API must be enabled
before any call to it), https://cloud.google.com/iam/docs/roles-permissions (the roles).
"""

from __future__ import annotations

from dataclasses import dataclass

IAM_API = "iam.googleapis.com"
RESOURCE_MANAGER_API = "cloudresourcemanager.googleapis.com"


@dataclass(frozen=True)
class Needs:
    """What creating one resource type takes: the APIs it calls and the deployer role."""

    apis: tuple[str, ...]
    role: str


def _row(api: str | tuple[str, ...], role: str) -> Needs:
    return Needs((api,) if isinstance(api, str) else api, role)


_COMPUTE = _row("compute.googleapis.com", "roles/compute.admin")
_KMS = _row("cloudkms.googleapis.com", "roles/cloudkms.admin")
_SQL = _row("sqladmin.googleapis.com", "roles/cloudsql.admin")
_STORAGE = _row("storage.googleapis.com", "roles/storage.admin")
_SECRETS = _row("secretmanager.googleapis.com", "roles/secretmanager.admin")
_PUBSUB = _row("pubsub.googleapis.com", "roles/pubsub.admin")
_RUN = _row("run.googleapis.com", "roles/run.admin")
_MONITORING = _row("monitoring.googleapis.com", "roles/monitoring.admin")
_LOGGING = _row("logging.googleapis.com", "roles/logging.admin")
_DNS = _row("dns.googleapis.com", "roles/dns.admin")
# EDGE-1: Certificate Manager (DNS authorizations, certificates, the certificate map and its
# entries, and the map's use by the HTTPS proxy: certificatemanager.certmaps.use). Certificate
# Manager Editor cannot delete any of them (no certs.delete, dnsauthorizations.delete,
# certmaps.delete or certmapentries.delete), so a host change, whose create_before_destroy
# certificate replaces the old one, and every destroy would fail with 403; Certificate Manager
# Admin (`certificatemanager.*`) holds create, use and delete
# (https://cloud.google.com/iam/docs/roles-permissions/certificatemanager,
# https://cloud.google.com/certificate-manager/docs/permissions).
_CERTIFICATES = _row("certificatemanager.googleapis.com", "roles/certificatemanager.admin")

# Entity type (`data.<type>` for data sources) -> what it needs. Roles are the predefined
# roles holding the create/setIamPolicy permissions (https://cloud.google.com/iam/docs/
# roles-permissions); the budget's role is on the billing account, not the project.
NEEDS: dict[str, Needs] = {
    "data.google_project": _row(RESOURCE_MANAGER_API, "roles/browser"),
    "google_project_iam_member": _row(
        RESOURCE_MANAGER_API, "roles/resourcemanager.projectIamAdmin"
    ),
    "google_project_service": _row((), "roles/serviceusage.serviceUsageAdmin"),
    "google_service_account": _row(IAM_API, "roles/iam.serviceAccountAdmin"),
    # iam.roles.create is in Role Administrator (https://cloud.google.com/iam/docs/
    # roles-permissions/iam#iam.roleAdmin).
    "google_project_iam_custom_role": _row(IAM_API, "roles/iam.roleAdmin"),
    # iam.serviceAccounts.setIamPolicy is in Service Account Admin
    # (https://cloud.google.com/iam/docs/roles-permissions/iam#iam.serviceAccountAdmin).
    "google_service_account_iam_member": _row(IAM_API, "roles/iam.serviceAccountAdmin"),
    "google_kms_key_ring": _KMS,
    "google_kms_crypto_key": _KMS,
    "google_kms_crypto_key_iam_member": _KMS,
    "google_compute_network": _COMPUTE,
    "google_compute_subnetwork": _COMPUTE,
    "google_compute_global_address": _COMPUTE,
    "google_compute_address": _COMPUTE,
    "google_compute_router": _COMPUTE,
    "google_compute_router_nat": _COMPUTE,
    "google_compute_firewall": _COMPUTE,
    "google_compute_security_policy": _COMPUTE,
    "google_compute_region_network_endpoint_group": _COMPUTE,
    "google_compute_backend_service": _COMPUTE,
    "google_compute_url_map": _COMPUTE,
    "google_compute_ssl_policy": _COMPUTE,
    "google_compute_managed_ssl_certificate": _COMPUTE,
    "google_compute_target_https_proxy": _COMPUTE,
    "google_compute_target_http_proxy": _COMPUTE,
    "google_compute_global_forwarding_rule": _COMPUTE,
    # DEPLOY-5: the domain's A record in the operator's zone (gcp.dns_zone); DNS Administrator
    # holds dns.changes.create and dns.managedZones.get
    # (https://cloud.google.com/iam/docs/roles-permissions/dns#dns.admin).
    "data.google_dns_managed_zone": _DNS,
    "google_dns_record_set": _DNS,
    # DNS-1: the environment's own zone and the keys of its DNSSEC signing (dns.admin holds
    # dns.managedZones.create and dns.dnsKeys.list).
    "google_dns_managed_zone": _DNS,
    "data.google_dns_keys": _DNS,
    "google_certificate_manager_dns_authorization": _CERTIFICATES,
    "google_certificate_manager_certificate": _CERTIFICATES,
    "google_certificate_manager_certificate_map": _CERTIFICATES,
    "google_certificate_manager_certificate_map_entry": _CERTIFICATES,
    "google_service_networking_connection": _row(
        ("servicenetworking.googleapis.com", "compute.googleapis.com"),
        "roles/servicenetworking.networksAdmin",
    ),
    "google_sql_database_instance": _SQL,
    "google_sql_database": _SQL,
    "google_sql_user": _SQL,
    "google_storage_bucket": _STORAGE,
    "google_storage_bucket_iam_member": _STORAGE,
    "data.google_storage_project_service_account": _STORAGE,
    "google_secret_manager_secret": _SECRETS,
    "google_secret_manager_secret_version": _SECRETS,
    "google_secret_manager_secret_iam_member": _SECRETS,
    "google_pubsub_topic": _PUBSUB,
    "google_pubsub_topic_iam_member": _PUBSUB,
    "google_redis_instance": _row("redis.googleapis.com", "roles/redis.admin"),
    "google_artifact_registry_repository": _row(
        # `vulnerability_scanning_config = INHERITED` scans only with Container Scanning on.
        ("artifactregistry.googleapis.com", "containerscanning.googleapis.com"),
        "roles/artifactregistry.admin",
    ),
    "google_cloud_run_v2_service": _RUN,
    "google_cloud_run_v2_job": _RUN,
    "google_cloud_run_v2_job_iam_member": _RUN,
    "google_cloud_run_v2_service_iam_member": _RUN,
    "google_cloud_scheduler_job": _row(
        "cloudscheduler.googleapis.com", "roles/cloudscheduler.admin"
    ),
    "google_logging_project_bucket_config": _LOGGING,
    "google_logging_metric": _LOGGING,
    "google_monitoring_notification_channel": _MONITORING,
    "google_monitoring_alert_policy": _MONITORING,
    "google_monitoring_uptime_check_config": _MONITORING,
    "google_monitoring_dashboard": _MONITORING,
    "google_billing_budget": _row("billingbudgets.googleapis.com", "roles/billing.costsManager"),
    "google_identity_platform_config": _row(
        "identitytoolkit.googleapis.com", "roles/identityplatform.admin"
    ),
    # gcloud steps (constructs/gcp/steps.py): their APIs and role are in their own input.
    "terraform_data": _row((), "roles/viewer"),
    # IAM propagation waits (constructs/gcp/propagation.py): local to Terraform, no API.
    "time_sleep": _row((), "roles/viewer"),
}  # fmt: skip

# DEPLOY-3: the roles the deploy runner's identity holds on the project (and, for the budget,
# `roles/billing.costsManager` on the billing account). `roles/iam.serviceAccountUser` lets
# it deploy Cloud Run and jobs that run as the app's service accounts.
DEPLOYER_ROLES = frozenset(
    {
        "roles/artifactregistry.admin",
        "roles/billing.costsManager",  # on the billing account
        "roles/browser",
        "roles/certificatemanager.admin",
        "roles/cloudkms.admin",
        "roles/cloudscheduler.admin",
        "roles/cloudsql.admin",
        "roles/compute.admin",
        "roles/dns.admin",
        "roles/iam.roleAdmin",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.serviceAccountUser",
        "roles/identityplatform.admin",
        "roles/logging.admin",
        "roles/monitoring.admin",
        "roles/pubsub.admin",
        "roles/redis.admin",
        "roles/resourcemanager.projectIamAdmin",
        "roles/run.admin",
        "roles/secretmanager.admin",
        "roles/servicenetworking.networksAdmin",
        "roles/serviceusage.serviceUsageAdmin",
        "roles/storage.admin",
        "roles/viewer",
    }
)

# Service agent email domain (after `service-<project number>@`) -> the API that owns it
# (https://cloud.google.com/iam/docs/service-agents).
AGENT_DOMAINS = {
    "gcp-sa-cloud-sql.iam.gserviceaccount.com": "sqladmin.googleapis.com",
    "cloud-redis.iam.gserviceaccount.com": "redis.googleapis.com",
    "gs-project-accounts.iam.gserviceaccount.com": "storage.googleapis.com",
    "gcp-sa-secretmanager.iam.gserviceaccount.com": "secretmanager.googleapis.com",
    "gcp-sa-artifactregistry.iam.gserviceaccount.com": "artifactregistry.googleapis.com",
    "gcp-sa-pubsub.iam.gserviceaccount.com": "pubsub.googleapis.com",
    # Private service access: Service Networking's agent lists and uses the reserved ranges
    # (roles/servicenetworking.serviceAgent); without it the connection fails "Error code 7,
    # Required 'compute.globalAddresses.list' permission" (terraform-provider-google#14720,
    # #11195).
    "service-networking.iam.gserviceaccount.com": "servicenetworking.googleapis.com",
}
# The role each agent needs on the project before its API's resources work (it is granted
# automatically only when the API is enabled interactively, and not reliably then:
# terraform-provider-google#14720).
AGENT_PROJECT_ROLES = {"servicenetworking.googleapis.com": "roles/servicenetworking.serviceAgent"}
# CMEK-encrypted resource type -> the API whose agent encrypts it.
CMEK_AGENT_API = {
    "google_sql_database_instance": "sqladmin.googleapis.com",
    "google_redis_instance": "redis.googleapis.com",
    "google_storage_bucket": "storage.googleapis.com",
    "google_secret_manager_secret": "secretmanager.googleapis.com",
    "google_artifact_registry_repository": "artifactregistry.googleapis.com",
    "google_pubsub_topic": "pubsub.googleapis.com",
}
# Cloud KMS multi- and dual-regions (https://cloud.google.com/kms/docs/locations); any GCP
# region is valid too.
KMS_MULTI_REGIONS = frozenset({"global", "europe", "us", "asia", "eur4", "nam4"})
# Cloud Storage multi- and predefined dual-regions (https://cloud.google.com/storage/docs/
# locations); any region (upper case) is valid too.
STORAGE_MULTI_REGIONS = frozenset({"EU", "US", "ASIA", "EUR4", "NAM4", "ASIA1"})
STORAGE_TO_KMS = {"EU": "europe", "US": "us", "ASIA": "asia", "EUR4": "eur4", "NAM4": "nam4"}
