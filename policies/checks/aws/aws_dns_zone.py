"""Builds CKV_GW_DNS_1: the Route 53 zone is the environment's domain, points the domain at
the stack, and validates a DNS-validated ACM certificate for it (DNS-1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine, expect_equal


class DnsZone(GroundworkCheck):
    id = "CKV_GW_DNS_1"
    name = "Route 53 zone for the environment's domain validates its ACM certificate by DNS"
    requirement = "DNS-1"
    severity = "MEDIUM"
    resource_types = ("aws_route53_zone",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        domain = stack.config.domain
        verdicts = [expect_equal("name", str(body.get("name", "")).rstrip(".") or None, domain,
                                 "domain")]  # fmt: skip
        zone_id = "${" + self.address + ".zone_id}"
        records = {
            name: record
            for name, record in stack.resources("aws_route53_record").items()
            if record.get("zone_id") == zone_id
        }
        if not any(str(r.get("name", "")).rstrip(".") == domain for r in records.values()):
            verdicts.append(Verdict.failed(f"no record for {domain} in this zone"))
        certificates = [
            name
            for name, certificate in stack.resources("aws_acm_certificate").items()
            if certificate.get("domain_name") == domain
            and certificate.get("validation_method") == "DNS"
        ]
        if not certificates:
            verdicts.append(Verdict.failed(f"no DNS-validated ACM certificate for {domain}"))
        validated = [
            certificate
            for certificate in certificates
            for validation in stack.resources("aws_acm_certificate_validation").values()
            if address_of(validation.get("certificate_arn")) == f"aws_acm_certificate.{certificate}"
            and any(
                (address_of(fqdn) or "").split(".", 1)[-1] in records
                for fqdn in validation.get("validation_record_fqdns") or []
            )
        ]
        if certificates and not validated:
            verdicts.append(Verdict.failed("the certificate is not validated by this zone"))
        return combine(verdicts)


check = DnsZone()
