"""The one table of what each GCP resource type needs: the API it calls and the deployer's role.

`enable_apis(stack)` runs last in each GCP stack: it collects the resource and data-source
types the stack created, enables every API they use exactly once (`google_project_service`,
`disable_on_destroy = false` so destroying one stack never cuts the API from under another),
and adds each resource's API to its `depends_on` (DEPLOY-2). In a fresh project only the
Service Usage API is on; every other call fails with SERVICE_DISABLED until its API is
enabled, and enabling is eventually consistent, so the ordering must be explicit
(https://cloud.google.com/service-usage/docs/enable-disable; the provider's own note on
`google_project_service`). A type missing from the table fails synthesis, so a new resource
cannot ship without naming its API and role.

The same rows give the deploy runner's roles (DEPLOY-3): `DEPLOYER_ROLES` is the documented
set (README, "GCP: before the first apply"); CKV_GW_DEPLOY_46 fails a stack with a type whose
role is outside it. The `terraform_data` steps run `gcloud` on the runner (constructs/gcp/
steps.py) and name their own role in their input.

Satisfies: DEPLOY-2, DEPLOY-3
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformDataSource, TerraformResource, TerraformStack
from cdktf_cdktf_provider_google.project_service import ProjectService
from constructs import Construct

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

# Entity type (`data.<type>` for data sources) -> what it needs. Roles are the predefined
# roles holding the create/setIamPolicy permissions (https://cloud.google.com/iam/docs/
# roles-permissions); the budget's role is on the billing account, not the project.
NEEDS: dict[str, Needs] = {
    "data.google_project": _row(RESOURCE_MANAGER_API, "roles/browser"),
    "google_project_iam_member": _row(RESOURCE_MANAGER_API, "roles/resourcemanager.projectIamAdmin"),
    "google_project_service": _row((), "roles/serviceusage.serviceUsageAdmin"),
    "google_service_account": _row(IAM_API, "roles/iam.serviceAccountAdmin"),
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
}  # fmt: skip

# DEPLOY-3: the roles the deploy runner's identity holds on the project (and, for the budget,
# `roles/billing.costsManager` on the billing account). `roles/iam.serviceAccountUser` lets
# it deploy Cloud Run and jobs that run as the app's service accounts.
DEPLOYER_ROLES = frozenset(
    {needs.role for needs in NEEDS.values()} | {"roles/iam.serviceAccountUser"}
)


def entity_type(entity: TerraformResource | TerraformDataSource) -> str:
    prefix = "data." if isinstance(entity, TerraformDataSource) else ""
    return prefix + entity.terraform_resource_type


def needs_of(rtype: str) -> Needs:
    try:
        return NEEDS[rtype]
    except KeyError:
        raise ValueError(
            f"constructs/gcp/apis.py: {rtype} has no row in NEEDS (its API and deployer role)"
        ) from None


def address(entity: TerraformResource | TerraformDataSource) -> str:
    """The `depends_on` form of an entity: `type.logical_id` (`data.` for data sources)."""
    return f"{entity_type(entity)}.{entity.friendly_unique_id}"


def enable_apis(stack: TerraformStack, extra: tuple[str, ...] = ()) -> dict[str, ProjectService]:
    """Enable each API the stack's entities use once, and make every entity depend on its
    APIs. `extra` are APIs that steps call (e.g. `iam` for service identities)."""
    entities = [
        c for c in stack.node.find_all() if isinstance(c, TerraformResource | TerraformDataSource)
    ]
    wanted = {
        api
        for e in entities
        for api in needs_of(entity_type(e)).apis + tuple(getattr(e, "step_apis", ()))
    } | set(extra)
    # Identity and Access Management and Resource Manager back every IAM grant and the
    # provider's project lookups; they are off in a fresh project.
    wanted |= {IAM_API, RESOURCE_MANAGER_API}
    scope = Construct(stack, "apis")
    services = {
        api: ProjectService(scope, api.split(".")[0], service=api, disable_on_destroy=False)
        for api in sorted(wanted)
    }
    for entity in entities:
        apis = needs_of(entity_type(entity)).apis + tuple(getattr(entity, "step_apis", ()))
        if not apis:
            continue
        current = list(entity.depends_on or [])
        entity.depends_on = current + [
            f"google_project_service.{services[api].friendly_unique_id}" for api in apis
        ]
    return services
