"""Builds CKV_GW_DB_42: Cloud SQL keeps automated backups for the environment's retention and
has point-in-time recovery where the config asks for it, with the production floors (DB-4).
Replicas take no backups of their own and pass."""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    combine,
    expect_equal,
    floor_verdicts,
)


class DbBackups(GroundworkCheck):
    id = "CKV_GW_DB_42"
    name = "Cloud SQL backups kept for the environment's retention, with PITR where configured"
    requirement = "DB-4"
    severity = "HIGH"
    resource_types = ("google_sql_database_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("master_instance_name"):
            return Verdict.passed("read replica: backups are the primary's")
        assert stack.config is not None
        database = stack.config.database
        backup = (body.get("settings") or {}).get("backup_configuration") or {}
        retention = (backup.get("backup_retention_settings") or {}).get("retained_backups")
        pitr = bool(backup.get("point_in_time_recovery_enabled"))
        verdicts = [
            expect_equal("backup_configuration.enabled", backup.get("enabled"), True, "DB-4"),
            expect_equal("retained_backups", retention, database.backup_retention_days,
                         "database.backup_retention_days"),
            expect_equal("point_in_time_recovery_enabled", pitr, database.point_in_time_recovery,
                         "database.point_in_time_recovery"),
            *floor_verdicts(stack, "DB-4", "database.backup_retention_days", retention),
            *floor_verdicts(stack, "DB-4", "database.point_in_time_recovery", pitr),
        ]  # fmt: skip
        return combine(verdicts)


check = DbBackups()
