"""Builds CKV_GW_CDN_70: Azure Front Door serves the domain in front of the load balancer,
caches the static paths, forwards the rest uncached and runs the WAF (CDN-1).

Every Front Door profile (`azurerm_cdn_frontdoor_profile`) is Premium_AzureFrontDoor (the SKU
whose WAF runs managed rule sets: https://learn.microsoft.com/azure/frontdoor/standard-premium/
tier-comparison) and has:
- an origin that is the stack's Application Gateway, reached over HTTPS at a host name under
  `domain` that a gateway HTTPS listener answers (`origin.<domain>`, synth.config
  `azure_origin_host`), with the certificate name check on and that host name as its host
  header, in an origin group that probes it over HTTPS. Never the gateway's IP: Front Door
  sends the origin's host name as SNI and checks the certificate against it, so an IP origin
  fails every request ("My origin is configured as an IP address",
  https://learn.microsoft.com/azure/frontdoor/troubleshoot-issues; MicrosoftDocs/azure-docs
  #65432);
- routes, all HTTPS-only to the origin and redirecting HTTP, their custom domains TLS 1.2
  minimum (EDGE-1 at the edge): one caching exactly
  `edge.cdn_static_paths`, one forwarding `/*` with no cache;
- a security policy attaching a Front Door WAF policy in Prevention mode with a managed rule
  set to every domain the routes serve (the custom domains, and the endpoint when a route
  links its default domain).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

SKU = "Premium_AzureFrontDoor"
PROFILE = "azurerm_cdn_frontdoor_profile"
HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def of_profile(stack: Stack, resource_type: str, profile: str) -> dict[str, dict[str, Any]]:
    """`{address: body}` of the resources of a type whose `cdn_frontdoor_profile_id` is
    `profile` (an address)."""
    return {
        f"{resource_type}.{name}": body
        for name, body in stack.resources(resource_type).items()
        if address_of(body.get("cdn_frontdoor_profile_id")) == profile
    }


def routes_of(stack: Stack, profile: str) -> dict[str, dict[str, Any]]:
    """The routes on the endpoints of `profile`."""
    endpoints = of_profile(stack, "azurerm_cdn_frontdoor_endpoint", profile)
    return {
        f"azurerm_cdn_frontdoor_route.{name}": body
        for name, body in stack.resources("azurerm_cdn_frontdoor_route").items()
        if address_of(body.get("cdn_frontdoor_endpoint_id")) in endpoints
    }


def is_host_name(value: Any) -> bool:
    """A literal DNS host name: not an IP address, not a reference or expression."""
    text = str(value or "")
    if not text or "${" in text:
        return False
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return bool(HOST_NAME.match(text))
    return False


def gateway_hosts(stack: Stack) -> dict[str, set[str]]:
    """`{gateway address: host names its HTTPS listeners answer}`."""
    return {
        f"azurerm_application_gateway.{name}": {
            host
            for listener in blocks(gateway, "http_listener")
            if listener.get("protocol") == "Https"
            for host in [listener.get("host_name"), *(listener.get("host_names") or [])]
            if host
        }
        for name, gateway in stack.resources("azurerm_application_gateway").items()
    }


class FrontDoorServes(GroundworkCheck):
    id = "CKV_GW_CDN_70"
    name = "Front Door Premium fronts the gateway, caches the static paths and runs the WAF"
    requirement = "CDN-1"
    severity = "HIGH"
    resource_types = (PROFILE,)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        config = stack.config
        profile = self.address
        verdicts = []
        if body.get("sku_name") != SKU:
            verdicts.append(Verdict.failed(f"sku_name {body.get('sku_name')}; CDN-1 wants {SKU}"))
        groups = of_profile(stack, "azurerm_cdn_frontdoor_origin_group", profile)
        origins = {
            f"azurerm_cdn_frontdoor_origin.{name}": origin
            for name, origin in stack.resources("azurerm_cdn_frontdoor_origin").items()
            if address_of(origin.get("cdn_frontdoor_origin_group_id")) in groups
        }
        answered = set().union(*gateway_hosts(stack).values())
        fronting = [
            address
            for address, origin in origins.items()
            if is_host_name(host := origin.get("host_name"))
            and str(host).endswith(f".{config.domain}")
            and host in answered
            and origin.get("certificate_name_check_enabled") is True
            and origin.get("origin_host_header") == host
        ]
        if not fronting:
            verdicts.append(Verdict.failed(
                f"no origin is a host name under {config.domain} that a gateway HTTPS listener "
                "answers, sent as its host header, with the certificate name check on"
            ))  # fmt: skip
        for address, group in groups.items():
            probe = (blocks(group, "health_probe") or [{}])[0]
            if probe.get("protocol") != "Https":
                verdicts.append(Verdict.failed(f"{address} does not probe over HTTPS"))
        routes = routes_of(stack, profile)
        if not routes:
            verdicts.append(Verdict.failed("no route"))
        cached = sorted(config.edge.cdn_static_paths)
        caching = [a for a, r in routes.items() if blocks(r, "cache")]
        if not any(sorted(routes[a].get("patterns_to_match") or []) == cached for a in caching):
            verdicts.append(Verdict.failed(f"no route caches exactly {cached}"))
        if not any(
            "/*" in (r.get("patterns_to_match") or []) and not blocks(r, "cache")
            for r in routes.values()
        ):
            verdicts.append(Verdict.failed("no uncached route forwards /*"))
        for address, route in routes.items():
            if route.get("forwarding_protocol") != "HttpsOnly":
                verdicts.append(Verdict.failed(f"{address} forwards other than HTTPS only"))
            if route.get("https_redirect_enabled") is not True:
                verdicts.append(Verdict.failed(f"{address} does not redirect HTTP to HTTPS"))
            if address_of(route.get("cdn_frontdoor_origin_group_id")) not in groups:
                verdicts.append(Verdict.failed(f"{address} routes to no origin group of this"))
        domains = stack.resources("azurerm_cdn_frontdoor_custom_domain")
        for address in sorted(
            {
                address_of(d)
                for r in routes.values()
                for d in r.get("cdn_frontdoor_custom_domain_ids") or []
            }
            - {None}
        ):
            tls = (blocks(domains.get(str(address).split(".", 1)[1], {}), "tls") or [{}])[0]
            if tls.get("minimum_tls_version") != "TLS12":
                verdicts.append(Verdict.failed(f"{address} accepts TLS below 1.2 (EDGE-1)"))
        verdicts += self._waf(stack, profile, routes)
        return combine(verdicts) if verdicts else Verdict.passed()

    @staticmethod
    def _waf(stack: Stack, profile: str, routes: dict[str, dict[str, Any]]) -> list[Verdict]:
        """Every domain a route serves is covered by a security policy with a preventing WAF."""
        served = {
            address_of(domain)
            for route in routes.values()
            for domain in route.get("cdn_frontdoor_custom_domain_ids") or []
        } | {
            address_of(route.get("cdn_frontdoor_endpoint_id"))
            for route in routes.values()
            if route.get("link_to_default_domain", True) is not False
        }
        policies = stack.resources("azurerm_cdn_frontdoor_firewall_policy")
        covered: set[str | None] = set()
        for security in of_profile(
            stack, "azurerm_cdn_frontdoor_security_policy", profile
        ).values():
            for group in blocks(security, "security_policies"):
                for firewall in blocks(group, "firewall"):
                    waf = address_of(firewall.get("cdn_frontdoor_firewall_policy_id"))
                    body = policies.get((waf or ".").split(".", 1)[1])
                    if body is None or body.get("mode") != "Prevention":
                        continue
                    if not blocks(body, "managed_rule"):
                        continue
                    for association in blocks(firewall, "association"):
                        if "/*" not in (association.get("patterns_to_match") or []):
                            continue
                        covered |= {
                            address_of(d.get("cdn_frontdoor_domain_id"))
                            for d in blocks(association, "domain")
                        }
        bare = sorted(str(d) for d in served - covered)
        if bare:
            return [Verdict.failed(f"no preventing WAF with managed rules on /* of {bare}")]
        return [Verdict.passed(f"WAF on {sorted(str(d) for d in served)}")]


check = FrontDoorServes()
