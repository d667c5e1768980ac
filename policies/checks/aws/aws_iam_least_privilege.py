"""Builds CKV_GW_IAM_1: no IAM policy, role policy, key policy or bucket policy allows a
wildcard action (`*`, `service:*`, `service:Get*`) or uses NotAction in an Allow, and no
role, user or group gets an AWS admin or full-access managed policy (IAM-1).

Deny statements may use wildcards (a TLS-only bucket policy denies `s3:*`).

Nor is an AWS managed policy attached that allows writes on every resource where the stack
can name the resource: the Lambda execution policies allow logs:CreateLogGroup,
CreateLogStream and PutLogEvents on `*` (AWSLambdaBasicExecutionRole, AWSLambdaVPCAccess
ExecutionRole, https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html)
and ENI writes on `*`; a function writes only to its own log group, so an inline policy on
that group's ARN (and the ENI actions on the account and region) replaces them
(constructs/aws/lambda_vpc.py).
"""

import re
from typing import Any

from aws_policy_documents import statements
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference

# AWS managed policies that grant admin or a whole service: never attached.
ADMIN_POLICY = re.compile(
    r":iam::aws:policy/(.*/)?(AdministratorAccess|PowerUserAccess|IAMFullAccess|\w*FullAccess)$"
)
# AWS managed policies that allow writes on `*` which the stack can scope to its own resources.
UNSCOPED_POLICY = re.compile(
    r":iam::aws:policy/(.*/)?(AWSLambdaBasicExecutionRole|AWSLambdaVPCAccessExecutionRole"
    r"|AWSLambdaENIManagementAccess|AWSLambdaExecute)$"
)
DOCUMENT_ATTRIBUTES = {
    "aws_iam_policy": "policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_kms_key": "policy",
    "aws_s3_bucket_policy": "policy",
}
ATTACHMENTS = (
    "aws_iam_role_policy_attachment",
    "aws_iam_policy_attachment",
    "aws_iam_user_policy_attachment",
    "aws_iam_group_policy_attachment",
)


def _document_verdict(stack: Stack, policy: Any, where: str) -> Verdict:
    found = statements(stack, policy)
    if found is None:
        return Verdict.unknown(f"{where}: the policy document cannot be resolved")
    verdicts = []
    for statement in found:
        if statement.effect != "Allow":
            continue
        if statement.not_actions:
            verdicts.append(Verdict.failed(f"{where}: Allow with NotAction"))
        wild = [action for action in statement.actions if "*" in action]
        if wild:
            verdicts.append(Verdict.failed(f"{where}: allows wildcard actions {wild}"))
    return combine(verdicts or [Verdict.passed(f"{where}: named actions only")])


def _managed_verdict(arn: Any, where: str) -> Verdict:
    if ADMIN_POLICY.search(str(arn)):
        return Verdict.failed(f"{where}: attaches {arn}")
    if UNSCOPED_POLICY.search(str(arn)):
        return Verdict.failed(
            f"{where}: attaches {arn}, which allows logs (and ENI) writes on `*`; grant the "
            "function's own log group inline instead"
        )
    if arn is None:
        return Verdict.failed(f"{where}: policy_arn is not set")
    return Verdict.passed(f"{where}: attaches a scoped policy")


class IamLeastPrivilege(GroundworkCheck):
    id = "CKV_GW_IAM_1"
    name = "No policy allows wildcard actions or NotAction; no admin or full-access policy attached"
    requirement = "IAM-1"
    severity = "CRITICAL"
    resource_types = (*DOCUMENT_ATTRIBUTES, *ATTACHMENTS, "aws_iam_role")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        kind = self._address[0]
        if kind in DOCUMENT_ATTRIBUTES:
            policy = body.get(DOCUMENT_ATTRIBUTES[kind])
            if policy is None:
                # A key without a policy gets the default one: the account root may do kms:*.
                return Verdict.failed("no policy document: the default grants everything")
            return _document_verdict(stack, policy, kind)
        if kind in ATTACHMENTS:
            return _managed_verdict(body.get("policy_arn"), kind)
        # aws_iam_role: inline policies and managed policy ARNs declared on the role itself.
        verdicts = [
            _document_verdict(stack, inline.get("policy"), "inline_policy")
            for inline in blocks(body, "inline_policy")
            if inline.get("policy") is not None
        ]
        arns = body.get("managed_policy_arns") or []
        if is_reference(arns):
            verdicts.append(Verdict.unknown("managed_policy_arns is an expression"))
        else:
            verdicts += [_managed_verdict(arn, "managed_policy_arns") for arn in arns]
        return combine(verdicts or [Verdict.passed("no inline or managed policies on the role")])


check = IamLeastPrivilege()
