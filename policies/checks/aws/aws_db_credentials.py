"""Builds CKV_GW_DB_5: the RDS master password is managed in Secrets Manager (DB-9).

The primary must set `manage_master_user_password = true` and carry no `password`; read
replicas inherit the primary's credentials.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict


class DbManagedPassword(GroundworkCheck):
    id = "CKV_GW_DB_5"
    name = "RDS master password is generated and kept by Secrets Manager, not in configuration"
    requirement = "DB-9"
    severity = "CRITICAL"
    resource_types = ("aws_db_instance",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("replicate_source_db"):
            return Verdict.passed("read replica")
        if body.get("password") is not None:
            return Verdict.failed("password is set in the configuration")
        if body.get("manage_master_user_password") is not True:
            return Verdict.failed("manage_master_user_password is not true")
        return Verdict.passed("master password managed by Secrets Manager")


check = DbManagedPassword()
