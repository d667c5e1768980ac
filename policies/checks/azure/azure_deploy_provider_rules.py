"""Builds CKV_GW_DEPLOY_88: no resource combines arguments that azurerm 4.55's own plan-time
validation refuses (DEPLOY-4).

Checkov judges each argument on its own; the provider's CustomizeDiff functions judge them
together, and a stack that trips one stops at `terraform plan` before anything is created. Each
row below is one such cross-argument rule of hashicorp/terraform-provider-azurerm v4.55.0 on a
resource type the Azure stacks use, with the file that holds it:

- `azurerm_container_registry`, internal/services/containers/container_registry_resource.go
  (CustomizeDiff, lines ~304-311): `export_policy_enabled = false` needs the Premium SKU and
  `public_network_access_enabled = false` ("to disable export of artifacts,
  `public_network_access_enabled` must also be `false`"; also
  https://learn.microsoft.com/azure/container-registry/data-loss-prevention). Same function:
  quarantine, retention, trust policy, zone redundancy and the data endpoint need Premium.
- `azurerm_postgresql_flexible_server`, internal/services/postgres/
  postgresql_flexible_server_resource.go (CustomizeDiff, create_mode Default, lines ~545-566):
  with `authentication.password_auth_enabled = false` neither `administrator_login` nor
  `administrator_password(_wo)` may be set; with password auth on both are required.
- `azurerm_network_watcher_flow_log`, internal/services/network/
  network_watcher_flow_log_resource.go (CustomizeDiff, lines ~180-192): a new flow log whose
  `target_resource_id` is a network security group is refused ("creation of new NSG flow logs
  is no longer supported by Azure as of June 30, 2025"); target the virtual network.

The other types the brief named were read in the same tag and hold no cross-argument rule the
stacks can reach: key_vault_resource.go's only refusal is a soft-deleted vault of the same name
(an account state, not an argument pair); storage_account_resource.go's rules concern kinds,
tiers, HNS/NFS, queue/static website/share properties and versioning with HNS, none of which the
StorageV2 accounts combine; container_app_resource.go checks traffic weights (we set
latest_revision); application_gateway_resource.go's expand-time conflicts concern redirects and
rule priorities (every rule has a priority, none redirects); managed_redis_resource.go checks
geo-replication SKUs and the RediSearch module, neither of which the cache uses.
"""

from collections.abc import Callable
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

SOURCE = "hashicorp/terraform-provider-azurerm v4.55.0"
ACR = "internal/services/containers/container_registry_resource.go"
PG = "internal/services/postgres/postgresql_flexible_server_resource.go"
FLOW = "internal/services/network/network_watcher_flow_log_resource.go"
ACR_PREMIUM_ONLY = (
    "quarantine_policy_enabled",
    "trust_policy_enabled",
    "zone_redundancy_enabled",
    "data_endpoint_enabled",
)


def _block(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _registry(body: dict[str, Any]) -> list[str]:
    problems = []
    premium = str(body.get("sku", "")).lower() == "premium"
    if body.get("export_policy_enabled") is False:
        if not premium:
            problems.append("export_policy_enabled = false needs the Premium SKU")
        if body.get("public_network_access_enabled", True) is not False:
            problems.append(
                "export_policy_enabled = false needs public_network_access_enabled = false"
            )
    if not premium:
        problems += [f"{a} needs the Premium SKU" for a in ACR_PREMIUM_ONLY if body.get(a) is True]
        if (body.get("retention_policy_in_days") or 0) > 0:
            problems.append("retention_policy_in_days needs the Premium SKU")
    return [f"{p} ({SOURCE} {ACR})" for p in problems]


def _postgres(body: dict[str, Any]) -> list[str]:
    if body.get("create_mode", "Default") != "Default":
        return []
    password_auth = _block(body, "authentication").get("password_auth_enabled", True)
    login = body.get("administrator_login") is not None
    password = any(
        body.get(a) is not None for a in ("administrator_password", "administrator_password_wo")
    )
    if password_auth is False and (login or password):
        problem = "administrator_login/password cannot be set when password_auth_enabled = false"
    elif password_auth is not False and not (login and password):
        problem = "password auth on needs administrator_login and administrator_password"
    else:
        return []
    return [f"{problem} ({SOURCE} {PG})"]


def _flow_log(body: dict[str, Any]) -> list[str]:
    target = str(body.get("target_resource_id") or body.get("network_security_group_id") or "")
    if "azurerm_network_security_group." in target or "/networkSecurityGroups/" in target:
        refused = "new NSG flow logs are refused since 2025-06-30; target the VNet"
        return [f"{refused} ({SOURCE} {FLOW})"]
    return []


RULES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "azurerm_container_registry": _registry,
    "azurerm_postgresql_flexible_server": _postgres,
    "azurerm_network_watcher_flow_log": _flow_log,
}


class ProviderRules(GroundworkCheck):
    id = "CKV_GW_DEPLOY_88"
    name = "No resource combines arguments that the azurerm provider refuses at plan time"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = tuple(RULES)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        problems = RULES[self._address[0]](body)
        if problems:
            return Verdict.failed("; ".join(problems))
        return Verdict.passed(f"passes the provider's plan-time rules for {self._address[0]}")


check = ProviderRules()
