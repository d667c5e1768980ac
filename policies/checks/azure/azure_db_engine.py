"""Builds CKV_GW_DB_70: Flexible Server runs the configured PostgreSQL major version (15 or
later) on the environment's SKU, with at least the configured storage (DB-1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, expect_equal, is_reference

MINIMUM_MAJOR = 15


class AzureDbEngine(GroundworkCheck):
    id = "CKV_GW_DB_70"
    name = "PostgreSQL Flexible Server version >= 15, SKU and storage from the config"
    requirement = "DB-1"
    severity = "HIGH"
    resource_types = ("azurerm_postgresql_flexible_server",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        database = stack.config.database
        version, storage = body.get("version"), body.get("storage_mb")
        verdicts = [
            expect_equal("version", version, str(database.engine_version),
                         "database.engine_version"),
            expect_equal("sku_name", body.get("sku_name"), database.instance.azure,
                         "database.instance.azure"),
        ]  # fmt: skip
        if version is not None and not is_reference(version) and int(version) < MINIMUM_MAJOR:
            verdicts.append(Verdict.failed(f"version {version} is below {MINIMUM_MAJOR}"))
        # Flexible Server storage comes in fixed sizes; the construct picks the next one up.
        if storage is None or is_reference(storage):
            verdicts.append(Verdict.unknown(f"storage_mb is {storage}"))
        elif int(storage) < database.storage_gb * 1024:
            verdicts.append(
                Verdict.failed(f"storage_mb {storage} < database.storage_gb {database.storage_gb}")
            )
        return combine(verdicts)


check = AzureDbEngine()
