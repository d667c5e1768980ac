"""First-apply steps that the GA google provider cannot express, run by `gcloud` on the runner.

Each step is a `terraform_data` resource with a `local-exec` provisioner: it runs once when
created (and again only when its `triggers_replace` change), in the apply, ordered like any
resource. Its `input` records what it does, the APIs it calls and the deployer role it needs,
so the DEPLOY policies read it from the JSON like any resource. Steps carry no secret: a
generated value is produced inside Google Cloud (constructs/gcp/rotation.py), never on the
runner, in the JSON or in the state.

Why steps and not resources: the provider is hashicorp/google 6.50.0 (GA). google-beta is
deliberately not used: its Python binding is a 52 MB wheel whose assembly, loaded next to
google's, would roughly double the GCP synth time (issue 13), for two resources. So:
- service identities: `google_project_service_identity` exists only in google-beta
  (terraform-provider-google#7020, google-beta PR #2430); the GA equivalent is
  `gcloud beta services identity create` (Service Usage `generateServiceIdentity`);
- the app's database privileges: no GA resource runs SQL, and the runner cannot reach a
  private-IP instance; `gcloud sql instances execute-sql` (GA) sends the GRANTs through the
  Cloud SQL Data API (https://cloud.google.com/sdk/gcloud/reference/sql/instances/
  execute-sql; constructs/gcp/service.py, `database_setup`);
- running a Cloud Run job once: `gcloud run jobs execute --wait`;
- waiting until Cloud Monitoring knows a new log-based metric: alert policies on it are
  refused with 404 until it has propagated (terraform-provider-google#11102); the step
  polls the metric descriptor (Monitoring API, with `gcloud auth print-access-token`), which
  a fixed `time_sleep` would only guess at;
- waiting until a Certificate Manager certificate is ACTIVE: Terraform finishes creating it
  while it is PROVISIONING, and the provider offers no wait (constructs/gcp/edge.py);
- attaching a certificate map to an existing HTTPS proxy before Terraform drops its Compute
  Engine certificate: the provider sets the certificates first, which the API refuses on a
  proxy left with neither (constructs/gcp/edge.py).

The runner therefore needs the Google Cloud CLI with the `beta` component and `curl`,
authenticated as the deployer (README, "GCP: before the first apply").

Satisfies: DEPLOY-2, DEPLOY-5
"""

from __future__ import annotations

import shlex

from cdktf import ITerraformDependable, LocalExecProvisioner, TerraformResource
from constructs import Construct


class GcloudStep(TerraformResource):
    """`terraform_data.<id>` running `gcloud <args>` once; `step_apis` are ordered before it."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project: str,
        does: str,
        args: list[str],
        apis: tuple[str, ...],
        role: str,
        triggers: dict[str, str] | None = None,
        depends_on: list[ITerraformDependable] | None = None,
        stdin: str | None = None,
        script: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type="terraform_data",
            depends_on=depends_on,
            provisioners=[
                LocalExecProvisioner(
                    type="local-exec",
                    command=script or self.command(project, args, stdin),
                    interpreter=["/bin/sh", "-c"],
                )
            ],
        )
        self.step_apis = apis
        self.add_override("input", {"does": does, "gcloud": args, "apis": list(apis), "role": role})
        if triggers:
            self.add_override("triggers_replace", triggers)

    @staticmethod
    def command(project: str, args: list[str], stdin: str | None) -> str:
        call = shlex.join(["gcloud", *args, f"--project={project}", "--quiet"])
        return f"{stdin} | {call}" if stdin else call
