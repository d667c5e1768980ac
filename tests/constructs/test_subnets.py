"""The NET-1 subnet plan: three tiers per zone, disjoint, inside the network, stable."""

from __future__ import annotations

import ipaddress

import pytest
from constructs.subnets import plan_subnets
from hypothesis import given
from hypothesis import strategies as st


def test_production_plan_for_a_slash_16() -> None:
    plan = plan_subnets("10.30.0.0/16", 3)
    assert plan.public == ("10.30.0.0/20", "10.30.16.0/20", "10.30.32.0/20")
    assert plan.app == ("10.30.64.0/20", "10.30.80.0/20", "10.30.96.0/20")
    assert plan.data == ("10.30.128.0/20", "10.30.144.0/20", "10.30.160.0/20")


@pytest.mark.parametrize("zones", [0, 4])
def test_zone_count_is_bounded(zones: int) -> None:
    with pytest.raises(ValueError, match="zones must be between 1 and 3"):
        plan_subnets("10.0.0.0/16", zones)


@given(
    base=st.sampled_from(["10.0.0.0", "172.16.0.0", "192.168.0.0"]),
    prefix=st.integers(16, 20),
    zones=st.integers(1, 3),
)
def test_plan_is_disjoint_contained_and_stable_when_zones_grow(
    base: str, prefix: int, zones: int
) -> None:
    network = ipaddress.IPv4Network(f"{base}/{prefix}")
    plan = plan_subnets(str(network), zones)
    subnets = [*plan.public, *plan.app, *plan.data, *plan.spare]
    parsed = [ipaddress.IPv4Network(s) for s in subnets]
    assert all(subnet.subnet_of(network) for subnet in parsed)
    assert len(set(subnets)) == len(subnets)
    assert not any(a.overlaps(b) for i, a in enumerate(parsed) for b in parsed[i + 1 :])
    assert len(plan.public) == len(plan.app) == len(plan.data) == zones
    # Adding a zone appends subnets; existing ones and the spare blocks stay where they are.
    if zones < 3:
        bigger = plan_subnets(str(network), zones + 1)
        assert bigger.app[:zones] == plan.app and bigger.spare == plan.spare
