"""Builds CKV_GW_OBS_72: the alert action group e-mails the environment's `alert_email`, and
every alert in the stack notifies an action group (OBS-3)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

ALERT_TYPES = ("azurerm_monitor_metric_alert", "azurerm_monitor_scheduled_query_rules_alert_v2")


class AzureAlertChannel(GroundworkCheck):
    id = "CKV_GW_OBS_72"
    name = "Action group e-mails the config's alert address and every alert uses one"
    requirement = "OBS-3"
    severity = "MEDIUM"
    resource_types = ("azurerm_monitor_action_group",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        emails = [r.get("email_address") for r in blocks(body, "email_receiver")]
        verdicts = []
        if stack.config.alert_email not in emails:
            verdicts.append(
                Verdict.failed(f"e-mails {emails}; alert_email is {stack.config.alert_email}")
            )
        for kind in ALERT_TYPES:
            for name, alert in stack.resources(kind).items():
                actions = blocks(alert, "action")
                if not any(a.get("action_group_id") or a.get("action_groups") for a in actions):
                    verdicts.append(Verdict.failed(f"{kind}.{name} notifies no action group"))
        return combine(verdicts or [Verdict.passed(f"e-mails {stack.config.alert_email}")])


check = AzureAlertChannel()
