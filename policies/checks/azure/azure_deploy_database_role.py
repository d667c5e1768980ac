"""Builds CKV_GW_DEPLOY_82: an Entra-only PostgreSQL server gets its app's role from a step the
stack wires (DEPLOY-6).

With password authentication off, a role for a managed identity can be created only by an Entra
administrator of the server, in SQL (`pgaadauth_create_principal_with_oid`;
https://learn.microsoft.com/azure/postgresql/flexible-server/how-to-manage-azure-ad-users).
Nothing in azurerm creates it, so without such a step the app cannot sign in after the apply.
The rule: every primary server with password authentication off has a Container Apps job in the
stack that runs as one of the server's Entra administrators and waits for that administrator,
and every Container App that signs in with a token (`DATABASE_AUTH=entra-token`) has such a job
that creates a role for its own identity (APP-7: one role per service, each its own identity):
the identity is the job's `APP_OBJECT_ID`, or one of the `<role>=<object id>` pairs of its
`APP_ROLES` (one job for every service, constructs/azure/jobs.py). That the job also runs during
the apply, before the app, is CKV_GW_DEPLOY_93.

The role must also be able to run the app's migrations: since PostgreSQL 15 ordinary roles may
no longer create objects in schema `public` (https://www.postgresql.org/docs/15/release-15.html,
"Remove PUBLIC creation permission on the public schema"), and database privileges (CONNECT,
CREATE, TEMPORARY) do not include it. So that job's command must also grant CREATE on schema
`public`, in a psql session connected to a database other than `postgres` (schema grants belong
to the database the session is connected to). A GRANT its issuer has no right to make only
warns ("no privileges were granted"), so the same session must verify the result with
`has_schema_privilege(..., 'public', 'CREATE')` and fail otherwise (constructs/azure/jobs.py
explains why the Entra administrator holds that right on Flexible Server).
"""

import re
from typing import Any

from azure_cache_access import job_env
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

ADMIN = "azurerm_postgresql_flexible_server_active_directory_administrator"
SCHEMA_GRANT = re.compile(r"GRANT\s[^;]*\bCREATE\b[^;]*\bON\s+SCHEMA\s+public\b", re.IGNORECASE)
VERIFIED = re.compile(r"has_schema_privilege\([^;]*'public',\s*'CREATE'\)[\s\S]*RAISE\s+EXCEPTION")
SERVER_DATABASES = {"postgres", "template0", "template1", "azure_maintenance", "azure_sys"}
IDENTITY = re.compile(r"\$\{(azurerm_user_assigned_identity\.[A-Za-z0-9_-]+)\.")


def role_identities(job: dict[str, Any]) -> set[str]:
    """The identities whose database role `job` creates: its `APP_OBJECT_ID`'s, and every
    identity named in its `APP_ROLES` pairs (also CKV_GW_DEPLOY_93's)."""
    env = job_env(job)
    found = {address_of(env.get("APP_OBJECT_ID"))} - {None}
    found |= set(IDENTITY.findall(str(env.get("APP_ROLES") or "")))
    return {str(identity) for identity in found}


def _grants_public_schema(job: dict[str, Any]) -> bool:
    """Whether a container of `job` grants CREATE on schema public connected to an app database."""
    for container in blocks(job.get("template") or {}, "container"):
        text = " ".join(str(part) for part in container.get("command") or [])
        text += " " + " ".join(str(part) for part in container.get("args") or [])
        # Each psql invocation is a session; its connection string names its database.
        for session in re.split(r"\bpsql\b", text)[1:]:
            database = re.search(r"\bdbname=([^\s\"']+)", session)
            named = database.group(1) if database else "postgres"
            if (
                named not in SERVER_DATABASES
                and SCHEMA_GRANT.search(session)
                and VERIFIED.search(session)
            ):
                return True
    return False


class AppRoleCreated(GroundworkCheck):
    id = "CKV_GW_DEPLOY_82"
    name = "An Entra-only PostgreSQL server has a wired step that creates a role able to migrate"
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
        roles_for: set[str] = set()
        role_jobs = 0
        failures = []
        for job_name, job in stack.resources("azurerm_container_app_job").items():
            identity = (blocks(job, "identity") or [{}])[0]
            ids = [address_of(i) for i in identity.get("identity_ids") or []]
            for admin, object_id in admins.items():
                runs_as_admin = any(i and object_id.startswith(f"${{{i}.") for i in ids)
                if runs_as_admin and graph.needs(f"azurerm_container_app_job.{job_name}", admin):
                    if not _grants_public_schema(job):
                        failures.append(
                            Verdict.failed(
                                f"azurerm_container_app_job.{job_name} grants and verifies no "
                                "CREATE on schema public in the app's database (PostgreSQL 15+: "
                                "migrations fail)"
                            )
                        )
                    else:
                        role_jobs += 1
                        roles_for |= role_identities(job)
        if failures:
            return failures[0]
        if not role_jobs:
            return Verdict.failed("no job runs as the server's Entra administrator to create roles")
        verdicts = []
        for app_name, app in stack.resources("azurerm_container_app").items():
            env = job_env(app)
            if env.get("DATABASE_AUTH") != "entra-token":
                continue
            identities = {
                address_of(i) for b in blocks(app, "identity") for i in b.get("identity_ids") or []
            }
            if not identities & roles_for:
                verdicts.append(
                    Verdict.failed(f"azurerm_container_app.{app_name}: no job creates its role")
                )
        return combine(
            verdicts or [Verdict.passed(f"roles created for {sorted(map(str, roles_for))}")]
        )


check = AppRoleCreated()
