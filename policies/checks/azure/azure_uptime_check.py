"""Builds CKV_GW_OBS_73: every routed service has an Application Insights standard web test that
GETs its health path through the gateway from several locations, with an alert on it, and each
test verifies TLS exactly when the gateway's certificate is one clients trust (OBS-4).

Per routed service (APP-7; an internal one, `route: null`, is reachable only inside the VNet): the
test's URL is `https://<its route's host, else the domain><its health path>`, and the gateway
must send that URL to this service (synth/app.py `azure_gateway_target`: the longest matching
path prefix on the host, no path rewrite), or the test watches another service; and a metric
alert has the test in its availability criteria. Each web test is judged too: its URL is the
health URL of a routed service.

The TLS check (`ssl_check_enabled`, the API's `SSLCheck`: "Checks to see if the SSL cert is
still valid", WebTestValidationRules) fails on every run against a self-signed certificate
(`azure.certificate.source: self_signed`), so the availability alert would fire forever and
mean nothing; against a trusted certificate (`key_vault`) it must stay on, so an expiring or
wrong certificate is caught. UNKNOWN when the value is not a literal boolean."""

from typing import Any

from azure_app_description import described
from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    expect_equal,
)

from synth.app import azure_gateway_target, azure_health_url

WEB_TEST = "azurerm_application_insights_standard_web_test"


def test_url(body: dict[str, Any]) -> Any:
    return (blocks(body, "request") or [{}])[0].get("url")


def alerted(stack: Stack, test: str) -> bool:
    """Whether a metric alert's availability criteria name web test `test`."""
    return any(
        address_of(criteria.get("web_test_id")) == test
        for alert in stack.resources("azurerm_monitor_metric_alert").values()
        for criteria in blocks(
            alert, "application_insights_web_test_location_availability_criteria"
        )
    )


class AzureUptimeCheck(GroundworkCheck):
    id = "CKV_GW_OBS_73"
    name = (
        "Every routed service's health path has an alerting availability test through the gateway"
    )
    requirement = "OBS-4"
    severity = "MEDIUM"
    resource_types = (WEB_TEST, "azurerm_container_app")

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        if self._address[0] == WEB_TEST:
            return True
        service = described(stack, body) if stack.config is not None else None
        return service is not None and service.route is not None

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        if self._address[0] != WEB_TEST:
            return self._service(body, stack)
        config = stack.config
        urls = {azure_health_url(config, s): s for s in config.services if s.route is not None}
        url = test_url(body)
        service = urls.get(url)
        if service is None:
            return Verdict.failed(
                f"request.url {url} is no routed service's health URL ({', '.join(sorted(urls))})"
            )
        verdicts = [
            expect_equal("request.http_verb", (blocks(body, "request") or [{}])[0].get(
                "http_verb", "GET"), "GET", "OBS-4"),
        ]  # fmt: skip
        if body.get("enabled") is not True:
            # Unset is disabled: azurerm sends `Enabled: false` (constructs/azure/observability.py).
            verdicts.append(
                Verdict.failed(f"enabled is {body.get('enabled')!r}: the test never runs")
            )
        if len(body.get("geo_locations") or []) < 2:
            verdicts.append(Verdict.failed("fewer than two test locations"))
        verdicts.append(_tls_check(body, stack))
        verdicts.append(Verdict.passed(f"tests {service.name}'s health at {url}"))
        return combine(verdicts)

    def _service(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        service = described(stack, body)
        assert service is not None and service.route is not None  # applies()
        url = azure_health_url(stack.config, service)
        host = service.route.host or stack.config.domain
        target = azure_gateway_target(stack.config, host, service.health.path)
        if target is not service:
            return Verdict.failed(
                f"the gateway sends {url} to {target.name if target else 'no service'}, not to "
                f"{service.name}: no availability test can reach its health path"
            )
        tests = [
            f"{WEB_TEST}.{name}"
            for name, test in stack.resources(WEB_TEST).items()
            if test_url(test) == url and test.get("enabled") is True
        ]
        if not tests:
            return Verdict.failed(f"no availability test GETs {url} ({service.name}'s health)")
        if not any(alerted(stack, test) for test in tests):
            return Verdict.failed(f"no alert watches {', '.join(tests)}: a failure goes unseen")
        return Verdict.passed(f"{', '.join(tests)} GETs {url} and an alert watches it")


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
