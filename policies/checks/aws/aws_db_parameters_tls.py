"""Builds CKV_GW_DB_6: the PostgreSQL parameter group forces TLS (DB-3: rds.force_ssl = 1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, is_reference


class DbForceTls(GroundworkCheck):
    id = "CKV_GW_DB_6"
    name = "RDS PostgreSQL parameter group sets rds.force_ssl to 1"
    requirement = "DB-3"
    severity = "HIGH"
    resource_types = ("aws_db_parameter_group",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        values = {p.get("name"): p.get("value") for p in blocks(body, "parameter")}
        value = values.get("rds.force_ssl")
        if value is None:
            return Verdict.failed("rds.force_ssl is not set (the default allows plain text)")
        if is_reference(value):
            return Verdict.unknown(f"rds.force_ssl is an expression ({value})")
        if str(value) != "1":
            return Verdict.failed(f"rds.force_ssl is {value}")
        return Verdict.passed("rds.force_ssl is 1")


check = DbForceTls()
