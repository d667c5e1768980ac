"""Builds CKV_GW_APP_42: Cloud Run rolls out with zero downtime (APP-3): a new revision takes
traffic only after its startup probe passes, and all traffic follows the latest ready revision
(no pinned revision or split that a deploy would strand)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine


class AppRollout(GroundworkCheck):
    id = "CKV_GW_APP_42"
    name = "Cloud Run shifts traffic to the latest revision only once its startup probe passes"
    requirement = "APP-3"
    severity = "MEDIUM"
    resource_types = ("google_cloud_run_v2_service",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        containers = [c for t in blocks(body, "template") for c in blocks(t, "containers")]
        if not containers or not all(blocks(c, "startup_probe") for c in containers):
            verdicts.append(Verdict.failed("a container has no startup probe to gate traffic"))
        for traffic in blocks(body, "traffic"):
            kind = traffic.get("type", "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST")
            if kind != "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST" or traffic.get("percent") != 100:
                verdicts.append(Verdict.failed(f"traffic pinned or split: {traffic}"))
        return combine(verdicts or [Verdict.passed("latest ready revision takes all traffic")])


check = AppRollout()
