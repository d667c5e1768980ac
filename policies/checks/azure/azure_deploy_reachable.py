"""Builds CKV_GW_DEPLOY_70: every data-plane write reaches its vault, account or registry from
the deploy runner (DEPLOY-3).

Every Key Vault key, secret or certificate and every storage container, queue or blob the
apply writes targets a vault or account whose public endpoint is on with a firewall that
denies by default and admits every range of `azure.deployer_ip_ranges` (the documented
runner); a vault reachable only through a private endpoint built by the same apply answers
403 ForbiddenByConnection (https://learn.microsoft.com/azure/key-vault/general/network-security).
A storage account with shared keys off is also read by the provider through its data plane
while it is created, so the provider must use Entra ID (`storage_use_azuread`,
hashicorp/terraform-provider-azurerm #27752, #32474) and the account must admit the runner.
Every container registry is written by the release pipeline, which pushes each release image
from the same runner (README, "Azure releases"): a registry with public access off and only a
private endpoint refuses the push, and the app keeps its bootstrap image. Premium registries
take the same firewall shape, `network_rule_set` with default Deny and `ip_rule`s
(https://learn.microsoft.com/azure/container-registry/container-registry-access-selected-networks).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

# The write -> the attribute naming its vault or account.
TARGETS = {
    "azurerm_key_vault_key": "key_vault_id",
    "azurerm_key_vault_secret": "key_vault_id",
    "azurerm_key_vault_certificate": "key_vault_id",
    "azurerm_storage_container": "storage_account_id",
    "azurerm_storage_queue": "storage_account_id",
    "azurerm_storage_blob": "storage_account_id",
    "azurerm_storage_account": None,  # the account itself: the provider polls its data plane
    "azurerm_container_registry": None,  # the registry itself: the release pipeline pushes
}


def _provider(stack: Stack) -> dict[str, Any]:
    configs = stack.document.get("provider", {}).get("azurerm")
    configs = configs if isinstance(configs, list) else [configs]
    plain = [c for c in configs if isinstance(c, dict) and "alias" not in c]
    return plain[0] if plain else {}


class DataPlaneReachable(GroundworkCheck):
    id = "CKV_GW_DEPLOY_70"
    name = "Every vault, storage and registry data-plane write is reachable from the deploy runner"
    requirement = "DEPLOY-3"
    severity = "HIGH"
    resource_types = tuple(TARGETS)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        ranges = list(stack.config.azure.deployer_ip_ranges)
        kind = self._address[0]
        if TARGETS[kind] is None:
            target, target_body = self.address, body
        else:
            target = address_of(body.get(TARGETS[kind]))
            if target is None:
                return Verdict.unknown(f"{TARGETS[kind]} {body.get(TARGETS[kind])} is no reference")
            rtype, name = target.split(".", 1)
            target_body = stack.resources(rtype).get(name)
            if target_body is None:
                return Verdict.unknown(f"{target} is not in this stack")
        return _reachable(target, target_body, ranges, _provider(stack))


def _reachable(
    target: str, body: dict[str, Any], ranges: list[str], provider: dict[str, Any]
) -> Verdict:
    verdicts = []
    if body.get("public_network_access_enabled") is not True:
        verdicts.append(Verdict.failed(f"{target} has no public endpoint for the runner"))
    if target.startswith("azurerm_key_vault."):
        acls = (blocks(body, "network_acls") or [{}])[0]
        admitted = [str(rule).removesuffix("/32") for rule in acls.get("ip_rules") or []]
    elif target.startswith("azurerm_container_registry."):
        acls = (blocks(body, "network_rule_set") or [{}])[0]
        admitted = [
            str(rule.get("ip_range")).removesuffix("/32")
            for rule in blocks(acls, "ip_rule")
            if rule.get("action", "Allow") == "Allow"
        ]
    else:
        acls = (blocks(body, "network_rules") or [{}])[0]
        admitted = [str(rule).removesuffix("/32") for rule in acls.get("ip_rules") or []]
        if (
            body.get("shared_access_key_enabled") is False
            and provider.get("storage_use_azuread") is not True
        ):
            verdicts.append(
                Verdict.failed(f"{target} has shared keys off; set storage_use_azuread")
            )
    if acls.get("default_action") != "Deny":
        verdicts.append(Verdict.failed(f"{target} firewall does not deny by default"))
    missing = [r for r in ranges if r.removesuffix("/32") not in admitted]
    if missing:
        verdicts.append(Verdict.failed(f"{target} firewall does not admit runner ranges {missing}"))
    return combine(verdicts or [Verdict.passed(f"{target} admits the runner's ranges only")])


check = DataPlaneReachable()
