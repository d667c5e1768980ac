"""The rotator of generated secrets: a Cloud Run job run on a schedule and once at first apply.

The contract (SEC-1/2, DEPLOY-6; README "GCP: rotated secrets"): a generated secret X reaches
the app as X (sign and verify), X_PREVIOUS and X_NEXT (verify only), three secrets the app
reads as `latest` when an instance starts. A Cloud Run instance reads them once, so the
rotator both shifts the values and rolls the service to a new revision: live instances are
then never more than one rotation apart, and any two accept each other's tokens.

- The job `<prefix>-rotate` runs the Google Cloud CLI image (`gcp.cli_image`, Google's
  public `google-cloud-cli` image) as its own service account. A fresh value is the
  catalog entry's `bits` (384 by default: 48 bytes) from the job's kernel (`/dev/urandom`,
  base64): it exists only inside Google Cloud,
  never on the deploy runner, in the JSON or in the state.
- Each run: if any of X, X_PREVIOUS, X_NEXT has no version yet (the first apply), it writes
  a fresh value to each that has none and stops; otherwise it shifts previous <- current <-
  next <- fresh (or, if a run stopped after `current <- next`, which leaves current == next,
  only next <- fresh: repeating the whole shift would lose the old current; `max_retries`
  is 0, so nothing re-runs a failed shift blindly; and if the service's latest ready revision
  is older than the current value, the last shift's roll failed, so it only rolls: two shifts
  without a roll would leave live instances two rotations apart) and then updates a label on
  the service
  with `--async`, which creates a new revision
  ("when you set a label on a Cloud Run service, a new revision with this label is
  created", https://cloud.google.com/run/docs/configuring/services/labels); Cloud Run
  replaces the old instances with the new revision's, which read the shifted values.
- Least privilege: `secretmanager.viewer` (list versions, no payload) on the three,
  `secretAccessor` on X and X_NEXT only (the values it shifts), `secretVersionAdder` on the
  three; a custom role with run.services.get, run.services.update and run.revisions.get (not
  run.developer, which can delete) on this service only and `iam.serviceAccountUser` on the app's
  account only, which deploying a revision that runs as that account needs
  (https://cloud.google.com/run/docs/deploying, "Required roles"). `may_restart` adds these
  once the service exists.
- Cloud Scheduler runs the job on a cron whose period is at most `secrets.rotation_days`
  (Cloud Scheduler cannot say "every 90 days": monthly, weekly or daily, the longest that
  fits), through the Cloud Run Admin API `jobs.run` with an OAuth token of the same account
  (https://cloud.google.com/run/docs/execute/jobs-on-schedule).

DEPLOY-5: the first apply runs the job once (`gcloud run jobs execute --wait`, a step) and
the service depends on that step, so all three values are real before any revision reads
`latest`.

Satisfies: SEC-2, SEC-3, DEPLOY-2, DEPLOY-5, DEPLOY-6
"""

from __future__ import annotations

import shlex

from cdktf import TerraformResource
from cdktf_cdktf_provider_google.cloud_run_v2_job import (
    CloudRunV2Job,
    CloudRunV2JobTemplate,
    CloudRunV2JobTemplateTemplate,
    CloudRunV2JobTemplateTemplateContainers,
)
from cdktf_cdktf_provider_google.cloud_run_v2_job_iam_member import CloudRunV2JobIamMember
from cdktf_cdktf_provider_google.cloud_run_v2_service import CloudRunV2Service
from cdktf_cdktf_provider_google.cloud_run_v2_service_iam_member import (
    CloudRunV2ServiceIamMember,
)
from cdktf_cdktf_provider_google.cloud_scheduler_job import (
    CloudSchedulerJob,
    CloudSchedulerJobHttpTarget,
    CloudSchedulerJobHttpTargetOauthToken,
)
from cdktf_cdktf_provider_google.project_iam_custom_role import ProjectIamCustomRole
from cdktf_cdktf_provider_google.secret_manager_secret_iam_member import (
    SecretManagerSecretIamMember,
)
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from cdktf_cdktf_provider_google.service_account_iam_member import ServiceAccountIamMember
from constructs import Construct
from constructs.gcp.accounts import account_id, custom_role, service_name
from constructs.gcp.secrets import Secrets
from constructs.gcp.steps import GcloudStep

