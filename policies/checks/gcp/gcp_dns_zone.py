"""Builds CKV_GW_DNS_40: the environment's Cloud DNS zone is public, for its domain,
DNSSEC-signed, delegated from a parent zone, points the domain at the load balancer, and a
Google-managed certificate for the domain is served (DNS-1).

- Public and `dns_name` = `<domain>.`; a private zone answers only inside VPC networks.
- DNSSEC `state = "on"` with no RSASHA1 key (https://cloud.google.com/dns/docs/dnssec-config;
  Checkov's CKV_GCP_16 / CKV_GCP_17 judge the same on their own).
- Delegated: an NS record named the zone's DNS name, whose data are this zone's
  `name_servers`, in another zone (https://cloud.google.com/dns/docs/dns-overview#delegation);
  without it no public resolver finds the zone's records.
- An A record of the domain in this zone, and a managed certificate for the domain that an
  HTTPS proxy serves (directly, or through the entries of its Certificate Manager map).
The zone exists only with `features.dns_enabled`, so without it DNS-1 is n/a, never pass.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine


def _name(value: Any, stack: Stack) -> str:
    """A DNS name, through a reference to a zone's `dns_name` where it is one."""
    target = address_of(value)
    if target and str(value).endswith(".dns_name}"):
        return str(stack.graph.bodies.get(target, {}).get("dns_name", "")).rstrip(".")
    return str(value or "").rstrip(".")


def names(managed: dict[str, Any]) -> list[Any]:
    return managed.get("domains") or []


def served_certificates(stack: Stack) -> set[str]:
    """The certificates an HTTPS proxy serves: its `ssl_certificates`, and the certificates of
    the entries of its `certificate_map` (`//certificatemanager.googleapis.com/${map.id}`)."""
    proxies = stack.graph.of_type("google_compute_target_https_proxy").values()
    maps = {
        address_of(
            str(p.get("certificate_map")).removeprefix("//certificatemanager.googleapis.com/")
        )
        for p in proxies
        if p.get("certificate_map")
    }
    entries = stack.graph.of_type("google_certificate_manager_certificate_map_entry").values()
    return {str(address_of(c)) for p in proxies for c in p.get("ssl_certificates") or []} | {
        str(address_of(c))
        for e in entries
        if address_of(e.get("map")) in maps
        for c in e.get("certificates") or []
    }


class EnvironmentZone(GroundworkCheck):
    id = "CKV_GW_DNS_40"
    name = (
        "The environment's public, DNSSEC-signed Cloud DNS zone is delegated from its parent, "
        "points the domain at the load balancer, and a managed certificate serves the domain"
    )
    requirement = "DNS-1"
    severity = "MEDIUM"
    resource_types = ("google_dns_managed_zone",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        domain = stack.config.domain
        verdicts = []
        if str(body.get("dns_name", "")).rstrip(".") != domain:
            verdicts.append(Verdict.failed(f"dns_name {body.get('dns_name')!r} is not {domain}."))
        if body.get("visibility", "public") != "public":
            verdicts.append(Verdict.failed(f"visibility {body.get('visibility')!r}: not public"))
        dnssec = (blocks(body, "dnssec_config") or [{}])[0]
        if dnssec.get("state") != "on":
            verdicts.append(Verdict.failed(f"DNSSEC state {dnssec.get('state')!r}, not on"))
        if any(
            str(spec.get("algorithm", "")).lower() == "rsasha1"
            for spec in blocks(dnssec, "default_key_specs")
        ):
            verdicts.append(Verdict.failed("a DNSSEC key uses RSASHA1"))
        mine = f"${{{self.address}."
        records = stack.graph.of_type("google_dns_record_set")
        delegated = [
            a
            for a, r in records.items()
            if r.get("type") == "NS"
            and not str(r.get("managed_zone", "")).startswith(mine)
            and _name(r.get("name"), stack) == domain
            and str(r.get("rrdatas")) == f"{mine}name_servers}}"
        ]
        if not delegated:
            verdicts.append(
                Verdict.failed(
                    "no NS record in a parent zone delegates to this zone's name servers"
                )
            )
        if not any(
            r.get("type") in ("A", "AAAA")
            and str(r.get("managed_zone", "")).startswith(mine)
            and _name(r.get("name"), stack) == domain
            for r in records.values()
        ):
            verdicts.append(Verdict.failed(f"no A record for {domain} in this zone"))
        served = served_certificates(stack)
        certificates = {
            **stack.graph.of_type("google_compute_managed_ssl_certificate"),
            **stack.graph.of_type("google_certificate_manager_certificate"),
        }
        if not any(
            domain in {str(d).rstrip(".") for m in blocks(c, "managed") for d in names(m)}
            and a in served
            for a, c in certificates.items()
        ):
            verdicts.append(Verdict.failed(f"no Google-managed certificate for {domain} is served"))
        return combine(verdicts or [Verdict.passed(f"{domain}: zone, delegation, certificate")])


check = EnvironmentZone()
