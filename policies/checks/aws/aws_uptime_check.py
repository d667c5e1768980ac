"""Builds CKV_GW_OBS_4: a Route 53 health check probes https://<domain><health path> from
outside, where the health path is that of the service routed at `/` on the domain (APP-7),
and an alarm watches it (OBS-4)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, expect_equal

from synth.aws_app import default_route_service


class UptimeCheck(GroundworkCheck):
    id = "CKV_GW_OBS_4"
    name = (
        "Route 53 health check probes the default route's HTTPS health path on the domain, alarmed"
    )
    requirement = "OBS-4"
    severity = "MEDIUM"
    resource_types = ("aws_route53_health_check",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        verdicts = [
            expect_equal("type", body.get("type"), "HTTPS", "OBS-4"),
            expect_equal(
                "resource_path",
                body.get("resource_path"),
                default_route_service(stack.config).health.path,
                "the health path of the service routed at / (services)",
            ),
            expect_equal("port", body.get("port"), 443, "OBS-4"),
            expect_equal("fqdn", body.get("fqdn"), stack.config.domain, "domain"),
        ]
        watched = [
            name
            for name, alarm in stack.resources("aws_cloudwatch_metric_alarm").items()
            if (alarm.get("dimensions") or {}).get("HealthCheckId") == "${" + self.address + ".id}"
        ]
        if not watched:
            verdicts.append(Verdict.failed("no alarm watches this health check"))
        return combine(verdicts)


check = UptimeCheck()
