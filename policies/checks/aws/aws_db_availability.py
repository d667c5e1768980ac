"""Builds CKV_GW_DB_3: RDS high availability and read replicas as configured (DB-5).

Multi-AZ must equal `database.high_availability` and the number of read replicas of the
primary must equal `database.read_replicas`; production floors come from synth.config.FLOORS.
"""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    availability_verdicts,
    combine,
    references_to,
)


class DbAvailability(GroundworkCheck):
    id = "CKV_GW_DB_3"
    name = "RDS primary is Multi-AZ and has read replicas as the environment requires"
    requirement = "DB-5"
    severity = "HIGH"
    resource_types = ("aws_db_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("replicate_source_db"):
            return Verdict.passed("read replica")
        multi_az = body.get("multi_az", False)  # the provider's default
        replicas = len(references_to(stack, "aws_db_instance", "replicate_source_db", self.address))
        return combine(availability_verdicts(stack, "multi_az", multi_az, replicas))


check = DbAvailability()
