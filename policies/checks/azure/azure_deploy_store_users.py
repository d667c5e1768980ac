"""Builds CKV_GW_DEPLOY_80: every storage container and queue can be used after the apply
(DEPLOY-6).

Shared keys are off on every account, so nobody reads or writes a container or a queue
without an Entra data role (https://learn.microsoft.com/azure/storage/blobs/authorize-access-azure-active-directory).
A container or queue that no role assignment in the stack grants on (on the object, or on
its account) is a store the app, the jobs or the state backend cannot use on day one.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of

DATA_ROLES = (
    "Storage Blob Data Contributor",
    "Storage Blob Data Owner",
    "Storage Queue Data Contributor",
    "Storage Queue Data Message Processor",
    "Storage Queue Data Message Sender",
)


class StoresHaveUsers(GroundworkCheck):
    id = "CKV_GW_DEPLOY_80"
    name = "Every storage container and queue has a data-plane role assignment"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_storage_container", "azurerm_storage_queue")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        account = address_of(body.get("storage_account_id"))
        name = body.get("name")
        users = []
        for role_name, role in stack.resources("azurerm_role_assignment").items():
            scope = str(role.get("scope", ""))
            if role.get("role_definition_name") not in DATA_ROLES:
                continue
            on_object = address_of(scope) == self.address or (
                account is not None
                and scope.startswith(f"${{{account}.id}}/")
                and scope.endswith(f"/{name}")
            )
            if on_object or (account is not None and scope == f"${{{account}.id}}"):
                users.append(role_name)
        if not users:
            return Verdict.failed("no principal holds a data role on it")
        return Verdict.passed(f"used through {sorted(users)}")


check = StoresHaveUsers()
