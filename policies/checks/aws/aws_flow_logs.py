"""Builds CKV_GW_NET_2: the VPC has flow logs of all traffic into a log group kept for the
environment's log retention (NET-4)."""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    expect_equal,
    references_to,
)


class FlowLogs(GroundworkCheck):
    id = "CKV_GW_NET_2"
    name = "VPC flow logs capture all traffic and are kept for the environment's log retention"
    requirement = "NET-4"
    severity = "MEDIUM"
    resource_types = ("aws_vpc",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        logs = references_to(stack, "aws_flow_log", "vpc_id", self.address)
        if not logs:
            return Verdict.failed("no aws_flow_log for this VPC")
        flow = stack.resources("aws_flow_log")[logs[0]]
        if flow.get("traffic_type") != "ALL":
            return Verdict.failed(f"traffic_type is {flow.get('traffic_type')}, not ALL")
        destination = address_of(flow.get("log_destination"))
        if not destination or not destination.startswith("aws_cloudwatch_log_group."):
            return Verdict.unknown(f"log_destination {flow.get('log_destination')} is not a "
                                   "log group of this stack")  # fmt: skip
        group = stack.resources("aws_cloudwatch_log_group").get(destination.split(".", 1)[1], {})
        return expect_equal("flow log retention_in_days", group.get("retention_in_days", 0),
                            stack.config.logs.retention_days, "logs.retention_days")  # fmt: skip


check = FlowLogs()
