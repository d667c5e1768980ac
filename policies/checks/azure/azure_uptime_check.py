"""Builds CKV_GW_OBS_73: an Application Insights standard web test GETs
https://<domain>/health from several locations, and verifies TLS exactly when the gateway's
certificate is one clients trust (OBS-4).

The TLS check (`ssl_check_enabled`, the API's `SSLCheck`: "Checks to see if the SSL cert is
still valid", WebTestValidationRules) fails on every run against a self-signed certificate
(`azure.certificate.source: self_signed`), so the availability alert would fire forever and
mean nothing; against a trusted certificate (`key_vault`) it must stay on, so an expiring or
wrong certificate is caught. UNKNOWN when the value is not a literal boolean."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal


class AzureUptimeCheck(GroundworkCheck):
    id = "CKV_GW_OBS_73"
    name = "Availability test GETs https://<domain>/health; its TLS check matches the certificate"
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
        verdicts.append(_tls_check(body, stack))
        return combine(verdicts)


def _tls_check(body: dict[str, Any], stack: Stack) -> Verdict:
    assert stack.config is not None
    certificate = stack.config.azure.certificate
    if certificate is None:
        return Verdict.unknown("azure.certificate is not set: cannot tell if TLS is trusted")
    rules = (blocks(body, "validation_rules") or [{}])[0]
    # The provider's default for ssl_check_enabled is false.
    enabled = rules.get("ssl_check_enabled", False)
    if not isinstance(enabled, bool):
        return Verdict.unknown(f"validation_rules.ssl_check_enabled is {enabled!r}")
    if enabled == certificate.trusted:
        return Verdict.passed(f"TLS check {enabled} for a {certificate.source} certificate")
    if certificate.trusted:
        return Verdict.failed("the TLS check is off although the certificate is trusted")
    return Verdict.failed(
        "the TLS check is on against a self-signed certificate: it fails on every run"
    )


check = AzureUptimeCheck()
