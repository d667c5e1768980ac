"""Builds CKV_GW_DEPLOY_91: nothing that starts during the apply reads a secret that has no value
(DEPLOY-6, DEPLOY-5).

A Container App resolves every Key Vault reference in its `secret` blocks when a revision
provisions, and a job when an execution starts, whatever the running image does with them: a
reference to a secret with no current version fails the revision ("unable to fetch secret")
and the first apply with it (https://learn.microsoft.com/azure/container-apps/manage-secrets,
"Reference secret from Key Vault"), and so does one whose current version is empty ("Unable to
get value", microsoft/azure-container-apps #1291). So every Key Vault reference of an app or
job of this stack must name:
- an `azurerm_key_vault_secret` of the same stack that the apply writes a value to (`value` or
  `value_wo`, not the empty string; CKV_GW_DEPLOY_81 judges that value), or
- an external secret of the stack (created empty, `value_wo = ""`, so that nothing is in the
  JSON or the state; constructs/azure/secrets.py) whose `groundwork-value-set` tag is "true":
  its catalog entry says `value_set: true`, the operator has set its value with the README's
  `az keyvault secret set`, and the empty version is no longer the current one; or
- an existing secret the stack reads (`data.azurerm_key_vault_secret`, whose read fails the
  plan if it is absent).
A literal secret ID, a secret created without a value, or an external secret nobody has set
yet would make the first revision fail. Every variable naming a `secret_name` must also name a
secret block of the same app.
"""

from __future__ import annotations

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

SECRET = "azurerm_key_vault_secret"
# The tag constructs/azure/secrets.py writes on external secrets: "true" once the operator has
# set the value (the catalog entry's `value_set`).
VALUE_SET_TAG = "groundwork-value-set"


class SecretsHaveValues(GroundworkCheck):
    id = "CKV_GW_DEPLOY_91"
    name = "Apps and jobs reference only Key Vault secrets the apply gives a value"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_container_app", "azurerm_container_app_job")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        secrets = stack.resources(SECRET)
        verdicts = []
        declared = set()
        for secret in blocks(body, "secret"):
            declared.add(secret.get("name"))
            reference = secret.get("key_vault_secret_id")
            if reference is None:
                continue  # a plain secret value: CKV_GW_APP_73 refuses it
            target = address_of(reference)
            if str(reference).startswith("${data.azurerm_key_vault_secret."):
                verdicts.append(Verdict.passed(f"{secret.get('name')}: an existing secret"))
            elif target is None or not target.startswith(f"{SECRET}."):
                verdicts.append(
                    Verdict.failed(
                        f"{secret.get('name')}: {reference} is no secret this apply writes"
                    )
                )
            else:
                verdicts.append(self._written(secret.get("name"), target, secrets))
        for template in blocks(body, "template"):
            for container in blocks(template, "container"):
                for item in container.get("env") or []:
                    ref = item.get("secret_name")
                    if ref is not None and ref not in declared:
                        verdicts.append(
                            Verdict.failed(f"{item.get('name')} reads secret {ref}, not declared")
                        )
        return combine(verdicts or [Verdict.passed("reads no secret")])

    @staticmethod
    def _written(name: Any, target: str, secrets: dict[str, dict[str, Any]]) -> Verdict:
        """Whether the secret `target` has a value when a revision that reads it starts."""
        written = secrets.get(target.split(".", 1)[1], {})
        value = written.get("value", written.get("value_wo"))
        if value is None:
            return Verdict.failed(f"{name}: {target} has no value when the revision starts")
        if value != "":
            return Verdict.passed(f"{name}: {target} has a value")
        if (written.get("tags") or {}).get(VALUE_SET_TAG) == "true":
            return Verdict.passed(
                f"{name}: {target} is created empty and the operator has set its value "
                f"({VALUE_SET_TAG}: true)"
            )
        return Verdict.failed(
            f"{name}: {target} is empty until the operator sets it ({VALUE_SET_TAG} is not "
            "true), and a revision cannot start on an empty secret"
        )


check = SecretsHaveValues()
