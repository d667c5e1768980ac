"""Builds CKV_GW_DEPLOY_86: every resource that uses a role assignment of the same apply when it
is created waits for that assignment to propagate, and every assignment of a custom role
defined in the same apply waits for that definition to replicate (DEPLOY-2).

Azure honours a new role assignment only once its caches catch up: "it can take up to 10
minutes for changes to take effect"
(https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected).
Terraform starts a dependent as soon as the assignment exists, so a data-plane write (Key Vault
key, secret or certificate, blob), a resource encrypted with a key its identity was just granted,
or a service or scheduled job that reads a vault, queue or resource with a just-granted
identity when it is created or first runs gets 403 in a fresh subscription
(hashicorp/terraform-provider-azurerm #23927). Rule: for every role assignment such a resource
waits for, it also waits for a `time_sleep` that itself waits for that assignment.

A custom role definition is the same one step earlier: ARM replicates a new definition
asynchronously, and an assignment of it created right after it can fail with
`RoleDefinitionDoesNotExist`, "a transient error which may occur when the Resource Provider in
ARM is yet to complete replication of the newly created Role Definition"
(Azure/terraform-azurerm-caf-enterprise-scale wiki, "Errors creating Role Definitions and Role
Assignments"; hashicorp/terraform-provider-azurerm #10479, #10602). azurerm 4.55's definition
Create does not wait for replication (only Update does) and its assignment Create retries
network errors and `PrincipalNotFound` only (internal/services/authorization/
role_definition_resource.go, role_assignment_resource.go at v4.55.0). Rule: an
`azurerm_role_assignment` whose `role_definition_id` or `role_definition_name` refers to an
`azurerm_role_definition` of the stack waits for a `time_sleep` that itself waits for that
definition.

Each `time_sleep` of an Azure stack is judged too, by what it waits for: after a role
assignment, at least ten minutes; after role definitions only, at least
`DEFINITION_MINIMUM_SECONDS` (azurerm's maintainer: replication takes "around 5m",
hashicorp/terraform-provider-azurerm #5038); after neither, it fails.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, strings_in

MINIMUM_SECONDS = 600  # after an assignment: Microsoft's "up to 10 minutes" (docstring)
DEFINITION_MINIMUM_SECONDS = 300  # after definitions only: "around 5m" (azurerm #5038)
UNITS = {"h": 3600, "m": 60, "s": 1}
ASSIGNMENT = "azurerm_role_assignment."
DEFINITION = "azurerm_role_definition."
DEFINITION_REFERENCE = re.compile(r"azurerm_role_definition\.[A-Za-z0-9_-]+")
# What uses a role assignment as it is created: data-plane writes, resources encrypted with a
# customer key, and services that read a vault, queue or registry with their identity at once.
CONSUMERS = (
    "azurerm_key_vault_key",
    "azurerm_key_vault_secret",
    "azurerm_key_vault_certificate",
    "azurerm_storage_blob",
    "azurerm_storage_account",
    "azurerm_storage_account_customer_managed_key",
    "azurerm_postgresql_flexible_server",
    "azurerm_container_registry",
    "azurerm_container_app",
    "azurerm_container_app_job",
    "azurerm_application_gateway",
    "azurerm_eventgrid_system_topic_event_subscription",
)


def seconds(duration: Any) -> int | None:
    """Seconds of a Go duration such as `10m` or `1h30m`; None if it is not one."""
    parts = re.findall(r"(\d+)([hms])", str(duration))
    if not parts or "".join(n + u for n, u in parts) != str(duration):
        return None
    return sum(int(n) * UNITS[u] for n, u in parts)


def definitions_assigned(body: dict[str, Any], stack: Stack) -> list[str]:
    """The role definitions of the stack an assignment assigns (by ID or by name)."""
    texts = strings_in([body.get("role_definition_id"), body.get("role_definition_name")])
    found = {a for text in texts for a in DEFINITION_REFERENCE.findall(text)}
    return sorted(found & stack.graph.bodies.keys())


class RolePropagation(GroundworkCheck):
    id = "CKV_GW_DEPLOY_86"
    name = (
        "Whatever uses a new role assignment, or assigns a new custom role, at create time "
        "waits for it to propagate"
    )
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = (*CONSUMERS, "azurerm_role_assignment", "time_sleep")
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        kind = self._address[0]
        if kind == "azurerm_role_assignment":  # only assignments of a role this stack defines
            return bool(definitions_assigned(body, stack))
        # time_sleep is not Azure's: GCP stacks use it too (their key-grant waits).
        return kind != "time_sleep" or any(a.startswith("azurerm_") for a in stack.graph.bodies)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "time_sleep":
            return self._sleep(body, stack)
        if self._address[0] == "azurerm_role_assignment":
            used, problem = definitions_assigned(body, stack), "before ARM replicates it"
        else:
            used = sorted(
                a for a in stack.graph.prerequisites(self.address) if a.startswith(ASSIGNMENT)
            )
            problem = "before it propagates"
        verdicts = [self._waits_for(stack, u, problem) for u in used]
        return combine(verdicts or [Verdict.passed("uses no role assignment of this apply")])

    def _waits_for(self, stack: Stack, used: str, problem: str) -> Verdict:
        """Whether this resource waits for a `time_sleep` that itself waits for `used`."""
        graph, me = stack.graph, self.address
        sleeps = [a for a in graph.prerequisites(me) if a.startswith("time_sleep.")]
        if any(graph.needs(sleep, used) for sleep in sleeps):
            return Verdict.passed(f"waits for {used} to take effect")
        return Verdict.failed(
            f"{me} starts right after {used}, {problem} (no time_sleep after {used})"
        )

    def _sleep(self, body: dict[str, Any], stack: Stack) -> Verdict:
        before = stack.graph.prerequisites(self.address)
        roles = [a for a in before if a.startswith(ASSIGNMENT)]
        definitions = [a for a in before if a.startswith(DEFINITION)]
        if roles:  # an assignment's wait, even where it also follows a definition
            minimum, after = MINIMUM_SECONDS, f"role assignments ({len(roles)})"
        elif definitions:
            minimum, after = DEFINITION_MINIMUM_SECONDS, f"role definitions ({len(definitions)})"
        else:
            return Verdict.failed("waits for no role assignment or role definition")
        duration = seconds(body.get("create_duration"))
        if duration is None or duration < minimum:
            return Verdict.failed(
                f"create_duration {body.get('create_duration')!r} after {after} is under "
                f"{minimum // 60} minutes"
            )
        return Verdict.passed(f"{duration} s after {after}")


check = RolePropagation()
