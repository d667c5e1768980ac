"""Builds CKV_GW_DB_78: Flexible Server authenticates with Entra ID only: password
authentication off and no administrator password in the configuration (DB-9)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine


class AzureDbCredentials(GroundworkCheck):
    id = "CKV_GW_DB_78"
    name = "PostgreSQL Flexible Server uses Entra ID auth only, with no admin password"
    requirement = "DB-9"
    severity = "CRITICAL"
    resource_types = ("azurerm_postgresql_flexible_server",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        auth = (blocks(body, "authentication") or [{}])[0]
        verdicts = []
        if auth.get("active_directory_auth_enabled") is not True:
            verdicts.append(Verdict.failed("Entra ID authentication is not enabled"))
        if auth.get("password_auth_enabled") is not False:
            verdicts.append(Verdict.failed("password authentication is not explicitly off"))
        for key in ("administrator_password", "administrator_password_wo", "administrator_login"):
            if key in body:
                verdicts.append(Verdict.failed(f"{key} is set"))
        return combine(verdicts or [Verdict.passed("Entra ID only")])


check = AzureDbCredentials()
