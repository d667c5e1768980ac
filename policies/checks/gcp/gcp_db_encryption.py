"""Builds CKV_GW_DB_41: Cloud SQL is encrypted at rest (always, by Google) and, in production,
with a customer-managed KMS key of the stack (DB-2)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of

CMK_TIERS = frozenset({"production"})


class DbEncryption(GroundworkCheck):
    id = "CKV_GW_DB_41"
    name = "Cloud SQL uses a customer-managed KMS key (required in production)"
    requirement = "DB-2"
    severity = "HIGH"
    resource_types = ("google_sql_database_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        key = body.get("encryption_key_name")
        address = address_of(key)
        if address and address.startswith("google_kms_crypto_key."):
            return Verdict.passed(f"encrypted with {address}")
        if key:
            return Verdict.unknown(f"encryption_key_name {key} is not a key of this stack")
        if stack.tier in CMK_TIERS:
            return Verdict.failed("no encryption_key_name: production needs a customer-managed key")
        return Verdict.passed("Google-managed encryption at rest (CMK required in production only)")


check = DbEncryption()
