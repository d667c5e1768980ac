"""Builds CKV_GW_NET_42: the app reaches the database and the cache on NET-3's ports (app ->
database 5432, app -> cache 6379), or the rule says why not (NET-3).

On GCP the right ports differ from NET-3's letter: a Cloud SQL connector (the Auth Proxy)
reaches the instance's server-side proxy on 3307 and never on 5432
(https://cloud.google.com/sql/docs/postgres/sql-proxy, "How the Cloud SQL Auth Proxy
works"), and Memorystore for Redis with in-transit encryption serves on 6378
(https://cloud.google.com/memorystore/docs/redis/in-transit-encryption). A rule opening them
fails here with that said, and the construct that writes it waives this check with the
reason (constructs/gcp/network.py), so NET-3 reports waived, never a silent pass. Whether a
rule is on the whitelist at all (ports, peers, targets) is CKV_GW_NET_41's, which such a
waiver does not touch.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

# The data paths' GCP ports -> NET-3's port for the same path and why they differ.
OFF_LETTER = {
    "3307": "3307 (Cloud SQL connectors to the server-side proxy) is not NET-3's 5432",
    "6378": "6378 (Memorystore with TLS) is not NET-3's 6379",
}


class FirewallDataPorts(GroundworkCheck):
    id = "CKV_GW_NET_42"
    name = "The app reaches the database on 5432 and the cache on 6379 (NET-3's ports)"
    requirement = "NET-3"
    severity = "LOW"
    resource_types = ("google_compute_firewall",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        ports = {str(p) for a in blocks(body, "allow") for p in (a.get("ports") or [])}
        off = [Verdict.failed(OFF_LETTER[p]) for p in sorted(ports) if p in OFF_LETTER]
        return combine(off or [Verdict.passed("opens no database or cache port but NET-3's")])


check = FirewallDataPorts()
