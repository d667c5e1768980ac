"""Builds CKV_GW_DB_8: the RDS primary is reached through an RDS Proxy pool (DB-6)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, references_to


class DbPooling(GroundworkCheck):
    id = "CKV_GW_DB_8"
    name = "RDS primary is the target of an RDS Proxy (connection pooling)"
    requirement = "DB-6"
    severity = "MEDIUM"
    resource_types = ("aws_db_instance",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("replicate_source_db"):
            return Verdict.passed("read replica")
        targets = references_to(stack, "aws_db_proxy_target", "db_instance_identifier",
                                self.address)  # fmt: skip
        if not targets:
            return Verdict.failed("no aws_db_proxy_target points at this instance")
        return Verdict.passed(f"pooled by aws_db_proxy_target.{targets[0]}")


check = DbPooling()
