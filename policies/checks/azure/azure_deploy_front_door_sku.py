"""Builds CKV_GW_DEPLOY_97: every Front Door WAF policy has the SKU its rules and its profile
need (DEPLOY-4).

Managed rule sets (the Default Rule Set, Bot Manager) run only on Premium_AzureFrontDoor, and
a security policy attaches a WAF policy only to a profile of the same SKU ("Azure Front Door
tier comparison", https://learn.microsoft.com/azure/frontdoor/standard-premium/tier-comparison;
the provider's `managed_rule`: "only valid when sku_name is Premium_AzureFrontDoor",
registry.terraform.io/providers/hashicorp/azurerm/4.55.0/docs/resources/
cdn_frontdoor_firewall_policy). A plan with either mismatch is refused at apply.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

PREMIUM = "Premium_AzureFrontDoor"
PROFILE = "azurerm_cdn_frontdoor_profile"


def sku_of(stack: Stack, value: Any) -> str | None:
    """A literal SKU, or the `sku_name` of the profile a reference names."""
    address = address_of(value)
    if address is None:
        return str(value) if value else None
    kind, _, name = address.partition(".")
    if kind != PROFILE or not str(value).endswith(".sku_name}"):
        return None
    return stack.resources(PROFILE).get(name, {}).get("sku_name")


class FrontDoorWafSku(GroundworkCheck):
    id = "CKV_GW_DEPLOY_97"
    name = "Front Door WAF policies are Premium for managed rules and match their profiles"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = ("azurerm_cdn_frontdoor_firewall_policy",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        # The provider's default SKU is Standard_AzureFrontDoor.
        sku = sku_of(stack, body.get("sku_name", "Standard_AzureFrontDoor"))
        if sku is None:
            return Verdict.unknown(f"sku_name {body.get('sku_name')} cannot be resolved")
        if blocks(body, "managed_rule") and sku != PREMIUM:
            return Verdict.failed(f"managed rule sets need {PREMIUM}; the policy is {sku}")
        for name, security in stack.resources("azurerm_cdn_frontdoor_security_policy").items():
            uses = any(
                address_of(firewall.get("cdn_frontdoor_firewall_policy_id")) == self.address
                for group in blocks(security, "security_policies")
                for firewall in blocks(group, "firewall")
            )
            profile = address_of(security.get("cdn_frontdoor_profile_id")) or ""
            profile_sku = (
                stack.resources(PROFILE).get(profile.partition(".")[2], {}).get("sku_name")
            )
            if uses and profile_sku != sku:
                return Verdict.failed(
                    f"attached to a {profile_sku} profile by {name}, but the policy is {sku}"
                )
        return Verdict.passed(f"{sku}, like the profiles it is attached to")


check = FrontDoorWafSku()
