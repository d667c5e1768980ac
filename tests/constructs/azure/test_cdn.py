"""The CDN switch on Azure (CDN-1): Front Door Premium in front of the gateway at
`origin.<domain>`, its WAF and cached routes, the origin locked to the profile, the records the
operator writes handed over as outputs; the switch off builds none of it; the combinations
Azure cannot serve (DNS-1 among them) are refused at load; and a stack with the switch on
passes the gate with every requirement checked (tests/constructs/azure/environments/edge.yaml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdktf import Testing as CdktfTesting
from matrix import gate_report, requirement_statuses, resources_of, start_synth, wait_all

from stacks import stack_class
from synth.config import (
    APP_MAX_LENGTH,
    ENVIRONMENT_MAX_LENGTH,
    ConfigError,
    EnvironmentConfig,
    parse_environment,
)
from synth.names import name_problems

EDGE = Path(__file__).resolve().parent / "environments" / "edge.yaml"


def edge_data(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load(EDGE.read_text())
    data.update(changes)
    return data


def synth(data: dict[str, Any]) -> tuple[EnvironmentConfig, dict[str, Any]]:
    config = parse_environment("edge", data, source=str(EDGE), cloud="azure")
    return config, json.loads(CdktfTesting.synth(stack_class("azure")(CdktfTesting.app(), config)))


@pytest.fixture(scope="module")
def both() -> tuple[EnvironmentConfig, dict[str, Any]]:
    return synth(edge_data())


def named(stack: dict[str, Any], resource_type: str, name: str) -> tuple[str, dict[str, Any]]:
    """(address, body) of the one resource of a type with that `name`."""
    (found,) = [
        (f"{resource_type}.{key}", body)
        for key, body in stack["resource"].get(resource_type, {}).items()
        if body.get("name") == name
    ]
    return found


def ref(address: str, attribute: str = "id") -> str:
    return "${" + f"{address}.{attribute}" + "}"


def test_front_door_premium_fronts_the_gateway_and_caches_the_static_paths_cdn_1(both) -> None:
    config, stack = both
    profile, body = named(stack, "azurerm_cdn_frontdoor_profile", f"afd-{config.prefix}")
    assert body["sku_name"] == "Premium_AzureFrontDoor"
    (origin,) = resources_of(stack, "azurerm_cdn_frontdoor_origin")
    # A host name the certificate can carry, never the gateway's IP (F1): Front Door sends it
    # as SNI and as the host header, and checks the gateway's certificate against it.
    host = f"origin.{config.domain}"
    assert origin["host_name"] == origin["origin_host_header"] == host
    assert origin["certificate_name_check_enabled"] is True
    # DEPLOY-2 (F6): the origin, and through it the routes, wait for the gateway itself.
    gateway_address, _ = named(stack, "azurerm_application_gateway", f"agw-{config.prefix}")
    assert origin["depends_on"] == [gateway_address]
    # The gateway's HTTPS listener answers that name (SNI required), and only that name.
    (gateway,) = resources_of(stack, "azurerm_application_gateway")
    (https,) = [lst for lst in gateway["http_listener"] if lst["protocol"] == "Https"]
    assert (https["host_name"], https["require_sni"]) == (host, True)
    ip, _ = named(stack, "azurerm_public_ip", f"pip-{config.prefix}-agw")
    assert stack["output"]["gateway_public_ip"] == {
        "value": ref(ip, "ip_address"),
        "description": f"Create an A record {host} -> this address (the gateway)",
    }
    (group,) = resources_of(stack, "azurerm_cdn_frontdoor_origin_group")
    assert group["cdn_frontdoor_profile_id"] == ref(profile)
    assert group["health_probe"] == {
        "protocol": "Https",
        "request_type": "HEAD",  # Microsoft's recommendation for Front Door probes (F7)
        "path": "/health",
        "interval_in_seconds": 100,
    }
    _, static = named(stack, "azurerm_cdn_frontdoor_route", "static")
    assert static["patterns_to_match"] == ["/static/*", "/assets/*", "/images/*"]
    assert static["cache"]["query_string_caching_behavior"] == "UseQueryString"
    _, app = named(stack, "azurerm_cdn_frontdoor_route", "app")
    assert app["patterns_to_match"] == ["/*"]
    assert "cache" not in app  # forwarded uncached
    domain, _ = named(stack, "azurerm_cdn_frontdoor_custom_domain", "domain")
    for route in (static, app):
        assert route["forwarding_protocol"] == "HttpsOnly"
        assert route["https_redirect_enabled"] is True
        assert route["link_to_default_domain"] is False
        assert route["cdn_frontdoor_custom_domain_ids"] == [ref(domain)]


def test_the_front_door_waf_prevents_with_managed_rules_and_a_rate_limit_edge_2(both) -> None:
    config, stack = both
    waf, body = named(stack, "azurerm_cdn_frontdoor_firewall_policy", "wafgroundworkedge")
    assert body["mode"] == "Prevention"
    assert [(r["type"], r["version"], r["action"]) for r in body["managed_rule"]] == [
        ("Microsoft_DefaultRuleSet", "2.1", "Block"),
        ("Microsoft_BotManagerRuleSet", "1.0", "Block"),
    ]
    (limit,) = body["custom_rule"]
    assert limit["type"] == "RateLimitRule"
    # EDGE-2 as written: per connection address, over one minute (a five-minute window at five
    # times the rate would admit 500 requests in a minute).
    assert limit["rate_limit_duration_in_minutes"] == 1
    assert limit["rate_limit_threshold"] == config.edge.rate_limit_per_minute
    assert {c["match_variable"] for c in limit["match_condition"]} == {"SocketAddr"}
    (security,) = resources_of(stack, "azurerm_cdn_frontdoor_security_policy")
    firewall = security["security_policies"]["firewall"]
    assert firewall["cdn_frontdoor_firewall_policy_id"] == ref(waf)
    domain, _ = named(stack, "azurerm_cdn_frontdoor_custom_domain", "domain")
    assert firewall["association"] == {
        "patterns_to_match": ["/*"],
        "domain": [{"cdn_frontdoor_domain_id": ref(domain)}],
    }
    # EDGE-3 at the edge: Front Door's access, probe and WAF logs reach Log Analytics.
    profile, _ = named(stack, "azurerm_cdn_frontdoor_profile", f"afd-{config.prefix}")
    _, logs = named(stack, "azurerm_monitor_diagnostic_setting", "front-door-to-log-analytics")
    assert logs["target_resource_id"] == ref(profile)
    assert [entry["category"] for entry in logs["enabled_log"]] == [
        "FrontDoorAccessLog",
        "FrontDoorHealthProbeLog",
        "FrontDoorWebApplicationFirewallLog",
    ]


def test_front_door_5xx_alert_reaches_the_gateway_alerts_action_group_obs_2(both) -> None:
    """F5: errors Front Door returns itself never reach AGWAccessLogs; the profile's own
    Percentage5XX metric has the gateway's 5xx alert twin: critical, over 1 %, same action
    group, and no log table it must wait for (a union query is not supported in log alerts)."""
    config, stack = both
    _, gateway = named(stack, "azurerm_monitor_scheduled_query_rules_alert_v2",
                       f"{config.prefix}-http-5xx-rate")  # fmt: skip
    _, edge = named(stack, "azurerm_monitor_metric_alert",
                    f"{config.prefix}-front-door-5xx-rate")  # fmt: skip
    profile, _ = named(stack, "azurerm_cdn_frontdoor_profile", f"afd-{config.prefix}")
    assert edge["severity"] == gateway["severity"] == 0
    assert edge["action"] == [{"action_group_id": gateway["action"]["action_groups"][0]}]
    assert edge["scopes"] == [ref(profile)]
    assert edge["criteria"] == [
        {
            "metric_namespace": "Microsoft.Cdn/profiles",
            "metric_name": "Percentage5XX",
            "aggregation": "Average",
            "operator": "GreaterThan",
            "threshold": 1,
        }
    ]


def test_the_gateway_admits_only_this_front_door_cdn_1(both) -> None:
    config, stack = both
    nsg, _ = named(stack, "azurerm_network_security_group", f"nsg-{config.prefix}-public")
    allows = [
        r
        for r in resources_of(stack, "azurerm_network_security_rule")
        if r["network_security_group_name"] == ref(nsg, "name") and r["access"] == "Allow"
    ]
    sources = {r["source_address_prefix"] for r in allows}
    assert "Internet" not in sources
    (front_door,) = [r for r in allows if r["source_address_prefix"] == "AzureFrontDoor.Backend"]
    assert front_door["destination_port_ranges"] == ["443"]
    profile, _ = named(stack, "azurerm_cdn_frontdoor_profile", f"afd-{config.prefix}")
    _, waf = named(stack, "azurerm_web_application_firewall_policy", f"waf-{config.prefix}")
    rules = {r["name"]: r for r in waf["custom_rules"]}
    # Behind Front Door the gateway sees Front Door's addresses: the per-client limit is there.
    assert list(rules) == ["OnlyThisFrontDoor"]
    (condition,) = rules["OnlyThisFrontDoor"]["match_conditions"]
    assert condition["match_variables"] == [
        {"variable_name": "RequestHeaders", "selector": "X-Azure-FDID"}
    ]
    assert condition["negation_condition"] is True
    assert condition["match_values"] == [ref(profile, "resource_guid")]


def test_the_operator_gets_the_records_and_the_stack_owns_no_zone_deploy_5(both) -> None:
    """DNS-1 is refused on Azure (F2): the stack writes no zone and no record; the operator
    writes the CNAME and the _dnsauth TXT from the outputs (DEPLOY-5)."""
    config, stack = both
    for resource_type in ("azurerm_dns_zone", "azurerm_dns_txt_record", "azurerm_dns_a_record"):
        assert not resources_of(stack, resource_type)
    domain, body = named(stack, "azurerm_cdn_frontdoor_custom_domain", "domain")
    assert body["host_name"] == config.domain
    assert "dns_zone_id" not in body
    assert body["tls"] == {"certificate_type": "ManagedCertificate", "minimum_tls_version": "TLS12"}
    endpoint, _ = named(stack, "azurerm_cdn_frontdoor_endpoint", f"fde-{config.prefix}")
    outputs = stack["output"]
    assert outputs["front_door_validation_token"]["value"] == ref(domain, "validation_token")
    assert f"TXT _dnsauth.{config.domain}" in outputs["front_door_validation_token"]["description"]
    assert outputs["front_door_host"]["value"] == ref(endpoint, "host_name")
    assert (
        f"Point {config.domain} at this host (CNAME)" in outputs["front_door_host"]["description"]
    )
    assert "dns_name_servers" not in outputs


def test_both_switches_off_build_no_front_door_and_keep_the_gateway_open() -> None:
    config, stack = synth(edge_data(features={"cdn_enabled": False, "dns_enabled": False}))
    for resource_type in (
        "azurerm_cdn_frontdoor_profile",
        "azurerm_cdn_frontdoor_route",
        "azurerm_dns_zone",
    ):
        assert not resources_of(stack, resource_type)
    sources = {
        r["source_address_prefix"] for r in resources_of(stack, "azurerm_network_security_rule")
    }
    assert "AzureFrontDoor.Backend" not in sources and "Internet" in sources
    _, waf = named(stack, "azurerm_web_application_firewall_policy", f"waf-{config.prefix}")
    assert [r["name"] for r in waf["custom_rules"]] == ["RateLimitPerClientIp"]
    assert "gateway_public_ip" in stack["output"]


def test_front_door_names_fit_at_the_longest_names_deploy_1() -> None:
    """DEPLOY-1: the Front Door and WAF (letters and digits only) names at the schema's
    longest app and environment names (tests/stacks/test_longest_names.py builds neither)."""
    app = "a" * APP_MAX_LENGTH
    environment = "e" * ENVIRONMENT_MAX_LENGTH
    config = parse_environment(environment, edge_data(app=app), source=str(EDGE), cloud="azure")
    stack = json.loads(CdktfTesting.synth(stack_class("azure")(CdktfTesting.app(), config)))
    assert resources_of(stack, "azurerm_cdn_frontdoor_endpoint")
    assert list(name_problems(stack)) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"features": {"cdn_enabled": True, "dns_enabled": True}},
            "features.dns_enabled: true, but azure does not build this component: DNS-1 on "
            "Azure would be Front Door's managed certificate on the apex",
        ),
        (
            {
                "azure": {
                    **edge_data()["azure"],
                    "certificate": {
                        "source": "self_signed",
                        "self_signed_reason": "Edge test environment; nobody browses it at all.",
                    },
                }
            },
            "azure.certificate.source: 'self_signed' with features.cdn_enabled",
        ),
        (
            {
                "services": [
                    {"name": "app", "image": {}, "route": {"path_prefix": "/"}},
                    {
                        "name": "admin",
                        "image": {},
                        "route": {"host": "admin.edge.groundwork.example.com", "path_prefix": "/"},
                    },
                ]
            },
            "services[].route.host: admin.edge.groundwork.example.com with features.cdn_enabled",
        ),
    ],
    ids=["dns", "self-signed-origin", "second-host"],
)
def test_what_front_door_cannot_serve_is_refused_at_load(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_environment("edge", edge_data(**changes), source=str(EDGE), cloud="azure")
    assert message in str(error.value)
    assert str(EDGE) in str(error.value)


def test_the_gate_passes_with_the_cdn_and_reports_cdn_1(tmp_path: Path) -> None:
    """The cloud (the edge stack, one with the switch off, and the bootstrap) passes the gate
    with every requirement checked: CDN-1 passes where on and is n/a where off; DNS-1, refused
    on Azure, is n/a on both."""
    environments = tmp_path / "environments"
    environments.mkdir()
    (environments / "edge.yaml").write_text(EDGE.read_text())
    off = edge_data(
        domain="off.groundwork.example.com",
        network={"cidr": "10.62.0.0/16"},
        azure={**edge_data()["azure"], "subscription_id": "00000000-0000-0000-0000-000000000007"},
        features={"cdn_enabled": False, "dns_enabled": False},
    )
    (environments / "off.yaml").write_text(yaml.safe_dump(off, sort_keys=False))
    outdir = tmp_path / "out"
    wait_all(
        {
            "azure": start_synth(
                "azure", outdir, extra_env={"GROUNDWORK_ENVIRONMENTS": str(environments)}
            )
        }
    )
    requirements = requirement_statuses(gate_report(outdir, environments, tmp_path / "verify.json"))
    assert requirements["edge", "CDN-1"] == "pass"
    assert requirements["off", "CDN-1"] == requirements["off", "DNS-1"] == "n/a"
    assert requirements["edge", "DNS-1"] == "n/a"
