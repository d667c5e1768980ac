"""Builds CKV_GW_DEPLOY_30: every name AWS keeps one of per account (IAM, budgets) or per
account and region (everything else here) is created by exactly one stack (DEPLOY-4).

Two environments may deploy into one account and region (the config cannot always tell:
`aws.account_id` is optional). A name both of their stacks create makes the second apply
fail with ResourceAlreadyExistsException / EntityAlreadyExists. So:
- a workload stack's account- or region-scoped names carry its environment's prefix
  (`<app>-<env>`), and the bootstrap stack's (one per app and cloud) its app's name;
- a name AWS itself fixes (`RDSOSMetrics`, where RDS enhanced monitoring writes: "Monitoring
  OS metrics with Enhanced Monitoring",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.html) is
  created only by the stack whose config owns it (`aws.rds_os_metrics_log_group: create`),
  and no other environment of this gate run in the same account and region (same
  `aws.account_id`, or either unset) owns it too (synth/config.py refuses that at load);
- account-wide settings and service-linked roles (`aws_ecs_account_setting_default`,
  `aws_iam_service_linked_role`, `aws_ebs_encryption_by_default`, ...) exist once per
  account (and region): a workload stack creating one collides with the next environment
  and removes the setting for every other when it is destroyed
  (`aws_iam_service_linked_role` fails with "Service role name ... has been taken";
  https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html);
- CloudWatch Logs resource policies are a quota of 10 per account and region ("An account can
  have a maximum of 10 policies without resourceARN",
  https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html;
  hashicorp/aws 6.25 cannot set a resource ARN). A policy per environment (or per log group)
  lets a handful of environments in one account exhaust it, and the next apply fails with
  LimitExceededException. So a workload stack creates only the app's shared
  `<app>-log-delivery` policy, only in a region its config owns
  (`aws.log_delivery_policy_regions`, constructs/aws/log_delivery.py), and no other
  environment of this gate run in (possibly) the same account owns that region too.
"""

import hashlib
from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    aws_provider_region,
    gate_configs,
    is_reference,
)

from synth.config import (
    AWS_ACCOUNT_REGION_SINGLETONS,
    EnvironmentConfig,
    aws_log_delivery_conflicts,
    aws_log_delivery_owned,
    aws_same_account_region,
)

LOG_RESOURCE_POLICY = "aws_cloudwatch_log_resource_policy"

# Resource type -> its name attribute, for names unique per account (IAM, Budgets) or per
# account and region (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html;
# each service's API returns AlreadyExists for a second resource of the same name). S3 bucket
# names are global: prefix or account ID.
NAMED = {
    "aws_budgets_budget": "name",
    "aws_cloudwatch_contributor_insight_rule": "rule_name",
    "aws_cloudwatch_dashboard": "dashboard_name",
    "aws_cloudwatch_log_group": "name",
    "aws_cloudwatch_log_resource_policy": "policy_name",
    "aws_cloudwatch_metric_alarm": "alarm_name",
    "aws_db_instance": "identifier",
    "aws_db_parameter_group": "name",
    "aws_db_proxy": "name",
    "aws_db_subnet_group": "name",
    "aws_ecr_repository": "name",
    "aws_ecs_cluster": "name",
    "aws_ecs_task_definition": "family",
    "aws_elasticache_parameter_group": "name",
    "aws_elasticache_replication_group": "replication_group_id",
    "aws_elasticache_subnet_group": "name",
    "aws_elasticache_user": "user_id",
    "aws_elasticache_user_group": "user_group_id",
    "aws_iam_policy": "name",
    "aws_iam_role": "name",
    "aws_kms_alias": "name",
    "aws_lambda_function": "function_name",
    "aws_lb": "name",
    "aws_lb_target_group": "name",
    "aws_s3_bucket": "bucket",
    "aws_secretsmanager_secret": "name",
    "aws_sns_topic": "name",
    "aws_wafv2_web_acl": "name",
}
# One per account (and region) whatever its arguments: no environment stack may own one.
ACCOUNT_SETTINGS = (
    "aws_cloudwatch_log_account_policy",
    "aws_ebs_default_kms_key",
    "aws_ebs_encryption_by_default",
    "aws_ecs_account_setting_default",
    "aws_iam_account_alias",
    "aws_iam_account_password_policy",
    "aws_iam_service_linked_role",
    "aws_s3_account_public_access_block",
)
FIXED_NAMES = {name: field for field, name in AWS_ACCOUNT_REGION_SINGLETONS.items()}


