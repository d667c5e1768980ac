"""Network: VPC tiers, NAT per config, whitelisted security groups, flow logs (NET-1..4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs.aws.network import Network
from constructs.subnets import plan_subnets
from matrix import resources_of

from synth.config import EnvironmentConfig, load_environment

ROOT = Path(__file__).resolve().parents[3]
LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/logs"


def synth(env: str) -> tuple[EnvironmentConfig, str]:
    config = load_environment(ROOT / "environments" / f"{env}.yaml")
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    Network(stack, "network", config=config, log_kms_key_arn=LOG_KEY)
    return config, CdktfTesting.synth(stack)


@pytest.fixture(scope="module")
def dev() -> tuple[EnvironmentConfig, str]:
    return synth("dev")


@pytest.fixture(scope="module")
def production() -> tuple[EnvironmentConfig, str]:
    return synth("production")


def parsed(synthesized: tuple[EnvironmentConfig, str]) -> dict[str, Any]:
    return json.loads(synthesized[1])


@pytest.mark.parametrize("env", ["dev", "production"])
def test_subnet_tiers_follow_the_plan_in_every_zone_net_1(
    env: str, dev: tuple[EnvironmentConfig, str], production: tuple[EnvironmentConfig, str]
) -> None:
    config, _ = synthesized = {"dev": dev, "production": production}[env]
    stack = parsed(synthesized)
    plan = plan_subnets(config.network.cidr, config.network.zones)
    [vpc] = resources_of(stack, "aws_vpc")
    assert vpc["cidr_block"] == config.network.cidr
    subnets = resources_of(stack, "aws_subnet")
    by_tier = {
        tier: sorted(s["cidr_block"] for s in subnets if s["tags"]["tier"] == tier)
        for tier in ("public", "app", "data")
    }
    assert by_tier == {
        "public": sorted(plan.public),
        "app": sorted(plan.app),
        "data": sorted(plan.data),
    }
    assert not any(s["map_public_ip_on_launch"] for s in subnets)


def test_one_shared_nat_in_dev_one_per_zone_in_production_net_1(
    dev: tuple[EnvironmentConfig, str], production: tuple[EnvironmentConfig, str]
) -> None:
    assert len(resources_of(parsed(dev), "aws_nat_gateway")) == 1
    assert len(resources_of(parsed(production), "aws_nat_gateway")) == 3
    # Each production zone's app subnet routes through its own NAT.
    routes = [r for r in resources_of(parsed(production), "aws_route") if "nat_gateway_id" in r]
    assert len({r["nat_gateway_id"] for r in routes}) == 3


def test_data_subnets_have_no_route_off_the_vpc_net_2(
    production: tuple[EnvironmentConfig, str],
) -> None:
    stack = parsed(production)
    tables = stack["resource"]["aws_route_table"]
    [data_table] = [name for name, t in tables.items() if t["tags"]["Name"].endswith("-data")]
    routes = resources_of(stack, "aws_route")
    assert not [r for r in routes if data_table in r["route_table_id"]]
    assert len(routes) == 1 + 3  # internet gateway for public, one NAT route per zone


def rules(stack: dict[str, Any]) -> set[tuple[str, str, int, str]]:
    """(group, direction, port, peer) for every rule; peers by security-group name."""
    groups = {
        f"${{aws_security_group.{key}.id}}": sg["name"].removeprefix("groundwork-dev-")
        for key, sg in stack["resource"]["aws_security_group"].items()
    }
    found = set()
    for direction, kind in (("in", "ingress"), ("out", "egress")):
        for rule in resources_of(stack, f"aws_vpc_security_group_{kind}_rule"):
            assert rule["from_port"] == rule["to_port"], "no port ranges"
            assert rule["ip_protocol"] == "tcp", "no all-protocol rules"
            assert rule["description"]
            peer = rule.get("cidr_ipv4") or groups[rule["referenced_security_group_id"]]
            found.add((groups[rule["security_group_id"]], direction, rule["from_port"], peer))
    return found


def test_security_groups_whitelist_exactly_the_tier_flows_net_3(
    dev: tuple[EnvironmentConfig, str],
) -> None:
    config, _ = dev
    port = config.service.port
    assert rules(parsed(dev)) == {
        ("alb", "in", 443, "0.0.0.0/0"),
        ("alb", "in", 80, "0.0.0.0/0"),
        ("alb", "out", port, "app"),
        ("app", "in", port, "alb"),
        ("app", "out", 443, "0.0.0.0/0"),
        ("app", "out", 5432, "database"),
        ("app", "out", 6379, "cache"),
        ("database", "in", 5432, "app"),
        ("database", "in", 5432, "database"),
        ("database", "out", 5432, "database"),
        ("cache", "in", 6379, "app"),
    }
    [default] = resources_of(parsed(dev), "aws_default_security_group")
    assert "ingress" not in default and "egress" not in default
    assert not any(
        "ingress" in sg or "egress" in sg for sg in resources_of(parsed(dev), "aws_security_group")
    )


@pytest.mark.parametrize(("env", "days"), [("dev", 30), ("production", 90)])
def test_flow_logs_capture_all_traffic_encrypted_for_the_retention_net_4(
    env: str,
    days: int,
    dev: tuple[EnvironmentConfig, str],
    production: tuple[EnvironmentConfig, str],
) -> None:
    synthesized = {"dev": dev, "production": production}[env][1]
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized,
        FlowLog.TF_RESOURCE_TYPE,
        {"traffic_type": "ALL", "log_destination_type": "cloud-watch-logs"},
    )
    [group] = resources_of(json.loads(synthesized), "aws_cloudwatch_log_group")
    assert group["retention_in_days"] == days
    assert group["kms_key_id"] == LOG_KEY
    [policy] = resources_of(json.loads(synthesized), "aws_iam_role_policy")
    for statement in json.loads(policy["policy"])["Statement"]:
        assert all("*" not in action for action in statement["Action"])
        assert "*" not in statement["Resource"]
