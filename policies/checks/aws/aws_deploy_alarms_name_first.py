"""Builds CKV_GW_DEPLOY_29: every CloudWatch alarm that names another resource of the stack by
its literal name depends on that resource (DEPLOY-2).

An alarm refers to what it watches by name: a metric dimension (`DBInstanceIdentifier`,
`LoadBalancer`, ...), an `INSIGHT_RULE_METRIC("<rule name>", ...)` math expression, or a
composite alarm's `ALARM("<alarm name>")`. A literal name is invisible to Terraform, which then
creates the alarm in parallel with what it names. A composite alarm whose rule names an alarm
that does not exist yet is refused (PutCompositeAlarm,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html),
and an `INSIGHT_RULE_METRIC` alarm put before its Contributor Insights rule
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContributorInsights-GraphReportData.html)
reads a rule that is not there; the order costs nothing and removes the race. A name given as a
reference is ordered by Terraform already.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference

# Attributes that hold a resource's own name, which alarms use to point at it.
NAME_ATTRIBUTES = (
    "name",
    "rule_name",
    "alarm_name",
    "identifier",
    "function_name",
    "cluster_identifier",
    "replication_group_id",
)
QUOTED = re.compile(r'"([^"]+)"')


def literal_names(stack: Stack, own: str) -> dict[str, str]:
    """Literal name -> the address of the resource of this stack that carries it."""
    names: dict[str, str] = {}
    for address, body in stack.graph.bodies.items():
        if address == own or address.startswith(("data.", "ephemeral.")):
            continue
        for attribute in NAME_ATTRIBUTES:
            value = body.get(attribute)
            if isinstance(value, str) and value and not is_reference(value):
                names.setdefault(value, address)
    return names


def named(body: dict[str, Any]) -> set[str]:
    """The names an alarm points at: dimension values and quoted names in expressions."""
    found: set[str] = set()
    dimensions = [body.get("dimensions")]
    for query in blocks(body, "metric_query"):
        found |= set(QUOTED.findall(str(query.get("expression") or "")))
        dimensions += [metric.get("dimensions") for metric in blocks(query, "metric")]
    for value in dimensions:
        if isinstance(value, dict):
            found |= {v for v in value.values() if isinstance(v, str)}
    found |= set(QUOTED.findall(str(body.get("alarm_rule") or "")))
    return found


class AlarmsNameFirst(GroundworkCheck):
    id = "CKV_GW_DEPLOY_29"
    name = "Alarms depend on the resources of the stack they name by literal name"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        names = literal_names(stack, self.address)
        targets = {names[name] for name in named(body) if name in names}
        verdicts = [
            Verdict.failed(f"names {target} by its literal name but does not depend on it")
            for target in sorted(targets)
            if not stack.graph.needs(self.address, target)
        ]
        if verdicts:
            return combine(verdicts)
        return Verdict.passed(
            f"depends on the {len(targets)} resources it names" if targets else "names no resource"
        )


check = AlarmsNameFirst()
