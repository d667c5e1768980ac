"""Builds CKV_GW_EDGE_72: the Application Gateway sends its access log to Log Analytics through a
diagnostic setting (EDGE-3). Application Gateway v2 rejects malformed headers itself; the
platform offers no switch for it."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

ACCESS_LOG = {"ApplicationGatewayAccessLog"}
ALL_LOGS = {"allLogs"}


class AzureGatewayAccessLogs(GroundworkCheck):
    id = "CKV_GW_EDGE_72"
    name = "Application Gateway access logs go to a diagnostic setting"
    requirement = "EDGE-3"
    severity = "MEDIUM"
    resource_types = ("azurerm_application_gateway",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        for name, setting in stack.resources("azurerm_monitor_diagnostic_setting").items():
            if address_of(setting.get("target_resource_id")) != self.address:
                continue
            logs = blocks(setting, "enabled_log")
            if any(log.get("category") in ACCESS_LOG or log.get("category_group") in ALL_LOGS
                   for log in logs):  # fmt: skip
                return Verdict.passed(f"access log in diagnostic setting {name}")
        return Verdict.failed("no diagnostic setting sends ApplicationGatewayAccessLog")


check = AzureGatewayAccessLogs()
