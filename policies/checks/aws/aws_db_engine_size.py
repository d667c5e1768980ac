"""Builds CKV_GW_DB_2: RDS runs PostgreSQL 15+ at the environment's size (DB-1 and the sizing
table: instance class, storage and storage autoscaling from environments/<env>.yaml)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, expect_equal

MIN_MAJOR = 15


class DbEngineAndSize(GroundworkCheck):
    id = "CKV_GW_DB_2"
    name = "RDS is PostgreSQL 15+ with the environment's instance class and storage"
    requirement = "DB-1"
    severity = "MEDIUM"
    resource_types = ("aws_db_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        database = stack.config.database
        verdicts = [
            expect_equal("instance_class", body.get("instance_class"), database.instance.aws,
                         "database.instance.aws"),
        ]  # fmt: skip
        if body.get("replicate_source_db"):
            return combine(verdicts)  # engine and storage follow the primary
        verdicts.append(expect_equal("engine", body.get("engine"), "postgres", "DB-1"))
        version = body.get("engine_version")
        major = str(version).split(".")[0] if version is not None else None
        verdicts.append(
            expect_equal("engine_version (major)", major, str(database.engine_version),
                         "database.engine_version")
        )  # fmt: skip
        if major and major.isdigit() and int(major) < MIN_MAJOR:
            verdicts.append(Verdict.failed(f"PostgreSQL {major} is below {MIN_MAJOR}"))
        verdicts.append(
            expect_equal("allocated_storage", body.get("allocated_storage"), database.storage_gb,
                         "database.storage_gb")
        )  # fmt: skip
        if database.max_storage_gb > database.storage_gb:
            verdicts.append(
                expect_equal("max_allocated_storage", body.get("max_allocated_storage"),
                             database.max_storage_gb, "database.max_storage_gb")
            )  # fmt: skip
        elif body.get("max_allocated_storage") not in (None, 0, database.storage_gb):
            verdicts.append(Verdict.failed("storage autoscaling is on but the config has none"))
        return combine(verdicts)


check = DbEngineAndSize()
