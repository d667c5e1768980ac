"""Builds CKV_GW_DEPLOY_94: every reference to an external secret marked set depends on a step of
the apply that checks the secret has a value (DEPLOY-6).

An external secret is created empty (`value_wo = ""`, constructs/azure/secrets.py), and a
Container App or job cannot start on an empty Key Vault value ("Unable to get value",
microsoft/azure-container-apps #1291). Its tag `groundwork-value-set: "true"` (the catalog
entry's `value_set`) is the operator's word that a value was set, which CKV_GW_DEPLOY_91
trusts; it is not true in a fresh subscription, after the secret was destroyed and created
again, or in an environment file copied with the flag: there the apply creates the secret empty
and points the app at it in the same run, and the revision fails mid-apply. The rule, for every
kind of reader (`azurerm_container_app`, `azurerm_container_app_job`): each `secret` block whose
`key_vault_secret_id` names an `azurerm_key_vault_secret` of the stack created empty and tagged
set depends (references or depends_on, transitively) on a `terraform_data` step whose
`input.checks` is that secret and which
- reads the LENGTH of the secret's latest value (`az keyvault secret show ... --query
  "length(value)"`, never the value), for the secret its command's `SECRET` names, and fails
  the apply when it is not above zero (the command ends in `exit 1`, which only a length
  `-gt 0` skips);
- is replaced when the secret is (`triggers_replace` refers to it), so a secret created again
  is checked again.
Each such step is judged too (constructs/azure/steps.py `SecretHasValue`).
"""

import re
from typing import Any

from azure_deploy_role_at_apply import step_command, step_environment
from groundwork_policy import (
    GroundworkCheck,
    Outcome,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
)

SECRET = "azurerm_key_vault_secret"
# The tag constructs/azure/secrets.py writes on external secrets (CKV_GW_DEPLOY_91's too).
VALUE_SET_TAG = "groundwork-value-set"
READS_LENGTH = re.compile(r"\baz\s+keyvault\s+secret\s+show\b[^\n]*(\\\n[^\n]*)*length\(value\)")


def checked_secret(step: dict[str, Any]) -> str | None:
    """The Key Vault secret a step says it checks (`input.checks`)."""
    checks = address_of((step.get("input") or {}).get("checks"))
    return checks if checks and checks.startswith(f"{SECRET}.") else None


def marked_set_but_empty(stack: Stack, target: str) -> bool:
    """Whether `target` is a secret of the stack created empty whose tag says it was set."""
    written = stack.resources(SECRET).get(target.split(".", 1)[1])
    if written is None or written.get("value", written.get("value_wo")) != "":
        return False
    return (written.get("tags") or {}).get(VALUE_SET_TAG) == "true"


def checks_value(step: dict[str, Any]) -> Verdict:
    """The step reads the length of the value of the secret it names and fails when it is 0."""
    secret = checked_secret(step)
    text = step_command(step)
    named = step_environment(step, "SECRET")
    if not READS_LENGTH.search(text):
        return Verdict.failed(
            f"does not read the length of {secret}'s latest value "
            '(az keyvault secret show --query "length(value)")'
        )
    if secret not in named:
        return Verdict.failed(f"its command's SECRET is not {secret}, the secret it says it checks")
    # Only a value longer than 0 lets it end well; everything else falls through to `exit 1`.
    if not (re.search(r"-gt\s+0\b", text) and text.rstrip().endswith("exit 1")):
        return Verdict.failed(f"reads {secret}'s length but does not fail the apply when it is 0")
    triggers = step.get("triggers_replace") or {}
    if not any(address_of(value) == secret for value in triggers.values()):
        return Verdict.failed(
            f"is not replaced when {secret} is (triggers_replace): a secret created again, "
            "empty, is not checked"
        )
    return Verdict.passed(f"fails the apply unless {secret} has a non-empty value")


class ExternalSecretChecked(GroundworkCheck):
    id = "CKV_GW_DEPLOY_94"
    name = "Every reader of an external secret marked set waits for a step that checks its value"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_container_app", "azurerm_container_app_job", "terraform_data")
    needs_config = False

    def _references(self, body: dict[str, Any], stack: Stack) -> list[str]:
        """The external secrets marked set that this app or job references."""
        found = []
        for secret in blocks(body, "secret"):
            target = address_of(secret.get("key_vault_secret_id"))
            if target and target.startswith(f"{SECRET}.") and marked_set_but_empty(stack, target):
                found.append(target)
        return sorted(set(found))

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        if self._address[0] == "terraform_data":
            return checked_secret(body) is not None
        return bool(self._references(body, stack))

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "terraform_data":
            return checks_value(body)
        graph = stack.graph
        verdicts = []
        for target in self._references(body, stack):
            steps = {
                f"terraform_data.{name}": step
                for name, step in stack.resources("terraform_data").items()
                if checked_secret(step) == target
            }
            working = {a for a, s in steps.items() if checks_value(s).outcome is Outcome.PASS}
            if not working:
                verdicts.append(
                    Verdict.failed(
                        f"reads {target}, created empty and only tagged set, and no step of the "
                        "apply checks it has a value: in a fresh subscription the revision "
                        "fails on the empty secret (microsoft/azure-container-apps #1291)"
                    )
                )
            elif not any(graph.needs(self.address, step) for step in working):
                verdicts.append(
                    Verdict.failed(
                        f"reads {target} without waiting for {', '.join(sorted(working))}, "
                        "which checks it has a value: it can start on the empty secret"
                    )
                )
            else:
                verdicts.append(
                    Verdict.passed(f"reads {target} after {', '.join(sorted(working))}")
                )
        return combine(verdicts)


check = ExternalSecretChecked()
