"""Builds CKV_GW_DNS_70: the Azure DNS zone is the environment's domain, validates Front
Door's managed certificate for it and points the domain at Front Door (DNS-1).

Application Gateway cannot obtain a managed certificate, so on Azure DNS-1 is Front Door's
(synth.config `azure_edge_problems`): the zone `domain` holds the `_dnsauth` TXT record with
the custom domain's validation token ("Configure a custom domain on Azure Front Door",
https://learn.microsoft.com/azure/frontdoor/standard-premium/how-to-add-custom-domain), the
custom domain `domain` takes a ManagedCertificate with TLS 1.2 minimum and names the zone,
an alias A record at the apex aims at the Front Door endpoint that serves the domain (a
CNAME cannot sit at a zone apex), and the stack outputs the zone's name servers for the
delegation from the parent zone.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

VALIDATION_RECORD = "_dnsauth"


def record_name(host: str, zone: str) -> str | None:
    """The relative record name of `host` in `zone` (`@` for the apex), None outside it."""
    if host == zone:
        return "@"
    return host.removesuffix(f".{zone}") if host.endswith(f".{zone}") else None


class AzureDnsZone(GroundworkCheck):
    id = "CKV_GW_DNS_70"
    name = "Azure DNS zone for the domain validates Front Door's managed certificate"
    requirement = "DNS-1"
    severity = "MEDIUM"
    resource_types = ("azurerm_dns_zone",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        domain = stack.config.domain
        zone = str(body.get("name", "")).rstrip(".")
        if zone != domain:
            return Verdict.failed(f"zone {zone!r} is not the domain {domain!r}")
        verdicts = []
        in_zone = f"${{{self.address}.name}}"
        domains = [
            f"azurerm_cdn_frontdoor_custom_domain.{name}"
            for name, custom in stack.resources("azurerm_cdn_frontdoor_custom_domain").items()
            if custom.get("host_name") == domain
            and address_of(custom.get("dns_zone_id")) == self.address
            and any(
                tls.get("certificate_type") == "ManagedCertificate"
                and tls.get("minimum_tls_version") == "TLS12"
                for tls in blocks(custom, "tls")
            )
        ]
        if not domains:
            verdicts.append(Verdict.failed(
                f"no Front Door custom domain {domain} in this zone with a ManagedCertificate "
                "and TLS 1.2 minimum"
            ))  # fmt: skip
        tokens = {f"${{{d}.validation_token}}" for d in domains}
        validation = record_name(f"{VALIDATION_RECORD}.{domain}", zone)
        if not any(
            txt.get("zone_name") == in_zone
            and txt.get("name") == validation
            and any(r.get("value") in tokens for r in blocks(txt, "record"))
            for txt in stack.resources("azurerm_dns_txt_record").values()
        ):
            verdicts.append(Verdict.failed(
                f"no TXT {validation} in this zone carries the custom domain's validation token"
            ))  # fmt: skip
        endpoints = {
            address_of(route.get("cdn_frontdoor_endpoint_id"))
            for route in stack.resources("azurerm_cdn_frontdoor_route").values()
            if {address_of(d) for d in route.get("cdn_frontdoor_custom_domain_ids") or []}
            & set(domains)
        }
        if not any(
            record.get("zone_name") == in_zone
            and record.get("name") == "@"
            and address_of(record.get("target_resource_id")) in endpoints
            for record in stack.resources("azurerm_dns_a_record").values()
        ):
            verdicts.append(Verdict.failed(
                f"no alias A record at {domain} aims at the Front Door endpoint that serves it"
            ))  # fmt: skip
        servers = f"{self.address}.name_servers"
        if not any(
            servers in str(output.get("value", ""))
            for output in stack.document.get("output", {}).values()
        ):
            verdicts.append(Verdict.failed("no output hands over the zone's name servers"))
        return combine(verdicts) if verdicts else Verdict.passed(f"zone {domain} validates it")


check = AzureDnsZone()
