"""Builds CKV_GW_DEPLOY_43: every resource depends on the `google_project_service` of each API
it calls (DEPLOY-2).

In a fresh project only a few APIs are on; a call to a disabled one fails with
SERVICE_DISABLED, and enabling is asynchronous, so the resource must wait for it
(https://cloud.google.com/service-usage/docs/enable-disable). The resource type -> API table
is synth/gcp_needs.py, the one the stacks enable from. Each API is enabled by one
`google_project_service` only: two resources for one API fight over it (destroying either
disables it for the other's users unless both set `disable_on_destroy = false`).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine

from synth.gcp_needs import NEEDS


class ResourcesWaitForTheirApis(GroundworkCheck):
    id = "CKV_GW_DEPLOY_43"
    name = "Every resource depends on the google_project_service of its API"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = tuple(sorted(t for t in NEEDS if not t.startswith("data.")))
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "google_project_service":
            # Enabled once: a second declaration destroys the first's state on removal.
            twins = [
                a
                for a, b in stack.graph.of_type("google_project_service").items()
                if b.get("service") == body.get("service") and a != self.address
            ]
            if twins:
                return Verdict.failed(f"{body.get('service')} is also enabled by {twins[0]}")
            # F10: the bootstrap stack is a copy of the highest tier's config, so it enables
            # storage, KMS, IAM and Resource Manager in the same project as that workload
            # (synth/config.py, bootstrap_configs). Each state owns its own
            # google_project_service; destroying either must not disable an API the other
            # still uses. The provider's default is `disable_on_destroy = true`
            # (https://registry.terraform.io/providers/hashicorp/google/latest/docs/
            # resources/google_project_service).
            if str(body.get("disable_on_destroy")).lower() != "false":
                return Verdict.failed(
                    f"{body.get('service')}: destroying this stack disables the API for every "
                    "other stack in the project (set disable_on_destroy = false)"
                )
            return Verdict.passed(f"{body.get('service')} is enabled once, never disabled")
        apis = list(NEEDS[self._address[0]].apis)
        if self._address[0] == "terraform_data":
            apis = list((body.get("input") or {}).get("apis") or [])
        before = stack.graph.prerequisites(self.address)
        services = stack.graph.of_type("google_project_service")
        verdicts = []
        for api in apis:
            enabling = [a for a, b in services.items() if b.get("service") == api]
            if not enabling:
                verdicts.append(Verdict.failed(f"{api} is never enabled"))
            elif not any(a in before for a in enabling):
                verdicts.append(Verdict.failed(f"does not wait for {api}"))
            else:
                verdicts.append(Verdict.passed(f"waits for {api}"))
        return combine(verdicts or [Verdict.passed("calls no API that needs enabling")])


check = ResourcesWaitForTheirApis()
