"""Builds CKV_GW_OBS_3: every alarm notifies an encrypted SNS topic of this stack that has an
e-mail subscription to the environment's `alert_email` (OBS-3)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine, references_to


def _topic_verdict(stack: Stack, action: Any, email: str) -> Verdict:
    topic = address_of(action)
    if topic is None:
        return Verdict.unknown(f"action {action} is not a topic of this stack")
    if not topic.startswith("aws_sns_topic."):
        return Verdict.failed(f"action {topic} is not an SNS topic")
    body = stack.resources("aws_sns_topic").get(topic.split(".", 1)[1])
    if body is None:
        return Verdict.unknown(f"{topic} is not in this stack")
    if not body.get("kms_master_key_id"):
        return Verdict.failed(f"{topic} is not encrypted")
    subscriptions = stack.resources("aws_sns_topic_subscription")
    endpoints = [
        subscriptions[name].get("endpoint")
        for name in references_to(stack, "aws_sns_topic_subscription", "topic_arn", topic)
        if subscriptions[name].get("protocol") == "email"
    ]
    if email in endpoints:
        return Verdict.passed(f"{topic} mails {email}")
    return Verdict.failed(f"{topic} has no e-mail subscription to alert_email ({email})")


class AlertChannel(GroundworkCheck):
    id = "CKV_GW_OBS_3"
    name = "Alarms notify an encrypted SNS topic subscribed by the environment's alert_email"
    requirement = "OBS-3"
    severity = "HIGH"
    resource_types = ("aws_cloudwatch_metric_alarm",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        # The provider's default for actions_enabled is true; only an explicit false disables.
        if body.get("actions_enabled") in (False, "false"):
            return Verdict.failed("actions_enabled is false: the alarm notifies nobody")
        actions = body.get("alarm_actions") or []
        if not actions:
            return Verdict.failed("no alarm_actions: the alarm notifies nobody")
        return combine([_topic_verdict(stack, a, stack.config.alert_email) for a in actions])


check = AlertChannel()
