"""Builds CKV_GW_DEPLOY_91: nothing that starts during the apply reads a secret that has no value
(DEPLOY-6, DEPLOY-5).

A Container App resolves every Key Vault reference in its `secret` blocks when a revision
provisions, and a job when an execution starts, whatever the running image does with them: a
reference to a secret with no current version fails the revision ("unable to fetch secret")
and the first apply with it (https://learn.microsoft.com/azure/container-apps/manage-secrets,
"Reference secret from Key Vault"). So every Key Vault reference of an app or job of this stack
must name an `azurerm_key_vault_secret` of the same stack that the apply writes a value to
(`value` or `value_wo`; CKV_GW_DEPLOY_81 judges that value), or an existing secret the stack
reads (`data.azurerm_key_vault_secret`, whose read fails the plan if it is absent). A literal
secret ID, or a secret created without a value (an "external" secret someone sets after the
apply), would make the first revision fail. Every variable naming a `secret_name` must also
name a secret block of the same app.
"""

from __future__ import annotations

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

SECRET = "azurerm_key_vault_secret"


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
                written = secrets.get(target.split(".", 1)[1], {})
                if "value" in written or "value_wo" in written:
                    verdicts.append(Verdict.passed(f"{secret.get('name')}: {target} has a value"))
                else:
                    verdicts.append(
                        Verdict.failed(
                            f"{secret.get('name')}: {target} has no value when the revision starts"
                        )
                    )
        for template in blocks(body, "template"):
            for container in blocks(template, "container"):
                for item in container.get("env") or []:
                    ref = item.get("secret_name")
                    if ref is not None and ref not in declared:
                        verdicts.append(
                            Verdict.failed(f"{item.get('name')} reads secret {ref}, not declared")
                        )
        return combine(verdicts or [Verdict.passed("reads no secret")])


check = SecretsHaveValues()
