"""Builds CKV_GW_DEPLOY_26: a read replica follows its source's storage autoscaling ceiling
(DEPLOY-6, DB-5).

RDS does not copy `max_allocated_storage` to a replica ("Managing capacity automatically with
Amazon RDS storage autoscaling",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html): a primary
that grows past the replica's fixed storage fills the replica, whose replication then stops.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of


class ReplicaFollowsSource(GroundworkCheck):
    id = "CKV_GW_DEPLOY_26"
    name = "Read replicas autoscale storage up to their source's ceiling"
    requirement = "DEPLOY-6"
    severity = "MEDIUM"
    resource_types = ("aws_db_instance",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        source = address_of(body.get("replicate_source_db"))
        if source is None:
            return Verdict.passed("not a replica")
        source_body = stack.graph.bodies.get(source)
        if source_body is None:
            return Verdict.unknown(f"{source} is not in this stack")
        wanted = source_body.get("max_allocated_storage")
        actual = body.get("max_allocated_storage")
        if wanted is not None and (actual is None or int(actual) < int(wanted)):
            return Verdict.failed(f"max_allocated_storage {actual}; its source grows to {wanted}")
        return Verdict.passed(f"grows with its source (max_allocated_storage {actual})")


check = ReplicaFollowsSource()
