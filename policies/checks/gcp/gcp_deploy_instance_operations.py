"""Builds CKV_GW_DEPLOY_54: every declared gcloud step that operates on a Cloud SQL instance
depends on every other resource that operates on that instance (DEPLOY-2).

Cloud SQL runs one administrative operation per instance at a time; a second one while the
first runs is refused with HTTP 409 "Operation failed because another operation was already
in progress" (https://cloud.google.com/sql/docs/troubleshooting, "operation in progress").
The google provider serializes its own resources on an instance (databases, users and the
replicas whose creation runs on the primary) with an in-process lock keyed by the instance,
which a `terraform_data` step running `gcloud sql ...` (constructs/gcp/steps.py) does not
take. So a step naming an instance (`gcloud sql instances patch|execute-sql <instance>`, or
`--instance=<instance>`) waits for each `google_sql_database`, `google_sql_user`, read
replica (`master_instance_name`) and other step on that instance; two steps on one instance
are ordered one way or the other.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

INSTANCE = "google_sql_database_instance."
ON_INSTANCE = {
    "google_sql_database": "instance",
    "google_sql_user": "instance",
    "google_sql_database_instance": "master_instance_name",
}


def step_instances(body: dict[str, Any]) -> set[str]:
    """The instances (addresses) a step's gcloud arguments or script name."""
    found = set()
    values = [str(v) for v in (body.get("input") or {}).get("gcloud") or []]
    if not values or values[0] != "sql":
        return found
    for value in values:
        address = address_of(value.split("=", 1)[-1])
        if address and address.startswith(INSTANCE):
            found.add(address)
    return found


class StepsWaitForInstanceOperations(GroundworkCheck):
    id = "CKV_GW_DEPLOY_54"
    name = "Every gcloud step on a Cloud SQL instance waits for everything else operating on it"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = ("terraform_data",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        instances = step_instances(body)
        if not instances:
            return Verdict.passed("operates on no Cloud SQL instance")
        graph = stack.graph
        verdicts = []
        for instance in sorted(instances):
            others = [
                address
                for kind, field in ON_INSTANCE.items()
                for address, other in graph.of_type(kind).items()
                if address_of(other.get(field)) == instance
            ] + [
                address
                for address, other in graph.of_type("terraform_data").items()
                if address != self.address
                and instance in step_instances(other)
                and not graph.needs(address, self.address)
            ]
            missing = [a for a in others if not graph.needs(self.address, a)]
            if missing:
                verdicts.append(
                    Verdict.failed(
                        f"runs on {instance} while {', '.join(sorted(missing))} may still "
                        "operate on it (HTTP 409 operation in progress)"
                    )
                )
            else:
                verdicts.append(
                    Verdict.passed(f"waits for all {len(others)} other operations on {instance}")
                )
        return combine(verdicts)


check = StepsWaitForInstanceOperations()
