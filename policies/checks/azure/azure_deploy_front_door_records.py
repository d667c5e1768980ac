"""Builds CKV_GW_DEPLOY_98: every DNS record that sends clients to a Front Door endpoint
depends on that endpoint's routes and on its profile's security policies (DEPLOY-2).

A record that resolves before the routes exist sends clients to an endpoint that answers
404, and before the security policy exists their requests pass no WAF; the provider's
custom-domain example creates its CNAME with `depends_on` the route and the security policy
for that reason (registry.terraform.io/providers/hashicorp/azurerm/4.55.0/docs/resources/
cdn_frontdoor_custom_domain). Judged on `azurerm_dns_a_record` / `aaaa` (an alias whose
`target_resource_id` is the endpoint) and `azurerm_dns_cname_record` (whose `record` is the
endpoint's host name).
"""

from typing import Any

from azure_cdn import of_profile
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of

ENDPOINT = "azurerm_cdn_frontdoor_endpoint"


def endpoint_of(body: dict[str, Any]) -> str | None:
    """The Front Door endpoint (address) a record aims at, if any."""
    for value in (body.get("target_resource_id"), body.get("record")):
        address = address_of(value)
        if address and address.startswith(f"{ENDPOINT}."):
            return address
    return None


class FrontDoorRecordsWait(GroundworkCheck):
    id = "CKV_GW_DEPLOY_98"
    name = "DNS records aiming at Front Door wait for its routes and security policies"
    requirement = "DEPLOY-2"
    severity = "MEDIUM"
    resource_types = ("azurerm_dns_a_record", "azurerm_dns_aaaa_record", "azurerm_dns_cname_record")
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        return endpoint_of(body) is not None

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        endpoint = endpoint_of(body)
        assert endpoint is not None
        endpoint_body = stack.resources(ENDPOINT).get(endpoint.split(".", 1)[1], {})
        profile = address_of(endpoint_body.get("cdn_frontdoor_profile_id"))
        routes = [
            f"azurerm_cdn_frontdoor_route.{name}"
            for name, route in stack.resources("azurerm_cdn_frontdoor_route").items()
            if address_of(route.get("cdn_frontdoor_endpoint_id")) == endpoint
        ]
        policies = list(of_profile(stack, "azurerm_cdn_frontdoor_security_policy", profile or ""))
        if not routes:
            return Verdict.failed(f"{endpoint} has no route: the record sends clients to a 404")
        if not policies:
            return Verdict.failed(f"{endpoint}'s profile has no security policy (no WAF)")
        early = [p for p in [*routes, *policies] if not stack.graph.needs(self.address, p)]
        if early:
            return Verdict.failed(f"resolves before {early} exist")
        return Verdict.passed(f"waits for {len(routes)} routes and {len(policies)} policies")


check = FrontDoorRecordsWait()
