"""Builds the waits for Azure role assignments to take effect before anything uses them.

Satisfies: DEPLOY-2

A role assignment exists as soon as Azure Resource Manager returns it, but it is honoured only
after Azure RBAC's caches catch up: "it can take up to 10 minutes for changes to take effect"
(https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected).
Terraform starts a dependent as soon as the assignment is created, so a Key Vault key, secret
or certificate written right after the deployer's officer role, a resource encrypted with a key
right after its identity's grant, or an app resolving Key Vault references right after its
reader role is refused with 403 in a fresh subscription (hashicorp/terraform-provider-azurerm
#23927). `propagated` returns a `time_sleep` of `ROLE_PROPAGATION` after the given assignments;
a consumer depends on it instead of on the assignments alone. The sleep runs on create only
(and again if an assignment is replaced, through its `triggers`), so later applies do not wait.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_time.sleep import Sleep
from constructs import Construct

ROLE_PROPAGATION = "10m"  # Microsoft's documented upper bound (see the module docstring)


def propagated(scope: Construct, id_: str, roles: Sequence[RoleAssignment]) -> Sleep:
    """A wait of `ROLE_PROPAGATION` that starts once every assignment in `roles` exists."""
    return Sleep(
        scope,
        id_,
        create_duration=ROLE_PROPAGATION,
        triggers={role.node.id: role.id for role in roles},
    )
