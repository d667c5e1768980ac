"""Builds CKV_GW_DEPLOY_57: every Google-managed certificate waits for DNS records that
resolve: each A record it relies on (a Certificate Manager certificate: each CNAME of its DNS
authorizations), and, where that record is in a zone this stack creates, the NS record that
delegates that zone from a zone that already resolves (DEPLOY-2).

A Certificate Manager certificate with DNS authorization is checked against
`_acme-challenge.<domain>` (https://cloud.google.com/certificate-manager/docs/
dns-authorizations); written into a zone nobody delegates to yet, the record resolves for
nobody and issuance waits or fails.

A Google-managed certificate starts provisioning when it is created and succeeds only once each
domain resolves publicly to the load balancer that serves it; once provisioning has failed for
good (PROVISIONING_FAILED_PERMANENTLY) it is never retried (the provider's
google_compute_managed_ssl_certificate page; Compute API `sslCertificates`, `managed.status`).
A record in a new zone resolves for nobody until the parent delegates to the zone (an NS record
of the zone's name whose data are its name servers: https://cloud.google.com/dns/docs/
dns-overview#delegation). So, for every record CKV_GW_DEPLOY_44 accepts for a domain, the
certificate depends on the record, and if the record's zone is created here, on a delegation
of that zone in a zone that resolves (an existing zone read as a data source, or one itself
delegated the same way). A stack zone nobody delegates to fails, as does a certificate that
starts before the delegation exists.
"""

import re
from typing import Any

from gcp_deploy_certificate_active import authorization_records
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine


def zone_of(reference: Any) -> str:
    """The zone a record's `managed_zone` refers to: `google_dns_managed_zone.X` or
    `data.google_dns_managed_zone.X` (address_of knows no data sources); "" otherwise."""
    match = re.fullmatch(r"\$\{((?:data\.)?google_dns_managed_zone\.[A-Za-z0-9_-]+)\.[^}]*\}",
                         str(reference))  # fmt: skip
    return match.group(1) if match else ""


def serving_addresses(stack: Stack, certificate: str) -> set[str]:
    """The global addresses of the forwarding rules whose HTTPS proxy serves `certificate`."""
    proxies = {
        a
        for a, b in stack.graph.of_type("google_compute_target_https_proxy").items()
        if any(address_of(c) == certificate for c in b.get("ssl_certificates") or [])
    }
    return {
        str(address_of(b.get("ip_address")))
        for b in stack.graph.of_type("google_compute_global_forwarding_rule").values()
        if address_of(b.get("target")) in proxies and address_of(b.get("ip_address"))
    }


def delegation(stack: Stack, zone: str, seen: frozenset[str] = frozenset()) -> list[str] | None:
    """The records that make `zone` (a zone address) resolve, in order from the resolving
    parent: [] for an existing zone (a data source), None if nothing delegates to it."""
    if zone.startswith("data.google_dns_managed_zone."):
        return []
    if not zone.startswith("google_dns_managed_zone.") or zone in seen:
        return None
    for address, record in stack.graph.of_type("google_dns_record_set").items():
        parent = zone_of(record.get("managed_zone"))
        if (
            record.get("type") == "NS"
            and parent
            and parent != zone
            and str(record.get("rrdatas")) == f"${{{zone}.name_servers}}"
            and str(record.get("name")) == f"${{{zone}.dns_name}}"
        ):
            above = delegation(stack, parent, seen | {zone})
            if above is not None:
                return [*above, address]
    return None


class CertificateWaitsForResolvingRecords(GroundworkCheck):
    id = "CKV_GW_DEPLOY_57"
    name = (
        "Every Google-managed certificate waits for its A records and for the delegation of "
        "any zone this stack creates for them"
    )
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = (
        "google_compute_managed_ssl_certificate",
        "google_certificate_manager_certificate",
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self.address.startswith("google_certificate_manager_certificate."):
            return self._authorized(body, stack)
        addresses = serving_addresses(stack, self.address)
        verdicts = []
        for managed in blocks(body, "managed"):
            for domain in managed.get("domains") or []:
                name = str(domain).rstrip(".")
                records = [
                    a
                    for a, r in stack.graph.of_type("google_dns_record_set").items()
                    if str(r.get("name", "")).rstrip(".") == name
                    and r.get("type") in ("A", "AAAA")
                    and any(address_of(d) in addresses for d in r.get("rrdatas") or [])
                ]
                if not records:
                    continue  # CKV_GW_DEPLOY_44 fails a domain with no record
                verdicts.append(self._waits(stack, name, records))
        return combine(verdicts or [Verdict.passed("no record of this stack to wait for")])

    def _authorized(self, body: dict[str, Any], stack: Stack) -> Verdict:
        """A DNS-authorized certificate relies on each authorization's CNAME record."""
        verdicts = []
        for managed in blocks(body, "managed"):
            for reference in managed.get("dns_authorizations") or []:
                authorization = str(address_of(reference))
                domain = str(stack.graph.bodies.get(authorization, {}).get("domain", ""))
                records = authorization_records(stack, authorization)
                if records:  # CKV_GW_DEPLOY_60 fails an authorization nobody publishes
                    verdicts.append(self._waits(stack, domain.rstrip("."), records))
        return combine(verdicts or [Verdict.passed("no record of this stack to wait for")])

    def _waits(self, stack: Stack, name: str, records: list[str]) -> Verdict:
        problems = []
        for record in records:
            zone = zone_of(stack.graph.bodies[record].get("managed_zone"))
            chain = delegation(stack, zone)
            if chain is None:
                problems.append(f"{record} is in {zone}, which no resolving zone delegates to")
                continue
            for needed in (*chain, record):
                if not stack.graph.needs(self.address, needed):
                    problems.append(f"starts before {needed} exists")
        if problems:
            return Verdict.failed(f"{name}: " + "; ".join(problems))
        return Verdict.passed(f"{name}: waits for records that resolve")


check = CertificateWaitsForResolvingRecords()
