"""Builds CKV_GW_DEPLOY_86: every resource that uses a role assignment of the same apply when it
is created waits for that assignment to propagate (DEPLOY-2).

Azure honours a new role assignment only once its caches catch up: "it can take up to 10
minutes for changes to take effect"
(https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected).
Terraform starts a dependent as soon as the assignment exists, so a data-plane write (Key Vault
key, secret or certificate, blob), a resource encrypted with a key its identity was just granted,
or a service or scheduled job that reads a vault, queue or resource with a just-granted
identity when it is created or first runs gets 403 in a fresh subscription
(hashicorp/terraform-provider-azurerm #23927). Rule: for every role assignment such a resource
waits for, it also waits for a `time_sleep` of at least ten minutes that itself waits for that
assignment. Each `time_sleep` is judged too: at least ten minutes,
after at least one role assignment.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine

MINIMUM_SECONDS = 600
UNITS = {"h": 3600, "m": 60, "s": 1}
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


class RolePropagation(GroundworkCheck):
    id = "CKV_GW_DEPLOY_86"
    name = "Whatever uses a new role assignment at create time waits for it to propagate"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = (*CONSUMERS, "time_sleep")
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        # time_sleep is not Azure's: GCP stacks use it too (their key-grant waits).
        return self._address[0] != "time_sleep" or any(
            a.startswith("azurerm_") for a in stack.graph.bodies
        )

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph, me = stack.graph, self.address
        before = graph.prerequisites(me)
        roles = sorted(a for a in before if a.startswith("azurerm_role_assignment."))
        if self._address[0] == "time_sleep":
            duration = seconds(body.get("create_duration"))
            if duration is None or duration < MINIMUM_SECONDS:
                return Verdict.failed(
                    f"create_duration {body.get('create_duration')!r} is under ten minutes"
                )
            if not roles:
                return Verdict.failed("waits for no role assignment")
            return Verdict.passed(f"{duration} s after {len(roles)} role assignments")
        sleeps = [a for a in before if a.startswith("time_sleep.")]
        verdicts = [
            Verdict.passed(f"waits for {role} to propagate")
            if any(graph.needs(sleep, role) for sleep in sleeps)
            else Verdict.failed(f"starts right after {role}, before it propagates")
            for role in roles
        ]
        return combine(verdicts or [Verdict.passed("uses no role assignment of this apply")])


check = RolePropagation()
