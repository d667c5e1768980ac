"""Builds CKV_GW_DEPLOY_51: every alert policy on a log-based metric waits until Cloud
Monitoring knows that metric (DEPLOY-2).

A log-based metric exists in Cloud Logging at once but reaches Cloud Monitoring's metric
descriptors later; an alert policy created in between is refused with 404 ("Cannot find
metric(s) that match type = logging.googleapis.com/user/...",
terraform-provider-google#11102). Depending on the `google_logging_metric` is not enough:
the policy must also wait for a step that polls the descriptor (constructs/gcp/
observability.py).

The step polls the descriptor by its name with the slashes as they are,
`.../metricDescriptors/logging.googleapis.com/user/<metric>` (https://cloud.google.com/
monitoring/api/ref_v3/rest/v3/projects.metricDescriptors/get): a multi-segment path variable
is decoded "except %2F and %2f are left unchanged" (google/api/http.proto), so a poll of
`logging.googleapis.com%2Fuser%2F...` asks for a metric that never exists and times out.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine

USER_METRIC = re.compile(r"logging\.googleapis\.com/user/([A-Za-z0-9_./-]+)")


class AlertsWaitForTheirMetrics(GroundworkCheck):
    id = "CKV_GW_DEPLOY_51"
    name = "Alert policies on log-based metrics wait until Monitoring knows the metric"
    requirement = "DEPLOY-2"
    severity = "MEDIUM"
    resource_types = ("google_monitoring_alert_policy",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        names = set(USER_METRIC.findall(str(body.get("conditions"))))
        before = stack.graph.prerequisites(self.address)
        metrics = stack.graph.of_type("google_logging_metric")
        verdicts = []
        for name in sorted(names):
            defining = [a for a, b in metrics.items() if b.get("name") == name]
            if not defining:
                verdicts.append(Verdict.unknown(f"{name} is not defined in this stack"))
                continue
            waits = [
                a
                for a in before
                if a.startswith("terraform_data.")
                and defining[0] in stack.graph.prerequisites(a)
                and "metricDescriptors" in str(stack.graph.bodies[a].get("provisioner"))
            ]
            path = f"metricDescriptors/logging.googleapis.com/user/{name}"
            exact = [a for a in waits if path in str(stack.graph.bodies[a].get("provisioner"))]
            if exact:
                verdicts.append(Verdict.passed(f"{name}: waits for {exact[0]}"))
            elif waits:
                verdicts.append(
                    Verdict.failed(
                        f"{name}: {waits[0]} does not poll {path} (an encoded %2F never "
                        "matches the metric, so the wait times out)"
                    )
                )
            else:
                verdicts.append(Verdict.failed(f"{name}: may not exist in Monitoring yet"))
        return combine(verdicts or [Verdict.passed("no log-based metric")])


check = AlertsWaitForTheirMetrics()
