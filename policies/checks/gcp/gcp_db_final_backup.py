"""Builds CKV_GW_DB_48: where the environment asks for deletion protection (staging and up),
deleting the Cloud SQL primary takes a final backup (DB-7).

`retain_backups_on_delete` keeps the instance's existing automated and on-demand backups after
deletion (https://cloud.google.com/sql/docs/postgres/backup-recovery/backups), so the newest
kept backup may be up to a day old: it is not a backup taken at deletion. Cloud SQL has that too
(the final backup, `settings.finalBackupConfig`, https://cloud.google.com/sql/
docs/postgres/admin-api/rest/v1/instances), but hashicorp/google 6.50 has no field for it:
`final_backup_config` arrived in provider 7.5.0 (requested in terraform-provider-google#24032).
So on 6.50 this fails on every protected primary, and the construct that builds it declares a
reasoned waiver saying what stands in for it (constructs/gcp/database.py); the report shows the
DB-7 deviation instead of a pass. It passes once `settings.final_backup_config.enabled` is true.
Deletion protection, retained backups and prevent_destroy are CKV_GW_DB_45's. Read replicas
have no backups of their own and pass.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks


class DbFinalBackup(GroundworkCheck):
    id = "CKV_GW_DB_48"
    name = "Cloud SQL takes a final backup when the protected instance is deleted"
    requirement = "DB-7"
    severity = "HIGH"
    resource_types = ("google_sql_database_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        if body.get("master_instance_name"):
            return Verdict.passed("a read replica: the primary's backups")
        if not stack.config.database.deletion_protection:
            return Verdict.passed("database.deletion_protection is off: no final backup asked")
        settings = next(iter(blocks(body, "settings")), {})
        final = next(iter(blocks(settings, "final_backup_config")), {})
        if final.get("enabled") is True:
            return Verdict.passed("a final backup is taken on delete")
        return Verdict.failed(
            "no final backup on delete: retain_backups_on_delete keeps only the existing "
            "backups, and provider 6.50 has no final_backup_config"
        )


check = DbFinalBackup()
