"""Builds CKV_GW_OBS_2: the stack has every alert row of REQUIREMENTS.md OBS-2, each with its
threshold and severity (the alarm's `severity` tag).

The thresholds are constants of REQUIREMENTS.md, not environment settings, so they are
constants here too (ALERTS). A missing alarm has no resource to fail on, so the check runs
on the workload the alerts watch, the ECS service, and judges the stack's alarms; a stack
without an app (the state bootstrap) has nothing to alert on.

"Any database connection error" is counted by log metric filters on the PostgreSQL log of
EVERY instance that exports it, the primary and each read replica: the app reaches the
replicas directly (READER_URL), so their refusals never reach the primary's log.

With CloudFront in front of the ALB (CDN-1), "5xx rate > 1 %" also needs the distribution's
own rate: the errors CloudFront returns itself (a 502 when it cannot reach or negotiate TLS
with the ALB, a 504 when the origin times out) never reach the ALB's metrics. Each
distribution needs a critical alarm on AWS/CloudFront `5xxErrorRate` (a percentage of all
viewer requests) > 1, with dimensions DistributionId (this distribution) and Region
`Global`, in us-east-1 where CloudFront publishes its metrics, notifying a topic in that
region ("CloudFront publishes metrics ... to the US East (N. Virginia) Region", "Monitor
CloudFront metrics with Amazon CloudWatch",
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html;
an alarm's SNS action must be in the alarm's region).
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    aws_provider_region,
    combine,
    ecs_memory_share,
    is_reference,
)

FIVE_MINUTES = 300
INSIGHT_RULE = re.compile(r'INSIGHT_RULE_METRIC\(\s*"([^"]+)"')
FILTER_TERM = re.compile(r'"([^"]+)"')
# What "any database connection error" must count, as PostgreSQL logs it: a wrong password,
# a failed IAM token (RDS authenticates IAM tokens through PAM, and logs
# "PAM authentication failed for user ...",
# https://repost.aws/knowledge-center/aurora-postgresql-connect-iam), no pg_hba.conf entry
# (e.g. a connection without TLS under rds.force_ssl), and no free connection slot.
DATABASE_CONNECTION_ERRORS = (
    "password authentication failed",
    "PAM authentication failed",
    "no pg_hba.conf entry",
    "too many clients",
    "remaining connection slots are reserved",
)


def _metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The alarm's metric (as one dict) or the metrics of its metric queries."""
    if alarm.get("metric_name"):
        return [alarm]
    found = []
    for query in alarm.get("metric_query") or []:
        metric = query.get("metric")
        metric = metric[0] if isinstance(metric, list) and metric else metric
        if isinstance(metric, dict):
            found.append(metric)
    return found


def _expressions(alarm: dict[str, Any]) -> list[str]:
    return [str(q["expression"]) for q in alarm.get("metric_query") or [] if q.get("expression")]


def _duration(alarm: dict[str, Any]) -> int | None:
    """Seconds the condition must hold: period x datapoints to alarm."""
    periods = [alarm.get("period")] + [m.get("period") for m in _metrics(alarm)]
    periods += [q.get("period") for q in alarm.get("metric_query") or []]
    period = next((p for p in periods if p is not None), None)
    points = alarm.get("datapoints_to_alarm", alarm.get("evaluation_periods"))
    if period is None or points is None or is_reference(period) or is_reference(points):
        return None
    return int(period) * int(points)


def _is_5xx_ratio(alarm: dict[str, Any], stack: Stack) -> bool:
    names = {str(m.get("metric_name")) for m in _metrics(alarm)}
    return (
        any("5XX" in name for name in names)
        and "RequestCount" in names
        and any("/" in e for e in _expressions(alarm))
    )


def _is_p95_latency(alarm: dict[str, Any], stack: Stack) -> bool:
    return any(
        m.get("metric_name") == "TargetResponseTime"
        and "p95" in (m.get("extended_statistic"), m.get("stat"))
        for m in _metrics(alarm)
    )


def _is_ecs(metric: str) -> Callable[[dict[str, Any], Stack], bool]:
    def match(alarm: dict[str, Any], stack: Stack) -> bool:
        return any(
            m.get("namespace") == "AWS/ECS" and m.get("metric_name") == metric
            for m in _metrics(alarm)
        )

    return match


def _is_database_connection_errors(alarm: dict[str, Any], stack: Stack) -> bool:
    """A metric that a log metric filter of this stack counts from a database log group."""
    filters = stack.resources("aws_cloudwatch_log_metric_filter").values()
    for metric in _metrics(alarm):
        for body in filters:
            transformation = body.get("metric_transformation")
            if isinstance(transformation, list):
                transformation = transformation[0] if transformation else {}
            if not isinstance(transformation, dict):
                continue
            if (transformation.get("name"), transformation.get("namespace")) == (
                metric.get("metric_name"),
                metric.get("namespace"),
            ) and "database" in str(body.get("log_group_name", "")):
                return True
    return False


