"""Builds CKV_GW_DEPLOY_82: an Entra-only PostgreSQL server gets its app's role from a step the
stack wires (DEPLOY-6).

With password authentication off, a role for a managed identity can be created only by an Entra
administrator of the server, in SQL (`pgaadauth_create_principal_with_oid`;
https://learn.microsoft.com/azure/postgresql/flexible-server/how-to-manage-azure-ad-users).
Nothing in azurerm creates it, so without such a step the app cannot sign in after the apply.
The rule: every primary server with password authentication off has a Container Apps job in the
stack that runs as one of the server's Entra administrators and waits for that administrator.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

ADMIN = "azurerm_postgresql_flexible_server_active_directory_administrator"


class AppRoleCreated(GroundworkCheck):
    id = "CKV_GW_DEPLOY_82"
    name = "An Entra-only PostgreSQL server has a wired step that creates the app's role"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_postgresql_flexible_server",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("create_mode") == "Replica":
            return Verdict.passed("a replica inherits the primary's roles")
        auth = (blocks(body, "authentication") or [{}])[0]
        if auth.get("password_auth_enabled") is not False:
            return Verdict.passed("password authentication is on; roles can be made with it")
        name = self._address[1]
        admins = {
            f"{ADMIN}.{admin_name}": str(admin.get("object_id", ""))
            for admin_name, admin in stack.resources(ADMIN).items()
            if str(admin.get("server_name", "")).startswith(
                f"${{azurerm_postgresql_flexible_server.{name}."
            )
        }
        if not admins:
            return Verdict.failed("no Entra administrator: nobody can create the app's role")
        graph = stack.graph
        for job_name, job in stack.resources("azurerm_container_app_job").items():
            identity = (blocks(job, "identity") or [{}])[0]
            ids = [address_of(i) for i in identity.get("identity_ids") or []]
            for admin, object_id in admins.items():
                runs_as_admin = any(i and object_id.startswith(f"${{{i}.") for i in ids)
                if runs_as_admin and graph.needs(f"azurerm_container_app_job.{job_name}", admin):
                    return Verdict.passed(f"azurerm_container_app_job.{job_name} runs as {admin}")
        return Verdict.failed("no job runs as the server's Entra administrator to create roles")


check = AppRoleCreated()