def _field(config: EnvironmentConfig, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _owners_elsewhere(stack: Stack, config: EnvironmentConfig, field: str) -> list[str]:
    """Other environments of this gate run in (possibly) the same account and region whose
    config also creates the name `field` governs."""
    return sorted(
        {
            other.name
            for other in gate_configs(stack.name).values()
            if other.cloud == "aws"
            and other.role == "workload"
            and other.name != config.name
            and aws_same_account_region(config, other)
            and _field(other, field) == "create"
        }
    )


def _region(stack: Stack, body: dict[str, Any], config: EnvironmentConfig) -> str | None:
    """The region a resource is created in: its `region` argument, else its provider's."""
    if body.get("region"):
        return str(body["region"])
    return aws_provider_region(stack, body)


def _log_resource_policy(
    name: str, body: dict[str, Any], stack: Stack, config: EnvironmentConfig
) -> Verdict:
    shared = f"{config.app}-log-delivery"
    if name != shared:
        return Verdict.failed(
            f"{name}: a resource policy of its own counts against CloudWatch Logs' 10 per "
            f"account and region, which a few environments exhaust; use the app's shared "
            f"{shared} (constructs/aws/log_delivery.py)"
        )
    region = _region(stack, body, config)
    owned = aws_log_delivery_owned(config)
    if region not in owned:
        return Verdict.failed(
            f"creates {shared} in {region}, but aws.log_delivery_policy_regions {list(owned)} "
            "says another environment of this account creates it there"
        )
    others = sorted(
        other.name
        for other in gate_configs(stack.name).values()
        if other.cloud == "aws"
        and other.role == "workload"
        and other.name != config.name
        and region in aws_log_delivery_conflicts(config, other)
    )
    if others:
        return Verdict.failed(
            f"creates {shared} in {region}, and so do {', '.join(others)} in (possibly) the "
            "same account: the second apply fails"
        )
    return Verdict.passed(f"{shared}: the app's one policy in {region}, this environment's")


class AccountRegionNames(GroundworkCheck):
    id = "CKV_GW_DEPLOY_30"
    name = "Names AWS keeps one of per account and region are created by one stack only"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = (*NAMED, *ACCOUNT_SETTINGS)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        rtype = self._address[0]
        if rtype in ACCOUNT_SETTINGS:
            return Verdict.failed(
                f"{rtype} is one per account (and region): the next environment's apply "
                "collides with it and destroying this one removes it for all"
            )
        config = stack.config
        if config is None:
            return Verdict.unknown("no environment config: cannot tell whose name this is")
        name = body.get(NAMED[rtype])
        if name is None:
            return Verdict.passed(f"{NAMED[rtype]} unset: AWS generates a unique name")
        if is_reference(name):
            return Verdict.passed(f"{NAMED[rtype]} comes from another resource")
        name = str(name)
        if rtype == LOG_RESOURCE_POLICY and config.role == "workload":
            return _log_resource_policy(name, body, stack, config)
        if name in FIXED_NAMES:
            field = FIXED_NAMES[name]
            if _field(config, field) != "create":
                return Verdict.failed(
                    f"creates {name}, which {field}: {_field(config, field)!r} says another "
                    "stack of this account and region owns"
                )
            others = _owners_elsewhere(stack, config, field)
            if others:
                return Verdict.failed(
                    f"creates {name}, and so do {', '.join(others)} in (possibly) the same "
                    f"account and region {config.aws.region}: the second apply fails"
                )
            return Verdict.passed(f"{name}: this environment alone owns it ({field})")
        stem = config.app if config.role == "bootstrap" else config.prefix
        if stem in name:
            return Verdict.passed(f"{name} carries {stem}")
        if _shortened(stem, name):
            return Verdict.passed(f"{name} carries {stem}, shortened with its hash")
        return Verdict.failed(
            f"{NAMED[rtype]} {name!r} lacks {stem!r}: another environment in the same account "
            "and region would create the same name"
        )


def _shortened(stem: str, name: str) -> bool:
    """Whether `name` is `stem` cut short plus the first 4 hex digits of its SHA-256, the form
    a name too long for its limit takes (constructs/aws/edge.py `target_group_name`, 32
    characters): still unique to the stem, so still this environment's alone."""
    digest = hashlib.sha256(stem.encode()).hexdigest()[:4]
    head, separator, _ = name.partition(f"-{digest}-")
    return bool(separator and head) and stem.startswith(head)


check = AccountRegionNames()
