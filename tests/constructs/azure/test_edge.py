"""Edge: Application Gateway WAF_v2, TLS 1.2 policy, redirect-only HTTP, WAF rate limit, logs.

Covers EDGE-1, EDGE-2, EDGE-3 and EDGE-4.
"""

from __future__ import annotations

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


def gateway(stack: dict[str, Any]) -> dict[str, Any]:
    (found,) = resources_of(stack, "azurerm_application_gateway")
    return found


def test_https_listener_uses_tls_1_2_policy_and_a_key_vault_certificate_edge_1(dev) -> None:
    config, stack = dev
    agw = gateway(stack)
    assert agw["sku"] == {"name": "WAF_v2", "tier": "WAF_v2"}
    assert agw["ssl_policy"] == {
        "policy_type": "Predefined",
        "policy_name": "AppGwSslPolicy20220101S",
    }
    (certificate,) = agw["ssl_certificate"]
    assert certificate["key_vault_secret_id"].endswith(".versionless_secret_id}")
    listeners = {listener["name"]: listener for listener in agw["http_listener"]}
    assert listeners["https"]["protocol"] == "Https"
    assert listeners["https"]["host_name"] == config.domain


def test_http_only_redirects_to_https_edge_1(dev) -> None:
    agw = gateway(dev[1])
    (redirect,) = agw["redirect_configuration"]
    assert redirect["redirect_type"] == "Permanent"
    assert redirect["target_listener_name"] == "https"
    http_rules = [
        r for r in agw["request_routing_rule"] if r["http_listener_name"] == "http-redirect"
    ]
    assert len(http_rules) == 1
    assert http_rules[0]["redirect_configuration_name"] == "to-https"
    assert "backend_address_pool_name" not in http_rules[0]


def test_waf_policy_prevents_with_managed_rules_and_a_per_ip_rate_limit_edge_2(dev) -> None:
    config, stack = dev
    (policy,) = resources_of(stack, "azurerm_web_application_firewall_policy")
    assert policy["policy_settings"]["mode"] == "Prevention"
    rule_sets = {r["type"] for r in policy["managed_rules"]["managed_rule_set"]}
    assert "Microsoft_DefaultRuleSet" in rule_sets
    (rate,) = policy["custom_rules"]
    assert rate["rule_type"] == "RateLimitRule"
    assert rate["rate_limit_duration"] == "OneMin"
    assert rate["rate_limit_threshold"] == config.edge.rate_limit_per_minute == 100
    assert rate["group_rate_limit_by"] == "ClientAddr"
    assert rate["action"] == "Block"
    assert gateway(stack)["firewall_policy_id"].startswith(
        "${azurerm_web_application_firewall_policy."
    )


def test_access_and_firewall_logs_go_to_log_analytics_edge_3(dev) -> None:
    stack = dev[1]
    settings = [
        s
        for s in resources_of(stack, "azurerm_monitor_diagnostic_setting")
        if "azurerm_application_gateway." in s["target_resource_id"]
    ]
    (setting,) = settings
    categories = {log["category"] for log in setting["enabled_log"]}
    assert {"ApplicationGatewayAccessLog", "ApplicationGatewayFirewallLog"} <= categories


def test_probe_every_10_seconds_on_health_and_30_second_draining_edge_4(dev) -> None:
    agw = gateway(dev[1])
    (probe,) = agw["probe"]
    assert (probe["path"], probe["interval"], probe["protocol"]) == ("/health", 10, "Https")
    (settings,) = agw["backend_http_settings"]
    assert settings["connection_draining"] == {"enabled": True, "drain_timeout_sec": 30}
    assert settings["probe_name"] == probe["name"]


def test_production_gateway_spans_three_zones() -> None:
    _, stack = synth("production")
    assert gateway(stack)["zones"] == ["1", "2", "3"]
    assert gateway(stack)["autoscale_configuration"]["min_capacity"] == 2


def test_production_gateway_reads_the_operators_certificate_edge_1() -> None:
    _, stack = synth("production")
    assert resources_of(stack, "azurerm_key_vault_certificate") == []
    (gateway,) = resources_of(stack, "azurerm_application_gateway")
    (certificate,) = gateway["ssl_certificate"]
    assert certificate["key_vault_secret_id"] == (
        "https://kv-groundwork-certs.vault.azure.net/secrets/groundwork-production-tls"
    )
    (reads,) = [
        a for a in resources_of(stack, "azurerm_role_assignment")
        if a["principal_id"].startswith("${azurerm_user_assigned_identity.edge_identity")
    ]  # fmt: skip
    assert reads["role_definition_name"] == "Key Vault Secrets User"
    assert reads["scope"].endswith("/vaults/kv-groundwork-certs/secrets/groundwork-production-tls")
    # No certificate is written, so the deployer gets no Certificates Officer role.
    roles = {a.get("role_definition_name") for a in resources_of(stack, "azurerm_role_assignment")}
    assert "Key Vault Certificates Officer" not in roles
