"""Builds CKV_GW_DEPLOY_44: whatever a resource reads when it first starts exists by then:
Cloud Run's image, each secret version it reads, each CMEK key's first version, each
Google-managed certificate's DNS record (DEPLOY-5).

- A revision whose image lives in an Artifact Registry repository created in the same apply
  cannot start: the repository is empty until a pipeline pushes, and the pipeline runs after
  the apply (https://cloud.google.com/run/docs/deploying#service).
- `secret_key_ref` with `version = "latest"` fails the revision while the secret has no
  version (terraform-provider-google#10846): the service must wait for a
  `google_secret_manager_secret_version` of that secret or for the step that writes one (the
  rotator's first run: a `terraform_data` running the job whose command adds the version),
  or be an external secret its operator has given a value: `secret-kind: external` and
  `value-set: "true"`, the label the stack writes from the entry's `value_set` once the
  operator has run `gcloud secrets versions add` (README, "GCP: the app description"). The
  label is the operator's word, not a fact (a fresh project, a re-created secret, a copied
  environment file), so the reader must also depend on the step that runs `gcloud secrets
  versions describe latest --secret=<it> --format=value(state)` and fails the apply unless it
  is ENABLED, before the service is created or updated (constructs/gcp/secrets.py,
  `_value_check`). An external secret without that label is read by nobody.
- A crypto key created with `skip_initial_version_creation` (or `import_only`) has no
  version to encrypt with until someone imports one
  (https://cloud.google.com/kms/docs/create-key).
- A Google-managed certificate provisions only once each of its domains resolves to the load
  balancer that serves it ("The provisioning process can complete only when the domain name
  for which the certificate is created points to a target pool which, itself, points at the
  certificate": the provider's google_compute_managed_ssl_certificate page), and a
  certificate in PROVISIONING_FAILED_PERMANENTLY is never retried (Compute API
  `sslCertificates`, `managed.status`). Every managed certificate's domain therefore has an
  A/AAAA record in this stack whose data is the address of a forwarding rule whose HTTPS
  proxy serves that certificate; an "operator will point DNS" output does not count.
  A Certificate Manager certificate is issued through DNS authorization instead
  (CKV_GW_DEPLOY_60), but its domains are what the site is reached by: they too resolve, by a
  record of this stack, to the load balancer whose proxy serves it through its map.
"""

import re
from typing import Any

from gcp_deploy_refs import secret_address
from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    strings_in,
)

REGISTRY_IMAGE = re.compile(r"[a-z0-9-]+-docker\.pkg\.dev/[^/]+/([^/]+)/")


