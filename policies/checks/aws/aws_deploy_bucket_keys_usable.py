"""Builds CKV_GW_DEPLOY_27: after the apply, writers can use every bucket's default KMS key
(DEPLOY-6).

With SSE-KMS as a bucket's default encryption, every PutObject needs `kms:GenerateDataKey` and
every read `kms:Decrypt` on that key through S3 ("Specifying server-side encryption with AWS
KMS", https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html).
A key policy that admits the account's principals only through another service applies
cleanly and then refuses every object the app (or the Terraform backend, for the state
bucket) writes.

Only grants to the key's own account count (the principals that administer the key, i.e. hold
kms:PutKeyPolicy): a key may also admit other accounts through S3 (the Terraform state key
admits the accounts of environments that keep their state there, CKV_GW_DEPLOY_35), and
their statements do not let this account's writers in.
"""

import json
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

WANTED = ("kms:GenerateDataKey", "kms:Decrypt")


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [] if value is None else [value]


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        return [p for v in principal.values() for p in _listed(v)]
    return _listed(principal)


class BucketKeysUsable(GroundworkCheck):
    id = "CKV_GW_DEPLOY_27"
    name = "Bucket default KMS keys let the account read and write objects through S3"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("aws_s3_bucket_server_side_encryption_configuration",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        defaults = [
            d
            for r in blocks(body, "rule")
            for d in blocks(r, "apply_server_side_encryption_by_default")
        ]
        keys = [d.get("kms_master_key_id") for d in defaults if d.get("sse_algorithm") == "aws:kms"]
        if not keys:
            return Verdict.passed("SSE-S3: no key to admit writers")
        target = address_of(keys[0])
        if target is None or target not in stack.graph.bodies:
            return Verdict.unknown(f"key {keys[0]} is not a key of this stack")
        try:
            statements = json.loads(str(stack.graph.bodies[target].get("policy", ""))).get(
                "Statement", []
            )
        except ValueError:
            return Verdict.unknown(f"{target}'s policy is not JSON")
        statements = statements if isinstance(statements, list) else [statements]
        owners = {
            principal
            for statement in statements
            if statement.get("Effect") == "Allow"
            and {"kms:PutKeyPolicy", "kms:*"} & set(_listed(statement.get("Action")))
            for principal in _principals(statement)
        }
        granted: set[str] = set()
        for statement in statements:
            if owners and not owners & set(_principals(statement)):
                continue  # another account's grant
            if statement.get("Effect") == "Allow" and "s3." in json.dumps(statement):
                granted.update(_listed(statement.get("Action")))
        missing = [a for a in WANTED if a not in granted and "kms:*" not in granted]
        if missing:
            return Verdict.failed(f"{target}'s policy does not grant {missing} through S3")
        return Verdict.passed(f"{target} admits reads and writes through S3")


check = BucketKeysUsable()
