"""Builds CKV_GW_CACHE_42: Memorystore encrypts at rest with a customer-managed KMS key of the
stack, next to the TLS and AUTH that CKV_GCP_97 / CKV_GCP_95 prove (CACHE-1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of


class CacheEncryption(GroundworkCheck):
    id = "CKV_GW_CACHE_42"
    name = "Memorystore encrypts at rest with the stack's customer-managed key, TLS and AUTH on"
    requirement = "CACHE-1"
    severity = "HIGH"
    resource_types = ("google_redis_instance",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("transit_encryption_mode") != "SERVER_AUTHENTICATION":
            return Verdict.failed(
                f"transit_encryption_mode is {body.get('transit_encryption_mode')}"
            )
        if body.get("auth_enabled") is not True:
            return Verdict.failed("auth_enabled is not true")
        address = address_of(body.get("customer_managed_key"))
        if not address or not address.startswith("google_kms_crypto_key."):
            return Verdict.failed("customer_managed_key is not a KMS key of this stack")
        return Verdict.passed(f"TLS, AUTH, at rest with {address}")


check = CacheEncryption()
