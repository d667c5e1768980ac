"""Builds CKV_GW_APP_74: the Container App runs under its own user-assigned identity, and that
identity's role assignments are scoped to single secrets, the app's container, its registry or
its cache, never to a whole vault, resource group or subscription (APP-5)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

# What the app's identity may be granted on: the scope's resource type.
OWN_SCOPES = {
    "azurerm_key_vault_secret",
    "azurerm_storage_container",
    "azurerm_container_registry",
    "azurerm_managed_redis",
}


class AzureAppIdentity(GroundworkCheck):
    id = "CKV_GW_APP_74"
    name = "Container App has its own identity, granted only its own secrets, bucket and cache"
    requirement = "APP-5"
    severity = "HIGH"
    resource_types = ("azurerm_container_app",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        identity = (blocks(body, "identity") or [{}])[0]
        ids = [address_of(i) for i in identity.get("identity_ids") or []]
        if identity.get("type") != "UserAssigned" or len(ids) != 1 or ids[0] is None:
            return Verdict.failed(f"identity is {identity}; want one user-assigned identity")
        own = ids[0]
        others = [
            name for name, app in stack.resources("azurerm_container_app").items()
            if name != self._address[1]
            and own in [address_of(i) for b in blocks(app, "identity")
                        for i in b.get("identity_ids") or []]
        ]  # fmt: skip
        verdicts = [Verdict.failed(f"identity shared with {others}")] if others else []
        grants = 0
        for name, grant in stack.resources("azurerm_role_assignment").items():
            if address_of(grant.get("principal_id")) != own:
                continue
            grants += 1
            scope = address_of(grant.get("scope")) or ""
            if (
                scope.split(".")[0] not in OWN_SCOPES
                or "/" in str(grant.get("scope")).split("}")[-1]
            ):
                verdicts.append(Verdict.failed(f"{name}: scope {grant.get('scope')} is too broad"))
        return combine(verdicts or [Verdict.passed(f"{own} with {grants} narrow role assignments")])


check = AzureAppIdentity()
