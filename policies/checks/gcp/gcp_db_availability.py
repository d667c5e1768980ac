"""Builds CKV_GW_DB_43: the Cloud SQL primary is REGIONAL where the config asks for high
availability and has the configured number of read replicas, with the production floors
(DB-5). Replicas are judged through their primary and pass."""

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
    id = "CKV_GW_DB_43"
    name = "Cloud SQL primary is REGIONAL with the environment's read replicas"
    requirement = "DB-5"
    severity = "HIGH"
    resource_types = ("google_sql_database_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("master_instance_name"):
            return Verdict.passed("read replica")
        regional = (body.get("settings") or {}).get("availability_type") == "REGIONAL"
        replicas = len(references_to(stack, "google_sql_database_instance",
                                     "master_instance_name", self.address))  # fmt: skip
        return combine(availability_verdicts(stack, "REGIONAL availability", regional, replicas))


check = DbAvailability()
