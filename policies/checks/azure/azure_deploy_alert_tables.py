"""Builds CKV_GW_DEPLOY_76: every log alert reads a table that the stack's log path fills
(DEPLOY-6).

A scheduled query alert on a table nothing writes never fires. The tables this checks and
what fills them:
- `ContainerAppConsoleLogs` / `ContainerAppSystemLogs`: a Container Apps environment with
  `logs_destination = "azure-monitor"` and a diagnostic setting to the alert's workspace
  (https://learn.microsoft.com/azure/container-apps/log-options).
- `ContainerAppConsoleLogs_CL` / `ContainerAppSystemLogs_CL`: an environment with
  `logs_destination = "log-analytics"` into the workspace, which ships with the workspace's
  shared key, so only while the workspace keeps local authentication on
  (MicrosoftDocs/azure-docs #100353).
- `AGWAccessLogs` (and the other `AGW*` tables): an Application Gateway diagnostic setting
  to the workspace with `log_analytics_destination_type = "Dedicated"`.
A table this policy does not know is UNKNOWN.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

FIRST_TABLE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)")


def _diagnostics_to(stack: Stack, workspace: str, target_type: str) -> list[dict[str, Any]]:
    return [
        body
        for body in stack.resources("azurerm_monitor_diagnostic_setting").values()
        if address_of(body.get("log_analytics_workspace_id")) == workspace
        and str(address_of(body.get("target_resource_id"))).startswith(f"{target_type}.")
    ]


def filled(stack: Stack, table: str, workspace: str) -> Verdict:
    """Whether something in the stack writes `table` into `workspace`."""
    workspaces = stack.resources("azurerm_log_analytics_workspace")
    local_auth = workspaces.get(workspace.split(".", 1)[1], {}).get(
        "local_authentication_enabled", True
    )
    environments = stack.resources("azurerm_container_app_environment").values()
    if table in ("ContainerAppConsoleLogs", "ContainerAppSystemLogs"):
        monitor = [e for e in environments if e.get("logs_destination") == "azure-monitor"]
        if monitor and _diagnostics_to(stack, workspace, "azurerm_container_app_environment"):
            return Verdict.passed(f"{table}: Azure Monitor destination and diagnostic setting")
        return Verdict.failed(f"{table}: no environment sends logs there through Azure Monitor")
    if table in ("ContainerAppConsoleLogs_CL", "ContainerAppSystemLogs_CL"):
        shipped = [
            e
            for e in environments
            if e.get("logs_destination") == "log-analytics"
            and address_of(e.get("log_analytics_workspace_id")) == workspace
        ]
        if not shipped:
            return Verdict.failed(f"{table}: no environment ships logs to {workspace}")
        if local_auth is False:
            return Verdict.failed(
                f"{table}: shipped with the shared key, but {workspace} has local auth off"
            )
        return Verdict.passed(f"{table}: shipped by the environment")
    if table.startswith("AGW"):
        settings = _diagnostics_to(stack, workspace, "azurerm_application_gateway")
        if any(s.get("log_analytics_destination_type") == "Dedicated" for s in settings):
            return Verdict.passed(f"{table}: gateway diagnostic setting (resource-specific)")
        return Verdict.failed(f"{table}: no gateway writes resource-specific logs there")
    return Verdict.unknown(f"{table}: not a table this policy knows how to trace")


class AlertTablesFilled(GroundworkCheck):
    id = "CKV_GW_DEPLOY_76"
    name = "Every log alert reads a table the stack's log path fills"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_monitor_scheduled_query_rules_alert_v2",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        scopes = body.get("scopes") or []
        workspace = address_of(scopes[0]) if scopes else None
        if workspace is None or not workspace.startswith("azurerm_log_analytics_workspace."):
            return Verdict.unknown(f"scopes {scopes} are not this stack's workspace")
        verdicts = []
        for criteria in body.get("criteria") or []:
            match = FIRST_TABLE.match(str(criteria.get("query", "")))
            if match is None:
                verdicts.append(Verdict.unknown("the query does not start with a table"))
            else:
                verdicts.append(filled(stack, match.group(1), workspace))
        return combine(verdicts or [Verdict.failed("no criteria")])


check = AlertTablesFilled()
