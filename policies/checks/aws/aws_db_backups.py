"""Builds CKV_GW_DB_1: RDS keeps automated backups for the environment's retention (DB-4).

On RDS, point-in-time recovery is inherent to any backup retention of a day or more, so the
retention is the whole check. Read replicas take no backups of their own and pass.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, expect_equal, floor_verdicts


class DbBackupRetention(GroundworkCheck):
    id = "CKV_GW_DB_1"
    name = "RDS backups are kept for the environment's backup retention"
    requirement = "DB-4"
    severity = "HIGH"
    resource_types = ("aws_db_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("replicate_source_db"):
            return Verdict.passed("read replica: backups are the primary's")
        assert stack.config is not None
        database = stack.config.database
        actual = body.get("backup_retention_period")
        verdicts = [
            expect_equal(
                "backup_retention_period",
                actual,
                database.backup_retention_days,
                "database.backup_retention_days",
            ),
            *floor_verdicts(stack, "DB-4", "database.backup_retention_days", actual),
        ]
        if database.point_in_time_recovery and not actual:
            verdicts.append(Verdict.failed("point-in-time recovery needs a backup retention"))
        return combine(verdicts)


check = DbBackupRetention()
