"""Builds CKV_GW_DEPLOY_100: every step of a DNSSEC chain of trust comes after the one it
rests on (DEPLOY-2): signing after an active key-signing key of the zone, and every record
of the parent zone that sends resolvers to a signed zone (its NS delegation, its DS record)
after the signing; the DS record also after a wait and after its delegation.

- Route 53 enables signing only for a zone with an active KSK (the provider's example makes
  `aws_route53_hosted_zone_dnssec` depend on the `aws_route53_key_signing_key`,
  https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/route53_hosted_zone_dnssec);
  created in parallel, EnableHostedZoneDNSSEC fails with KeySigningKeyWithActiveStatusNotFound
  (https://docs.aws.amazon.com/Route53/latest/APIReference/API_EnableHostedZoneDNSSEC.html).
- "Enabling DNSSEC signing and establishing a chain of trust"
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-configuring-dnssec-enable-signing.html):
  sign first, wait at least the zone's maximum TTL, then add the DS record to the parent. A DS
  record published before the zone's answers are signed (or while resolvers still hold unsigned
  answers) makes every validating resolver answer SERVFAIL for the whole domain: the apply
  succeeds and the app is unreachable. So a DS record that carries a KSK's `ds_record` must
  need that zone's `aws_route53_hosted_zone_dnssec` through a `time_sleep` that itself needs
  the signing, and the parent's NS record of the same name (a DS record sits at a delegation).
  The wait also holds on destroy (`destroy_duration` at least the DS record's TTL): the DS
  record goes first, and signing may stop only once resolvers dropped it ("Disabling DNSSEC
  signing", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-configuring-dnssec-disable.html;
  Route 53 refuses earlier with KeySigningKeyInParentDSRecord, terraform-provider-aws PR #19875).
- A delegation (NS record in another zone whose records are a signed zone's name servers)
  waits for the signing, so no resolver can cache the new zone's answers unsigned before it is
  signed (constructs/aws/dns.py).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

KSK = "aws_route53_key_signing_key"
SIGNING = "aws_route53_hosted_zone_dnssec"
SLEEP = "time_sleep"


def _seconds(duration: Any) -> int:
    """A time_sleep duration ("90s", "10m", "1h") in seconds; 0 when unset or unreadable."""
    text = str(duration or "")
    units = {"s": 1, "m": 60, "h": 3600}
    if len(text) > 1 and text[-1] in units and text[:-1].isdigit():
        return int(text[:-1]) * units[text[-1]]
    return 0


def _zone_of(stack: Stack, value: Any) -> str | None:
    """The `aws_route53_zone` a hosted_zone_id names, directly or through a KSK's."""
    address = address_of(value)
    if address is None:
        return None
    if address.startswith("aws_route53_zone."):
        return address
    if address.startswith(f"{KSK}."):
        return address_of((stack.graph.bodies.get(address) or {}).get("hosted_zone_id"))
    return None


def _signings(stack: Stack, zone: str) -> list[str]:
    return [
        address
        for address, body in stack.graph.of_type(SIGNING).items()
        if _zone_of(stack, body.get("hosted_zone_id")) == zone
        and body.get("signing_status", "SIGNING") == "SIGNING"
    ]


class DnssecChainOrder(GroundworkCheck):
    id = "CKV_GW_DEPLOY_100"
    name = "DNSSEC: signing after an active KSK, delegation and DS record after signing"
    requirement = "DEPLOY-2"
    severity = "CRITICAL"
    resource_types = (SIGNING, "aws_route53_record")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == SIGNING:
            return self._signing(body, stack)
        kind = body.get("type")
        if kind == "DS":
            return self._ds(body, stack)
        if kind == "NS":
            return self._delegation(body, stack)
        return Verdict.passed(f"a {kind} record: no part of a chain of trust")

    def _signing(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("signing_status", "SIGNING") != "SIGNING":
            return Verdict.passed("signing is off")
        zone = _zone_of(stack, body.get("hosted_zone_id"))
        if zone is None:
            return Verdict.unknown("signs a zone this stack does not create")
        keys = [
            address
            for address, ksk in stack.graph.of_type(KSK).items()
            if _zone_of(stack, ksk.get("hosted_zone_id")) == zone
            and ksk.get("status", "ACTIVE") == "ACTIVE"
        ]
        if not keys:
            return Verdict.failed(f"no active key-signing key of {zone} in this stack")
        if not any(stack.graph.needs(self.address, key) for key in keys):
            return Verdict.failed(f"does not wait for its key-signing key ({', '.join(keys)})")
        return Verdict.passed(f"signs {zone} after its key-signing key")

    def _ds(self, body: dict[str, Any], stack: Stack) -> Verdict:
        keys = [
            address
            for record in body.get("records") or []
            if (address := address_of(record)) is not None and address.startswith(f"{KSK}.")
        ]
        if not keys:
            return Verdict.unknown("a DS record of no key-signing key of this stack")
        graph = stack.graph
        verdicts = []
        for key in keys:
            zone = _zone_of(stack, (graph.bodies.get(key) or {}).get("hosted_zone_id"))
            signings = _signings(stack, zone) if zone else []
            if not signings:
                verdicts.append(Verdict.failed(f"{zone or key} is never signed in this stack"))
                continue
            for signing in signings:
                if not graph.needs(self.address, signing):
                    verdicts.append(Verdict.failed(f"published before {signing} signs the zone"))
                    continue
                waits = [
                    sleep
                    for sleep in graph.of_type(SLEEP)
                    if graph.needs(self.address, sleep) and graph.needs(sleep, signing)
                ]
                if not waits:
                    verdicts.append(
                        Verdict.failed(
                            f"follows {signing} without a wait: resolvers may still hold the "
                            "zone's unsigned answers"
                        )
                    )
                    continue
                ttl = int(body.get("ttl") or 0)
                if not any(
                    _seconds((graph.bodies.get(w) or {}).get("destroy_duration")) >= ttl
                    for w in waits
                ):
                    verdicts.append(
                        Verdict.failed(
                            f"no wait of at least the DS TTL ({ttl} s) between its removal and "
                            f"{signing}'s: on destroy signing would stop while resolvers hold the "
                            "DS (KeySigningKeyInParentDSRecord)"
                        )
                    )
        name = str(body.get("name", "")).rstrip(".")
        delegations = [
            address
            for address, record in graph.of_type("aws_route53_record").items()
            if record.get("type") == "NS"
            and record.get("zone_id") == body.get("zone_id")
            and str(record.get("name", "")).rstrip(".") == name
        ]
        if delegations and not any(graph.needs(self.address, d) for d in delegations):
            verdicts.append(Verdict.failed(f"published before its delegation {delegations[0]}"))
        return combine(verdicts) if verdicts else Verdict.passed("published after signing, waited")

    def _delegation(self, body: dict[str, Any], stack: Stack) -> Verdict:
        zone = address_of(body.get("records"))
        if zone is None or not zone.startswith("aws_route53_zone."):
            return Verdict.passed("not a delegation to a zone of this stack")
        if address_of(body.get("zone_id")) == zone:
            return Verdict.passed("the zone's own NS record")
        signings = _signings(stack, zone)
        if not signings:
            return Verdict.passed(f"delegates to {zone}, which this stack does not sign")
        missing = [s for s in signings if not stack.graph.needs(self.address, s)]
        if missing:
            return Verdict.failed(f"delegates to {zone} before {missing[0]} signs it")
        return Verdict.passed(f"delegates to {zone} once it is signed")


check = DnssecChainOrder()
