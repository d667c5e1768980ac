"""Network: VNet tiers, NAT egress, NSGs that whitelist NET-3, VNet flow logs (NET-1..4)."""

from __future__ import annotations

from typing import Any

import pytest
from constructs.subnets import plan_subnets
from matrix import resources_of, shipped_stack

from synth.config import EnvironmentConfig


def synth(env: str) -> tuple[EnvironmentConfig, dict[str, Any]]:
    shipped = shipped_stack("azure", env)
    return shipped.config, shipped.document()


def declared_waivers(env: str) -> dict[str, set[str]]:
    """`{construct path: waived check IDs}` as the constructs declared them (`waive`)."""
    stack = shipped_stack("azure", env).stack
    return {
        node.node.path.split("/", 1)[1]: {w["check"] for w in node._groundwork_waivers}
        for node in stack.node.find_all()
        if getattr(node, "_groundwork_waivers", None)
    }


@pytest.fixture(scope="module")
def dev() -> tuple[EnvironmentConfig, dict[str, Any]]:
    return synth("dev")


@pytest.fixture(scope="module")
def production() -> tuple[EnvironmentConfig, dict[str, Any]]:
    return synth("production")


def rules(stack: dict[str, Any], nsg: str) -> list[dict[str, Any]]:
    return [
        r
        for r in resources_of(stack, "azurerm_network_security_rule")
        if nsg in r["network_security_group_name"]
    ]


def nsg_ref(stack: dict[str, Any], subnet: str) -> str:
    (key,) = [
        k
        for k, v in stack["resource"]["azurerm_network_security_group"].items()
        if v["name"].endswith(f"-{subnet}")
    ]
    return f"${{azurerm_network_security_group.{key}.name}}"


@pytest.mark.parametrize("env", ["dev", "production"])
def test_vnet_has_the_three_planned_tiers_and_an_endpoint_subnet_net_1(env: str) -> None:
    config, stack = synth(env)
    plan = plan_subnets(config.network.cidr, config.network.zones)
    (vnet,) = resources_of(stack, "azurerm_virtual_network")
    assert vnet["address_space"] == [config.network.cidr]
    prefixes = {s["name"]: s["address_prefixes"] for s in resources_of(stack, "azurerm_subnet")}
    p = config.prefix
    assert prefixes == {
        f"snet-{p}-public": [plan.public[0]],
        f"snet-{p}-app": [plan.app[0]],
        f"snet-{p}-data": [plan.data[0]],
        f"snet-{p}-endpoints": [plan.spare[0]],
    }


def test_app_and_data_subnets_are_delegated_and_have_no_default_egress_net_1(dev) -> None:
    _, stack = dev
    subnets = {s["name"].rsplit("-", 1)[1]: s for s in resources_of(stack, "azurerm_subnet")}
    assert subnets["app"]["delegation"][0]["service_delegation"]["name"] == (
        "Microsoft.App/environments"
    )
    assert subnets["data"]["delegation"][0]["service_delegation"]["name"] == (
        "Microsoft.DBforPostgreSQL/flexibleServers"
    )
    assert all(s["default_outbound_access_enabled"] is False for s in subnets.values())
    assert len(resources_of(stack, "azurerm_subnet_network_security_group_association")) == 4


def test_app_subnet_egresses_through_one_zonal_nat_gateway(production) -> None:
    _, stack = production
    (nat,) = resources_of(stack, "azurerm_nat_gateway")
    assert nat["zones"] == ["1"]
    (association,) = resources_of(stack, "azurerm_subnet_nat_gateway_association")
    assert "app-subnet" in association["subnet_id"]


