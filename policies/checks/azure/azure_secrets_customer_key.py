"""Builds CKV_GW_SEC_74: a Key Vault secret is encrypted with the environment's own key (SEC-1).

No Key Vault secret can meet this: Key Vault encrypts what it stores with its own
service-managed, HSM-protected key hierarchy, and neither `azurerm_key_vault` nor
`azurerm_key_vault_secret` in azurerm 4.55 has an argument that wraps secrets with a customer
key (https://learn.microsoft.com/azure/key-vault/general/security-features, "Data
protection"). So the check fails every secret, and the construct that creates one declares
the deviation as a waiver (constructs/azure/secrets.py): the gate reports SEC-1 as waived,
never as a pass it is not. It is a check of its own, not part of CKV_GW_SEC_70, so that the
waiver of this platform limit cannot hide a secret that is missing or misnamed (SEC_70).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict


class AzureSecretsCustomerKey(GroundworkCheck):
    id = "CKV_GW_SEC_74"
    name = "Key Vault secrets are encrypted with the environment's own key"
    requirement = "SEC-1"
    severity = "MEDIUM"
    resource_types = ("azurerm_key_vault_secret",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        return Verdict.failed(
            f"{body.get('name')} is encrypted by Key Vault's own keys: Key Vault offers no "
            "customer key for secrets, so not with the environment's key"
        )


check = AzureSecretsCustomerKey()
