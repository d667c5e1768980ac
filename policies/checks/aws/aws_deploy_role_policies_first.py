"""Builds CKV_GW_DEPLOY_28: every resource that makes AWS act depends on the permissions AWS
acts with, so they hold the moment AWS first uses them (DEPLOY-2): an IAM role's policies,
and the bucket policy of a bucket AWS delivers logs to.

Terraform creates a role, its inline policies and its attachments in parallel with whatever
names the role's ARN. Services check or use the role at once:
- RDS refuses a monitoring role that lacks AmazonRDSEnhancedMonitoringRole ("IAM role ARN
  value is invalid or does not include the required permissions for: ENHANCED_MONITORING",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html);
- Lambda checks the ENI permissions of a VPC function's role at create time
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions);
- RDS Proxy, VPC flow logs, S3 replication and ECS (pulling the image and secrets with the
  execution role for the first tasks) fail or retry until the policy exists.

Log delivery to S3 is authorised by the destination bucket's policy (ACLs are off):
- `aws_s3_bucket_logging`: S3 writes server access logs as `logging.s3.amazonaws.com`, which
  the target bucket's policy must admit ("Enabling Amazon S3 server access logging",
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html);
  created in parallel with that policy, the first deliveries are denied;
- `aws_lb` with `access_logs`: ELB writes a test file when logging is enabled and the call
  fails with "Access Denied for bucket" without the policy ("Enable access logs for your
  Application Load Balancer", step 4,
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).

Route 53 acts with service permissions granted by resource policies (DNS-1,
constructs/aws/dns.py):
- `aws_route53_key_signing_key`: Route 53 reads and signs with the KMS key at once, as
  `dnssec-route53.amazonaws.com`, which the key policy must allow kms:DescribeKey,
  kms:GetPublicKey and kms:Sign ("Working with customer managed keys for DNSSEC",
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-configuring-dnssec-cmk-requirements.html);
  the policy is the key's own (`aws_kms_key.policy`) or an `aws_kms_key_policy` the KSK needs;
- `aws_route53_query_log`: Route 53 checks when logging is configured that a CloudWatch Logs
  resource policy lets `route53.amazonaws.com` write to the group
  (InsufficientCloudWatchLogsResourcePolicy; "Public DNS query logging",
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html;
  terraform-provider-aws #12229), so the query log needs such a policy.
"""

import json
from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    references_to,
)

from synth.config import aws_log_delivery_owned

SHARED_LOG_REGION = "us-east-1"  # Route 53 writes query logs there only

ROLE_ATTRIBUTES = {
    "aws_db_instance": "monitoring_role_arn",
    "aws_db_proxy": "role_arn",
    "aws_flow_log": "iam_role_arn",
    "aws_lambda_function": "role",
    "aws_ecs_task_definition": "execution_role_arn",
    "aws_s3_bucket_replication_configuration": "role",
}
POLICY_TYPES = ("aws_iam_role_policy", "aws_iam_role_policy_attachment")
# Resource type -> (block or None, attribute) naming the bucket AWS delivers logs to.
LOG_TARGETS = {
    "aws_s3_bucket_logging": (None, "target_bucket"),
    "aws_lb": ("access_logs", "bucket"),
}


def _log_target(rtype: str, body: dict[str, Any]) -> Any:
    """The bucket name (or reference) AWS will deliver logs to, or None when it delivers none."""
    block, attribute = LOG_TARGETS[rtype]
    if block is None:
        return body.get(attribute)
    enabled = [b for b in blocks(body, block) if b.get("enabled", False) is not False]
    return enabled[0].get(attribute) if enabled else None


def _bucket_address(stack: Stack, target: Any) -> str | None:
    """The `aws_s3_bucket` of this stack that `target` names, by reference or by name."""
    address = address_of(target)
    if address is not None:
        return address if address.startswith("aws_s3_bucket.") else None
    for name, bucket in stack.resources("aws_s3_bucket").items():
        if bucket.get("bucket") == target:
            return f"aws_s3_bucket.{name}"
    return None


# Route 53 resource type -> (attribute naming what it uses, service principal, actions).
ROUTE53_GRANTS = {
    "aws_route53_key_signing_key": (
        "key_management_service_arn",
        "dnssec-route53.amazonaws.com",
        ("kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"),
    ),
    "aws_route53_query_log": (
        "cloudwatch_log_group_arn",
        "route53.amazonaws.com",
        ("logs:CreateLogStream", "logs:PutLogEvents"),
    ),
}


