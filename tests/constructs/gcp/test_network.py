"""Network: VPC tiers, private service access, Cloud NAT, NET-3 firewall, flow logs (NET-1..4)."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_google.provider import GoogleProvider
from constructs.gcp.keys import ServiceAgents
from constructs.gcp.network import Network, psa_range
from constructs.subnets import plan_subnets
from matrix import resources_of

from synth.config import EnvironmentConfig, load_environment

ROOT = Path(__file__).resolve().parents[3]


def synth(env: str) -> tuple[EnvironmentConfig, dict[str, Any]]:
    config = load_environment(ROOT / "environments" / f"{env}.yaml", cloud="gcp")
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    agents = ServiceAgents(stack, "agents", config=config, purposes=["networking"])
    Network(stack, "network", config=config, agents=agents)
    return config, json.loads(CdktfTesting.synth(stack))


@pytest.fixture(scope="module")
def dev() -> tuple[EnvironmentConfig, dict[str, Any]]:
    return synth("dev")


@pytest.fixture(scope="module")
def production() -> tuple[EnvironmentConfig, dict[str, Any]]:
    return synth("production")


def test_custom_vpc_with_one_regional_subnet_per_tier_net_1(
    dev: tuple[EnvironmentConfig, dict[str, Any]],
) -> None:
    config, stack = dev
    [vpc] = resources_of(stack, "google_compute_network")
    assert vpc["auto_create_subnetworks"] is False
    plan = plan_subnets(config.network.cidr, config.network.zones)
    subnets = {s["name"]: s for s in resources_of(stack, "google_compute_subnetwork")}
    assert {name: s["ip_cidr_range"] for name, s in subnets.items()} == {
        "groundwork-dev-public": plan.public[0],
        "groundwork-dev-app": plan.app[0],
        "groundwork-dev-data": plan.data[0],
    }
    assert all(s["private_ip_google_access"] for s in subnets.values())


def test_every_subnet_has_flow_logs_with_metadata_net_4(
    dev: tuple[EnvironmentConfig, dict[str, Any]],
) -> None:
    for subnet in resources_of(dev[1], "google_compute_subnetwork"):
        assert subnet["log_config"]["metadata"] == "INCLUDE_ALL_METADATA"
        assert subnet["log_config"]["flow_sampling"] == 1


def test_private_service_access_uses_a_range_no_subnet_overlaps_net_2(
    dev: tuple[EnvironmentConfig, dict[str, Any]],
) -> None:
    config, stack = dev
    [address] = resources_of(stack, "google_compute_global_address")
    assert address["purpose"] == "VPC_PEERING"
    private = psa_range(config.network.cidr)
    assert (address["address"], address["prefix_length"]) == (str(private.network_address), 18)
    for subnet in resources_of(stack, "google_compute_subnetwork"):
        assert not ipaddress.IPv4Network(subnet["ip_cidr_range"]).overlaps(private)
    [connection] = resources_of(stack, "google_service_networking_connection")
    assert connection["service"] == "servicenetworking.googleapis.com"
    # Cloud SQL holds the peering for days after the instance: abandon it so dev destroys.
    assert connection["deletion_policy"] == "ABANDON"


def test_nat_serves_only_the_app_tier_and_pins_addresses_per_zone_in_production_net_1(
    dev: tuple[EnvironmentConfig, dict[str, Any]],
    production: tuple[EnvironmentConfig, dict[str, Any]],
) -> None:
    [nat] = resources_of(dev[1], "google_compute_router_nat")
    assert nat["nat_ip_allocate_option"] == "AUTO_ONLY"
    assert nat["source_subnetwork_ip_ranges_to_nat"] == "LIST_OF_SUBNETWORKS"
    assert len(nat["subnetwork"]) == 1 and "app-subnet" in nat["subnetwork"][0]["name"]
    [nat] = resources_of(production[1], "google_compute_router_nat")
    assert nat["nat_ip_allocate_option"] == "MANUAL_ONLY"
    assert len(nat["nat_ips"]) == 3
    assert len(resources_of(production[1], "google_compute_address")) == 3


def test_firewall_allows_only_the_net_3_paths_and_denies_the_rest_net_3(
    dev: tuple[EnvironmentConfig, dict[str, Any]],
) -> None:
    config, stack = dev
    rules = {
        r["name"].removeprefix("groundwork-dev-"): r
        for r in resources_of(stack, "google_compute_firewall")
    }
    allowed = {
        name: (
            r["direction"],
            r["allow"][0]["ports"],
            r.get("source_ranges") or r.get("destination_ranges"),
        )
        for name, r in rules.items()
        if "allow" in r
    }
    private = [str(psa_range(config.network.cidr))]
    assert allowed == {
        "allow-lb-to-app": ("INGRESS", ["3001"], ["35.191.0.0/16", "130.211.0.0/22"]),
        # DEPLOY-6: the Cloud SQL connector port, the only one client-certificate mode admits.
        "allow-app-to-postgres": ("EGRESS", ["3307"], private),
        "allow-app-to-redis": ("EGRESS", ["6378"], private),
        "allow-app-https-out": ("EGRESS", ["443"], ["0.0.0.0/0"]),
    }
    for name in ("deny-all-ingress", "deny-all-egress"):
        assert rules[name]["deny"] == [{"protocol": "all"}]
        assert rules[name]["priority"] == 65534
    # No 0.0.0.0/0 ingress is allowed anywhere.
    assert not any(
        "0.0.0.0/0" in r.get("source_ranges", []) for r in rules.values() if "allow" in r
    )
    assert all("log_config" in r for r in rules.values())


def test_private_service_access_waits_for_its_agent_and_grant_deploy_2(
    production: tuple[EnvironmentConfig, dict[str, Any]],
) -> None:
    """terraform-provider-google#14720: the Service Networking agent is created and granted
    roles/servicenetworking.serviceAgent before the connection."""
    _, synthesized = production
    resources = synthesized["resource"]
    (grant_name, grant), *others = [
        (name, body)
        for name, body in resources["google_project_iam_member"].items()
        if body["role"] == "roles/servicenetworking.serviceAgent"
    ]
    assert not others
    assert "@service-networking.iam.gserviceaccount.com" in grant["member"]
    steps = resources["terraform_data"]
    (step_name,) = [
        n
        for n, b in steps.items()
        if "--service=servicenetworking.googleapis.com" in b["input"]["gcloud"]
    ]
    assert grant["depends_on"] == [f"terraform_data.{step_name}"]
    (connection,) = resources_of(synthesized, "google_service_networking_connection")
    assert set(connection["depends_on"]) == {
        f"terraform_data.{step_name}",
        f"google_project_iam_member.{grant_name}",
    }
