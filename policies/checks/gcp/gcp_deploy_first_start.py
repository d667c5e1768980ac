"""Builds CKV_GW_DEPLOY_44: whatever a resource reads when it first starts exists by then:
Cloud Run's image, each secret version it reads, each CMEK key's first version (DEPLOY-5).

- A revision whose image lives in an Artifact Registry repository created in the same apply
  cannot start: the repository is empty until a pipeline pushes, and the pipeline runs after
  the apply (https://cloud.google.com/run/docs/deploying#service).
- `secret_key_ref` with `version = "latest"` fails the revision while the secret has no
  version (terraform-provider-google#10846): the service must wait for a
  `google_secret_manager_secret_version` of that secret or for the step that writes one (the
  rotator's first run: a `terraform_data` running the job whose command adds the version).
- A crypto key created with `skip_initial_version_creation` (or `import_only`) has no
  version to encrypt with until someone imports one
  (https://cloud.google.com/kms/docs/create-key).
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


class FirstStartHasItsInputs(GroundworkCheck):
    id = "CKV_GW_DEPLOY_44"
    name = "A first revision's image, secret versions and keys exist when it starts"
    requirement = "DEPLOY-5"
    severity = "HIGH"
    resource_types = (
        "google_cloud_run_v2_service",
        "google_cloud_run_v2_job",
        "google_kms_crypto_key",
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "google_kms_crypto_key":
            if body.get("skip_initial_version_creation") or body.get("import_only"):
                return Verdict.failed("the key has no first version to encrypt with")
            return Verdict.passed("Cloud KMS creates the key's first version")
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
                        else:
                            verdicts.append(
                                Verdict.failed(f"{name}: reads latest of {secret}, no version")
                            )
        return combine(verdicts or [Verdict.passed("reads no image or secret")])


check = FirstStartHasItsInputs()