from synth.app import DEFAULT_SERVICE_NAME, service_suffix
from synth.config import ConfigError, EnvironmentConfig

WRITE_ATTEMPTS = 10
# IAM grants are eventually consistent (https://cloud.google.com/iam/docs/access-change-
# propagation): the first run may start before its grants work, so each call is retried
# for up to 5 minutes before the run fails. `retry CMD...` runs CMD until it succeeds.
RETRY = (
    'retry() { k=0; until "$@"; do k=$((k+1)); '
    f"[ $k -ge {WRITE_ATTEMPTS} ] && return 1; sleep 30; done; }}"
)


# The job's task timeout, derived from the catalog (`rotation_timeout`). A run makes, per
# generated secret, at most SECRET_CALLS gcloud calls (three `versions list` to seed, two
# `versions access`, one `versions list` of current's time, three `versions add`) and
# ROLL_CALLS per service that reads it (two `describe` to see whether the last shift was rolled
# out, one `update --async`); see rotate_script. Each call is budgeted CALL_SECONDS (the CLI
# starts in a few seconds in the slim image and each call is one API request; 30 s leaves room
# for a slow one), and the run once more RETRY_WINDOW: the retries of WRITE_ATTEMPTS x 30 s that
# ride out a grant still propagating (the first run) or one failing call. At least Cloud Run's
# default of 10 minutes, at most its maximum task timeout of 168 hours
# (https://cloud.google.com/run/docs/configuring/task-timeout).
SECRET_CALLS = 9
ROLL_CALLS = 3
CALL_SECONDS = 30
RETRY_WINDOW = WRITE_ATTEMPTS * 30
DEFAULT_TIMEOUT = 10 * 60
MAX_TIMEOUT = 168 * 3600


