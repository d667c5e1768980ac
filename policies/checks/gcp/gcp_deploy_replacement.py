"""Builds CKV_GW_DEPLOY_59: every immutable resource that another resource holds in use, and
that a change can replace (managed SSL certificates, SSL policies, Cloud Armor security
policies), is `create_before_destroy` with a name that changes with its replacing arguments
(DEPLOY-2).

Compute Engine refuses to delete such a resource while a target proxy or backend service still
names it (`resourceInUseByAnotherResource`: hashicorp/terraform-provider-google#6147, #15966;
terraform-google-modules/terraform-google-lb-http#207). Terraform replaces by deleting first,
so adding a host to the certificate, or any other change of a replacing (ForceNew) argument,
fails the apply on a stack that applied fine the first time. Creating first needs a new name,
so the name ends in `-<8 hex>`, the hash of the replacing arguments that
synth/gcp_replacement.py defines (and the construct uses): a name that does not match them is
one that will not change when they do. Resources nothing refers to are not judged.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

from synth.gcp_replacement import REPLACING, replacement_suffix


class ReplacedBeforeDeleted(GroundworkCheck):
    id = "CKV_GW_DEPLOY_59"
    name = (
        "Every immutable resource another resource holds is create_before_destroy with a name "
        "that changes with its replacing arguments"
    )
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = tuple(REPLACING)
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        return bool(stack.graph.dependents(self.address))

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        resource_type = self.address.split(".", 1)[0]
        holders = ", ".join(sorted(stack.graph.dependents(self.address)))
        verdicts = []
        lifecycle = (blocks(body, "lifecycle") or [{}])[0]
        if lifecycle.get("create_before_destroy") is not True:
            verdicts.append(
                Verdict.failed(
                    f"held by {holders} but not create_before_destroy: a replacement deletes it "
                    "first, which Compute Engine refuses while it is in use"
                )
            )
        suffix = replacement_suffix(resource_type, body)
        name = body.get("name")
        if not isinstance(name, str) or not name.endswith(f"-{suffix}"):
            arguments = ", ".join(REPLACING[resource_type])
            verdicts.append(
                Verdict.failed(
                    f"name {name!r} does not end in -{suffix}, the hash of its replacing "
                    f"arguments ({arguments}): a replacement would reuse the name"
                )
            )
        return combine(verdicts or [Verdict.passed(f"replaced before deleted; held by {holders}")])


check = ReplacedBeforeDeleted()
