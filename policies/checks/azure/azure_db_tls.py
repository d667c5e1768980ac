"""Builds CKV_GW_DB_72: every Flexible Server requires TLS (`require_secure_transport` on) at
TLS 1.2 or later (DB-3)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine, expect_equal


class AzureDbTls(GroundworkCheck):
    id = "CKV_GW_DB_72"
    name = "PostgreSQL Flexible Server requires TLS 1.2+ connections"
    requirement = "DB-3"
    severity = "HIGH"
    resource_types = ("azurerm_postgresql_flexible_server",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        # Azure's server default is on, but an explicit parameter is what we can see and pin.
        params = {
            c.get("name"): c.get("value")
            for c in stack.resources("azurerm_postgresql_flexible_server_configuration").values()
            if address_of(c.get("server_id")) == self.address
        }
        version = params.get("ssl_min_protocol_version")
        verdicts = [
            expect_equal(
                "require_secure_transport", params.get("require_secure_transport"), "on", "DB-3"
            ),
        ]
        if version not in ("TLSv1.2", "TLSv1.3"):
            verdicts.append(Verdict.failed(f"ssl_min_protocol_version is {version}"))
        return combine(verdicts)


check = AzureDbTls()
