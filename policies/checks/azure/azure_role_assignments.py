"""Builds CKV_GW_IAM_70: no role assignment grants an owner/contributor/admin-class role or a
role at subscription or resource-group scope; every grant is a narrow data-plane role on one
resource (IAM-1). A custom role this stack defines is judged by its definition: explicit
actions (no wildcard, nothing under Microsoft.Authorization), assignable only on the resource
it is assigned to or in a resource group of the stack, never a subscription."""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

BROAD_ROLES = re.compile(r"^(Owner|Contributor|User Access Administrator|.*Administrator)$")
BROAD_SCOPE_TYPES = {"azurerm_resource_group", "data.azurerm_subscription", "azurerm_subscription"}


class AzureRoleAssignments(GroundworkCheck):
    id = "CKV_GW_IAM_70"
    name = "Role assignments are narrow roles on single resources, never admin or broad scope"
    requirement = "IAM-1"
    severity = "CRITICAL"
    resource_types = ("azurerm_role_assignment",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        role, scope = body.get("role_definition_name"), str(body.get("scope", ""))
        if role is None:
            custom = address_of(body.get("role_definition_id"))
            if custom is not None and custom.startswith("azurerm_role_definition."):
                return self._custom(custom, scope, stack)
            return Verdict.unknown(f"role by id {body.get('role_definition_id')}: not judged")
        if BROAD_ROLES.match(str(role)):
            return Verdict.failed(f"{role} is an admin-class role")
        target = address_of(scope.split("}")[0] + "}") if scope.startswith("${") else None
        if scope.startswith("/subscriptions/") and "/providers/" not in scope:
            return Verdict.failed(f"scope {scope} is a subscription or resource group")
        if target is None and not scope.startswith("/subscriptions/"):
            return Verdict.unknown(f"scope {scope} cannot be resolved")
        if target is not None and (
            target.split(".")[0] in BROAD_SCOPE_TYPES
            or scope.startswith("${data.azurerm_subscription")
        ):
            return Verdict.failed(f"scope {scope} is a subscription or resource group")
        return Verdict.passed(f"{role} on {scope}")

    def _custom(self, address: str, scope: str, stack: Stack) -> Verdict:
        definition = stack.graph.bodies.get(address)
        if definition is None:
            return Verdict.unknown(f"{address} is not in this stack")
        actions = [a for p in blocks(definition, "permissions") for a in p.get("actions") or []]
        broad = [a for a in actions if "*" in a or a.lower().startswith("microsoft.authorization/")]
        if not actions or broad:
            return Verdict.failed(f"{address} grants {broad or 'nothing'}")
        scopes = [*(definition.get("assignable_scopes") or []), definition.get("scope")]
        narrow = [
            s for s in scopes
            if s == scope or (address_of(s) or "").startswith("azurerm_resource_group.")
        ]  # fmt: skip
        if len(narrow) != len(scopes):
            return Verdict.failed(f"{address} is assignable beyond {scope} or its resource group")
        return Verdict.passed(f"{address} ({len(actions)} explicit actions) on {scope}")


check = AzureRoleAssignments()
