"""Builds CKV_GW_DB_73: Flexible Server keeps backups at least as long as the environment asks
(DB-4; the production floor comes from synth.config.FLOORS). Azure's minimum retention is 7
days, so a tier asking for 1 gets 7: at-or-above is right here. Point-in-time recovery is
inherent to Flexible Server backups. Replicas take no backups of their own."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, floor_verdicts, is_reference


class AzureDbBackups(GroundworkCheck):
    id = "CKV_GW_DB_73"
    name = "PostgreSQL Flexible Server backup retention is at least the configured days"
    requirement = "DB-4"
    severity = "HIGH"
    resource_types = ("azurerm_postgresql_flexible_server",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("create_mode") == "Replica":
            return Verdict.passed("read replica: backups are the primary's")
        assert stack.config is not None
        wanted = stack.config.database.backup_retention_days
        # Absent means the provider's default of 7 days; make that explicit rather than pass.
        actual = body.get("backup_retention_days")
        if actual is None:
            return Verdict.failed(f"backup_retention_days is not set; want >= {wanted}")
        if is_reference(actual):
            return Verdict.unknown(f"backup_retention_days is {actual}")
        # Point-in-time recovery covers the whole retention of every Flexible Server backup.
        recoverable = int(actual) >= 1
        verdicts = [
            *floor_verdicts(stack, "DB-4", "database.backup_retention_days", actual),
            *floor_verdicts(stack, "DB-4", "database.point_in_time_recovery", recoverable),
        ]
        if int(actual) < wanted:
            verdicts.append(Verdict.failed(f"backup_retention_days {actual} < {wanted}"))
        return combine(verdicts or [Verdict.passed(f"{actual} days (config {wanted})")])


check = AzureDbBackups()
