"""Builds CKV_GW_DEPLOY_81: every Key Vault secret starts with a real value (DEPLOY-6).

A secret written as a literal (`pending-rotation`, `entra-id-token`) is a placeholder the app
reads as if it were the secret: a JWT key anyone can read in the repository, a password that
is not one. So `value` / `value_wo` must be a Terraform expression (a reference to what the
stack creates, or a function evaluated at apply time), never a literal string.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, is_reference


class SecretsStartReal(GroundworkCheck):
    id = "CKV_GW_DEPLOY_81"
    name = "Key Vault secrets start with a computed value, never a literal placeholder"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_key_vault_secret",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        for attribute in ("value_wo", "value"):
            if attribute in body:
                value = body[attribute]
                if is_reference(value):
                    return Verdict.passed(f"{attribute} is computed at apply time")
                return Verdict.failed(f"{attribute} is the literal {value!r}")
        return Verdict.failed("the secret has no value")


check = SecretsStartReal()
