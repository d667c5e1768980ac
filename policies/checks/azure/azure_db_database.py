"""Builds CKV_GW_DB_79: the app's database lives on this stack's Flexible Server, in UTF-8,
and cannot be destroyed by accident where DB-7 applies (DB-1, DB-7).

The database resource is where the app's data is: it must be on the server the stack builds
(PostgreSQL >= 15, DB-1), use UTF8 (Flexible Server's default; a database's encoding cannot be
changed after creation), and from staging up carry `prevent_destroy` like its server.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks


class FlexibleServerDatabase(GroundworkCheck):
    id = "CKV_GW_DB_79"
    name = "The app database is on the stack's server, UTF-8, protected from destroy"
    requirement = "DB-1"
    severity = "MEDIUM"
    resource_types = ("azurerm_postgresql_flexible_server_database",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        server = address_of(body.get("server_id"))
        if server is None or not server.startswith("azurerm_postgresql_flexible_server."):
            return Verdict.failed(f"server_id {body.get('server_id')!r} is not this stack's server")
        if server not in stack.graph.bodies:
            return Verdict.failed(f"{server} is not in this stack")
        if str(body.get("charset", "")).upper() != "UTF8":
            return Verdict.failed(f"charset is {body.get('charset')!r}; want UTF8")
        assert stack.config is not None
        protected = any(b.get("prevent_destroy") is True for b in blocks(body, "lifecycle"))
        if stack.config.database.deletion_protection and not protected:
            return Verdict.failed("database.deletion_protection is on but prevent_destroy is not")
        return Verdict.passed(f"UTF8 on {server}")


check = FlexibleServerDatabase()