def test_internet_reaches_only_the_gateway_on_443_80_and_gateway_manager_net_3(dev) -> None:
    _, stack = dev
    internet = [
        r
        for r in resources_of(stack, "azurerm_network_security_rule")
        if r["access"] == "Allow" and r["source_address_prefix"] in ("Internet", "*", "0.0.0.0/0")
    ]
    assert sorted(r["destination_port_ranges"][0] for r in internet) == ["443", "80"]
    assert all(r["network_security_group_name"] == nsg_ref(stack, "public") for r in internet)
    manager = [r for r in rules(stack, "") if r["source_address_prefix"] == "GatewayManager"]
    assert [r["destination_port_ranges"] for r in manager] == [["65200-65535"]]


def test_tiers_admit_only_their_callers_on_their_ports_net_3(dev) -> None:
    config, stack = dev
    plan = plan_subnets(config.network.cidr, config.network.zones)
    allowed = {
        (
            r["network_security_group_name"],
            r["source_address_prefix"],
            *r.get("destination_port_ranges", [r.get("destination_port_range")]),
        )
        for r in resources_of(stack, "azurerm_network_security_rule")
        if r["access"] == "Allow"
    }
    app, public = plan.app[0], plan.public[0]
    # Container Apps (firewall-integration doc): client 80/443 and the dynamic range.
    assert (nsg_ref(stack, "app"), public, "80", "443", "30000-32676") in allowed
    assert (nsg_ref(stack, "app"), "AzureLoadBalancer", "30000-32676") in allowed
    assert (nsg_ref(stack, "data"), app, "5432", "6432") in allowed
    # HA needs both within the data subnet (MicrosoftDocs/azure-docs #91402).
    assert (nsg_ref(stack, "data"), plan.data[0], "5432", "6432") in allowed
    assert (nsg_ref(stack, "endpoints"), app, "10000") in allowed  # Azure Managed Redis (TLS)
    assert (nsg_ref(stack, "endpoints"), app, "443") in allowed
    assert (nsg_ref(stack, "endpoints"), public, "443") in allowed  # gateway's certificate
    for rule in resources_of(stack, "azurerm_network_security_rule"):
        if rule["access"] == "Allow" and rule["name"] not in ALL_PORTS:
            assert rule.get("destination_port_range") != "*", rule["name"]
            assert rule["protocol"] == "Tcp"


# The platform's all-ports allows, each a NET-3 deviation declared as a waiver on the rule.
ALL_PORTS = {"allow-within-subnet", "allow-load-balancer"}


def test_all_ports_rules_are_waived_not_admitted_net_3(dev) -> None:
    _, stack = dev
    all_ports = [
        r
        for r in resources_of(stack, "azurerm_network_security_rule")
        if r["access"] == "Allow" and r.get("destination_port_range") == "*"
    ]
    assert {r["name"] for r in all_ports} == ALL_PORTS
    waived = {path for path, checks in declared_waivers("dev").items() if "CKV_GW_NET_71" in checks}
    assert waived == {
        "network/app-allow-within-subnet",
        "network/public-allow-load-balancer",
        "network/data-allow-load-balancer",
        "network/endpoints-allow-load-balancer",
    }


def test_every_denying_subnet_allows_azure_load_balancer_first_deploy_6(dev) -> None:
    """The VirtualNetwork deny covers 168.63.129.16 (AzureLoadBalancer): an explicit allow
    must come first (application-gateway/configuration-infrastructure)."""
    _, stack = dev
    for subnet in ("public", "data", "endpoints"):
        subnet_rules = rules(stack, nsg_ref(stack, subnet))
        (allow,) = [r for r in subnet_rules if r["source_address_prefix"] == "AzureLoadBalancer"]
        (deny,) = [r for r in subnet_rules if r["source_address_prefix"] == "VirtualNetwork"]
        assert allow["access"] == "Allow" and deny["access"] == "Deny"
        assert allow["priority"] < deny["priority"], subnet
        assert (allow["protocol"], allow["destination_port_range"]) == ("*", "*")
        # "with the destination subnet as Any" (application-gateway/configuration-infrastructure)
        assert allow["destination_address_prefix"] == "*"
    (manager,) = [
        r
        for r in rules(stack, nsg_ref(stack, "public"))
        if r["source_address_prefix"] == "GatewayManager"
    ]
    assert manager["destination_address_prefix"] == "*"


