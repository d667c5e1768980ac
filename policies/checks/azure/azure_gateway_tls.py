"""Builds CKV_GW_EDGE_70: the Application Gateway serves HTTPS under a TLS 1.2+ SSL policy and
every plain-HTTP listener only redirects to HTTPS (EDGE-1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

# Predefined policies whose minimum protocol is TLS 1.2 (AppGwSslPolicy20150501 allows 1.0).
TLS12_POLICIES = {"AppGwSslPolicy20170401S", "AppGwSslPolicy20220101", "AppGwSslPolicy20220101S"}
TLS12_VERSIONS = {"TLSv1_2", "TLSv1_3"}


class AzureGatewayTls(GroundworkCheck):
    id = "CKV_GW_EDGE_70"
    name = "Application Gateway uses a TLS 1.2+ SSL policy and HTTP only redirects"
    requirement = "EDGE-1"
    severity = "HIGH"
    resource_types = ("azurerm_application_gateway",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        policy = (blocks(body, "ssl_policy") or [{}])[0]
        if policy.get("policy_type") == "Predefined":
            if policy.get("policy_name") not in TLS12_POLICIES:
                verdicts.append(
                    Verdict.failed(f"SSL policy {policy.get('policy_name')} allows < TLS 1.2")
                )
        elif policy.get("min_protocol_version") not in TLS12_VERSIONS:
            verdicts.append(
                Verdict.failed(f"min_protocol_version is {policy.get('min_protocol_version')}")
            )
        listeners = blocks(body, "http_listener")
        if not any(listener.get("protocol") == "Https" for listener in listeners):
            verdicts.append(Verdict.failed("no HTTPS listener"))
        plain = {x.get("name") for x in listeners if x.get("protocol") != "Https"}
        for rule in blocks(body, "request_routing_rule"):
            if rule.get("http_listener_name") in plain and not rule.get(
                "redirect_configuration_name"
            ):
                verdicts.append(Verdict.failed(f"rule {rule.get('name')} serves plain HTTP"))
        targets = {x.get("name") for x in listeners if x.get("protocol") == "Https"}
        for redirect in blocks(body, "redirect_configuration"):
            if redirect.get("target_listener_name") not in targets:
                verdicts.append(Verdict.failed(f"redirect {redirect.get('name')} is not to HTTPS"))
        return combine(verdicts or [Verdict.passed("TLS 1.2+ and redirect-only HTTP")])


check = AzureGatewayTls()
