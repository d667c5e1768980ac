"""Observability: retention, OBS-2 alerts with severities, e-mail action group, uptime, dashboard.

Covers OBS-1, OBS-2, OBS-3, OBS-4 and OBS-5.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from matrix import resources_of, shipped_stack

from synth.config import EnvironmentConfig


def synth(env: str) -> tuple[EnvironmentConfig, dict[str, Any]]:
    shipped = shipped_stack("azure", env)
    return shipped.config, shipped.document()


@pytest.fixture(scope="module")
def dev() -> tuple[EnvironmentConfig, dict[str, Any]]:
    return synth("dev")


def alerts(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = resources_of(stack, "azurerm_monitor_scheduled_query_rules_alert_v2")
    found += resources_of(stack, "azurerm_monitor_metric_alert")
    return {a["name"].split("-", 2)[2]: a for a in found}


@pytest.mark.parametrize("env", ["dev", "production"])
def test_workspace_keeps_logs_for_the_configured_retention_obs_1(env: str) -> None:
    config, stack = synth(env)
    (workspace,) = resources_of(stack, "azurerm_log_analytics_workspace")
    assert workspace["retention_in_days"] == config.logs.retention_days
    assert workspace["local_authentication_enabled"] is False


def test_every_obs_2_row_has_an_alert_with_its_severity_obs_2(dev) -> None:
    severities = {name: a["severity"] for name, a in alerts(dev[1]).items()}
    assert severities == {
        "failed-logins": 2,
        "http-5xx-rate": 0,
        "database-connection-errors": 0,
        "latency-p95": 2,
        "app-cpu": 2,
        "app-memory": 2,
        "health-unavailable": 1,
    }


def test_alert_thresholds_match_the_requirements_obs_2(dev) -> None:
    found = alerts(dev[1])
    logins = found["failed-logins"]["criteria"][0]
    assert "failures > 10" in logins["query"] and "bin(TimeGenerated, 1m)" in logins["query"]
    assert logins["dimension"][0]["name"] == "client_ip"
    assert found["http-5xx-rate"]["criteria"][0]["threshold"] == 1
    assert found["latency-p95"]["criteria"][0]["threshold"] == 2
    assert "percentile(TimeTaken, 95)" in found["latency-p95"]["criteria"][0]["query"]
    assert found["app-cpu"]["criteria"][0]["threshold"] == 80
    assert found["app-memory"]["criteria"][0]["threshold"] == 85
    assert found["app-cpu"]["window_size"] == "PT5M"
    db = found["database-connection-errors"]["criteria"][0]
    assert (db["metric_name"], db["threshold"]) == ("connections_failed", 0)


def test_all_alerts_notify_the_configured_address_obs_3(dev) -> None:
    config, stack = dev
    (group,) = resources_of(stack, "azurerm_monitor_action_group")
    assert [r["email_address"] for r in group["email_receiver"]] == [config.alert_email]
    for alert in alerts(stack).values():
        action = json.dumps(alert["action"])
        assert "azurerm_monitor_action_group" in action


def test_health_endpoint_is_tested_from_outside_obs_4(dev) -> None:
    config, stack = dev
    (test,) = resources_of(stack, "azurerm_application_insights_standard_web_test")
    assert test["request"]["url"] == f"https://{config.domain}/health"
    assert test["request"]["http_verb"] == "GET"
    assert len(test["geo_locations"]) >= 5


@pytest.mark.parametrize("env", ["dev", "staging", "production"])
def test_uptime_tls_check_follows_the_certificates_trust_obs_4(env: str) -> None:
    config, stack = synth(env)
    (test,) = resources_of(stack, "azurerm_application_insights_standard_web_test")
    rules = test["validation_rules"]
    assert config.azure.certificate is not None
    trusted = config.azure.certificate.source == "key_vault"
    # A self-signed certificate fails the check on every run (the alert would always fire).
    assert rules.get("ssl_check_enabled", False) is trusted
    assert ("ssl_cert_remaining_lifetime" in rules) is trusted


def test_gateway_address_is_an_output_for_the_domains_dns_record_obs_4(dev) -> None:
    _, stack = dev
    (output,) = [v for k, v in stack["output"].items() if k.startswith("gateway_public_ip")]
    assert "azurerm_public_ip." in output["value"] and output["value"].endswith(".ip_address}")


def test_dashboard_charts_throughput_errors_and_latency_obs_5(dev) -> None:
    (dashboard,) = resources_of(dev[1], "azurerm_portal_dashboard")
    properties = json.loads(dashboard["dashboard_properties"])
    metrics = {
        part["metadata"]["inputs"][0]["value"]["chart"]["metrics"][0]["name"]
        for part in properties["lenses"]["0"]["parts"].values()
    }
    assert {"TotalRequests", "FailedRequests", "ApplicationGatewayTotalTime"} <= metrics


def test_destroy_removes_what_azure_adds_beside_application_insights_deploy_6(dev) -> None:
    """Azure adds a smart detector rule and an action group beside every Application Insights
    component, which no resource of the stack owns; the provider must not refuse to delete a
    resource group that holds them, or every destroy fails at its last step (azurerm #18026)."""
    _, stack = dev
    assert resources_of(stack, "azurerm_application_insights")
    (provider,) = stack["provider"]["azurerm"]
    (features,) = provider["features"]
    assert features["resource_group"] == [{"prevent_deletion_if_contains_resources": False}]