def _filters_of(stack: Stack, metrics: set[tuple[Any, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The log metric filters of the stack (address, body) that publish one of `metrics`
    ((metric name, namespace) pairs)."""
    found = []
    for address, body in stack.resources("aws_cloudwatch_log_metric_filter").items():
        transformation = body.get("metric_transformation")
        if isinstance(transformation, list):
            transformation = transformation[0] if transformation else {}
        if not isinstance(transformation, dict):
            continue
        if (transformation.get("name"), transformation.get("namespace")) in metrics:
            found.append((address, body))
    return found


def _database_filter_misses(alarm: dict[str, Any], stack: Stack) -> Verdict:
    """Each log metric filter behind the alarm counts every DATABASE_CONNECTION_ERRORS
    message, and together they read every instance's PostgreSQL log (module docstring)."""
    name = alarm.get("alarm_name", "?")
    metrics = {(m.get("metric_name"), m.get("namespace")) for m in _metrics(alarm)}
    for address, body in _filters_of(stack, metrics):
        terms = set(FILTER_TERM.findall(str(body.get("pattern", ""))))
        missing = [m for m in DATABASE_CONNECTION_ERRORS if m not in terms]
        if missing:
            return Verdict.failed(f"{name}: its log filter {address} does not count {missing}")
    unwatched = _unwatched_instance_logs(stack, metrics)
    if isinstance(unwatched, Verdict):
        return unwatched
    if unwatched:
        return Verdict.failed(
            f"{name}: no log filter of its metric reads {', '.join(unwatched)}: connections "
            "there (a replica's, through READER_URL) fail unseen"
        )
    return Verdict.passed("")


def _log_group_name(value: Any, stack: Stack) -> str | None:
    """A log group name, literal or `${aws_cloudwatch_log_group.<x>.name}` of this stack."""
    address = address_of(value)
    if address is None:
        return None if is_reference(value) else str(value)
    kind, _, name = address.partition(".")
    if kind != "aws_cloudwatch_log_group":
        return None
    literal = stack.resources(kind).get(name, {}).get("name")
    return str(literal) if isinstance(literal, str) and not is_reference(literal) else None


def _unwatched_instance_logs(stack: Stack, metrics: set[tuple[Any, Any]]) -> list[str] | Verdict:
    """The PostgreSQL log groups (`/aws/rds/instance/<identifier>/postgresql`, "Publishing
    PostgreSQL logs to Amazon CloudWatch Logs",
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Concepts.PostgreSQL.html)
    of every RDS instance of the stack exporting them, primary and read replicas, that no log
    metric filter of the alarm's metric reads; unknown where an identifier is an expression."""
    read: set[str] = set()
    for _, body in _filters_of(stack, metrics):
        group = _log_group_name(body.get("log_group_name"), stack)
        if group is not None:
            read.add(group)
    unwatched = []
    for address, instance in stack.resources("aws_db_instance").items():
        if "postgresql" not in (instance.get("enabled_cloudwatch_logs_exports") or []):
            continue
        identifier = instance.get("identifier")
        if not isinstance(identifier, str) or is_reference(identifier):
            return Verdict.unknown(f"aws_db_instance.{address}: its identifier is an expression")
        group = f"/aws/rds/instance/{identifier}/postgresql"
        if group not in read:
            unwatched.append(group)
    return unwatched


def _is_failed_logins_per_ip(alarm: dict[str, Any], stack: Stack) -> bool:
    """INSIGHT_RULE_METRIC over a contributor rule of this stack keyed on the client IP."""
    for expression in _expressions(alarm):
        match = INSIGHT_RULE.search(expression)
        if not match:
            continue
        for rule in stack.resources("aws_cloudwatch_contributor_insight_rule").values():
            if rule.get("rule_name") != match.group(1):
                continue
            definition = json.loads(str(rule.get("rule_definition")))
            keys = definition.get("Contribution", {}).get("Keys", [])
            if any("ip" in str(key).lower() for key in keys):
                return True
    return False


@dataclass(frozen=True)
class Alert:
    what: str
    matches: Callable[[dict[str, Any], Stack], bool]
    threshold: float  # REQUIREMENTS.md OBS-2, not configurable
    severity: str
    duration: int | None = None  # seconds the condition must hold, where the row says
    # Of the container's memory limit: ECS reports MemoryUtilization against the task's memory
    # (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html),
    # so the alarm's threshold must be the row's percentage x limit / task memory.
    of_container_limit: bool = False
    # Anything else the matching alarm must meet (the database filter's messages).
    also: Callable[[dict[str, Any], Stack], Verdict] | None = None


ALERTS = (
    Alert("failed logins > 10/min per IP", _is_failed_logins_per_ip, 10, "warning", 60),
    Alert("5xx rate > 1 % of requests", _is_5xx_ratio, 1, "critical"),
    Alert(
        "any database connection error",
        _is_database_connection_errors,
        0,
        "critical",
        also=_database_filter_misses,
    ),
    Alert("API latency p95 > 2 s", _is_p95_latency, 2, "warning"),
    Alert("CPU > 80 % for 5 min", _is_ecs("CPUUtilization"), 80, "warning", FIVE_MINUTES),
    Alert(
        "memory > 85 % for 5 min",
        _is_ecs("MemoryUtilization"),
        85,
        "warning",
        FIVE_MINUTES,
        of_container_limit=True,
    ),
)


CLOUDFRONT_REGION = "us-east-1"


def _cdn_5xx_verdicts(stack: Stack, alarms: list[dict[str, Any]]) -> list[Verdict]:
    """Each distribution's 5xxErrorRate alarm (module docstring)."""
    verdicts = []
    topics = stack.resources("aws_sns_topic")
    for name in stack.resources("aws_cloudfront_distribution"):
        found = []
        for alarm in alarms:
            if not any(
                m.get("namespace") == "AWS/CloudFront"
                and m.get("metric_name") == "5xxErrorRate"
                and address_of((m.get("dimensions") or {}).get("DistributionId"))
                == f"aws_cloudfront_distribution.{name}"
                for m in _metrics(alarm)
            ):
                continue
            label = alarm.get("alarm_name", "?")
            problems = []
            dimensions = next(
                m.get("dimensions") or {}
                for m in _metrics(alarm)
                if m.get("metric_name") == "5xxErrorRate"
            )
            if dimensions.get("Region") != "Global":
                problems.append("dimension Region is not Global (no such metric)")
            region = aws_provider_region(stack, alarm)
            if region != CLOUDFRONT_REGION:
                problems.append(f"in {region}, CloudFront's metrics are in {CLOUDFRONT_REGION}")
            actions = [address_of(a) or "" for a in alarm.get("alarm_actions") or []]
            in_region = [
                a
                for a in actions
                if a.startswith("aws_sns_topic.")
                and aws_provider_region(stack, topics.get(a.removeprefix("aws_sns_topic."), {}))
                == region
            ]
            if not in_region:
                problems.append("notifies no topic of this stack in its region")
            judged = _judge(
                Alert("CloudFront 5xx rate > 1 %", lambda *_: True, 1, "critical"), alarm
            )
            found.append(combine([judged, *(Verdict.failed(f"{label}: {p}") for p in problems)]))
        passing = [v for v in found if v.outcome.value == "pass"]
        if passing:
            verdicts.append(passing[0])
        elif found:
            verdicts.append(combine(found))
        else:
            verdicts.append(
                Verdict.failed(f"no alarm on {name}'s 5xxErrorRate (errors CloudFront returns)")
            )
    return verdicts


TOLERANCE = 0.05  # percentage points: the construct rounds the task-relative threshold


def _judge(alert: Alert, alarm: dict[str, Any], share: float | None = 1.0) -> Verdict:
    name = alarm.get("alarm_name", "?")
    threshold = alarm.get("threshold")
    if is_reference(threshold) or is_reference(alarm.get("comparison_operator")):
        return Verdict.unknown(f"{name}: threshold is an expression")
    if alarm.get("comparison_operator") != "GreaterThanThreshold" or threshold is None:
        return Verdict.failed(f"{name}: must alarm when greater than {alert.threshold}")
    if alert.of_container_limit:
        if share is None:
            return Verdict.unknown(f"{name}: the service's task definition is not in this stack")
        effective = float(threshold) / share
        if abs(effective - alert.threshold) > TOLERANCE:
            return Verdict.failed(
                f"{name}: threshold {threshold} % of task memory is {effective:.1f} % of the"
                f" container's limit, OBS-2 says {alert.threshold}"
                f" (threshold {round(alert.threshold * share, 2)})"
            )
    elif float(threshold) != alert.threshold:
        return Verdict.failed(f"{name}: threshold {threshold}, OBS-2 says {alert.threshold}")
    severity = (alarm.get("tags") or {}).get("severity")
    if severity != alert.severity:
        return Verdict.failed(f"{name}: severity {severity!r}, OBS-2 says {alert.severity!r}")
    if alert.duration is not None:
        duration = _duration(alarm)
        if duration is None:
            return Verdict.unknown(f"{name}: its duration cannot be resolved")
        if duration != alert.duration:
            return Verdict.failed(f"{name}: holds {duration} s, OBS-2 says {alert.duration} s")
    return Verdict.passed(f"{alert.what}: {name}")


class Alerts(GroundworkCheck):
    id = "CKV_GW_OBS_2"
    name = "CloudWatch alarms cover every OBS-2 alert with its threshold and severity"
    requirement = "OBS-2"
    severity = "HIGH"
    resource_types = ("aws_ecs_service",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        alarms = list(stack.resources("aws_cloudwatch_metric_alarm").values())
        share = ecs_memory_share(stack, self.address)
        verdicts = []
        for alert in ALERTS:
            candidates = [
                combine([_judge(alert, a, share), *([alert.also(a, stack)] if alert.also else [])])
                for a in alarms
                if alert.matches(a, stack)
            ]
            passing = [v for v in candidates if v.outcome.value == "pass"]
            if passing:
                verdicts.append(passing[0])
            elif candidates:
                verdicts.append(combine(candidates))
            else:
                verdicts.append(Verdict.failed(f"no alarm for {alert.what}"))
        verdicts += _cdn_5xx_verdicts(stack, alarms)
        return combine(verdicts)


check = Alerts()
