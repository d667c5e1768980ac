"""Builds CKV_GW_DEPLOY_74: every customer-managed key is used through an identity the key's vault
firewall admits at creation (DEPLOY-4).

A vault whose firewall denies by default admits Azure services only as trusted services. Azure
Container Registry takes a customer-managed key only at creation and only through a
user-assigned identity, but is a trusted service only through its system-assigned identity,
which exists after creation; so a registry created with a key in a firewalled vault fails
(https://learn.microsoft.com/azure/container-registry/tutorial-enable-customer-managed-keys,
"key vault firewall"). Storage accounts and PostgreSQL flexible servers reach a firewalled
vault as trusted services with their user-assigned identity. So: a registry must not use a
key of a vault that denies by default; every other CMK consumer depends on its identity's
key grant (an ordering rule, not this one).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

# consumer type -> (block, key attribute)
KEY_REFERENCE = {
    "azurerm_container_registry": ("encryption", "key_vault_key_id"),
    "azurerm_storage_account": ("customer_managed_key", "key_vault_key_id"),
    "azurerm_postgresql_flexible_server": ("customer_managed_key", "key_vault_key_id"),
}
# Types a vault firewall admits as trusted services through a user-assigned identity.
TRUSTED_WITH_USER_IDENTITY = {"azurerm_storage_account", "azurerm_postgresql_flexible_server"}


class CustomerKeyPathAccepted(GroundworkCheck):
    id = "CKV_GW_DEPLOY_74"
    name = "Customer-managed keys are used only where the vault firewall admits the consumer"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = tuple(KEY_REFERENCE)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        block, attribute = KEY_REFERENCE[self._address[0]]
        settings = blocks(body, block)
        if not settings or not settings[0].get(attribute):
            return Verdict.passed("no customer-managed key")
        key = address_of(settings[0][attribute])
        if key is None:
            return Verdict.unknown(f"{attribute} {settings[0][attribute]} is no reference")
        key_body = stack.resources("azurerm_key_vault_key").get(key.split(".", 1)[1], {})
        vault = address_of(key_body.get("key_vault_id"))
        vault_body = stack.resources("azurerm_key_vault").get(str(vault).split(".", 1)[-1])
        if vault_body is None:
            return Verdict.unknown(f"the vault of {key} is not in this stack")
        acls = (blocks(vault_body, "network_acls") or [{}])[0]
        firewalled = (
            acls.get("default_action") == "Deny"
            or vault_body.get("public_network_access_enabled") is False
        )
        if firewalled and self._address[0] not in TRUSTED_WITH_USER_IDENTITY:
            return Verdict.failed(
                f"{vault} denies by default and {self._address[0]} is trusted only through a "
                "system-assigned identity it does not have at creation"
            )
        return Verdict.passed(f"{key} in {vault} is reachable by this consumer")


check = CustomerKeyPathAccepted()
