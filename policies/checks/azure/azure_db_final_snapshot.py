"""Builds CKV_GW_DB_80: where the environment asks for deletion protection (staging and up),
deleting the PostgreSQL server leaves a final snapshot (DB-7).

Azure Database for PostgreSQL Flexible Server has no snapshot on delete: neither the server API
(https://learn.microsoft.com/rest/api/postgresql/servers/create) nor azurerm 4.55's
`azurerm_postgresql_flexible_server` has a field for one. So this fails on every protected
server, whatever its attributes, and the construct that builds the server declares a reasoned
waiver saying what stands in for it (constructs/azure/database.py); the report shows the DB-7
deviation instead of a pass. prevent_destroy and the delete lock are CKV_GW_DB_76's.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict


class AzureDbFinalSnapshot(GroundworkCheck):
    id = "CKV_GW_DB_80"
    name = "PostgreSQL Flexible Server leaves a final snapshot when deleted"
    requirement = "DB-7"
    severity = "HIGH"
    resource_types = ("azurerm_postgresql_flexible_server",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        if not stack.config.database.deletion_protection:
            return Verdict.passed("database.deletion_protection is off: no final snapshot asked")
        return Verdict.failed(
            "Flexible Server takes no final snapshot on delete (no such API field)"
        )


check = AzureDbFinalSnapshot()
