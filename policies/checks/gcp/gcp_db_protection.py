"""Builds CKV_GW_DB_45: Cloud SQL has deletion protection (Terraform's and the API's), keeps its
backups on delete (the final snapshot) and `prevent_destroy` where the config asks for
deletion protection, with the staging/production floor (DB-7).

A workload's Cloud KMS keys follow the same switch: destroying a key destroys every byte it
encrypted (the database's included), so `prevent_destroy` is on where
`database.deletion_protection` is, and off where it is not, because there the README's
`terraform destroy` is the documented teardown and a protected key would make it fail. The
bootstrap stack's state key is always protected and not judged here.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, floor_verdicts


class DbProtection(GroundworkCheck):
    id = "CKV_GW_DB_45"
    name = (
        "Cloud SQL deletion protection, backups retained on delete and prevent_destroy; "
        "keys protected as the database is"
    )
    requirement = "DB-7"
    severity = "HIGH"
    resource_types = ("google_sql_database_instance", "google_kms_crypto_key")

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        if self._address[0] == "google_kms_crypto_key":
            return stack.config is not None and stack.config.role == "workload"
        return True

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        if self._address[0] == "google_kms_crypto_key":
            wanted = stack.config.database.deletion_protection
            actual = (blocks(body, "lifecycle") or [{}])[0].get("prevent_destroy") is True
            if actual == wanted:
                return Verdict.passed(f"prevent_destroy is {str(wanted).lower()}, as protection")
            if wanted:
                return Verdict.failed("prevent_destroy is off: destroying the key destroys data")
            return Verdict.failed(
                "prevent_destroy is on without database.deletion_protection: the documented "
                "terraform destroy fails"
            )
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
