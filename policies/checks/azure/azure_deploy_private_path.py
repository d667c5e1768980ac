"""Builds CKV_GW_DEPLOY_83: whatever reaches a private service from inside the VNet waits for
that service's private path (DEPLOY-2).

An Application Gateway loads its certificate, and a Container App resolves its secret
references and pulls its image, when they are created; a first revision (and a job's first
run) connects at once to the cache and the storage it is configured with. Against a vault,
registry or storage account whose firewall denies by default, and a cache with public access
off, they get there only through the service's private endpoint, resolved through the
privatelink zone's VNet link (Application Gateway is not a trusted Key Vault service:
https://learn.microsoft.com/azure/application-gateway/key-vault-certs#verify-firewall-permissions-to-key-vault;
https://learn.microsoft.com/azure/private-link/private-endpoint-dns). So each such client
depends on a private endpoint of every service its configuration reaches (for that service's
subresource: `vault`, `registry`, `redisEnterprise`, `blob`, `queue`) and on the VNet link of
the zone that endpoint registers in; created in parallel, the first revision, run or gateway
fails to connect.

What a client reaches is read from its configuration's references to data-plane attributes
(`REACHES`), or to a child whose data plane is its parent's (`CHILDREN`: a secret or
certificate is read from its vault, a container's blobs from its account). A reference to a
service's `id` is a control-plane call through Azure Resource Manager (the cache-access job's
PUT), which needs no private path.
"""

import re
from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    strings_in,
)

ENDPOINT = "azurerm_private_endpoint"
LINK = "azurerm_private_dns_zone_virtual_network_link"
ZONE = "azurerm_private_dns_zone"
# (type, attribute) a client is configured with -> the private endpoint subresource it reaches.
REACHES = {
    ("azurerm_key_vault", "name"): "vault",
    ("azurerm_key_vault", "vault_uri"): "vault",
    ("azurerm_container_registry", "login_server"): "registry",
    ("azurerm_managed_redis", "hostname"): "redisEnterprise",
    ("azurerm_storage_account", "primary_blob_endpoint"): "blob",
    ("azurerm_storage_account", "primary_blob_host"): "blob",
    ("azurerm_storage_account", "primary_queue_endpoint"): "queue",
    ("azurerm_storage_account", "primary_queue_host"): "queue",
}
# A child resource reached through its parent's data plane: type -> (parent argument, subresource).
CHILDREN = {
    "azurerm_key_vault_secret": ("key_vault_id", "vault"),
    "azurerm_key_vault_certificate": ("key_vault_id", "vault"),
    "azurerm_storage_container": ("storage_account_id", "blob"),
    "azurerm_storage_queue": ("storage_account_id", "queue"),
}
# `type.name.attribute` in an expression (a data source's `data.` prefix excluded).
ATTRIBUTE_REFERENCE = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.([A-Za-z_]\w*)")
# Arguments that are no configuration the client connects with.
NOT_CONFIGURATION = frozenset({"depends_on", "lifecycle", "provider", "tags", "//"})


def reached(body: dict[str, Any], stack: Stack) -> set[tuple[str, str]]:
    """(service address, subresource) of every private service the client's configuration
    reaches: `{("azurerm_managed_redis.cache_redis", "redisEnterprise"), ...}`."""
    found = set()
    for key, value in body.items():
        if key in NOT_CONFIGURATION:
            continue
        for text in strings_in(value):
            if "${" not in text:
                continue
            for rtype, name, attribute in ATTRIBUTE_REFERENCE.findall(text):
                if (rtype, attribute) in REACHES:
                    found.add((f"{rtype}.{name}", REACHES[rtype, attribute]))
                elif rtype in CHILDREN:
                    argument, subresource = CHILDREN[rtype]
                    child = stack.resources(rtype).get(name, {})
                    parent = address_of(child.get(argument))
                    if parent:
                        found.add((parent, subresource))
    return found


def _endpoints_of(stack: Stack, service: str, subresource: str) -> dict[str, dict[str, Any]]:
    return {
        f"{ENDPOINT}.{name}": endpoint
        for name, endpoint in stack.resources(ENDPOINT).items()
        if any(
            address_of(c.get("private_connection_resource_id")) == service
            and subresource in (c.get("subresource_names") or [])
            for c in blocks(endpoint, "private_service_connection")
        )
    }


class PrivateClientsWaitForPath(GroundworkCheck):
    id = "CKV_GW_DEPLOY_83"
    name = (
        "Gateways, apps and jobs wait for the private endpoint and DNS link of every private "
        "service they reach"
    )
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = (
        "azurerm_application_gateway",
        "azurerm_container_app",
        "azurerm_container_app_job",
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        services = reached(body, stack)
        if not services:
            return Verdict.passed("reaches no private service")
        return combine(
            [self._path(stack, service, subresource) for service, subresource in sorted(services)]
        )

    def _path(self, stack: Stack, service: str, subresource: str) -> Verdict:
        graph = stack.graph
        what = f"{service} ({subresource})"
        endpoints = _endpoints_of(stack, service, subresource)
        if not endpoints:
            return Verdict.failed(f"reaches {what}, which has no private endpoint in the stack")
        waited = [e for e in endpoints if graph.needs(self.address, e)]
        if not waited:
            return Verdict.failed(
                f"reaches {what} but does not wait for its private endpoint "
                f"{' or '.join(sorted(endpoints))}"
            )
        zones = {
            zone
            for endpoint in waited
            for group in blocks(endpoints[endpoint], "private_dns_zone_group")
            for zone_id in group.get("private_dns_zone_ids") or []
            if (zone := address_of(zone_id))
        }
        missing = []
        for zone in sorted(zones):
            links = [
                f"{LINK}.{name}"
                for name, link in stack.resources(LINK).items()
                if address_of(link.get("private_dns_zone_name")) == zone
            ]
            if not any(graph.needs(self.address, link) for link in links):
                zone_name = stack.resources(ZONE).get(zone.split(".", 1)[1], {}).get("name", zone)
                missing.append(
                    f"{' or '.join(links) or 'a VNet link'}, the VNet link of zone {zone_name} "
                    "its endpoint registers in"
                )
        if missing:
            return Verdict.failed(f"reaches {what} but does not wait for {', '.join(missing)}")
        return Verdict.passed(f"waits for {what}'s endpoint and DNS link")


check = PrivateClientsWaitForPath()
