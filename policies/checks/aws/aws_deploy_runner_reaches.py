"""Builds CKV_GW_DEPLOY_14: the deploy runner (an IAM role of the account, per the README) can
do every data-plane write the apply makes and keep managing what it created (DEPLOY-3).

- `aws_kms_key`: the policy delegates administration to the account (`arn:aws:iam::<acct>:root`
  with `kms:PutKeyPolicy`), so IAM decides and the runner's role can update the key later; a
  policy without it locks every principal out ("Default key policy",
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
- `aws_s3_bucket_policy`: no `Deny` to every principal unless its condition is about the
  request (insecure transport), not about who or where the caller is (a VPC-endpoint-only
  deny would lock out a runner outside the VPC).
- `aws_secretsmanager_secret_version`: the runner writes it through Secrets Manager, so the
  secret's key admits account principals through `secretsmanager.<region>`.
"""

import json
import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, is_reference

# Conditions about the request itself, which the runner meets (it uses TLS 1.2+ over HTTPS).
REQUEST_CONDITIONS = {"aws:SecureTransport", "s3:TlsVersion"}


def _statements(policy: Any) -> list[dict[str, Any]] | None:
    try:
        document = json.loads(str(policy))
    except ValueError:
        return None
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _document_statements(stack: Stack, policy: Any) -> list[dict[str, Any]] | None:
    """A `data.aws_iam_policy_document`'s statements in the JSON policy shape, if `policy` is
    its `.json`."""
    match = re.fullmatch(
        r"\$\{(data\.aws_iam_policy_document\.[A-Za-z0-9_-]+)\.json\}", str(policy)
    )
    document = stack.graph.bodies.get(match.group(1)) if match else None
    if document is None:
        return None
    statements = []
    for statement in blocks(document, "statement"):
        principals = blocks(statement, "principals")
        anyone = any(
            p.get("type") == "*" or "*" in (p.get("identifiers") or []) for p in principals
        )
        statements.append(
            {
                "Effect": statement.get("effect", "Allow"),
                "Principal": "*" if anyone else str(principals),
                "Condition": {
                    str(c.get("test")): {str(c.get("variable")): c.get("values")}
                    for c in blocks(statement, "condition")
                },
            }
        )
    return statements


class RunnerReaches(GroundworkCheck):
    id = "CKV_GW_DEPLOY_14"
    name = "The deploy runner can write every data plane the apply writes and manage its keys"
    requirement = "DEPLOY-3"
    severity = "HIGH"
    resource_types = ("aws_kms_key", "aws_s3_bucket_policy", "aws_secretsmanager_secret_version")

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        kind = self._address[0]
        if kind == "aws_secretsmanager_secret_version":
            secret = address_of(body.get("secret_id"))
            key = address_of(stack.graph.bodies.get(str(secret), {}).get("kms_key_id"))
            if key is None:
                return Verdict.unknown("the secret's key is not a key of this stack")
            via = f"secretsmanager.{stack.config.aws.region}.amazonaws.com"
            if via not in str(stack.graph.bodies.get(key, {}).get("policy", "")):
                return Verdict.failed(f"{key} does not admit the account through {via}")
            return Verdict.passed(f"the runner writes it through {via}")
        statements = _statements(body.get("policy"))
        if statements is None:
            statements = _document_statements(stack, body.get("policy"))
        if statements is None:
            if is_reference(body.get("policy")):
                return Verdict.unknown("the policy is an expression")
            return Verdict.failed("the policy is not JSON")
        if kind == "aws_kms_key":
            for statement in statements:
                principal = str(statement.get("Principal", ""))
                actions = statement.get("Action", [])
                actions = actions if isinstance(actions, list) else [actions]
                if (
                    statement.get("Effect") == "Allow"
                    and ":root" in principal
                    and ("kms:PutKeyPolicy" in actions or "kms:*" in actions)
                    and not statement.get("Condition")
                ):
                    return Verdict.passed("the account (IAM) administers the key")
            return Verdict.failed("no unconditional kms:PutKeyPolicy for the account: lockout")
        for statement in statements:
            if statement.get("Effect") != "Deny" or statement.get("Principal") not in (
                "*",
                {"AWS": "*"},
            ):
                continue
            keys = {k for values in (statement.get("Condition") or {}).values() for k in values}
            if not keys or not keys <= REQUEST_CONDITIONS:
                return Verdict.failed(f"denies everyone on {sorted(keys) or 'no condition'}")
        return Verdict.passed("denies only insecure requests")


check = RunnerReaches()
