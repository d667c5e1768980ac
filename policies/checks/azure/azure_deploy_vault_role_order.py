"""Builds CKV_GW_DEPLOY_73: every vault data-plane write depends on the deployer's role that
allows it (DEPLOY-2).

A role assignment takes effect only once it exists (and Azure RBAC may take minutes to
propagate); a key, secret or certificate written in parallel with its role is refused with
403 Forbidden. So every key, secret and certificate depends (by reference or `depends_on`)
on the deployer's officer role for its kind on its vault (see CKV_GW_DEPLOY_71;
https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected),
through a `time_sleep` that waits for that role (the propagation wait; its duration is judged
by CKV_GW_DEPLOY_86, azurerm #23927).
"""

from typing import Any

from azure_deploy_vault_roles import ROLE_FOR, deployer_roles
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of


class VaultWritesWaitForRoles(GroundworkCheck):
    id = "CKV_GW_DEPLOY_73"
    name = "Every Key Vault key, secret and certificate depends on the deployer role it needs"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = tuple(ROLE_FOR)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        vault = address_of(body.get("key_vault_id"))
        if vault is None:
            return Verdict.unknown(f"key_vault_id {body.get('key_vault_id')} is no reference")
        role = ROLE_FOR[self._address[0]]
        roles = deployer_roles(stack, vault, role)
        if not roles:
            return Verdict.failed(f"no {role!r} on {vault} to wait for")
        if not any(stack.graph.needs(self.address, r) for r in roles):
            return Verdict.failed(f"does not depend on {roles[0]} ({role})")
        waits = [
            s
            for s in stack.graph.prerequisites(self.address)
            if s.startswith("time_sleep.") and any(stack.graph.needs(s, r) for r in roles)
        ]
        if not waits:
            return Verdict.failed(f"starts right after {role}, before it propagates")
        return Verdict.passed(f"waits for {role} to propagate ({waits[0]})")


check = VaultWritesWaitForRoles()
