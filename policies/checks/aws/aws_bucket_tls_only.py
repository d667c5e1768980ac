"""Builds CKV_GW_OBJ_2: every bucket's policy denies any request made without TLS
(`aws:SecureTransport` false) to the bucket and its objects (OBJ-5)."""

from typing import Any

from aws_policy_documents import Statement, statements
from groundwork_policy import GroundworkCheck, Stack, Verdict, references_to


def _denies_plain_http(statement: Statement, arn: str) -> bool:
    return (
        statement.effect == "Deny"
        and "*" in statement.principals
        and bool({"*", "s3:*"} & set(statement.actions))
        and any(
            test == "Bool" and variable == "aws:SecureTransport" and values == ("false",)
            for test, variable, values in statement.conditions
        )
        and ("*" in statement.resources or {arn, f"{arn}/*"} <= set(statement.resources))
    )


class BucketTlsOnly(GroundworkCheck):
    id = "CKV_GW_OBJ_2"
    name = "Bucket policy denies every request without TLS (aws:SecureTransport false)"
    requirement = "OBJ-5"
    severity = "HIGH"
    resource_types = ("aws_s3_bucket",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        arn = "${" + self.address + ".arn}"
        policies = [
            stack.resources("aws_s3_bucket_policy")[name].get("policy")
            for name in references_to(stack, "aws_s3_bucket_policy", "bucket", self.address)
        ]
        if body.get("policy"):
            policies.append(body["policy"])
        if not policies:
            return Verdict.failed("no bucket policy: plain-HTTP requests are not denied")
        unresolved = False
        for policy in policies:
            found = statements(stack, policy)
            if found is None:
                unresolved = True
            elif any(_denies_plain_http(statement, arn) for statement in found):
                return Verdict.passed("denies aws:SecureTransport false on the bucket and objects")
        if unresolved:
            return Verdict.unknown("a bucket policy cannot be resolved in this stack")
        return Verdict.failed("no Deny of aws:SecureTransport false for * on bucket and objects")


check = BucketTlsOnly()
