"""Builds CKV_GW_DEPLOY_71: the deployer holds the vault role for every kind of object the apply
writes there (DEPLOY-3).

Key Vault with RBAC authorization checks every data-plane write against a role: keys need
Key Vault Crypto Officer, secrets Key Vault Secrets Officer, certificates Key Vault
Certificates Officer (a self-signed certificate is created by Key Vault itself, under the
caller's rights;
https://learn.microsoft.com/azure/key-vault/general/rbac-guide#azure-built-in-roles-for-key-vault-data-plane-operations).
The deployer is the principal of `data.azurerm_client_config`; the role must be assigned on
the vault (or above it) to that principal in the same stack.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of

ROLE_FOR = {
    "azurerm_key_vault_key": "Key Vault Crypto Officer",
    "azurerm_key_vault_secret": "Key Vault Secrets Officer",
    "azurerm_key_vault_certificate": "Key Vault Certificates Officer",
}


def deployer_roles(stack: Stack, vault: str, role: str) -> list[str]:
    """Addresses of role assignments of `role` on `vault` to the deploying principal."""
    found = []
    for name, body in stack.resources("azurerm_role_assignment").items():
        if body.get("role_definition_name") != role or address_of(body.get("scope")) != vault:
            continue
        principal = str(body.get("principal_id", ""))
        if "data.azurerm_client_config." in principal and principal.endswith(".object_id}"):
            found.append(f"azurerm_role_assignment.{name}")
    return found


class VaultRolesCoverWrites(GroundworkCheck):
    id = "CKV_GW_DEPLOY_71"
    name = "The deployer holds the Key Vault officer role for every kind of object it writes"
    requirement = "DEPLOY-3"
    severity = "HIGH"
    resource_types = tuple(ROLE_FOR)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        vault = address_of(body.get("key_vault_id"))
        if vault is None:
            return Verdict.unknown(f"key_vault_id {body.get('key_vault_id')} is no reference")
        role = ROLE_FOR[self._address[0]]
        if not deployer_roles(stack, vault, role):
            return Verdict.failed(f"the deployer has no {role!r} on {vault}")
        return Verdict.passed(f"the deployer is {role} on {vault}")


check = VaultRolesCoverWrites()
