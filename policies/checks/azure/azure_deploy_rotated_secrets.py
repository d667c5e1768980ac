"""Builds CKV_GW_DEPLOY_87: every generated secret a service reads is handed to it as current,
previous and next, and its rotator restarts the service after a rotation (DEPLOY-6, SEC-2).

A container app reads its Key Vault references once per replica start, so after a rotation new
replicas would sign with a key old replicas do not know (and the reverse). The contract, the same
on every cloud: for a generated secret `X` (a Key Vault secret with a write-only random value)
the app gets `X`, `X_PREVIOUS` and `X_NEXT`, three distinct generated secrets; a job of the stack
shifts that group (its `GENERATED` map names the three vault secrets) and restarts the app's
revisions (its `APP_NAMES` list names this app, and its identity holds a role on this app that
allows `Microsoft.App/containerApps/revisions/restart/action`), the documented way for running
replicas to read changed secrets
(https://learn.microsoft.com/azure/container-apps/manage-secrets).
"""

import json
import re
from typing import Any

from azure_cache_access import job_env
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

RESTART = "Microsoft.App/containerApps/revisions/restart/action"
SLOTS = ("_PREVIOUS", "_NEXT")
REFERENCE = re.compile(r"\$\{([A-Za-z0-9_]+\.[A-Za-z0-9_-]+)(?:\.[^}]*)?\}")


def named_apps(env: dict[str, Any]) -> set[str]:
    """The resources a job's `APP_NAMES` (comma-separated app names) refers to."""
    return set(REFERENCE.findall(str(env.get("APP_NAMES", ""))))


class RotatedSecrets(GroundworkCheck):
    id = "CKV_GW_DEPLOY_87"
    name = "Generated secrets reach the app as current, previous and next; rotation restarts it"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_container_app",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        me = self.address
        vault_of = {
            s.get("name"): address_of(s.get("key_vault_secret_id")) for s in blocks(body, "secret")
        }
        secrets = stack.resources("azurerm_key_vault_secret")
        generated = {
            env.get("name"): f"azurerm_key_vault_secret.{vault.split('.', 1)[1]}"
            for t in blocks(body, "template")
            for c in blocks(t, "container")
            for env in c.get("env") or []
            if (vault := vault_of.get(env.get("secret_name"))) is not None
            # A write-only value; an external secret's empty one makes no generated secret.
            and secrets.get(vault.split(".", 1)[1], {}).get("value_wo") not in (None, "")
        }
        currents = [n for n in generated if not n.endswith(SLOTS)]
        if not generated:
            return Verdict.passed("reads no generated secret")
        verdicts = [
            Verdict.failed(f"{n} without its current secret")
            for n in generated
            if n.endswith(SLOTS) and n.rsplit("_", 1)[0] not in generated
        ]
        jobs = self._rotators(stack, me)
        for current in currents:
            group = [current, *(current + slot for slot in SLOTS)]
            missing = [n for n in group if n not in generated]
            if missing:
                verdicts.append(Verdict.failed(f"{current} comes without {missing}"))
                continue
            if len({generated[n] for n in group}) != 3:
                verdicts.append(Verdict.failed(f"{group} are not three distinct secrets"))
                continue
            names = [secrets[generated[n].split(".", 1)[1]].get("name") for n in group]
            shifting = [j for j, groups in jobs.items() if groups.get(names[0]) == names[1:]]
            if not shifting:
                verdicts.append(Verdict.failed(f"no job shifts {names} and restarts {me}"))
            else:
                verdicts.append(Verdict.passed(f"{current}: {shifting[0]} shifts and restarts"))
        return combine(verdicts)

    @staticmethod
    def _rotators(stack: Stack, app: str) -> dict[str, dict[str, Any]]:
        """Jobs naming this app whose identity may restart its revisions: job -> GENERATED."""
        definitions = stack.resources("azurerm_role_definition")
        restarters = set()
        for grant in stack.resources("azurerm_role_assignment").values():
            definition = address_of(grant.get("role_definition_id"))
            if address_of(grant.get("scope")) != app or definition is None:
                continue
            actions = [
                a
                for p in blocks(definitions.get(definition.split(".", 1)[1], {}), "permissions")
                for a in p.get("actions") or []
            ]
            if RESTART in actions:
                restarters.add(address_of(grant.get("principal_id")))
        found = {}
        for name, job in stack.resources("azurerm_container_app_job").items():
            env = job_env(job)
            identities = {
                address_of(i) for b in blocks(job, "identity") for i in b.get("identity_ids") or []
            }
            if app not in named_apps(env) or not identities & restarters:
                continue
            try:
                found[name] = json.loads(str(env.get("GENERATED")))
            except ValueError:
                continue
        return found


check = RotatedSecrets()
