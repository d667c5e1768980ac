"""Builds CKV_GW_DEPLOY_79: a role assignment scoped to an object inside a resource waits for
that object (DEPLOY-5).

A scope built as `${<resource>.id}/<path>` (a container, a secret, a certificate's secret)
names an object that exists only once the resource creating it has finished; assigned
earlier, Azure answers that the scope does not exist
(https://learn.microsoft.com/azure/role-based-access-control/role-assignments-steps).
So such an assignment must depend on a resource that refers to the parent (the child's
creator), not only on the parent.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

CHILD_SCOPE = re.compile(r"^\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.id\}/(.+)$")


class ChildScopeWaitsForChild(GroundworkCheck):
    id = "CKV_GW_DEPLOY_79"
    name = "A role assignment on an object inside a resource waits for that object"
    requirement = "DEPLOY-5"
    severity = "HIGH"
    resource_types = ("azurerm_role_assignment",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        match = CHILD_SCOPE.match(str(body.get("scope", "")))
        if match is None:
            return Verdict.passed("scoped to a whole resource")
        parent, path = match.groups()
        graph = stack.graph
        creators = [
            address
            for address in graph.prerequisites(self.address)
            if address != parent and graph.refers_to(address, parent)
        ]
        if not creators:
            return Verdict.failed(f"scope {parent}/{path} but waits for nothing that creates it")
        return Verdict.passed(f"waits for {sorted(creators)[0]}")


check = ChildScopeWaitsForChild()
