"""Builds the one answer to "does this set of sources mean the internet?" for NET-3.

Used by the synth-time guards (synth/guards.py) and the NET-3 policies of every cloud, so that
`0.0.0.0/0` written as `0.0.0.0/1` + `128.0.0.0/1` (or `::/0` as `::/1` + `8000::/1`, or a
non-canonical `10.0.0.0/0`, which AWS and GCP read as /0) is the internet everywhere.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

# Azure NSG service tags and wildcards that stand for every address
# (https://learn.microsoft.com/en-us/azure/virtual-network/service-tags-overview: "Internet";
# "*" and "Any" match all sources in a security rule).
INTERNET_WORDS = frozenset({"*", "any", "internet"})


def _networks(
    sources: Iterable[Any],
) -> tuple[list[ipaddress.IPv4Network], list[ipaddress.IPv6Network]]:
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for source in sources:
        if source is None:
            continue
        try:
            network = ipaddress.ip_network(str(source).strip(), strict=False)
        except ValueError:
            continue  # a reference, a service tag or a security group: not an address range
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        else:
            v6.append(network)
    return v4, v6


def covers_internet(sources: Iterable[Any]) -> bool:
    """Whether the sources, taken together, admit every IPv4 or every IPv6 address."""
    sources = list(sources)
    if any(str(source).strip().lower() in INTERNET_WORDS for source in sources if source):
        return True
    v4, v6 = _networks(sources)
    return any(n.prefixlen == 0 for n in ipaddress.collapse_addresses(v4)) or any(
        n.prefixlen == 0 for n in ipaddress.collapse_addresses(v6)
    )


def internet_with(own: Iterable[Any], peers: Iterable[Any]) -> bool:
    """Whether a rule admits the internet once the ranges of its peer rules (same group, same
    ports) are added: its own sources cover it, or it holds a public range that, with the
    peers', does. A rule of private ranges only is never the one to blame."""
    own = list(own)
    if covers_internet(own):
        return True
    v4, v6 = _networks(own)
    public = any(not n.is_private for n in v4) or any(not n.is_private for n in v6)
    return public and covers_internet([*own, *peers])
