"""Builds CKV_GW_DB_4: RDS deletion protection, final snapshot and prevent_destroy (DB-7).

Where `database.deletion_protection` is on (staging and production by their floors), the
primary also needs a final snapshot on delete and Terraform's `lifecycle.prevent_destroy`.
"""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    blocks,
    combine,
    expect_equal,
    floor_verdicts,
)


class DbProtection(GroundworkCheck):
    id = "CKV_GW_DB_4"
    name = "RDS has deletion protection, a final snapshot and prevent_destroy where required"
    requirement = "DB-7"
    severity = "HIGH"
    resource_types = ("aws_db_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        wanted = stack.config.database.deletion_protection
        protection = body.get("deletion_protection", False)  # the provider's default
        verdicts = [
            expect_equal("deletion_protection", protection, wanted, "database.deletion_protection"),
            *floor_verdicts(stack, "DB-7", "database.deletion_protection", protection),
        ]
        if wanted and not body.get("replicate_source_db"):
            if body.get("skip_final_snapshot", False) is not False:
                verdicts.append(Verdict.failed("skip_final_snapshot must be false"))
            if not body.get("final_snapshot_identifier"):
                verdicts.append(Verdict.failed("final_snapshot_identifier is not set"))
            lifecycle = blocks(body, "lifecycle")
            if not any(block.get("prevent_destroy") is True for block in lifecycle):
                verdicts.append(Verdict.failed("lifecycle.prevent_destroy is not true"))
        return combine(verdicts)


check = DbProtection()
