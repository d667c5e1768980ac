"""Builds CKV_GW_OBS_73: an Application Insights standard web test GETs
https://<domain>/health from several locations (OBS-4)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal


class AzureUptimeCheck(GroundworkCheck):
    id = "CKV_GW_OBS_73"
    name = "Availability test GETs https://<domain>/health from several locations"
    requirement = "OBS-4"
    severity = "MEDIUM"
    resource_types = ("azurerm_application_insights_standard_web_test",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        request = (blocks(body, "request") or [{}])[0]
        verdicts = [
            expect_equal("request.url", request.get("url"), f"https://{stack.config.domain}/health",
                         "domain"),
            expect_equal("request.http_verb", request.get("http_verb", "GET"), "GET", "OBS-4"),
        ]  # fmt: skip
        if body.get("enabled") is False:
            verdicts.append(Verdict.failed("the test is disabled"))
        if len(body.get("geo_locations") or []) < 2:
            verdicts.append(Verdict.failed("fewer than two test locations"))
        return combine(verdicts)


check = AzureUptimeCheck()
