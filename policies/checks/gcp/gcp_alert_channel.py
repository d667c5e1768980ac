"""Builds CKV_GW_OBS_42: every alert policy notifies a channel of the stack, and the e-mail
channels send to the environment's `alert_email` (OBS-3)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of


class AlertChannel(GroundworkCheck):
    id = "CKV_GW_OBS_42"
    name = "Alerts notify the stack's channel, which mails the environment's alert_email"
    requirement = "OBS-3"
    severity = "MEDIUM"
    resource_types = ("google_monitoring_alert_policy", "google_monitoring_notification_channel")

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        if self._address[0] == "google_monitoring_notification_channel":
            address = (body.get("labels") or {}).get("email_address")
            if body.get("type") != "email" or address != stack.config.alert_email:
                return Verdict.failed(
                    f"{body.get('type')} channel to {address!r}; want alert_email"
                )
            return Verdict.passed(f"mails {address}")
        channels = [address_of(c) for c in body.get("notification_channels") or []]
        known = stack.resources("google_monitoring_notification_channel")
        if not any(c and c.split(".", 1)[1] in known for c in channels if "." in (c or "")):
            return Verdict.failed("the alert notifies no channel of this stack")
        return Verdict.passed("notifies the stack's channel")


check = AlertChannel()
