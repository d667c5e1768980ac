"""Builds the table of cloud name limits, one row per resource type and name attribute (DEPLOY-1).

Each `NameRule` states the length bounds and the character rule (a regular expression the
whole value must match) the cloud's API enforces, with the document that says so. The
DEPLOY-1 policy (`policies/checks/deploy/deploy_names.py`) checks every stack against this
table, and `tests/stacks/test_longest_names.py` synthesizes every cloud at the schema's
longest app and environment names (`synth.config.LONGEST_NAMES`) against it.

A name that interpolates a value known only at apply time is measured with that value at its
longest, where `REFERENCE_LENGTHS` knows it (an AWS account ID is always 12 digits); any
other reference makes the length UNKNOWN, never a pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from synth.graph import entities


@dataclass(frozen=True)
class NameRule:
    """`resource_type.attribute` must be `min_length`..`max_length` characters and match
    `pattern` whole. `source` is the cloud document (or provider validation) behind it."""

    resource_type: str
    attribute: str
    max_length: int
    pattern: str
    source: str
    min_length: int = 1


@dataclass(frozen=True)
class NameProblem:
    """One name that breaks its rule (`unknown`: its length cannot be known offline)."""

    address: str
    attribute: str
    value: str
    message: str
    unknown: bool = False


# The attribute a reference ends in -> the longest value it can have, and a sample of that
# length made of characters every pattern here allows.
REFERENCE_LENGTHS: dict[str, str] = {
    "account_id": "0" * 12,  # AWS account IDs are 12 digits (AWS account management guide)
}

_AWS_NAMING = "https://docs.aws.amazon.com/"
# Lowercase letters, digits and single hyphens, starting with a letter, not ending in '-'.
_DNS_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
_ALNUM_HYPHEN = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"

# Load balancer and target group names must not begin with "internal-" (CreateLoadBalancer,
# CreateTargetGroup: "must not begin with internal-").
_ELB_NAME = r"(?!internal-)" + _ALNUM_HYPHEN
# S3 reserves the prefixes xn--, sthree- (sthree-configurator included) and amzn-s3-demo-, and
# the suffixes -s3alias, --ol-s3, .mrap and --x-s3 (bucketnamingrules.html).
_S3_BUCKET = (
    r"(?!xn--|sthree-|amzn-s3-demo-)[a-z0-9][a-z0-9.-]*[a-z0-9]"
    r"(?<!-s3alias)(?<!--ol-s3)(?<!\.mrap)(?<!--x-s3)"
)
# ElastiCache user and user-group IDs: a letter, then letters, digits and single hyphens, not
# ending in a hyphen, at most 40 (CreateUser / CreateUserGroup pattern [a-zA-Z][a-zA-Z0-9\-]*;
# the 40-character, no "--" and no trailing hyphen bounds as for every ElastiCache identifier).
_ELASTICACHE_ID = r"[A-Za-z](?!.*--)([A-Za-z0-9-]*[A-Za-z0-9])?"

AWS_RULES: tuple[NameRule, ...] = (
    NameRule("aws_lb", "name", 32, _ELB_NAME,
             f"{_AWS_NAMING}elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html"),
    NameRule("aws_lb_target_group", "name", 32, _ELB_NAME,
             f"{_AWS_NAMING}elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html"),
    NameRule("aws_s3_bucket", "bucket", 63, _S3_BUCKET,
             f"{_AWS_NAMING}AmazonS3/latest/userguide/bucketnamingrules.html", min_length=3),
    NameRule("aws_elasticache_user", "user_id", 40, _ELASTICACHE_ID,
             f"{_AWS_NAMING}AmazonElastiCache/latest/APIReference/API_CreateUser.html"),
    # The API documents only a minimum length for UserName; the stacks use the user ID as the
    # name, so the row holds it to the ID's rule (stricter: it can refuse, never pass, a name).
    NameRule("aws_elasticache_user", "user_name", 40, _ELASTICACHE_ID,
             f"{_AWS_NAMING}AmazonElastiCache/latest/APIReference/API_CreateUser.html"),
    NameRule("aws_elasticache_user_group", "user_group_id", 40, _ELASTICACHE_ID,
             f"{_AWS_NAMING}AmazonElastiCache/latest/APIReference/API_CreateUserGroup.html"),
    NameRule("aws_ecs_task_definition", "family", 255, r"[A-Za-z0-9_-]+",
             f"{_AWS_NAMING}AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html"),
    NameRule("aws_cloudwatch_dashboard", "dashboard_name", 255, r"[A-Za-z0-9_-]+",
             f"{_AWS_NAMING}AmazonCloudWatch/latest/APIReference/API_PutDashboard.html"),
    NameRule("aws_cloudwatch_metric_alarm", "alarm_name", 255, r"[\x20-\x7E]+",
             f"{_AWS_NAMING}AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"),
    NameRule("aws_cloudwatch_contributor_insight_rule", "rule_name", 128, r"[\x20-\x7E]+",
             f"{_AWS_NAMING}AmazonCloudWatch/latest/APIReference/API_PutInsightRule.html"),
    NameRule("aws_cloudwatch_log_metric_filter", "name", 512, r"[^:*]+",
             f"{_AWS_NAMING}AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html"),
    NameRule("aws_appautoscaling_policy", "name", 256, r"[\x20-\x7E]+",
             f"{_AWS_NAMING}autoscaling/application/APIReference/API_PutScalingPolicy.html"),
    NameRule("aws_lambda_permission", "statement_id", 100, r"[A-Za-z0-9_-]+",
             f"{_AWS_NAMING}lambda/latest/api/API_AddPermission.html"),
    NameRule("aws_iam_role", "name", 64, r"[\w+=,.@-]+",
             f"{_AWS_NAMING}IAM/latest/APIReference/API_CreateRole.html"),
    NameRule("aws_iam_role_policy", "name", 128, r"[\w+=,.@-]+",
             f"{_AWS_NAMING}IAM/latest/APIReference/API_PutRolePolicy.html"),
    NameRule("aws_lambda_function", "function_name", 64, r"[A-Za-z0-9_-]+",
             f"{_AWS_NAMING}lambda/latest/api/API_CreateFunction.html"),
    NameRule("aws_db_instance", "identifier", 63, r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
             f"{_AWS_NAMING}AmazonRDS/latest/APIReference/API_CreateDBInstance.html"),
    NameRule("aws_db_proxy", "name", 63, r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
             f"{_AWS_NAMING}AmazonRDS/latest/APIReference/API_CreateDBProxy.html"),
    NameRule("aws_db_parameter_group", "name", 255, r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
             f"{_AWS_NAMING}AmazonRDS/latest/APIReference/API_CreateDBParameterGroup.html"),
    NameRule("aws_db_subnet_group", "name", 255, r"[a-z0-9 ._-]+",
             f"{_AWS_NAMING}AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html"),
    NameRule("aws_elasticache_replication_group", "replication_group_id", 40,
             r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
             f"{_AWS_NAMING}AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html"),
    NameRule("aws_elasticache_parameter_group", "name", 255, r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
             f"{_AWS_NAMING}AmazonElastiCache/latest/APIReference/API_CreateCacheParameterGroup.html"),
    NameRule("aws_elasticache_subnet_group", "name", 255, r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
             f"{_AWS_NAMING}AmazonElastiCache/latest/APIReference/API_CreateCacheSubnetGroup.html"),
    NameRule("aws_ecr_repository", "name", 256,
             r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
             f"{_AWS_NAMING}AmazonECR/latest/APIReference/API_CreateRepository.html", min_length=2),
    NameRule("aws_ecs_cluster", "name", 255, r"[A-Za-z0-9_-]+",
             f"{_AWS_NAMING}AmazonECS/latest/APIReference/API_CreateCluster.html"),
    NameRule("aws_ecs_service", "name", 255, r"[A-Za-z0-9_-]+",
             f"{_AWS_NAMING}AmazonECS/latest/APIReference/API_CreateService.html"),
    NameRule("aws_cloudwatch_log_group", "name", 512, r"[.\-_/#A-Za-z0-9]+",
             f"{_AWS_NAMING}AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"),
    NameRule("aws_kms_alias", "name", 256, r"alias/(?!aws/)[A-Za-z0-9/_-]+",
             f"{_AWS_NAMING}kms/latest/APIReference/API_CreateAlias.html"),
    # "Name can include numbers, letters, and underscores (_)", 3 to 128 characters.
    NameRule("aws_route53_key_signing_key", "name", 128, r"[A-Za-z0-9_]+",
             f"{_AWS_NAMING}Route53/latest/APIReference/API_CreateKeySigningKey.html",
             min_length=3),
    NameRule("aws_secretsmanager_secret", "name", 512, r"[A-Za-z0-9/_+=.@-]+",
             f"{_AWS_NAMING}secretsmanager/latest/apireference/API_CreateSecret.html"),
    NameRule("aws_security_group", "name", 255, r"(?!sg-)[A-Za-z0-9 ._:/()#,@\[\]+=&;{}!$*-]+",
             f"{_AWS_NAMING}AWSEC2/latest/APIReference/API_CreateSecurityGroup.html"),
    NameRule("aws_sns_topic", "name", 256, r"[A-Za-z0-9_-]+",
             f"{_AWS_NAMING}sns/latest/api/API_CreateTopic.html"),
    NameRule("aws_wafv2_web_acl", "name", 128, r"[\w-]+",
             f"{_AWS_NAMING}waf/latest/APIReference/API_CreateWebACL.html"),
    NameRule("aws_budgets_budget", "name", 100, r"[^:\\]+",
             f"{_AWS_NAMING}aws-cost-management/latest/APIReference/API_budgets_Budget.html"),
)  # fmt: skip

_GCP_RESOURCE_NAMES = "https://cloud.google.com/compute/docs/naming-resources"
_GCP_RFC1035 = [
    "google_compute_address", "google_compute_backend_service", "google_compute_firewall",
    "google_compute_global_address", "google_compute_global_forwarding_rule",
    "google_compute_managed_ssl_certificate", "google_compute_network",
    "google_compute_region_network_endpoint_group", "google_compute_router",
    "google_compute_router_nat", "google_compute_security_policy", "google_compute_ssl_policy",
    "google_compute_subnetwork", "google_compute_target_http_proxy",
    "google_compute_target_https_proxy", "google_compute_url_map",
]  # fmt: skip

GCP_RULES: tuple[NameRule, ...] = (
    *(NameRule(rtype, "name", 63, _DNS_LABEL, _GCP_RESOURCE_NAMES) for rtype in _GCP_RFC1035),
    NameRule("google_service_account", "account_id", 30, r"[a-z][-a-z0-9]*[a-z0-9]",
             "https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/create",
             min_length=6),
    NameRule("google_storage_bucket", "name", 63, r"(?!goog)[a-z0-9][a-z0-9_.-]*[a-z0-9]",
             "https://cloud.google.com/storage/docs/buckets#naming", min_length=3),
    NameRule("google_kms_key_ring", "name", 63, r"[A-Za-z0-9_-]+",
             "https://cloud.google.com/kms/docs/create-key-ring"),
    NameRule("google_kms_crypto_key", "name", 63, r"[A-Za-z0-9_-]+",
             "https://cloud.google.com/kms/docs/create-key"),
    NameRule("google_redis_instance", "name", 40, _DNS_LABEL,
             "https://cloud.google.com/memorystore/docs/redis/reference/rest/v1/projects.locations.instances/create"),
    NameRule("google_secret_manager_secret", "secret_id", 255, r"[A-Za-z0-9_-]+",
             "https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets/create"),
    NameRule("google_pubsub_topic", "name", 255, r"(?!goog)[A-Za-z][A-Za-z0-9._~+%-]*",
             "https://cloud.google.com/pubsub/docs/create-topic#resource_names", min_length=3),
    NameRule("google_artifact_registry_repository", "repository_id", 63, _DNS_LABEL,
             "https://cloud.google.com/artifact-registry/docs/repositories/create-repos"),
    # Jobs have no revision suffix: a DNS label of at most 63 ("cannot be longer than 63
    # characters", gcloud run jobs create).
    NameRule("google_cloud_run_v2_job", "name", 63, _DNS_LABEL,
             "https://cloud.google.com/run/docs/create-jobs"),
    NameRule("google_cloud_scheduler_job", "name", 500, r"[A-Za-z0-9_-]+",
             "https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#Job"),
    NameRule("google_cloud_run_v2_service", "name", 49, _DNS_LABEL,
             "https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/create"),
    # "project-ID:instance-ID" is at most 98 characters; project IDs are at most 30.
    NameRule("google_sql_database_instance", "name", 98 - 30 - 1, _DNS_LABEL,
             "https://cloud.google.com/sql/docs/postgres/create-instance"),
    # A PostgreSQL role name is an identifier, at most 63 bytes (NAMEDATALEN - 1); an IAM
    # service account user is `<account ID>@<project>.iam`, and Cloud SQL refuses longer
    # names rather than truncate (terraform-provider-google#15520;
    # https://cloud.google.com/sql/docs/postgres/add-manage-iam-users).
    NameRule("google_sql_user", "name", 63, r"[a-z0-9][a-z0-9_.@-]*",
             "https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS"),
    # DNS-1: "1-63 characters ... lowercase letters, digits or dashes", starting with a letter.
    NameRule("google_dns_managed_zone", "name", 63, _DNS_LABEL,
             "https://cloud.google.com/dns/docs/reference/rest/v1/managedZones"),
    NameRule("google_project_iam_custom_role", "role_id", 64, r"[a-zA-Z0-9_.]+",
             "https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/create",
             min_length=3),
    # EDGE-1, Certificate Manager: the provider's pages say "1-64 characters long, and match
    # the regular expression [a-zA-Z][a-zA-Z0-9_-]*"; the API's resource IDs are
    # `[a-z0-9-]{1,63}` (CertificateManagerClient reference,
    # https://cloud.google.com/dotnet/docs/reference/Google.Cloud.CertificateManager.V1/latest).
    # Names are held to both: a lowercase letter first, then lowercase letters, digits and
    # dashes, at most 63. Maps and map entries are IDs of the same API.
    NameRule("google_certificate_manager_certificate", "name", 63, r"[a-z][a-z0-9-]*",
             "https://registry.terraform.io/providers/hashicorp/google/6.50.0/docs/resources/certificate_manager_certificate#name"),
    NameRule("google_certificate_manager_dns_authorization", "name", 63, r"[a-z][a-z0-9-]*",
             "https://registry.terraform.io/providers/hashicorp/google/6.50.0/docs/resources/certificate_manager_dns_authorization#name"),
    NameRule("google_certificate_manager_certificate_map", "name", 63, r"[a-z][a-z0-9-]*",
             "https://cloud.google.com/certificate-manager/docs/reference/rest/v1/projects.locations.certificateMaps/create"),
    NameRule("google_certificate_manager_certificate_map_entry", "name", 63, r"[a-z][a-z0-9-]*",
             "https://cloud.google.com/certificate-manager/docs/reference/rest/v1/projects.locations.certificateMaps.certificateMapEntries/create"),
)  # fmt: skip

_AZURE_NAMING = (
    "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules"
)
_FRONT_DOOR_NAMING = "https://github.com/hashicorp/terraform-provider-azurerm (cdn/validate)"
# Letters, digits, '_', '.', '-'; starts with a letter or digit, ends with one or '_'.
_AZURE_NETWORK = r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?"

AZURE_RULES: tuple[NameRule, ...] = (
    NameRule("azurerm_resource_group", "name", 90, r"[\w().-]*[\w()-]", _AZURE_NAMING),
    NameRule("azurerm_storage_account", "name", 24, r"[a-z0-9]+", _AZURE_NAMING, min_length=3),
    NameRule("azurerm_storage_container", "name", 63, r"[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]",
             _AZURE_NAMING, min_length=3),
    NameRule("azurerm_storage_queue", "name", 63, r"[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]",
             _AZURE_NAMING, min_length=3),
    NameRule("azurerm_key_vault", "name", 24, r"[A-Za-z](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]",
             _AZURE_NAMING, min_length=3),
    NameRule("azurerm_key_vault_key", "name", 127, r"[A-Za-z0-9-]+", _AZURE_NAMING),
    NameRule("azurerm_key_vault_secret", "name", 127, r"[A-Za-z0-9-]+", _AZURE_NAMING),
    NameRule("azurerm_key_vault_certificate", "name", 127, r"[A-Za-z0-9-]+", _AZURE_NAMING),
    NameRule("azurerm_container_registry", "name", 50, r"[A-Za-z0-9]+", _AZURE_NAMING,
             min_length=5),
    NameRule("azurerm_container_app", "name", 32, r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
             _AZURE_NAMING, min_length=2),
    NameRule("azurerm_postgresql_flexible_server", "name", 63, r"[a-z0-9][a-z0-9-]*[a-z0-9]",
             _AZURE_NAMING, min_length=3),
    NameRule("azurerm_redis_cache", "name", 63, r"[A-Za-z0-9](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]",
             _AZURE_NAMING),
    # Azure Managed Redis is Microsoft.Cache/redisEnterprise: 1-60, alphanumerics and hyphens,
    # starting and ending alphanumeric, no "--".
    NameRule("azurerm_managed_redis", "name", 60, r"[A-Za-z0-9](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]",
             _AZURE_NAMING),
    NameRule("azurerm_log_analytics_workspace", "name", 63, _ALNUM_HYPHEN, _AZURE_NAMING,
             min_length=4),
    NameRule("azurerm_user_assigned_identity", "name", 128, r"[A-Za-z0-9][A-Za-z0-9_-]*",
             _AZURE_NAMING, min_length=3),
    NameRule("azurerm_virtual_network", "name", 64, _AZURE_NETWORK, _AZURE_NAMING, min_length=2),
    NameRule("azurerm_subnet", "name", 80, _AZURE_NETWORK, _AZURE_NAMING),
    NameRule("azurerm_network_security_group", "name", 80, _AZURE_NETWORK, _AZURE_NAMING),
    NameRule("azurerm_network_security_rule", "name", 80, _AZURE_NETWORK, _AZURE_NAMING),
    NameRule("azurerm_nat_gateway", "name", 80, _AZURE_NETWORK, _AZURE_NAMING),
    NameRule("azurerm_public_ip", "name", 80, _AZURE_NETWORK, _AZURE_NAMING),
    NameRule("azurerm_private_endpoint", "name", 64, _AZURE_NETWORK, _AZURE_NAMING, min_length=2),
    NameRule("azurerm_private_dns_zone_virtual_network_link", "name", 80, _AZURE_NETWORK,
             _AZURE_NAMING),
    NameRule("azurerm_application_gateway", "name", 80, _AZURE_NETWORK, _AZURE_NAMING),
    NameRule("azurerm_network_watcher_flow_log", "name", 80, _AZURE_NETWORK, _AZURE_NAMING),
    NameRule("azurerm_network_watcher", "name", 80, _AZURE_NETWORK, _AZURE_NAMING),
    NameRule("azurerm_web_application_firewall_policy", "name", 128, _AZURE_NETWORK,
             _AZURE_NAMING),
    NameRule("azurerm_container_app_environment", "name", 60, r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
             _AZURE_NAMING, min_length=2),
    NameRule("azurerm_container_app_job", "name", 32, r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
             _AZURE_NAMING, min_length=2),
    # System topics follow the topics row (3-50), the stricter of the rules Azure has published.
    NameRule("azurerm_eventgrid_system_topic", "name", 50, r"[A-Za-z0-9-]+", _AZURE_NAMING,
             min_length=3),
    NameRule("azurerm_eventgrid_system_topic_event_subscription", "name", 64, r"[A-Za-z0-9-]+",
             _AZURE_NAMING, min_length=3),
    NameRule("azurerm_monitor_diagnostic_setting", "name", 260, r"[^*#&+:<>?/%\\|]+",
             _AZURE_NAMING),
    NameRule("azurerm_monitor_action_group", "name", 260, r"[^*#&+:<>?@%{}\\/]+", _AZURE_NAMING),
    NameRule("azurerm_monitor_action_group", "short_name", 12, r".+",
             "https://learn.microsoft.com/azure/azure-monitor/alerts/action-groups"),
    NameRule("azurerm_monitor_metric_alert", "name", 260, r"[^*#&+:<>?@%{}\\/]+", _AZURE_NAMING),
    NameRule("azurerm_monitor_scheduled_query_rules_alert_v2", "name", 260,
             r"[^*#&+:<>?@%{}\\/]+", _AZURE_NAMING),
    NameRule("azurerm_application_insights", "name", 260, r"[^%&\\?/]+", _AZURE_NAMING),
    NameRule("azurerm_portal_dashboard", "name", 160, r"[A-Za-z0-9-]+", _AZURE_NAMING,
             min_length=3),
    NameRule("azurerm_consumption_budget_resource_group", "name", 63, r"[A-Za-z0-9_-]+",
             "https://learn.microsoft.com/rest/api/consumption/budgets/create-or-update"),
    NameRule("azurerm_consumption_budget_subscription", "name", 63, r"[A-Za-z0-9_-]+",
             "https://learn.microsoft.com/rest/api/consumption/budgets/create-or-update"),
    # Locks: letters, digits, '.', '_', '-', '()'; not ending in '.' (resource-name-rules).
    NameRule("azurerm_management_lock", "name", 90, r"[\w().-]*[\w()-]", _AZURE_NAMING),
    # Front Door (CDN-1): azurerm's validators for each name, internal/services/cdn/validate/
    # front_door_{name,endpoint_name,origin_group_name,origin_name,route_name,
    # custom_domain_name,firewall_policy_name,security_policy_name}.go.
    NameRule("azurerm_cdn_frontdoor_profile", "name", 90, _ALNUM_HYPHEN, _FRONT_DOOR_NAMING,
             min_length=2),
    NameRule("azurerm_cdn_frontdoor_endpoint", "name", 46, _ALNUM_HYPHEN, _FRONT_DOOR_NAMING,
             min_length=2),
    NameRule("azurerm_cdn_frontdoor_origin_group", "name", 90, _ALNUM_HYPHEN, _FRONT_DOOR_NAMING,
             min_length=2),
    NameRule("azurerm_cdn_frontdoor_origin", "name", 90, _ALNUM_HYPHEN, _FRONT_DOOR_NAMING,
             min_length=2),
    NameRule("azurerm_cdn_frontdoor_route", "name", 90, _ALNUM_HYPHEN, _FRONT_DOOR_NAMING,
             min_length=2),
    NameRule("azurerm_cdn_frontdoor_custom_domain", "name", 260, _ALNUM_HYPHEN,
             _FRONT_DOOR_NAMING, min_length=2),
    NameRule("azurerm_cdn_frontdoor_firewall_policy", "name", 128, r"[A-Za-z][A-Za-z0-9]*",
             _FRONT_DOOR_NAMING),
    # No length in azurerm's validator; ARM's for profiles/securityPolicies (resource-name-rules).
    NameRule("azurerm_cdn_frontdoor_security_policy", "name", 260, _ALNUM_HYPHEN,
             _FRONT_DOOR_NAMING),
    # DNS-1: a public zone is a domain name: labels of 1-63, 253 in all (RFC 1035 2.3.4;
    # resource-name-rules, Microsoft.Network/dnszones).
    NameRule("azurerm_dns_zone", "name", 253,
             r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", _AZURE_NAMING, min_length=3),
)  # fmt: skip

NAME_RULES: tuple[NameRule, ...] = (*AWS_RULES, *GCP_RULES, *AZURE_RULES)
RULES_BY_TYPE: dict[str, tuple[NameRule, ...]] = {}
for _rule in NAME_RULES:
    RULES_BY_TYPE[_rule.resource_type] = (*RULES_BY_TYPE.get(_rule.resource_type, ()), _rule)

_REFERENCE = re.compile(r"\$\{([^}]*)\}")


def _longest(value: str) -> str | None:
    """`value` with each reference replaced by its longest value; None if one is unknown."""
    unknown = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unknown
        sample = REFERENCE_LENGTHS.get(match.group(1).rsplit(".", 1)[-1])
        if sample is None:
            unknown = True
            return ""
        return sample

    longest = _REFERENCE.sub(substitute, value)
    return None if unknown else longest


def check_name(rule: NameRule, address: str, value: Any) -> NameProblem | None:
    """The problem with one name under its rule, or None when it fits."""
    if not isinstance(value, str):
        return NameProblem(address, rule.attribute, repr(value), "is not a string")
    longest = _longest(value)
    if longest is None:
        return NameProblem(
            address, rule.attribute, value,
            f"interpolates a value of unknown length; {rule.resource_type}.{rule.attribute}"
            f" allows {rule.min_length}-{rule.max_length} characters ({rule.source})",
            unknown=True,
        )  # fmt: skip
    where = f"{rule.resource_type}.{rule.attribute} {value!r}"
    if not rule.min_length <= len(longest) <= rule.max_length:
        return NameProblem(
            address, rule.attribute, value,
            f"{where} is {len(longest)} characters; allowed {rule.min_length}-{rule.max_length}"
            f" ({rule.source})",
        )  # fmt: skip
    if not re.fullmatch(rule.pattern, longest):
        return NameProblem(
            address,
            rule.attribute,
            value,
            f"{where} breaks the character rule {rule.pattern} ({rule.source})",
        )
    return None


def name_problems(document: Mapping[str, Any]) -> Iterator[NameProblem]:
    """Every name in a Terraform JSON document that breaks its rule in `NAME_RULES`."""
    for address, body in entities(document).items():
        if address.startswith("data."):
            continue
        for rule in RULES_BY_TYPE.get(address.rsplit(".", 1)[0], ()):
            if rule.attribute in body:
                problem = check_name(rule, address, body[rule.attribute])
                if problem is not None:
                    yield problem
