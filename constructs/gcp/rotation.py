"""The rotator of generated secrets: a Cloud Run job run on a schedule and once at first apply.

SEC-2 needs someone who rotates: the job `<prefix>-rotate` runs the Google Cloud CLI image
(`gcp.cli_image`, Google's public `google-cloud-cli` image) as its own service account,
which may only add versions to the generated secrets. Each run writes 48 random bytes from
the job's kernel (`/dev/urandom`, base64) as a new version, so a generated value exists
only inside Google Cloud: never on the deploy runner, in the JSON or in the state.
Cloud Scheduler runs the job on a cron whose period is at most `secrets.rotation_days`
(Cloud Scheduler cannot say "every 90 days": monthly, weekly or daily, the longest that
fits), through the Cloud Run Admin API `jobs.run` with an OAuth token of the same account
(https://cloud.google.com/run/docs/execute/jobs-on-schedule).

DEPLOY-5: the first apply runs the job once (`gcloud run jobs execute --wait`, a step) and
the service depends on that step, so JWT_SECRET has a real version before any revision
reads `latest`. New instances read the new version; the app must accept tokens signed
with the previous one until they expire (README).

Satisfies: SEC-2, SEC-3, SEC-5, DEPLOY-5
"""

from __future__ import annotations

import shlex

from cdktf_cdktf_provider_google.cloud_run_v2_job import (
    CloudRunV2Job,
    CloudRunV2JobTemplate,
    CloudRunV2JobTemplateTemplate,
    CloudRunV2JobTemplateTemplateContainers,
)
from cdktf_cdktf_provider_google.cloud_run_v2_job_iam_member import CloudRunV2JobIamMember
from cdktf_cdktf_provider_google.cloud_scheduler_job import (
    CloudSchedulerJob,
    CloudSchedulerJobHttpTarget,
    CloudSchedulerJobHttpTargetOauthToken,
)
from cdktf_cdktf_provider_google.secret_manager_secret_iam_member import (
    SecretManagerSecretIamMember,
)
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from constructs import Construct
from constructs.gcp.accounts import account_id
from constructs.gcp.secrets import Secrets
from constructs.gcp.steps import GcloudStep

from synth.config import EnvironmentConfig

RANDOM_BYTES = 48  # 384 bits (SEC-5 asks at least 256)
WRITE_ATTEMPTS = 10
# (period in days, cron): the longest schedule whose period fits `rotation_days`.
SCHEDULES = ((31, "0 3 1 * *"), (7, "0 3 * * 1"), (1, "0 3 * * *"))


def schedule(rotation_days: int) -> str:
    return next(cron for days, cron in SCHEDULES if days <= rotation_days)


class Rotation(Construct):
    """Job `<prefix>-rotate`, its schedule, and `first_run`, the step the service waits for."""

    def __init__(
        self, scope: Construct, id_: str, *, config: EnvironmentConfig, secrets: Secrets
    ) -> None:
        super().__init__(scope, id_)
        project, region = config.gcp.project, config.gcp.region
        account = ServiceAccount(
            self,
            "identity",
            account_id=account_id(config, "rotate"),
            display_name=f"{config.prefix} secret rotator",
        )
        member = f"serviceAccount:{account.email}"
        generated = {n: s for n, s in secrets.secrets.items() if n in secrets.generated}
        writes = [
            SecretManagerSecretIamMember(
                self,
                f"adds-{name.lower()}",
                secret_id=secret.id,
                role="roles/secretmanager.secretVersionAdder",
                member=member,
            )
            for name, secret in generated.items()
        ]
        # IAM grants are eventually consistent (https://cloud.google.com/iam/docs/
        # access-change-propagation): the first run may start before its grant works, so
        # each write is retried for up to 5 minutes before the run fails.
        script = "; ".join(
            "n=0; until head -c "
            f"{RANDOM_BYTES} /dev/urandom | base64 -w0 | gcloud secrets versions add "
            f"{shlex.quote(secret.secret_id)} --data-file=- --project={project} --quiet; "
            f"do n=$((n+1)); [ $n -ge {WRITE_ATTEMPTS} ] && exit 1; sleep 30; done"
            for secret in generated.values()
        )
        job = CloudRunV2Job(
            self,
            "job",
            name=f"{config.prefix}-rotate",
            location=region,
            deletion_protection=False,  # holds no data
            template=CloudRunV2JobTemplate(
                task_count=1,
                template=CloudRunV2JobTemplateTemplate(
                    service_account=account.email,
                    max_retries=1,
                    timeout="600s",  # the retries above fit
                    containers=[
                        CloudRunV2JobTemplateTemplateContainers(
                            image=config.gcp.cli_image,
                            command=["/bin/sh", "-c", f"set -e; {script}"],
                        )
                    ],
                ),
            ),
            depends_on=writes,
        )
        CloudRunV2JobIamMember(
            self,
            "runs-job",
            name=job.name,
            location=region,
            role="roles/run.invoker",
            member=member,
        )
        CloudSchedulerJob(
            self,
            "schedule",
            name=f"{config.prefix}-rotate",
            region=region,
            schedule=schedule(config.secrets.rotation_days),  # SEC-2
            time_zone="Etc/UTC",
            http_target=CloudSchedulerJobHttpTarget(
                http_method="POST",
                uri=(
                    f"https://run.googleapis.com/v2/projects/{project}/locations/{region}"
                    f"/jobs/{job.name}:run"
                ),
                oauth_token=CloudSchedulerJobHttpTargetOauthToken(
                    service_account_email=account.email
                ),
            ),
        )
        # DEPLOY-5: the generated secrets get their first version during the first apply.
        self.first_run = GcloudStep(
            self,
            "first-run",
            project=project,
            does="write the first version of each generated secret",
            args=["run", "jobs", "execute", job.name, f"--region={region}", "--wait"],
            apis=("run.googleapis.com",),
            role="roles/run.admin",
            triggers={"job": job.id},
            depends_on=[job, *writes],
        )
        self.job_name = job.name
