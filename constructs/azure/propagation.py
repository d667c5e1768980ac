"""Builds the waits for Azure role assignments and custom role definitions to take effect before
anything uses them.

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

A custom role definition has the same gap one step earlier: ARM replicates a new definition
asynchronously, and an assignment of it created before replication ends fails with
`RoleDefinitionDoesNotExist`, "a transient error which may occur when the Resource Provider in
ARM is yet to complete replication of the newly created Role Definition"
(Azure/terraform-azurerm-caf-enterprise-scale wiki, "Errors creating Role Definitions and Role
Assignments"; hashicorp/terraform-provider-azurerm #10479, #10602). azurerm 4.55 does not wait:
`azurerm_role_definition` Create returns after CreateOrUpdate and one Get (its replication
wait runs on Update only), and `azurerm_role_assignment` Create retries network errors and
`PrincipalNotFound` only (internal/services/authorization/role_definition_resource.go and
role_assignment_resource.go at v4.55.0). `replicated` returns a `time_sleep` of
`ROLE_DEFINITION_REPLICATION` after one definition, re-run when the definition is replaced;
every assignment of that definition depends on it (CKV_GW_DEPLOY_86).
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.role_definition import RoleDefinition
from cdktf_cdktf_provider_time.sleep import Sleep
from constructs import Construct

ROLE_PROPAGATION = "10m"  # Microsoft's documented upper bound (see the module docstring)
# Not an upper bound: azurerm's maintainer puts the replication of role definitions at "around
# 5m" (hashicorp/terraform-provider-azurerm#5038, 2020-12-14); scripts see 30 s to over 60 s
# (MicrosoftDocs/azure-docs#99810). The CAF wiki's "up to 10 minutes" is for importing a
# definition through ARM's cache. An assignment that still outruns replication fails alone, and
# re-running `terraform apply` completes it (the definition exists by then).
ROLE_DEFINITION_REPLICATION = "5m"


def propagated(scope: Construct, id_: str, roles: Sequence[RoleAssignment]) -> Sleep:
    """A wait of `ROLE_PROPAGATION` that starts once every assignment in `roles` exists."""
    return Sleep(
        scope,
        id_,
        create_duration=ROLE_PROPAGATION,
        triggers={role.node.id: role.id for role in roles},
    )


def replicated(scope: Construct, id_: str, definition: RoleDefinition) -> Sleep:
    """A wait of `ROLE_DEFINITION_REPLICATION` that starts once `definition` exists and again
    whenever it is replaced; every assignment of `definition` depends on it."""
    return Sleep(
        scope,
        id_,
        create_duration=ROLE_DEFINITION_REPLICATION,
        triggers={definition.node.id: definition.id},
    )