def containers(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for template in blocks(body, "template"):
        found += blocks(template, "containers")
        for inner in blocks(template, "template"):  # Cloud Run jobs nest one more level
            found += blocks(inner, "containers")
    return found


def writes_version(stack: Stack, before: frozenset[str], secret: str) -> bool:
    """Whether something `before` the resource gives `secret` a version."""
    secret_id = str(stack.graph.bodies.get(secret, {}).get("secret_id", "\0"))
    for address in before:
        body = stack.graph.bodies.get(address, {})
        kind = address.rsplit(".", 1)[0]
        if kind == "google_secret_manager_secret_version":
            if address_of(body.get("secret")) == secret:
                return True
        elif kind == "terraform_data":
            args = (body.get("input") or {}).get("gcloud") or []
            if args[:3] != ["run", "jobs", "execute"]:
                continue
            for job in stack.graph.prerequisites(address):
                if job.startswith("google_cloud_run_v2_job."):
                    # the strings themselves: a repr would escape the quotes around the ID
                    commands = " ".join(strings_in(containers(stack.graph.bodies[job])))
                    target = rf"(\$\{{{re.escape(secret)}\.secret_id\}}|{re.escape(secret_id)})"
                    if re.search(rf"versions add '?{target}'? ", commands):
                        return True
    return False


def set_by_operator(stack: Stack, secret: str) -> bool:
    """An external secret whose labels say the operator has added its value."""
    labels = stack.graph.bodies.get(secret, {}).get("labels") or {}
    return labels.get("secret-kind") == "external" and labels.get("value-set") == "true"


def checks_value(stack: Stack, before: frozenset[str], secret: str) -> bool:
    """Whether a step `before` the resource finds `secret`'s latest version ENABLED
    (constructs/gcp/secrets.py, `_value_check`): `gcloud secrets versions describe latest
    --secret=<it> --format=value(state)`, which fails the apply otherwise."""
    for address in before:
        if not address.startswith("terraform_data."):
            continue
        args = (stack.graph.bodies.get(address, {}).get("input") or {}).get("gcloud") or []
        if args[:4] != ["secrets", "versions", "describe", "latest"]:
            continue
        named = [a.split("=", 1)[1] for a in args if str(a).startswith("--secret=")]
        if "--format=value(state)" in args and any(
            secret_address(stack, n) == secret for n in named
        ):
            return True
    return False


def serving_addresses(stack: Stack, certificate: str) -> set[str]:
    """The global addresses of the forwarding rules whose HTTPS proxy serves `certificate`:
    in its `ssl_certificates`, or in an entry of its certificate map."""
    maps = {
        address_of(b.get("map"))
        for b in stack.graph.of_type("google_certificate_manager_certificate_map_entry").values()
        if any(address_of(c) == certificate for c in b.get("certificates") or [])
    }
    proxies = {
        a
        for a, b in stack.graph.of_type("google_compute_target_https_proxy").items()
        if any(address_of(c) == certificate for c in b.get("ssl_certificates") or [])
        or (
            b.get("certificate_map")
            and address_of(
                str(b["certificate_map"]).removeprefix("//certificatemanager.googleapis.com/")
            )
            in maps
        )
    }
    return {
        str(address_of(b.get("ip_address")))
        for b in stack.graph.of_type("google_compute_global_forwarding_rule").values()
        if address_of(b.get("target")) in proxies and address_of(b.get("ip_address"))
    }


def certificate_records(stack: Stack, certificate: str, body: dict[str, Any]) -> Verdict:
    """Every domain of a managed certificate resolves, by a record of this stack, to an
    address whose forwarding rule serves the certificate."""
    addresses = serving_addresses(stack, certificate)
    if not addresses:
        return Verdict.failed("no HTTPS proxy behind a forwarding rule serves the certificate")
    records = stack.graph.of_type("google_dns_record_set").values()
    verdicts = []
    for managed in blocks(body, "managed"):
        for domain in managed.get("domains") or []:
            name = str(domain).rstrip(".")
            if any(
                str(r.get("name", "")).rstrip(".") == name
                and r.get("type") in ("A", "AAAA")
                and any(address_of(d) in addresses for d in r.get("rrdatas") or [])
                for r in records
            ):
                verdicts.append(Verdict.passed(f"{name} resolves to the load balancer"))
            else:
                verdicts.append(
                    Verdict.failed(
                        f"{name}: no record of this stack points it at the load balancer that "
                        "serves the certificate, so "
                        + (
                            "nobody reaches the site"
                            if certificate.startswith("google_certificate_manager_certificate.")
                            else "it never provisions"
                        )
                    )
                )
    return combine(verdicts or [Verdict.failed("the certificate names no domain")])


class FirstStartHasItsInputs(GroundworkCheck):
    id = "CKV_GW_DEPLOY_44"
    name = (
        "A first revision's image, secret versions and keys exist when it starts, and a "
        "managed certificate's domain resolves to its load balancer"
    )
    requirement = "DEPLOY-5"
    severity = "HIGH"
    resource_types = (
        "google_cloud_run_v2_service",
        "google_cloud_run_v2_job",
        "google_kms_crypto_key",
        "google_compute_managed_ssl_certificate",
        "google_certificate_manager_certificate",
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "google_kms_crypto_key":
            if body.get("skip_initial_version_creation") or body.get("import_only"):
                return Verdict.failed("the key has no first version to encrypt with")
            return Verdict.passed("Cloud KMS creates the key's first version")
        if self._address[0] in (
            "google_compute_managed_ssl_certificate",
            "google_certificate_manager_certificate",
        ):
            return certificate_records(stack, self.address, body)
        repositories = {
            b.get("repository_id")
            for b in stack.graph.of_type("google_artifact_registry_repository").values()
        }
        before = stack.graph.prerequisites(self.address)
        verdicts = []
        for container in containers(body):
            image = str(container.get("image", ""))
            match = REGISTRY_IMAGE.match(image)
            if "google_artifact_registry_repository." in image or (
                match and match.group(1) in repositories
            ):
                verdicts.append(
                    Verdict.failed(f"image {image} is in a registry this apply creates empty")
                )
            for env in blocks(container, "env"):
                for source in blocks(env, "value_source"):
                    for ref in blocks(source, "secret_key_ref"):
                        secret = secret_address(stack, ref.get("secret"))
                        name = env.get("name")
                        if secret is None:
                            verdicts.append(Verdict.unknown(f"{name}: secret not in this stack"))
                        elif ref.get("version") not in (None, "latest"):
                            verdicts.append(Verdict.passed(f"{name}: a pinned version"))
                        elif writes_version(stack, before, secret):
                            verdicts.append(Verdict.passed(f"{name}: has a version first"))
                        elif set_by_operator(stack, secret) and checks_value(stack, before, secret):
                            verdicts.append(
                                Verdict.passed(
                                    f"{name}: external, set by the operator, and a step before "
                                    "it fails the apply unless its latest version is ENABLED"
                                )
                            )
                        elif set_by_operator(stack, secret):
                            verdicts.append(
                                Verdict.failed(
                                    f"{name}: external and labelled set, but nothing before it "
                                    "checks that its latest version exists and is ENABLED (a "
                                    "fresh project, a re-created secret or a copied file has "
                                    "none)"
                                )
                            )
                        else:
                            verdicts.append(
                                Verdict.failed(f"{name}: reads latest of {secret}, no version")
                            )
        return combine(verdicts or [Verdict.passed("reads no image or secret")])


check = FirstStartHasItsInputs()
