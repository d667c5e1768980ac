"""Builds CKV_GW_DEPLOY_60: every certificate a target proxy serves is issued before the proxy
uses it: a Certificate Manager certificate through its certificate map only after a step has
awaited its ACTIVE state, each of its domains authorized by a DNS authorization whose record
this stack writes; never a Google-managed Compute Engine certificate of this stack (DEPLOY-2).

- A Google-managed `google_compute_managed_ssl_certificate` provisions only once the load
  balancer serves it ("The provisioning process can complete only when the domain name for
  which the certificate is created points to a target pool which, itself, points at the
  certificate": the provider's google_compute_managed_ssl_certificate page). A new host or
  domain replaces it, and the proxy is moved to the new one while it is still PROVISIONING,
  so HTTPS fails for up to an hour after every such change. Nothing can be awaited first.
- A Certificate Manager certificate with DNS authorization is issued "in advance, before the
  target proxy is ready to serve network traffic"
  (https://cloud.google.com/certificate-manager/docs/domain-authorization), once each domain's
  authorization record (a CNAME `_acme-challenge.<domain>`: https://cloud.google.com/
  certificate-manager/docs/dns-authorizations) resolves. Terraform finishes creating it at
  once, PROVISIONING; only a step that polls `managed.state` until ACTIVE
  (https://cloud.google.com/certificate-manager/docs/reference/rest/v1/
  projects.locations.certificates) makes the map entry, and so the proxy, wait for issuance.
  The step must name the certificate and run again when it changes (`triggers_replace`).

So for every target HTTPS or SSL proxy: each certificate of each entry of its
`certificate_map` is awaited by a `terraform_data` step running `gcloud certificate-manager
certificates describe <that certificate> --format=value(managed.state)`, that step needs the
certificate and is re-triggered by it, the entry needs the step and the proxy needs the entry;
each domain of the certificate has a DNS authorization among its `dns_authorizations` whose
CNAME record this stack writes. An operator's certificate named by self link (already issued)
passes; a managed Compute Engine certificate of this stack fails.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

MAP_PREFIX = "//certificatemanager.googleapis.com/"
DESCRIBE = ["certificate-manager", "certificates", "describe"]
STATE = "--format=value(managed.state)"


def authorization_records(stack: Stack, authorization: str) -> list[str]:
    """The CNAME records of this stack that publish `authorization`'s dns_resource_record."""
    record = re.compile(rf"\$\{{{re.escape(authorization)}\.dns_resource_record\[0\]\.(\w+)\}}")
    found = []
    for address, body in stack.graph.of_type("google_dns_record_set").items():
        name = record.fullmatch(str(body.get("name")))
        data = [record.fullmatch(str(d)) for d in body.get("rrdatas") or []]
        if (
            body.get("type") == "CNAME"
            and name is not None
            and name.group(1) == "name"
            and len(data) == 1
            and data[0] is not None
            and data[0].group(1) == "data"
        ):
            found.append(address)
    return found


class CertificatesActiveBeforeServed(GroundworkCheck):
    id = "CKV_GW_DEPLOY_60"
    name = (
        "Every certificate a target proxy serves is awaited ACTIVE before the proxy uses it, "
        "each domain authorized by a DNS record this stack writes"
    )
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = ("google_compute_target_https_proxy", "google_compute_target_ssl_proxy")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        compute = stack.graph.of_type("google_compute_managed_ssl_certificate")
        for certificate in body.get("ssl_certificates") or []:
            if address_of(certificate) in compute:
                verdicts.append(
                    Verdict.failed(
                        f"serves {address_of(certificate)}, a Google-managed Compute Engine "
                        "certificate: it provisions only once served, so every change of its "
                        "domains serves a PROVISIONING certificate for up to an hour"
                    )
                )
        certificate_map = body.get("certificate_map")
        if certificate_map is not None:
            verdicts.append(self._map(stack, str(certificate_map)))
        return combine(verdicts or [Verdict.passed("serves no certificate of this stack")])

    def _map(self, stack: Stack, reference: str) -> Verdict:
        target = address_of(reference.removeprefix(MAP_PREFIX))
        if not reference.startswith(MAP_PREFIX) or target is None:
            return Verdict.unknown(f"certificate_map {reference} is not a map of this stack")
        entries = {
            a: b
            for a, b in stack.graph.of_type(
                "google_certificate_manager_certificate_map_entry"
            ).items()
            if address_of(b.get("map")) == target
        }
        if not entries:
            return Verdict.failed(f"{target} has no entry, so the proxy serves no certificate")
        verdicts = []
        for entry, body in sorted(entries.items()):
            if not stack.graph.needs(self.address, entry):
                verdicts.append(Verdict.failed(f"uses {target} before {entry} exists"))
            for certificate in body.get("certificates") or []:
                verdicts.append(self._certificate(stack, entry, address_of(certificate)))
        return combine(verdicts)

    def _certificate(self, stack: Stack, entry: str, certificate: str | None) -> Verdict:
        bodies = stack.graph.bodies
        if certificate is None or not certificate.startswith(
            "google_certificate_manager_certificate."
        ):
            return Verdict.unknown(f"{entry} serves a certificate this stack does not define")
        problems = []
        waits = [
            a
            for a in stack.graph.prerequisites(entry)
            if a.startswith("terraform_data.") and self._awaits(bodies[a], certificate)
        ]
        if not waits:
            problems.append(
                f"{entry} does not wait for a step that polls {certificate}'s managed.state "
                "until ACTIVE, so the proxy serves it while it is PROVISIONING"
            )
        for step in waits:
            if not stack.graph.needs(step, certificate):
                problems.append(f"{step} runs before {certificate} exists")
        body = bodies[certificate]
        for managed in blocks(body, "managed"):
            authorizations = {
                str(address_of(a)): a for a in managed.get("dns_authorizations") or []
            }
            for domain in managed.get("domains") or []:
                covering = [
                    a
                    for a in authorizations
                    if str(bodies.get(a, {}).get("domain", "")).rstrip(".")
                    == str(domain).rstrip(".")
                ]
                if not covering:
                    problems.append(f"{domain} has no DNS authorization of this certificate")
                elif not any(authorization_records(stack, a) for a in covering):
                    problems.append(
                        f"{domain}: no record of this stack publishes {covering[0]}'s CNAME, "
                        "so the certificate is never issued"
                    )
        if problems:
            return Verdict.failed(f"{certificate}: " + "; ".join(problems))
        return Verdict.passed(f"{certificate}: awaited ACTIVE by {waits[0]}")

    @staticmethod
    def _awaits(body: dict[str, Any], certificate: str) -> bool:
        """A step that describes `certificate`'s managed.state and runs again when it changes."""
        args = (body.get("input") or {}).get("gcloud") or []
        triggers = body.get("triggers_replace") or {}
        return (
            args[:3] == DESCRIBE
            and len(args) > 3
            and address_of(args[3]) == certificate
            and STATE in args
            and any(address_of(v) == certificate for v in triggers.values())
            and "ACTIVE" in str(body.get("provisioner"))
        )


check = CertificatesActiveBeforeServed()
