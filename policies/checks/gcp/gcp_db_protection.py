"""Builds CKV_GW_DB_45: Cloud SQL has deletion protection (Terraform's and the API's), keeps its
backups on delete (the final snapshot) and `prevent_destroy` where the config asks for
deletion protection, with the staging/production floor (DB-7)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, floor_verdicts


class DbProtection(GroundworkCheck):
    id = "CKV_GW_DB_45"
    name = "Cloud SQL deletion protection, backups retained on delete and prevent_destroy"
    requirement = "DB-7"
    severity = "HIGH"
    resource_types = ("google_sql_database_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        settings = body.get("settings") or {}
        lifecycle = (blocks(body, "lifecycle") or [{}])[0]
        replica = bool(body.get("master_instance_name"))
        actual = {
            "deletion_protection": body.get("deletion_protection") is not False,
            "settings.deletion_protection_enabled": settings.get("deletion_protection_enabled")
            is True,
            "lifecycle.prevent_destroy": lifecycle.get("prevent_destroy") is True,
        }
        if not replica:  # a replica has no backups of its own to keep
            actual["settings.retain_backups_on_delete"] = (
                settings.get("retain_backups_on_delete") is True
            )
        verdicts = []
        if stack.config.database.deletion_protection:
            verdicts = [Verdict.failed(f"{k} is off") for k, on in actual.items() if not on]
        protected = all(actual.values())
        verdicts.extend(floor_verdicts(stack, "DB-7", "database.deletion_protection", protected))
        return combine(
            verdicts or [Verdict.passed("protection matches database.deletion_protection")]
        )


check = DbProtection()
