"""Builds CKV_GW_OBJ_40: buckets encrypt by default with a customer-managed KMS key of the stack;
production requires it, other tiers may use Google-managed encryption (OBJ-2)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

CMK_TIERS = frozenset({"production"})


class BucketEncryption(GroundworkCheck):
    id = "CKV_GW_OBJ_40"
    name = "Bucket default encryption uses a customer-managed KMS key (required in production)"
    requirement = "OBJ-2"
    severity = "HIGH"
    resource_types = ("google_storage_bucket",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        key = (blocks(body, "encryption") or [{}])[0].get("default_kms_key_name")
        address = address_of(key)
        if address and address.startswith("google_kms_crypto_key."):
            return Verdict.passed(f"encrypted with {address}")
        if key:
            return Verdict.unknown(f"default_kms_key_name {key} is not a key of this stack")
        if stack.tier in CMK_TIERS:
            return Verdict.failed(
                "no default_kms_key_name: production needs a customer-managed key"
            )
        return Verdict.passed("Google-managed encryption at rest (CMK required in production only)")


check = BucketEncryption()
