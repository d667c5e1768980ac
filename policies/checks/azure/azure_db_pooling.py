"""Builds CKV_GW_DB_75: Flexible Server pools connections with its built-in PgBouncer (DB-6).
Burstable SKUs (`B_...`) cannot run PgBouncer; outside production the app's own connection
pool is the documented equivalent (constructs/azure/database.py) and passes with that note,
while a production server must pool on the server."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, is_reference


class AzureDbPooling(GroundworkCheck):
    id = "CKV_GW_DB_75"
    name = "PostgreSQL Flexible Server runs PgBouncer (app pool on non-production Burstable)"
    requirement = "DB-6"
    severity = "MEDIUM"
    resource_types = ("azurerm_postgresql_flexible_server",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        sku = body.get("sku_name")
        if sku is None or is_reference(sku):
            return Verdict.unknown(f"sku_name is {sku}")
        params = {
            c.get("name"): c.get("value")
            for c in stack.resources("azurerm_postgresql_flexible_server_configuration").values()
            if address_of(c.get("server_id")) == self.address
        }
        if params.get("pgbouncer.enabled") == "true":
            return Verdict.passed("built-in PgBouncer")
        if str(sku).startswith("B_") and stack.tier != "production":
            return Verdict.passed(f"{sku} cannot run PgBouncer; the app's pool is the documented "
                                  "equivalent outside production")  # fmt: skip
        return Verdict.failed(f"pgbouncer.enabled is {params.get('pgbouncer.enabled')} on {sku}")


check = AzureDbPooling()