def test_residents_wait_for_their_subnets_associations_and_rules_deploy_2(production) -> None:
    _, stack = production
    res = stack["resource"]

    def prerequisites(subnet: str) -> set[str]:
        found = {
            f"{kind}.{k}"
            for kind in (
                "azurerm_subnet_network_security_group_association",
                "azurerm_subnet_nat_gateway_association",
            )
            for k in res[kind]
            if k.startswith(f"network_{subnet}-") or k.startswith(f"network_nat-{subnet}-")
        }
        found |= {
            f"azurerm_network_security_rule.{k}"
            for k in res["azurerm_network_security_rule"]
            if k.startswith(f"network_{subnet}-")
        }
        return found

    (environment,) = res["azurerm_container_app_environment"].values()
    app = prerequisites("app")
    assert any("nat_gateway_association" in a for a in app)
    assert app <= set(environment["depends_on"])
    (gateway,) = res["azurerm_application_gateway"].values()
    assert prerequisites("public") <= set(gateway["depends_on"])
    for endpoint in res["azurerm_private_endpoint"].values():
        assert prerequisites("endpoints") <= set(endpoint["depends_on"])


def test_app_subnet_follows_the_container_apps_nsg_rules_net_3_deploy_6(dev) -> None:
    """https://learn.microsoft.com/azure/container-apps/firewall-integration: the subnet reaches
    itself on every port and protocol, and no deny rule below 65000 on the app subnet."""
    config, stack = dev
    app = plan_subnets(config.network.cidr, config.network.zones).app[0]
    app_rules = rules(stack, nsg_ref(stack, "app"))
    (within,) = [r for r in app_rules if r["name"] == "allow-within-subnet"]
    assert (within["source_address_prefix"], within["destination_address_prefix"]) == (app, app)
    assert (within["protocol"], within["destination_port_range"]) == ("*", "*")
    assert [r["name"] for r in app_rules if r["access"] == "Deny"] == []


def test_every_other_subnet_denies_other_vnet_and_internet_traffic_net_3(dev) -> None:
    _, stack = dev
    for subnet in ("public", "data", "endpoints"):
        denies = {
            r["source_address_prefix"]
            for r in rules(stack, nsg_ref(stack, subnet))
            if r["access"] == "Deny" and r["destination_port_range"] == "*"
        }
        assert denies == {"VirtualNetwork", "Internet"}, subnet


@pytest.mark.parametrize("env", ["dev", "production"])
def test_vnet_flow_logs_keep_the_log_retention_with_traffic_analytics_net_4(env: str) -> None:
    config, stack = synth(env)
    (flow_log,) = resources_of(stack, "azurerm_network_watcher_flow_log")
    assert flow_log["target_resource_id"].startswith("${azurerm_virtual_network.")
    assert flow_log["retention_policy"] == {"enabled": True, "days": config.logs.retention_days}
    assert flow_log["traffic_analytics"]["enabled"] is True
    # DEPLOY-5: the watcher is created (a fresh subscription has none), before the VNet.
    assert "azurerm_network_watcher." in flow_log["network_watcher_name"]
    assert "azurerm_network_watcher" not in stack.get("data", {})
    (vnet,) = resources_of(stack, "azurerm_virtual_network")
    assert vnet["depends_on"][0].startswith("azurerm_network_watcher.")


def test_dns_zone_links_are_named_after_the_vnet_deploy_1() -> None:
    _, stack = synth("production")
    links = resources_of(stack, "azurerm_private_dns_zone_virtual_network_link")
    names = {link["name"] for link in links}
    assert "link-vnet-groundwork-production" in names
    assert all(len(name) <= 80 for name in names)
