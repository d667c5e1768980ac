"""Builds CKV_GW_CDN_71: behind Azure Front Door, the gateway is reachable only through this
stack's Front Door profile (CDN-1, "origin reachable only through the CDN").

Azure's documented way for an Application Gateway origin ("Secure traffic to Azure Front
Door origins", https://learn.microsoft.com/azure/frontdoor/origin-security): the gateway
subnet's NSG admits the `AzureFrontDoor.Backend` service tag and no Internet source, and,
because that tag is every customer's Front Door, the gateway's WAF blocks each request whose
`X-Azure-FDID` header is not the profile's resource GUID. Judged on every Application
Gateway of a stack that has a Front Door profile whose origin is that gateway.
"""

from __future__ import annotations

from typing import Any

from azure_cdn import gateway_hosts
from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    azure_nsg_subnets,
    blocks,
    combine,
)

from synth.cidrs import covers_internet

FRONT_DOOR_TAG = "AzureFrontDoor.Backend"
HEADER = "x-azure-fdid"


def _values(body: dict[str, Any], one: str, many: str) -> list[str]:
    values = [body.get(one)] if body.get(one) else []
    return values + list(body.get(many) or [])


class OriginOnlyThroughFrontDoor(GroundworkCheck):
    id = "CKV_GW_CDN_71"
    name = "Behind Front Door the gateway admits only Front Door, checked by X-Azure-FDID"
    requirement = "CDN-1"
    severity = "HIGH"
    resource_types = ("azurerm_application_gateway",)
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        """Only where Front Door is built or switched on: elsewhere CDN-1 is n/a, not pass."""
        switched = stack.config is not None and stack.config.features.cdn_enabled
        return switched or bool(stack.resources("azurerm_cdn_frontdoor_profile"))

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        profiles = stack.resources("azurerm_cdn_frontdoor_profile")
        if not profiles:
            return Verdict.failed("features.cdn_enabled, but no Front Door profile fronts it")
        mine = gateway_hosts(stack).get(self.address, set())
        if not any(
            origin.get("host_name") in mine
            for origin in stack.resources("azurerm_cdn_frontdoor_origin").values()
        ):
            return Verdict.failed("Front Door is built, but no origin is this gateway")
        return combine([self._nsg(body, stack), self._header(body, stack, profiles)])

    @staticmethod
    def _nsg(body: dict[str, Any], stack: Stack) -> Verdict:
        subnets = {
            address_of(config.get("subnet_id"))
            for config in blocks(body, "gateway_ip_configuration")
        }
        groups = [
            name
            for name in stack.resources("azurerm_network_security_group")
            if any(
                f"azurerm_subnet.{sname}" in subnets
                for sname, sbody in stack.resources("azurerm_subnet").items()
                if sbody in azure_nsg_subnets(stack, name)
            )
        ]
        if not groups:
            return Verdict.failed("the gateway's subnet has no NSG to admit only Front Door")
        allows = [
            rule
            for rule in stack.resources("azurerm_network_security_rule").values()
            if rule.get("direction") == "Inbound"
            and rule.get("access") == "Allow"
            and address_of(rule.get("network_security_group_name"))
            in {f"azurerm_network_security_group.{g}" for g in groups}
        ]
        internet = [
            r.get("name")
            for r in allows
            if covers_internet(_values(r, "source_address_prefix", "source_address_prefixes"))
        ]
        if internet:
            return Verdict.failed(f"the gateway's NSG admits the Internet ({internet})")
        front_door = [
            r.get("name")
            for r in allows
            if FRONT_DOOR_TAG in _values(r, "source_address_prefix", "source_address_prefixes")
            and "443" in _values(r, "destination_port_range", "destination_port_ranges")
        ]
        if not front_door:
            return Verdict.failed(f"the gateway's NSG does not admit {FRONT_DOOR_TAG} on 443")
        return Verdict.passed(f"NSG admits {FRONT_DOOR_TAG} ({front_door[0]}), no Internet")

    @staticmethod
    def _header(body: dict[str, Any], stack: Stack, profiles: dict[str, Any]) -> Verdict:
        waf = address_of(body.get("firewall_policy_id"))
        policy = stack.resources("azurerm_web_application_firewall_policy").get(
            (waf or ".").split(".", 1)[1]
        )
        if policy is None:
            return Verdict.failed("the gateway has no WAF policy to check X-Azure-FDID")
        guids = {f"${{azurerm_cdn_frontdoor_profile.{name}.resource_guid}}" for name in profiles}
        for rule in blocks(policy, "custom_rules"):
            if rule.get("rule_type") != "MatchRule" or rule.get("action") != "Block":
                continue
            for condition in blocks(rule, "match_conditions"):
                header = any(
                    v.get("variable_name") == "RequestHeaders"
                    and str(v.get("selector", "")).lower() == HEADER
                    for v in blocks(condition, "match_variables")
                )
                if (
                    header
                    and condition.get("operator") == "Equal"
                    and condition.get("negation_condition") is True
                    and set(condition.get("match_values") or []) <= guids
                    and condition.get("match_values")
                ):
                    return Verdict.passed(f"{rule.get('name')} blocks other Front Doors")
        return Verdict.failed(
            "the gateway's WAF does not block requests whose X-Azure-FDID is not this profile's "
            "resource GUID: any Front Door could reach it"
        )


check = OriginOnlyThroughFrontDoor()
