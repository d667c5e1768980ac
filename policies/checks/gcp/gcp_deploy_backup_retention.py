"""Builds CKV_GW_DEPLOY_55: every Cloud SQL primary's backup settings fit each other
(DEPLOY-4).

- `transaction_log_retention_days` is set explicitly, point-in-time recovery on or off: left
  unset, Cloud SQL applies its default (7 days on the Enterprise edition, 14 on Enterprise
  Plus: https://cloud.google.com/sql/docs/postgres/backup-recovery/pitr, "Log storage for
  PITR"), which a small `retained_backups` cannot hold.
- `retained_backups` is at least `transaction_log_retention_days`: Cloud SQL refuses the
  update otherwise ("Invalid request: backup retention should be > transaction log
  retention", terraform-google-modules/terraform-google-sql-db#785). Equal is accepted:
  Cloud SQL's own Enterprise defaults are 7 backups and 7 days of logs.
- the days fit the edition: 1 to 7 on Enterprise, 1 to 35 on Enterprise Plus ("The number of
  transaction log retention days must be between 1 and 7", langfuse/langfuse-terraform-gcp#8;
  https://cloud.google.com/sql/docs/postgres/backup-recovery/pitr).

Read replicas take no backups of their own and pass.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks

MAX_LOG_DAYS = {"ENTERPRISE": 7, "ENTERPRISE_PLUS": 35}


class BackupRetentionFits(GroundworkCheck):
    id = "CKV_GW_DEPLOY_55"
    name = "Cloud SQL keeps at least as many backups as days of transaction logs, set explicitly"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = ("google_sql_database_instance",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("master_instance_name"):
            return Verdict.passed("a read replica: backups are the primary's")
        settings = next(iter(blocks(body, "settings")), {})
        backup = next(iter(blocks(settings, "backup_configuration")), {})
        retention = next(iter(blocks(backup, "backup_retention_settings")), {})
        days = backup.get("transaction_log_retention_days")
        kept = retention.get("retained_backups")
        unit = retention.get("retention_unit", "COUNT")
        edition = str(settings.get("edition") or "ENTERPRISE")
        if not isinstance(days, int):
            return Verdict.failed(
                "transaction_log_retention_days is unset: Cloud SQL's default (7 or 14 days) "
                "may exceed the backups kept"
            )
        if not 1 <= days <= MAX_LOG_DAYS.get(edition, 7):
            return Verdict.failed(
                f"{days} days of transaction logs: {edition} allows 1 to "
                f"{MAX_LOG_DAYS.get(edition, 7)}"
            )
        if unit != "COUNT" or not isinstance(kept, int) or kept < days:
            return Verdict.failed(
                f"retained_backups {kept} ({unit}) is fewer than {days} days of transaction "
                "logs: Cloud SQL refuses the instance settings"
            )
        return Verdict.passed(f"{kept} backups kept for {days} days of transaction logs")


check = BackupRetentionFits()
