"""Builds CKV_GW_DEPLOY_56: every log filter is written in the Logging query language (DEPLOY-4).

Log-based metrics, sinks and exclusions take a Logging query
(https://cloud.google.com/logging/docs/view/logging-query-language), which has comparison
operators and the functions it lists (e.g. `SEARCH`, `sample`, `ip_in_net`), but not Cloud
Monitoring's filter functions (`one_of`, `starts_with`, `ends_with`, `has_substring`,
`monitoring.regex.full_match`: https://cloud.google.com/monitoring/api/v3/filters). A Logging
filter using one is refused when the metric is created, and every alert on the metric waits
for it. Several values of one field are a parenthesised OR: `field = ("a" OR "b")`.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

MONITORING_ONLY = re.compile(
    r"\b(one_of|starts_with|ends_with|has_substring|monitoring\.regex\.full_match)\s*\("
)
# Resource types whose `filter` is a Logging query.
FILTERED = (
    "google_logging_metric",
    "google_logging_project_sink",
    "google_logging_project_exclusion",
)


class LogFilterSyntax(GroundworkCheck):
    id = "CKV_GW_DEPLOY_56"
    name = "Log filters use the Logging query language, not Monitoring filter functions"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = FILTERED
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        value = body.get("filter") or ""
        found = sorted(set(MONITORING_ONLY.findall(str(value))))
        if found:
            return Verdict.failed(
                f"the filter calls {', '.join(found)}, a Cloud Monitoring filter function the "
                'Logging query language does not have; write several values as ("a" OR "b")'
            )
        return Verdict.passed("a Logging query")


check = LogFilterSyntax()
