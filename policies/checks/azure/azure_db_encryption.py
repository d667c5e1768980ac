"""Builds CKV_GW_DB_71: Flexible Server is encrypted at rest (always, by the platform) and, in
production, with a customer-managed Key Vault key; geo-redundant backups then need the geo key
too (DB-2). Replicas inherit the primary's key setting and are checked the same way."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine


class AzureDbEncryption(GroundworkCheck):
    id = "CKV_GW_DB_71"
    name = "PostgreSQL Flexible Server uses a customer-managed key in production"
    requirement = "DB-2"
    severity = "HIGH"
    resource_types = ("azurerm_postgresql_flexible_server",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        key = (blocks(body, "customer_managed_key") or [{}])[0]
        if not key.get("key_vault_key_id") or not key.get("primary_user_assigned_identity_id"):
            if stack.tier == "production":
                return Verdict.failed("no customer-managed key (production needs one)")
            return Verdict.passed("platform-managed encryption at rest (non-production)")
        verdicts = [Verdict.passed("customer-managed key")]
        if body.get("geo_redundant_backup_enabled") is True and not key.get(
            "geo_backup_key_vault_key_id"
        ):
            verdicts.append(Verdict.failed("geo-redundant backups without a geo backup key"))
        return combine(verdicts)


check = AzureDbEncryption()
