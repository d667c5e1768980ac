"""Builds CKV_GW_DB_40: Cloud SQL runs PostgreSQL of the environment's major version (15 or
later) on the environment's machine tier and disk size (DB-1)."""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, expect_equal

MINIMUM_MAJOR = 15


class DbEngine(GroundworkCheck):
    id = "CKV_GW_DB_40"
    name = "Cloud SQL is PostgreSQL 15+ at the environment's version, tier and disk size"
    requirement = "DB-1"
    severity = "HIGH"
    resource_types = ("google_sql_database_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        database = stack.config.database
        match = re.fullmatch(r"POSTGRES_(\d+)", str(body.get("database_version")))
        if not match:
            return Verdict.failed(
                f"database_version {body.get('database_version')} is not PostgreSQL"
            )
        major = int(match.group(1))
        settings = body.get("settings") or {}
        verdicts = [
            expect_equal("PostgreSQL major", major, database.engine_version,
                         "database.engine_version"),
            expect_equal("settings.tier", settings.get("tier"), database.instance.gcp,
                         "database.instance.gcp"),
            expect_equal("settings.disk_size", settings.get("disk_size"), database.storage_gb,
                         "database.storage_gb"),
        ]  # fmt: skip
        if major < MINIMUM_MAJOR:
            verdicts.append(Verdict.failed(f"PostgreSQL {major} is older than {MINIMUM_MAJOR}"))
        return combine(verdicts)


check = DbEngine()
