"""Builds CKV_GW_DB_75: Flexible Server pools connections with its built-in PgBouncer (DB-6).
Burstable SKUs (`B_...`) cannot run PgBouncer
(https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-pgbouncer, "not supported
with the Burstable server compute tier"). The app's own connection pool is not a managed pooler,
so such a server FAILS here; the database construct declares a waiver with that reason for a
Burstable server outside the production tier, and the gate reports DB-6 as waived there."""

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
        if str(sku).startswith("B_"):
            return Verdict.failed(f"{sku} is Burstable, which cannot run PgBouncer: no managed "
                                  "pooler in front of the server")  # fmt: skip
        return Verdict.failed(f"pgbouncer.enabled is {params.get('pgbouncer.enabled')} on {sku}")


check = AzureDbPooling()
