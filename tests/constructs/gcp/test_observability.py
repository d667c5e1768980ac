"""Observability: log retention, OBS-2 alerts with severities, e-mail channel, uptime, dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import resources_of


@pytest.fixture(scope="module")
def dev(matrix: dict[tuple[str, str], Any]) -> dict[str, Any]:
    return matrix["gcp", "dev"]


def test_default_log_bucket_keeps_logs_per_environment_obs_1_net_4(
    matrix: dict[tuple[str, str], Any],
) -> None:
    for env, days in (("dev", 30), ("production", 90)):
        [bucket] = resources_of(matrix["gcp", env], "google_logging_project_bucket_config")
        assert (bucket["bucket_id"], bucket["retention_days"]) == ("_Default", days)


def test_every_obs_2_alert_exists_with_its_severity_and_notifies_email_obs_2_obs_3(
    dev: dict[str, Any],
) -> None:
    [channel] = resources_of(dev, "google_monitoring_notification_channel")
    assert channel["type"] == "email"
    assert channel["labels"] == {"email_address": "alerts-dev@example.com"}
    policies = {
        p["display_name"].removeprefix("groundwork-dev: "): p
        for p in resources_of(dev, "google_monitoring_alert_policy")
    }
    severities = {title: p["severity"] for title, p in policies.items()}
    assert severities == {
        "Failed logins > 10/min from one IP": "WARNING",
        "5xx responses > 1 % of requests": "CRITICAL",
        "Any database connection error (in the last 5 minutes)": "CRITICAL",
        "API latency p95 > 2 s": "WARNING",
        "CPU > 80 % for 5 minutes": "WARNING",
        "Memory > 85 % for 5 minutes": "WARNING",
        "/health unreachable": "CRITICAL",  # OBS-4: the uptime check alerts
    }
    thresholds = {
        t: p["conditions"][0]["condition_threshold"]["threshold_value"] for t, p in policies.items()
    }
    assert thresholds["5xx responses > 1 % of requests"] == 0.01
    assert thresholds["API latency p95 > 2 s"] == 2000
    for policy in policies.values():
        assert policy["notification_channels"] == [
            "${google_monitoring_notification_channel.observability_email_"
            + policy["notification_channels"][0].split("observability_email_")[1]
        ]
    uptime = policies["/health unreachable"]["conditions"][0]["condition_threshold"]
    assert "uptime_check/check_passed" in uptime["filter"]
    assert "google_monitoring_uptime_check_config.observability_uptime_" in uptime["filter"]
    ratio = policies["5xx responses > 1 % of requests"]["conditions"][0]["condition_threshold"]
    assert "denominator_filter" in ratio
    # the app container's utilization, not the Cloud SQL proxy sidecar's
    for title in ("CPU > 80 % for 5 minutes", "Memory > 85 % for 5 minutes"):
        flt = policies[title]["conditions"][0]["condition_threshold"]["filter"]
        assert flt.endswith(' AND metric.label.container_name = "app"')
    # OBS-2 "any database connection error": errors are counted over a 5-minute rolling
    # window and the first one pages at once (a log-based metric has no point in a minute
    # without errors, so a held duration would need errors every minute)
    errors = policies["Any database connection error (in the last 5 minutes)"]["conditions"][0][
        "condition_threshold"
    ]
    assert errors["duration"] == "0s"
    assert errors["threshold_value"] == 0 and errors["comparison"] == "COMPARISON_GT"
    assert errors["aggregations"] == [
        {
            "alignment_period": "300s",
            "per_series_aligner": "ALIGN_SUM",
            "cross_series_reducer": "REDUCE_SUM",
        }
    ]


def test_failed_logins_come_from_a_log_metric_per_client_ip_obs_2(dev: dict[str, Any]) -> None:
    metrics = {m["name"]: m for m in resources_of(dev, "google_logging_metric")}
    logins = metrics["groundwork-dev/failed_logins"]
    assert 'jsonPayload.event = "login_failed"' in logins["filter"]
    assert logins["label_extractors"] == {"client_ip": "EXTRACT(jsonPayload.client_ip)"}


def test_uptime_check_on_health_obs_4(dev: dict[str, Any]) -> None:
    [check] = resources_of(dev, "google_monitoring_uptime_check_config")
    assert check["http_check"]["path"] == "/health"
    assert check["http_check"]["use_ssl"] is True
    assert check["monitored_resource"]["labels"]["host"] == "dev.groundwork.example.com"
    # Created once HTTPS is served (the 443 rule, after the proxy and its ACTIVE certificate):
    # probing earlier fails from every region and pages on-call during the first apply.
    [rule] = [
        name
        for name, body in dev["resource"]["google_compute_global_forwarding_rule"].items()
        if body["port_range"] == "443"
    ]
    assert f"google_compute_global_forwarding_rule.{rule}" in check["depends_on"]
    assert any(d.startswith("google_project_service.apis_monitoring") for d in check["depends_on"])


def test_dashboard_shows_throughput_errors_and_latency_obs_5(dev: dict[str, Any]) -> None:
    [dashboard] = resources_of(dev, "google_monitoring_dashboard")
    titles = [w["title"] for w in json.loads(dashboard["dashboard_json"])["gridLayout"]["widgets"]]
    assert {"Requests per second", "5xx per second", "Latency p95 (ms)"} <= set(titles)


def test_user_labels_carry_the_tags_where_default_labels_do_not_reach_tag_1(
    dev: dict[str, Any],
) -> None:
    # provider default_labels fill only `labels` (terraform-provider-google#16375)
    tags = {
        "app": "groundwork",
        "environment": "dev",
        "managed-by": "groundwork",
    }
    kinds = (
        "google_monitoring_alert_policy",
        "google_monitoring_uptime_check_config",
        "google_monitoring_notification_channel",
    )
    for kind in kinds:
        found = resources_of(dev, kind)
        assert found, kind
        for resource in found:
            labels = resource["user_labels"]
            assert set(labels) == {"app", "environment", "managed-by", "owner", "cost-center"}
            assert tags.items() <= labels.items()
    [channel] = resources_of(dev, "google_monitoring_notification_channel")
    assert set(channel["labels"]) == {"email_address"}  # the address, not tags


def test_the_metric_wait_polls_each_descriptor_by_its_slashed_name_deploy_2(
    dev: dict[str, Any],
) -> None:
    """A percent-encoded %2F in a multi-segment path variable stays encoded (google/api/
    http.proto), so the poll must name the descriptor with its slashes."""
    [step] = [
        s
        for s in resources_of(dev, "terraform_data")
        if "metricDescriptors" in str(s.get("provisioner"))
    ]
    command = step["provisioner"][0]["local-exec"]["command"]
    assert "%2F" not in command
    for metric in ("failed_logins", "database_connection_errors"):
        assert (
            "https://monitoring.googleapis.com/v3/projects/groundwork-dev/metricDescriptors/"
            f"logging.googleapis.com/user/groundwork-dev/{metric};"
        ) in command
