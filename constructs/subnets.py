"""Splits an environment's network range into the NET-1 subnet tiers, one subnet per zone.

The range is cut into sixteen equal blocks (a /16 gives /20s). Tier `t` takes blocks
`4t .. 4t+2` for zones a, b, c, so adding a zone never renumbers an existing subnet;
blocks that are no tier's zone slot are `spare`, for cloud-specific subnets (for example
Azure's gateway subnet).

Satisfies: NET-1
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

TIERS = ("public", "app", "data")
MAX_ZONES = 3


@dataclass(frozen=True)
class SubnetPlan:
    public: tuple[str, ...]
    app: tuple[str, ...]
    data: tuple[str, ...]
    spare: tuple[str, ...]


def plan_subnets(cidr: str, zones: int) -> SubnetPlan:
    """CIDRs of the public, app and data subnets of `zones` zones inside `cidr`."""
    if not 1 <= zones <= MAX_ZONES:
        raise ValueError(f"zones must be between 1 and {MAX_ZONES}, got {zones}")
    network = ipaddress.IPv4Network(cidr)
    blocks = [str(block) for block in network.subnets(prefixlen_diff=4)]
    tiers = {name: tuple(blocks[4 * t + z] for z in range(zones)) for t, name in enumerate(TIERS)}
    # Never a zone slot of a tier, so spare subnets stay put when zones are added.
    spare = tuple(block for i, block in enumerate(blocks) if i % 4 == MAX_ZONES or i >= 12)
    return SubnetPlan(**tiers, spare=spare)
