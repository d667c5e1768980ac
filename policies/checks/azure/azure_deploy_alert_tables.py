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
- `AzureDiagnostics`: a diagnostic setting to the workspace in the AzureDiagnostics mode (no
  `log_analytics_destination_type`, or that value) that enables every `Category == "..."` the
  query filters on (Front Door's access log, for one: https://learn.microsoft.com/azure/
  azure-monitor/reference/supported-logs/microsoft-cdn-profiles-logs).
A query may start with `union isfuzzy=true (datatable(...)[]), <table>` (an empty leg keeps the
rule valid before the table's first row; constructs/azure/cdn.py): each named leg is judged.
A table this policy does not know is UNKNOWN.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

FIRST_TABLE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)")
UNION = re.compile(r"^\s*union\b((?:\s+\w+=\w+)*)\s+(.*)$", re.DOTALL)
CATEGORY = re.compile(r"\bCategory\s*==\s*\"([^\"]+)\"")


def tables_of(query: str) -> list[str]:
    """The tables a query reads first: its first word, or the named legs of a leading union
    (parenthesized legs, such as an empty datatable, read no table)."""
    union = UNION.match(query)
    if union is None:
        match = FIRST_TABLE.match(query)
        return [match.group(1)] if match else []
    legs, depth, text = [], 0, ""
    for char in union.group(2):
        if depth == 0 and char == "|":
            break
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and char not in "()":
            text += char
        elif depth == 0:
            text += " "
    for leg in text.split(","):
        if leg.strip():
            legs.append(leg.strip())
    return [leg for leg in legs if FIRST_TABLE.fullmatch(leg)]


def _diagnostics_to(stack: Stack, workspace: str, target_type: str) -> list[dict[str, Any]]:
    return [
        body
        for body in stack.resources("azurerm_monitor_diagnostic_setting").values()
        if address_of(body.get("log_analytics_workspace_id")) == workspace
        and str(address_of(body.get("target_resource_id"))).startswith(f"{target_type}.")
    ]


def filled(stack: Stack, table: str, workspace: str, query: str = "") -> Verdict:
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
    if table == "AzureDiagnostics":
        wanted = set(CATEGORY.findall(query))
        for setting in stack.resources("azurerm_monitor_diagnostic_setting").values():
            if address_of(setting.get("log_analytics_workspace_id")) != workspace:
                continue
            if setting.get("log_analytics_destination_type", "AzureDiagnostics") != (
                "AzureDiagnostics"
            ):
                continue
            categories = {log.get("category") for log in blocks(setting, "enabled_log")}
            if wanted <= categories:
                return Verdict.passed(f"{table}: a diagnostic setting writes {sorted(wanted)}")
        return Verdict.failed(f"{table}: no diagnostic setting writes {sorted(wanted)} there")
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
            query = str(criteria.get("query", ""))
            tables = tables_of(query)
            if not tables:
                verdicts.append(Verdict.unknown("the query does not start with a table"))
            verdicts += [filled(stack, table, workspace, query) for table in tables]
        return combine(verdicts or [Verdict.failed("no criteria")])


check = AlertTablesFilled()