def _grants(document: Any, service: str, actions: tuple[str, ...]) -> bool:
    """Whether a policy document (JSON text) allows `service` every one of `actions`."""
    try:
        policy = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return False
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    allowed: set[str] = set()
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = (statement.get("Principal") or {}) if isinstance(statement, dict) else {}
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") != "Allow" or service not in services:
            continue
        granted = statement.get("Action", [])
        allowed.update([granted] if isinstance(granted, str) else granted)
    return all(action in allowed for action in actions)


class RolePoliciesFirst(GroundworkCheck):
    id = "CKV_GW_DEPLOY_28"
    name = "Resources that make AWS act wait for its permissions (role and log bucket policies)"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = tuple(sorted({*ROLE_ATTRIBUTES, *LOG_TARGETS, *ROUTE53_GRANTS}))
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] in ROUTE53_GRANTS:
            return self._route53(body, stack)
        if self._address[0] in LOG_TARGETS:
            return self._log_delivery(body, stack)
        value = body.get(ROLE_ATTRIBUTES[self._address[0]])
        if value is None:
            return Verdict.passed("hands AWS no role")
        role = address_of(value)
        if role is None or not role.startswith("aws_iam_role."):
            return Verdict.unknown(f"role {value} is not a role of this stack")
        graph = stack.graph
        policies = [
            a for a, b in graph.of_type(*POLICY_TYPES).items() if address_of(b.get("role")) == role
        ]
        if not policies:
            return Verdict.failed(f"{role} has no policy in this stack")
        missing = [p for p in policies if not graph.needs(self.address, p)]
        verdicts = [Verdict.failed(f"does not wait for {p}") for p in missing]
        return (
            combine(verdicts)
            if verdicts
            else Verdict.passed(f"waits for the {len(policies)} policies of {role}")
        )

    def _log_delivery(self, body: dict[str, Any], stack: Stack) -> Verdict:
        target = _log_target(self._address[0], body)
        if target is None:
            return Verdict.passed("delivers no logs to S3")
        bucket = _bucket_address(stack, target)
        if bucket is None:
            return Verdict.unknown(f"log bucket {target} is not a bucket of this stack")
        policies = [
            f"aws_s3_bucket_policy.{name}"
            for name in references_to(stack, "aws_s3_bucket_policy", "bucket", bucket)
        ]
        if not policies:
            return Verdict.failed(f"{bucket} has no bucket policy admitting the log delivery")
        missing = [p for p in policies if not stack.graph.needs(self.address, p)]
        if missing:
            return combine([Verdict.failed(f"does not wait for {p}") for p in missing])
        return Verdict.passed(f"waits for the policy of its log bucket {bucket}")

    def _route53(self, body: dict[str, Any], stack: Stack) -> Verdict:
        attribute, service, actions = ROUTE53_GRANTS[self._address[0]]
        used = address_of(body.get(attribute))
        if used is None:
            return Verdict.unknown(f"{attribute} {body.get(attribute)} is not from this stack")
        graph = stack.graph
        if used.startswith("aws_kms_key."):
            candidates = {used: (graph.bodies.get(used) or {}).get("policy")}
            candidates.update(
                (f"aws_kms_key_policy.{name}", policy.get("policy"))
                for name, policy in stack.resources("aws_kms_key_policy").items()
                if address_of(policy.get("key_id")) == used
            )
        elif used.startswith("aws_cloudwatch_log_group."):
            candidates = {
                address: policy.get("policy_document")
                for address, policy in graph.of_type("aws_cloudwatch_log_resource_policy").items()
            }
        else:
            return Verdict.unknown(f"{attribute} names {used}")
        granting = [a for a, document in candidates.items() if _grants(document, service, actions)]
        config = stack.config
        if (
            not granting
            and used.startswith("aws_cloudwatch_log_group.")
            and config is not None
            and SHARED_LOG_REGION not in aws_log_delivery_owned(config)
        ):
            # The app's shared policy of us-east-1 is another environment's
            # (constructs/aws/log_delivery.py; CKV_GW_DEPLOY_30 judges who creates it).
            return Verdict.passed(
                f"Route 53 writes through {config.app}-log-delivery, which another environment "
                "creates (aws.log_delivery_policy_regions)"
            )
        if not granting:
            return Verdict.failed(f"no policy of this stack lets {service} use {used}")
        if not any(graph.needs(self.address, policy) for policy in granting):
            return Verdict.failed(f"does not wait for {granting[0]}, which lets {service} act")
        return Verdict.passed(f"waits for {granting[0]}, which lets {service} act")


check = RolePoliciesFirst()
