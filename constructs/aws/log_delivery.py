"""Builds the app's shared CloudWatch Logs resource policy of one account and region, which lets
AWS services deliver logs to the app's log groups: WAF (both web ACLs) and Route 53 query logs.

Satisfies: OBS-1, DEPLOY-2, DEPLOY-4

CloudWatch Logs keeps at most 10 resource policies without a resource ARN per account and
region ("CloudWatch Logs quotas", https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html;
"An account can have a maximum of 10 policies without resourceARN",
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html).
hashicorp/aws 6.25's `aws_cloudwatch_log_resource_policy` has only `policy_name` and
`policy_document` (no `resource_arn`), so a policy per environment and log group would stop
the fourth or fifth environment of an account at apply (LimitExceededException). Instead the
app has ONE policy per account and region, `<app>-log-delivery`, whose statements name the
app's log groups by prefix (`aws-waf-logs-<app>-*`, `/aws/route53/<app>-*`): every
environment's groups, whichever environment created the policy. The environment whose
`aws.log_delivery_policy_regions` lists a region creates it there (by default every region
its stack delivers logs in); the loader refuses two creators of one account and region
(synth/config.py `aws_account_region_owners`), and CKV_GW_DEPLOY_30 judges the policies a
stack creates. Route 53 writes to us-east-1 only, so its statement is in that region's policy.
"""

from __future__ import annotations

import json

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from constructs import Construct

from synth.config import AWS_GLOBAL_LOG_REGION, EnvironmentConfig, aws_log_delivery_owned


def policy_name(config: EnvironmentConfig) -> str:
    """The app's shared policy's name, the same in every account and region."""
    return f"{config.app}-log-delivery"


def waf_log_group_name(config: EnvironmentConfig, suffix: str = "") -> str:
    """A WAF log group of this environment: WAF requires the `aws-waf-logs-` prefix, and the
    app's name after it lets the shared policy cover it."""
    return f"aws-waf-logs-{config.prefix}{suffix}"


def query_log_group_name(config: EnvironmentConfig) -> str:
    """The Route 53 query-log group of this environment (AWS suggests `/aws/route53/<zone>`;
    the prefix keeps it this environment's and under the shared policy's pattern)."""
    return f"/aws/route53/{config.prefix}/{config.domain}"


def policy_document(config: EnvironmentConfig, account_id: str, region: str) -> str:
    """The shared policy of `region`: WAF log delivery (`delivery.logs.amazonaws.com`) to the
    app's `aws-waf-logs-<app>-*` groups, and in us-east-1 Route 53 query logging to its
    `/aws/route53/<app>-*` groups, each only for this account's resources."""
    logs = f"arn:aws:logs:{region}:{account_id}:log-group"
    statements: list[dict[str, object]] = [
        {
            # "Permissions to publish logs to CloudWatch Logs" (vended logs),
            # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html
            "Sid": "WafLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{logs}:aws-waf-logs-{config.app}-*:*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{region}:{account_id}:*"},
            },
        }
    ]
    if region == AWS_GLOBAL_LOG_REGION:
        statements.append(
            {
                # "Public DNS query logging",
                # https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html
                "Sid": "Route53QueryLogs",
                "Effect": "Allow",
                "Principal": {"Service": "route53.amazonaws.com"},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{logs}:/aws/route53/{config.app}-*:*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": "arn:aws:route53:::hostedzone/*"},
                },
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def shared_log_delivery_policies(
    scope: Construct,
    config: EnvironmentConfig,
    account_id: str,
    providers: dict[str, TerraformProvider | None],
) -> dict[str, CloudwatchLogResourcePolicy]:
    """The shared policies this environment creates, by region (`aws_log_delivery_owned`);
    `providers` maps each region the stack uses to its AWS provider (None: the default)."""
    created = {}
    for region in aws_log_delivery_owned(config):
        if region not in providers:
            raise ValueError(
                f"{config.prefix}: aws.log_delivery_policy_regions names {region}, where the "
                f"stack has no provider (it has {sorted(providers)})"
            )
        created[region] = CloudwatchLogResourcePolicy(
            scope,
            "log-delivery" if region == config.aws.region else f"log-delivery-{region}",
            policy_name=policy_name(config),
            policy_document=policy_document(config, account_id, region),
            provider=providers[region],
        )
    return created