def rotation_timeout(readers: dict[str, list[str]]) -> int:
    """The job's task timeout in seconds for `readers` (each generated secret's services), in
    whole minutes; ConfigError if it passes Cloud Run's maximum."""
    calls = sum(SECRET_CALLS + ROLL_CALLS * len(services) for services in readers.values())
    needed = RETRY_WINDOW + CALL_SECONDS * calls
    seconds = max(DEFAULT_TIMEOUT, -(-needed // 60) * 60)
    if seconds > MAX_TIMEOUT:
        raise ConfigError(
            f"secrets.catalog: rotating {len(readers)} generated secrets read by their services "
            f"needs a {seconds} s run, past Cloud Run's {MAX_TIMEOUT} s task timeout "
            "(https://cloud.google.com/run/docs/configuring/task-timeout); generate fewer "
            "secrets or let fewer services read each"
        )
    return seconds


def fresh(bits: int) -> str:
    """A fresh value of `bits` random bits (the catalog entry's, SEC-5: 256 or more, whole
    bytes), base64 without newlines."""
    return f"head -c {bits // 8} /dev/urandom | base64 -w0"


ROTATION_LABEL = "secrets-rotated"
# run.revisions.get: to see whether the last shift was rolled out (rotate_script).
RESTART_PERMISSIONS = ("run.services.get", "run.services.update", "run.revisions.get")
# `test` string order (dash and bash): the revision is older than the current value.
NOT_ROLLED_OUT = "\\<"
# (period in days, cron): the longest schedule whose period fits `rotation_days`.
SCHEDULES = ((31, "0 3 1 * *"), (7, "0 3 * * 1"), (1, "0 3 * * *"))


def rotate_script(
    project: str, region: str, services: list[str], ids: list[str], bits: int = 384
) -> str:
    """Seed the missing ones of (current, previous, next), or shift them and roll `services`
    (every service that reads the secret).

    Each write is `printf %s "$v" | gcloud secrets versions add <id> --data-file=-`, so a
    value never appears in a command line; values are base64, so `printf %s` keeps them.
    """
    q = shlex.quote
    p = f"--project={q(project)} --quiet"
    current, previous, following = (q(i) for i in ids)

    def add(secret: str, value: str) -> str:
        return (
            f'v="{value}"; until printf %s "$v" | gcloud secrets versions add {secret} '
            f"--data-file=- {p}; do n=$((n+1)); [ $n -ge {WRITE_ATTEMPTS} ] && exit 1; "
            "sleep 30; done; n=0"
        )

    def listed(secret: str) -> str:
        # an assignment fails with its command, so `set -e` stops the run if listing fails
        # (it never mistakes an API error for "no version" and overwrites a live value)
        return (
            f'l=$(retry gcloud secrets versions list {secret} --limit=1 --format="value(name)" {p})'
        )

    def get(secret: str) -> str:
        return f"$(retry gcloud secrets versions access latest --secret={secret} {p})"

    seed = "; ".join(
        f'{listed(s)}; if [ -z "$l" ]; then {add(s, f"$({fresh(bits)})")}; seeded=1; fi'
        for s in (current, previous, following)
    )
    # Safe to repeat (F8): both values are read once, before any write. A run that stopped
    # after `previous <- current` left previous == current, and doing the whole shift again
    # writes the same previous. A run that stopped after `current <- next` left current ==
    # next (two independent random values are never equal): shifting again would push the
    # old current out of previous, so that run finishes with only `next <- fresh`.
    # Never two shifts without a roll between them (live instances would then be two
    # rotations apart and reject each other's tokens): if the service's latest ready revision
    # is older than the current value's latest version, the last run shifted but its roll
    # failed, so this run only rolls. Times are RFC 3339 UTC, compared to the second.
    svcs = [f"{q(service)} --region={region} {p}" for service in services]

    def revision_time(svc: str, var: str) -> str:
        return (
            f"r=$(retry gcloud run services describe {svc} "
            '--format="value(status.latestReadyRevisionName)"); '
            f'{var}=""; if [ -n "$r" ]; then {var}=$(retry gcloud run revisions describe "$r" '
            f'--region={region} {p} --format="value(metadata.creationTimestamp)"); fi'
        )

    rolled = "; ".join(
        [
            revision_time(svcs[0], "rt"),
            f"ct=$(retry gcloud secrets versions list {current} --sort-by=~createTime --limit=1 "
            f'--format="value(createTime)" {p})',
            # To the second, as text ("YYYY-MM-DDTHH:MM:SS"). Not `${rt%%.*}`: the script is
            # a Terraform string, where `${` starts an interpolation (CKV_GW_DEPLOY_3).
            'rt=$(printf %s "$rt" | cut -c1-19); ct=$(printf %s "$ct" | cut -c1-19)',
            # Several readers: the oldest of their latest ready revisions decides.
            *(
                f"{revision_time(svc, 't')}; "
                f't=$(printf %s "$t" | cut -c1-19); if [ "$t" {NOT_ROLLED_OUT} "$rt" ]; then '
                'rt="$t"; fi'
                for svc in svcs[1:]
            ),
        ]
    )
    shift = "; ".join(
        [
            f"c={get(current)}",
            f"x={get(following)}",
            rolled,
            'if [ "$c" = "$x" ]; then ' + add(following, f"$({fresh(bits)})"),
            f'elif [ "$rt" {NOT_ROLLED_OUT} "$ct" ]; then echo "last shift not rolled out: roll"',
            "else " + add(previous, "$c"),
            add(current, "$x"),
            add(following, f"$({fresh(bits)})") + "; fi",
            *(
                f"retry gcloud run services update {svc} "
                f"--update-labels={ROTATION_LABEL}=$(date -u +%Y%m%d-%H%M%S) --async"
                for svc in svcs
            ),
        ]
    )
    return f'n=0; seeded=0; {seed}; if [ "$seeded" = 0 ]; then {shift}; fi'


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
        self._member, self._region, self._config = member, region, config
        self._restart_role: ProjectIamCustomRole | None = None
        # The services it restarts: each reader of a generated secret (constructs/gcp/service.py).
        readers = {
            name: [service_name(config, s.name) for s in config.services if name in s.secrets]
            for name in secrets.rotated
        }
        everyone = secrets.generated
        grants = [
            SecretManagerSecretIamMember(
                self,
                f"{verb}-{name.lower()}",
                secret_id=secrets.secrets[name].id,
                role=role,
                member=member,
            )
            for verb, role, names in (
                ("adds", "roles/secretmanager.secretVersionAdder", everyone),
                ("lists", "roles/secretmanager.viewer", everyone),
                (
                    "reads",
                    "roles/secretmanager.secretAccessor",
                    [n for c, _, x in secrets.rotated.values() for n in (c, x)],
                ),
            )
            for name in names
        ]
        script = "; ".join(
            rotate_script(
                project,
                region,
                readers[name],
                [secrets.secrets[n].secret_id for n in names],
                config.secrets.catalog[name].bits,  # type: ignore[union-attr]
            )
            for name, names in secrets.rotated.items()
        )
        # DEPLOY-2: what its runs need; `may_restart` adds each acts-as grant, and
        # constructs/gcp/service.py `build_services` waits for all of them to propagate.
        self.grants: list[TerraformResource] = [*grants]
        self._job = job = CloudRunV2Job(
            self,
            "job",
            name=f"{config.prefix}-rotate",
            location=region,
            deletion_protection=False,  # holds no data
            template=CloudRunV2JobTemplate(
                task_count=1,
                template=CloudRunV2JobTemplateTemplate(
                    service_account=account.email,
                    # No blind re-run of a failed rotation (F8): each call already retries for
                    # 5 minutes, and a half-done shift is finished by the next run's check
                    # (rotate_script) rather than by repeating writes that already happened.
                    max_retries=0,
                    # Scales with the catalog and its readers (rotation_timeout).
                    timeout=f"{rotation_timeout(readers)}s",
                    containers=[
                        CloudRunV2JobTemplateTemplateContainers(
                            image=config.gcp.cli_image,
                            command=["/bin/sh", "-c", f"set -e; {RETRY}; {script}"],
                        )
                    ],
                ),
            ),
            depends_on=grants,
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
            does="write the first version of each generated secret (current, previous, next)",
            args=["run", "jobs", "execute", job.name, f"--region={region}", "--wait"],
            apis=("run.googleapis.com",),
            role="roles/run.admin",
            triggers={"job": job.id},
            depends_on=[job, *grants],
        )
        self.job_name = job.name

    def may_restart(
        self,
        service: CloudRunV2Service,
        app_account: ServiceAccount,
        reader: str = DEFAULT_SERVICE_NAME,
    ) -> None:
        """Lets the rotator roll `service` (a reader of a generated secret, and only the
        readers) to a new revision after a rotation."""
        # IAM-1: roles/run.developer would also let it delete the service. Rolling it takes
        # reading and replacing the service (`gcloud run services update --async` gets the
        # service and replaces it, and does not wait on revisions or operations):
        # run.services.get and run.services.update (https://cloud.google.com/run/docs/
        # reference/iam/permissions), plus run.revisions.get to see whether the last shift
        # was rolled out (rotate_script), granted on this service only.
        if self._restart_role is None:
            self._restart_role = custom_role(
                self,
                "restart-role",
                config=self._config,
                role="restart",
                title=f"{self._config.prefix} rotator: roll the service to a new revision",
                permissions=list(RESTART_PERMISSIONS),
            )
        role = self._restart_role
        suffix = service_suffix(reader)
        CloudRunV2ServiceIamMember(
            self,
            f"restarts-service{suffix}",
            name=service.name,
            location=self._region,
            role=role.name,
            member=self._member,
        )
        acts_as = ServiceAccountIamMember(
            self,
            "acts-as-app" if not suffix else f"acts-as{suffix}",
            service_account_id=app_account.name,
            role="roles/iam.serviceAccountUser",
            member=self._member,
        )
        # DEPLOY-2: the job runs as its account only after every grant to it exists (the
        # service grant above is on what the job's first run precedes, so it comes later).
        self._job.depends_on = [
            *(self._job.depends_on or []),
            f"{acts_as.terraform_resource_type}.{acts_as.friendly_unique_id}",
        ]
        self.grants.append(acts_as)

    def wait_for(self, ready: TerraformResource) -> None:
        """The job (so its first run) waits for `ready`, the wait after its grants (DEPLOY-2):
        its calls retry for 5 minutes, less than the 7 IAM may take."""
        self._job.depends_on = [
            *(self._job.depends_on or []),
            f"{ready.terraform_resource_type}.{ready.friendly_unique_id}",
        ]
