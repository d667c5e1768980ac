"""Builds CKV_GW_DB_7: the parameter group logs connections, disconnections and slow queries
(DB-8)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference


class DbSessionLogging(GroundworkCheck):
    id = "CKV_GW_DB_7"
    name = "RDS PostgreSQL logs connections, disconnections and slow queries"
    requirement = "DB-8"
    severity = "MEDIUM"
    resource_types = ("aws_db_parameter_group",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        values = {p.get("name"): p.get("value") for p in blocks(body, "parameter")}
        verdicts = []
        for name in ("log_connections", "log_disconnections"):
            value = values.get(name)
            if is_reference(value):
                verdicts.append(Verdict.unknown(f"{name} is an expression"))
            elif str(value) not in ("1", "on", "true"):
                verdicts.append(Verdict.failed(f"{name} is {value} (want 1)"))
        slow = values.get("log_min_duration_statement")
        if is_reference(slow):
            verdicts.append(Verdict.unknown("log_min_duration_statement is an expression"))
        elif slow is None or not str(slow).isdigit():
            verdicts.append(Verdict.failed(f"log_min_duration_statement is {slow} (want >= 0)"))
        return combine(verdicts)


check = DbSessionLogging()
