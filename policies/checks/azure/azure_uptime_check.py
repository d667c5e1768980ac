"""Builds CKV_GW_OBS_73: an Application Insights standard web test GETs
https://<domain><health path> from several locations (the health path of the service routed at
`/` on the domain, which the gateway sends the domain's requests to; synth/app.py), and
verifies TLS exactly when the gateway's certificate is one clients trust (OBS-4).

The TLS check (`ssl_check_enabled`, the API's `SSLCheck`: "Checks to see if the SSL cert is
still valid", WebTestValidationRules) fails on every run against a self-signed certificate
(`azure.certificate.source: self_signed`), so the availability alert would fire forever and
mean nothing; against a trusted certificate (`key_vault`) it must stay on, so an expiring or
wrong certificate is caught. UNKNOWN when the value is not a literal boolean."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, expect_equal

from synth.app import Service


def default_route_service(config: Any) -> Service | None:
    """The service routed at `/` on the environment's domain (or with no host)."""
    return next(
        (
            s
            for s in config.services
            if s.route is not None
            and s.route.path_prefix == "/"
            and s.route.host in (None, config.domain)
        ),
        None,
    )


class AzureUptimeCheck(GroundworkCheck):
    id = "CKV_GW_OBS_73"
    name = "Availability test GETs the domain's health path; its TLS check matches the certificate"
    requirement = "OBS-4"
    severity = "MEDIUM"
    resource_types = ("azurerm_application_insights_standard_web_test",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        request = (blocks(body, "request") or [{}])[0]
        root = default_route_service(stack.config)
        if root is None:
            return Verdict.failed("no service is routed at / on the domain")
        verdicts = [
            expect_equal("request.url", request.get("url"),
                         f"https://{stack.config.domain}{root.health.path}",
                         f"domain and {root.name}'s health.path"),
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
