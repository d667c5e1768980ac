"""Builds CKV_GW_DEPLOY_49: the documented deploy runner can create every resource of the
stack, the gcloud steps included (DEPLOY-3).

Each resource type needs a predefined role holding its create permission
(https://cloud.google.com/iam/docs/roles-permissions); the table is synth/gcp_needs.py and
the runner's documented roles are `DEPLOYER_ROLES` (README, "GCP: before the first apply").
Every GCP data-plane write of these stacks (secret versions, the steps' gcloud calls) goes
to a public Google API endpoint, reachable from any runner with HTTPS egress; none needs
the VPC. A step names the role its gcloud call needs in its `input.role`.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

from synth.gcp_needs import DEPLOYER_ROLES, NEEDS


class DeployerCanApply(GroundworkCheck):
    id = "CKV_GW_DEPLOY_49"
    name = "The deploy runner's documented roles cover every resource and step"
    requirement = "DEPLOY-3"
    severity = "HIGH"
    resource_types = tuple(sorted(t for t in NEEDS if not t.startswith("data.")))
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        # A `terraform_data` step is GCP's when it runs gcloud (constructs/gcp/steps.py records
        # its arguments in `input.gcloud`); another cloud's steps are judged by that cloud's.
        if self._address[0] == "terraform_data":
            return "gcloud" in (body.get("input") or {})
        return True

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        role = NEEDS[self._address[0]].role
        if self._address[0] == "terraform_data":
            role = (body.get("input") or {}).get("role")
            if not role:
                return Verdict.failed("the step names no role")
        if role in DEPLOYER_ROLES:
            return Verdict.passed(f"{role} is a deployer role")
        return Verdict.failed(f"needs {role}, which the deploy runner does not hold")


check = DeployerCanApply()
