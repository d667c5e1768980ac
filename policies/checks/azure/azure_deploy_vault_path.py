"""Builds CKV_GW_DEPLOY_83: whatever reads Key Vault from inside the VNet waits for the vault's
private path (DEPLOY-2).

An Application Gateway loads its certificate, and a Container App resolves its secret
references, when they are created. Against a vault whose firewall denies by default they
reach it through the vault's private endpoint, resolved through the privatelink zone's VNet
link (Application Gateway is not a trusted Key Vault service:
https://learn.microsoft.com/azure/application-gateway/key-vault-certs#verify-firewall-permissions-to-key-vault).
So each such reader depends on a private endpoint of the vault and on the VNet link of the
zone that endpoint registers in; created in parallel, the first revision or the gateway fails.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

LINK = "azurerm_private_dns_zone_virtual_network_link"


def _vaults_read(rtype: str, body: dict[str, Any], stack: Stack) -> set[str]:
    """The vaults a gateway's certificates or an app's secret references live in."""
    if rtype == "azurerm_application_gateway":
        refs = [c.get("key_vault_secret_id") for c in blocks(body, "ssl_certificate")]
    else:
        refs = [s.get("key_vault_secret_id") for s in blocks(body, "secret")]
    vaults = set()
    for ref in refs:
        target = address_of(ref)
        if target is None:
            continue
        ttype, name = target.split(".", 1)
        vault = address_of(stack.resources(ttype).get(name, {}).get("key_vault_id"))
        if vault:
            vaults.add(vault)
    return vaults


class VaultReadersWaitForPath(GroundworkCheck):
    id = "CKV_GW_DEPLOY_83"
    name = "Gateways and apps that read Key Vault wait for its private endpoint and DNS link"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = ("azurerm_application_gateway", "azurerm_container_app")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        vaults = _vaults_read(self._address[0], body, stack)
        if not vaults:
            return Verdict.passed("reads no Key Vault")
        graph = stack.graph
        verdicts = []
        for vault in sorted(vaults):
            endpoints = {
                f"azurerm_private_endpoint.{name}": endpoint
                for name, endpoint in stack.resources("azurerm_private_endpoint").items()
                if any(
                    address_of(c.get("private_connection_resource_id")) == vault
                    for c in blocks(endpoint, "private_service_connection")
                )
            }
            waited = [e for e in endpoints if graph.needs(self.address, e)]
            if not waited:
                verdicts.append(Verdict.failed(f"does not wait for a private endpoint of {vault}"))
                continue
            zones = {
                address_of(zone_id)
                for group in blocks(endpoints[waited[0]], "private_dns_zone_group")
                for zone_id in group.get("private_dns_zone_ids") or []
            }
            links = [
                f"{LINK}.{name}"
                for name, link in stack.resources(LINK).items()
                if address_of(link.get("private_dns_zone_name")) in zones
            ]
            if not any(graph.needs(self.address, link) for link in links):
                verdicts.append(Verdict.failed(f"does not wait for the DNS link of {vault}'s zone"))
            else:
                verdicts.append(Verdict.passed(f"waits for {vault}'s endpoint and DNS link"))
        return combine(verdicts)


check = VaultReadersWaitForPath()
