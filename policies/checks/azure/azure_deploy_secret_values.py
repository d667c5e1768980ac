"""Builds CKV_GW_DEPLOY_81: every Key Vault secret starts with a real value (DEPLOY-6).

A secret written as a literal (`pending-rotation`, `entra-id-token`) is a placeholder the app
reads as if it were the secret: a JWT key anyone can read in the repository, a password that
is not one. So `value` / `value_wo` must be a Terraform expression (a reference to what the
stack creates, or a function evaluated at apply time), never a literal string.

One shape is no placeholder: an external secret (tag `groundwork-secret-kind: external`, SEC-5)
is created with the empty write-only value, so that its value is never in the JSON or the state,
and the operator sets the real one (README, "Azure: setting an external secret"). No app may
read it until then (CKV_GW_DEPLOY_91), so the empty version is never handed to anyone; any other
literal, on an external secret too, is a placeholder.
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
        kind = (body.get("tags") or {}).get("groundwork-secret-kind")
        if kind == "external" and body.get("value_wo") == "" and "value" not in body:
            return Verdict.passed(
                "external: created empty for the operator to set; no reader before it is set "
                "(CKV_GW_DEPLOY_91)"
            )
        for attribute in ("value_wo", "value"):
            if attribute in body:
                value = body[attribute]
                if is_reference(value):
                    return Verdict.passed(f"{attribute} is computed at apply time")
                return Verdict.failed(f"{attribute} is the literal {value!r}")
        return Verdict.failed("the secret has no value")


check = SecretsStartReal()
