"""Builds CKV_GW_DEPLOY_96: every origin whose certificate is checked against its name is
reached at a host name, never at an IP address or an IP-valued reference (DEPLOY-6).

A proxy that checks the origin's certificate against the name it connects to can only succeed
when that name is one a certificate can carry. Azure Front Door sends the origin's host name
as SNI and, with `certificate_name_check_enabled`, compares the origin certificate's names with
it, so an IP origin fails every request with a 503 once the apply is done ("My origin is
configured as an IP address", https://learn.microsoft.com/azure/frontdoor/troubleshoot-issues;
MicrosoftDocs/azure-docs #65432). azurerm 4.55 requires `certificate_name_check_enabled`;
a body without it (a hand-written fixture) is judged as if the check were on, Azure's default.

An IP-valued reference (`azurerm_public_ip.x.ip_address`, any `*ip_address*` attribute) is an IP
address at apply time and fails the same way.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

# Attributes that hold IP addresses: a reference to one of them is an IP, whatever resource.
IP_ATTRIBUTES = {"ip_address", "ip_addresses", "private_ip_address", "private_ip_addresses"}


def ip_valued(value: Any) -> bool:
    """An IP literal, or a reference to an attribute that holds IP addresses."""
    text = str(value or "")
    if "${" in text:
        inner = text.split("${", 1)[1].rstrip("}")
        return any(part in IP_ATTRIBUTES for part in inner.replace("[", ".").split("."))
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


class OriginHostName(GroundworkCheck):
    id = "CKV_GW_DEPLOY_96"
    name = "An origin whose certificate name is checked is a host name, never an IP address"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_cdn_frontdoor_origin",)
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        # Required by azurerm 4.55; absent, judged as Azure's default (on).
        return body.get("certificate_name_check_enabled", True) is not False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        host = body.get("host_name")
        if ip_valued(host):
            return Verdict.failed(
                f"host_name {host} is an IP address with the certificate name check on: "
                "Front Door sends it as SNI and no certificate matches it, so every request "
                "fails"
            )
        return Verdict.passed(f"host_name {host} is a name a certificate can carry")


check = OriginHostName()
