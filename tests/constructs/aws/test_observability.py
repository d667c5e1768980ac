"""Observability: OBS-2 alarms with severities, encrypted topic, uptime check, dashboard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from constructs.aws.edge import Edge
from constructs.aws.network import Network
from constructs.aws.observability import Observability
from constructs.aws.registry import Registry
from constructs.aws.service import Service, container_insights_cluster
from matrix import resources_of

from synth.config import load_environment

ROOT = Path(__file__).resolve().parents[3]
DATA_KEY = "arn:aws:kms:eu-west-1:111122223333:key/data"
LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/logs"
POSTGRES_LOG = "/aws/rds/instance/groundwork-dev-postgres/postgresql"
REPLICA_LOG = "/aws/rds/instance/groundwork-dev-postgres-replica-1/postgresql"


@pytest.fixture(scope="module")
def synthesized() -> str:
    config = load_environment(ROOT / "environments" / "dev.yaml")
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    uptime = AwsProvider(stack, "aws-uptime", alias="uptime", region="us-east-1")
    network = Network(stack, "network", config=config, log_kms_key_arn=LOG_KEY)
    edge = Edge(stack, "edge", config=config, network=network, log_kms_key_arn=LOG_KEY)
    registry = Registry(stack, "registry", config=config, kms_key_arn=DATA_KEY)
    service = Service(
        stack,
        "service",
        config=config,
        service=config.services[0],
        network=network,
        edge=edge,
        repository_url=registry.repository_url,
        repository_arn=registry.repository_arn,
        repository_name=registry.repository_name,
        kms_key_arn=DATA_KEY,
        log_kms_key_arn=LOG_KEY,
        cluster=container_insights_cluster(stack, "cluster", config.prefix, config, LOG_KEY),
    )
    Observability(
        stack,
        "observability",
        config=config,
        kms_key_arn=DATA_KEY,
        edge=edge,
        services=[service],
        uptime_provider=uptime,
        database_log_group_names={"primary": POSTGRES_LOG, "replica-1": REPLICA_LOG},
        database_proxy_name="groundwork-dev-postgres",
    )
    return CdktfTesting.synth(stack)


@pytest.fixture(scope="module")
def stack(synthesized: str) -> dict[str, Any]:
    return json.loads(synthesized)


@pytest.fixture(scope="module")
def alarms(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        alarm["alarm_name"].removeprefix("groundwork-dev-"): alarm
        for alarm in resources_of(stack, "aws_cloudwatch_metric_alarm")
    }


def topic_ref(stack: dict[str, Any], name: str) -> str:
    [key] = [k for k, t in stack["resource"]["aws_sns_topic"].items() if t["name"] == name]
    return f"${{aws_sns_topic.{key}.arn}}"


def test_every_obs_2_alert_exists_with_threshold_and_severity_obs_2(
    alarms: dict[str, dict[str, Any]],
) -> None:
    expected = {
        "critical-5xx-rate": 1,
        "warning-latency-p95": 2,
        "warning-cpu": 80,
        # 85 % of the container's 512 MiB limit; ECS reports memory of the 1024 MiB dev task.
        "warning-memory": 85 * 512 / 1024,
        "critical-database-connection-errors": 0,
        "critical-database-proxy-connection-errors": 0,
        "warning-failed-logins": 10,
        "critical-uptime": 1,
    }
    assert {name: alarm["threshold"] for name, alarm in alarms.items()} == expected
    for name, alarm in alarms.items():
        assert alarm["tags"] == {"severity": name.split("-")[0]}
        assert alarm["alarm_description"].startswith(f"[{name.split('-')[0]}]")


def test_5xx_rate_is_metric_math_over_requests_obs_2(alarms: dict[str, dict[str, Any]]) -> None:
    queries = {q["id"]: q for q in alarms["critical-5xx-rate"]["metric_query"]}
    assert (
        queries["rate"]["expression"] == "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests"
    )
    assert queries["rate"]["return_data"] is True
    names = {q["metric"]["metric_name"] for q in queries.values() if "metric" in q}
    assert names == {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}


def test_latency_is_p95_and_load_alarms_last_5_minutes_obs_2(
    alarms: dict[str, dict[str, Any]],
) -> None:
    latency = alarms["warning-latency-p95"]
    assert (latency["metric_name"], latency["extended_statistic"]) == ("TargetResponseTime", "p95")
    for name, metric in (
        ("warning-cpu", "CPUUtilization"),
        ("warning-memory", "MemoryUtilization"),
    ):
        alarm = alarms[name]
        assert alarm["namespace"] == "AWS/ECS" and alarm["metric_name"] == metric
        assert alarm["period"] * alarm["evaluation_periods"] == 300
        assert alarm["datapoints_to_alarm"] == alarm["evaluation_periods"]


def test_failed_logins_per_ip_come_from_contributor_insights_obs_2(
    stack: dict[str, Any], alarms: dict[str, dict[str, Any]]
) -> None:
    [rule] = resources_of(stack, "aws_cloudwatch_contributor_insight_rule")
    definition = json.loads(rule["rule_definition"])
    assert definition["Contribution"] == {
        "Keys": ["$.ip"],
        "Filters": [{"Match": "$.event", "In": ["login_failed"]}],
    }
    assert definition["LogFormat"] == "JSON"
    [query] = alarms["warning-failed-logins"]["metric_query"]
    assert query["expression"] == (
        f'INSIGHT_RULE_METRIC("{rule["rule_name"]}", "MaxContributorValue")'
    )
    assert query["period"] == 60


def test_database_connection_errors_come_from_the_postgres_log_obs_2(
    stack: dict[str, Any], alarms: dict[str, dict[str, Any]]
) -> None:
    filters = stack["resource"]["aws_cloudwatch_log_metric_filter"]
    # One filter per instance's log, the replica's too (READER_URL connects to it directly);
    # the primary's keeps its address.
    by_group = {f["log_group_name"]: (address, f) for address, f in filters.items()}
    assert sorted(by_group) == sorted([POSTGRES_LOG, REPLICA_LOG])
    assert by_group[POSTGRES_LOG][0].startswith("observability_database-connection-errors_")
    alarm = alarms["critical-database-connection-errors"]
    for _, metric_filter in by_group.values():
        assert '?"password authentication failed"' in metric_filter["pattern"]
        # The app signs in with IAM tokens: RDS logs their failures as PAM failures
        # (https://repost.aws/knowledge-center/aurora-postgresql-connect-iam).
        assert '?"PAM authentication failed"' in metric_filter["pattern"]
        transformation = metric_filter["metric_transformation"]
        assert (alarm["metric_name"], alarm["namespace"]) == (
            transformation["name"],
            transformation["namespace"],
        )
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)


def test_alerts_go_to_an_encrypted_topic_mailing_the_configured_address_obs_3(
    stack: dict[str, Any], alarms: dict[str, dict[str, Any]]
) -> None:
    topics = resources_of(stack, "aws_sns_topic")
    assert all(topic["kms_master_key_id"] for topic in topics)
    subscriptions = resources_of(stack, "aws_sns_topic_subscription")
    assert {(s["protocol"], s["endpoint"]) for s in subscriptions} == {
        ("email", "alerts-dev@example.com")
    }
    alerts = topic_ref(stack, "groundwork-dev-alerts")
    for name, alarm in alarms.items():
        if name != "critical-uptime":
            assert alarm["alarm_actions"] == alarm["ok_actions"] == [alerts]


def test_uptime_check_probes_health_and_alarms_in_us_east_1_obs_4(
    synthesized: str, stack: dict[str, Any], alarms: dict[str, dict[str, Any]]
) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized,
        Route53HealthCheck.TF_RESOURCE_TYPE,
        {"type": "HTTPS", "fqdn": "dev.groundwork.example.com", "resource_path": "/health"},
    )
    uptime = alarms["critical-uptime"]
    assert (uptime["namespace"], uptime["metric_name"]) == ("AWS/Route53", "HealthCheckStatus")
    assert uptime["provider"] == "aws.uptime"
    assert uptime["alarm_actions"] == [topic_ref(stack, "groundwork-dev-uptime")]
    [uptime_topic] = [
        t for t in resources_of(stack, "aws_sns_topic") if t["name"].endswith("-uptime")
    ]
    assert uptime_topic["provider"] == "aws.uptime"
    [key] = resources_of(stack, "aws_kms_key")
    assert key["provider"] == "aws.uptime" and key["enable_key_rotation"] is True


def test_dashboard_shows_latency_errors_and_throughput_obs_5(stack: dict[str, Any]) -> None:
    [dashboard] = resources_of(stack, "aws_cloudwatch_dashboard")
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    shown = {
        (metric[1], metric[-1].get("stat"))
        for widget in widgets
        for metric in widget["properties"]["metrics"]
        if isinstance(metric[-1], dict)
    }
    assert {("TargetResponseTime", "p50"), ("TargetResponseTime", "p95")} <= shown
    assert {("HTTPCode_Target_4XX_Count", "Sum"), ("HTTPCode_Target_5XX_Count", "Sum")} <= shown
    assert ("RequestCount", "Sum") in shown


def test_deploy_6_failed_connections_at_rds_proxy_raise_the_critical_alarm_obs_2(
    alarms: dict[str, dict[str, Any]],
) -> None:
    """The app connects through the proxy; its failures never reach the postgres log."""
    alarm = alarms["critical-database-proxy-connection-errors"]
    metrics = {q["id"]: q.get("metric") for q in alarm["metric_query"]}
    for query, name in (
        ("clientauth", "ClientConnectionsSetupFailedAuth"),
        ("database", "DatabaseConnectionsSetupFailed"),
    ):
        assert metrics[query]["namespace"] == "AWS/RDS"
        assert metrics[query]["metric_name"] == name
        assert metrics[query]["dimensions"] == {"ProxyName": "groundwork-dev-postgres"}
    [total] = [q for q in alarm["metric_query"] if q.get("return_data")]
    assert total["expression"] == "FILL(clientauth, 0) + FILL(database, 0)"
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)


def test_deploy_2_the_failed_logins_alarm_waits_for_the_rule_it_names(
    stack: dict[str, Any], alarms: dict[str, dict[str, Any]]
) -> None:
    [(rule_key, rule)] = list(stack["resource"]["aws_cloudwatch_contributor_insight_rule"].items())
    alarm = alarms["warning-failed-logins"]
    assert f'"{rule["rule_name"]}"' in alarm["metric_query"][0]["expression"]
    assert alarm["depends_on"] == [f"aws_cloudwatch_contributor_insight_rule.{rule_key}"]
