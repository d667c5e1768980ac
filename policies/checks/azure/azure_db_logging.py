"""Builds CKV_GW_DB_77: Flexible Server logs connections, disconnections and slow queries, runs
Query Store (query insights) and sends its logs to Log Analytics (DB-8)."""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    expect_equal,
)


class AzureDbLogging(GroundworkCheck):
    id = "CKV_GW_DB_77"
    name = "PostgreSQL logs connections, disconnections, slow queries; Query Store on"
    requirement = "DB-8"
    severity = "MEDIUM"
    resource_types = ("azurerm_postgresql_flexible_server",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        params = {
            c.get("name"): c.get("value")
            for c in stack.resources("azurerm_postgresql_flexible_server_configuration").values()
            if address_of(c.get("server_id")) == self.address
        }
        verdicts = [
            expect_equal("log_connections", params.get("log_connections"), "on", "DB-8"),
            expect_equal("log_disconnections", params.get("log_disconnections"), "on", "DB-8"),
        ]
        slow = params.get("log_min_duration_statement")
        if slow is None or int(slow) < 0:
            verdicts.append(
                Verdict.failed(f"log_min_duration_statement is {slow}: no slow-query log")
            )
        if params.get("pg_qs.query_capture_mode") not in ("TOP", "ALL"):
            verdicts.append(Verdict.failed("Query Store is off (pg_qs.query_capture_mode)"))
        shipped = any(
            address_of(s.get("target_resource_id")) == self.address and blocks(s, "enabled_log")
            for s in stack.resources("azurerm_monitor_diagnostic_setting").values()
        )
        if not shipped:
            verdicts.append(Verdict.failed("no diagnostic setting sends the server's logs"))
        return combine(verdicts)


check = AzureDbLogging()
