"""Cloud Run (v2) services of the app description: private ingress, direct VPC egress, secrets
by reference.

- APP-7: one service per `config.services` entry (synth/app.py), each with its own port,
  health path and timings, size, replica bounds, `environment`, the secrets it lists and the
  platform wiring of what it uses (PLATFORM_ENVIRONMENT["gcp"], the one list of names); the
  default service `app` keeps its construct IDs and names (`<prefix>`, `<prefix>-app`),
  another is `<prefix>-<service>` with account `<prefix>-svc-<service>`. No construct names
  an application's variable or secret.
- APP-1: min/max instances from the config. Cloud Run's autoscaler is not configurable by
  metric: it scales on request concurrency and keeps CPU near 60 %, which covers the
  table's CPU > 70 % trigger; memory is not an autoscaling signal on Cloud Run, so the
  memory trigger is CKV_GW_APP_46, failing and waived with that reason, not passed.
- APP-2: Cloud Run CPU below 1 vCPU forces one request per instance, so a 0.5 vCPU limit
  becomes 1 vCPU (the nearest allowed value at or above that serves concurrent requests);
  CPU is allocated only during requests (`cpu_idle`), which is the 0.25 vCPU "request".
- APP-3: each deploy is a new revision; Cloud Run shifts traffic only once the new revision
  passes its startup probe, with the old one serving until then (zero downtime).
- DEPLOY-5: the first revision runs `gcp.initial_image`, a public image that exists before
  this apply (the stack's own registry is empty until the release pipeline pushes). The
  pipeline then deploys each release as a new revision (`gcloud run deploy --container=app
  --image`: the service has two containers), and
  Terraform ignores the container image (and the `client` fields gcloud sets), so a later
  apply neither reverts a release nor fights the pipeline. Every secret it reads has a
  version before it starts: derived versions are references, a generated secret's first
  version is the rotator's first run (constructs/gcp/rotation.py), which the service depends
  on, and an external secret is read (env reference and secretAccessor grant) only once its
  entry says `value_set: true`, i.e. the operator has added its version
  (constructs/gcp/secrets.py, `for_service`), and then only after the step that finds that
  version ENABLED, so a wrong flag fails the apply before the service is touched
  (`_value_check`).
- DEPLOY-6: the Cloud SQL Auth Proxy runs as a sidecar (`--private-ip --auto-iam-authn`
  on 127.0.0.1:5432; the app container starts once the proxy's `/startup` probe passes),
  the app gets REDIS_CA_CERT to verify Memorystore, and its IAM database user may run its
  migrations and nothing more (`database_setup` below).
- EDGE-4: startup probe `GET <health.path>` every `interval_seconds` (today's service: every
  10 s), liveness three times as far apart (30 s). Cloud Run gives an
  instance 10 s after SIGTERM (fixed by the platform), not 30 s: the gap is
  CKV_GW_EDGE_44, failing and waived with its reason, not passed on paper.
- APP-4: secrets enter only as `secret_key_ref`; APP-5, IAM-1: each service's account may
  read only the secrets it lists, use the bucket only if it uses object storage, and log in to
  its own Cloud SQL instances as an IAM database user only if it uses the database (DB-9).
- Ingress only from the internal/Cloud Load Balancing path (NET-3); with that ingress the
  invoker check is off so the external load balancer can reach it without `allUsers`.

Satisfies: APP-1, APP-2, APP-3, APP-4, APP-5, APP-7, EDGE-4, DB-6, DB-9, NET-3, IAM-1
Satisfies: DEPLOY-2, DEPLOY-5, DEPLOY-6
"""

from __future__ import annotations

import math
import shlex

from cdktf import ITerraformDependable, TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_google.cloud_run_v2_service import (
    CloudRunV2Service,
    CloudRunV2ServiceTemplate,
    CloudRunV2ServiceTemplateContainers,
    CloudRunV2ServiceTemplateContainersEnv,
    CloudRunV2ServiceTemplateContainersEnvValueSource,
    CloudRunV2ServiceTemplateContainersEnvValueSourceSecretKeyRef,
    CloudRunV2ServiceTemplateContainersLivenessProbe,
    CloudRunV2ServiceTemplateContainersLivenessProbeHttpGet,
    CloudRunV2ServiceTemplateContainersPorts,
    CloudRunV2ServiceTemplateContainersResources,
    CloudRunV2ServiceTemplateContainersStartupProbe,
    CloudRunV2ServiceTemplateContainersStartupProbeHttpGet,
    CloudRunV2ServiceTemplateScaling,
    CloudRunV2ServiceTemplateVpcAccess,
    CloudRunV2ServiceTemplateVpcAccessNetworkInterfaces,
)
from cdktf_cdktf_provider_google.project_iam_custom_role import ProjectIamCustomRole
from cdktf_cdktf_provider_google.project_iam_member import (
    ProjectIamMember,
    ProjectIamMemberCondition,
)
from cdktf_cdktf_provider_google.secret_manager_secret import SecretManagerSecret
from cdktf_cdktf_provider_google.secret_manager_secret_iam_member import (
    SecretManagerSecretIamMember,
)
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from cdktf_cdktf_provider_google.sql_user import SqlUser
from cdktf_cdktf_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct
from constructs.gcp import waivers
from constructs.gcp.accounts import custom_role, service_name
from constructs.gcp.cache import Cache
from constructs.gcp.database import DATABASE_NAME, Database, app_account_id, iam_user
from constructs.gcp.network import Network
from constructs.gcp.propagation import all_propagated
from constructs.gcp.rotation import Rotation
from constructs.gcp.secrets import Secrets
from constructs.gcp.steps import GcloudStep
from constructs.gcp.storage import Storage

from synth.app import COMPONENTS, DEFAULT_SERVICE_NAME, PLATFORM_ENVIRONMENT
from synth.app import Service as ServiceSpec
from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

# The app's container; the Cloud SQL Auth Proxy sidecar is `cloud-sql-proxy`. Cloud Run's
# per-container metrics carry it as `metric.label.container_name` (OBS-2 alerts select it).
APP_CONTAINER = "app"
PROXY_CONTAINER = "cloud-sql-proxy"
# Cloud Run sets PORT itself and refuses it in a container's env
# (https://cloud.google.com/run/docs/container-contract#env-vars).
CLOUD_RUN_SETS = ("PORT",)
MAX_STARTUP_PERIOD, MAX_LIVENESS_PERIOD = 240, 3600
# What the app's migrations need and nothing more (IAM-1, DEPLOY-6): connect to, create
# schemas and temporary tables in its own database, and create in `public`. No role
# membership: not `cloudsqlsuperuser` (extensions, event triggers, replication users,
# https://cloud.google.com/sql/docs/postgres/users) nor any other admin role.
DATABASE_PRIVILEGES = "CONNECT, CREATE, TEMPORARY"
SCHEMA_PRIVILEGES = "USAGE, CREATE"
# The Data API is on only while the step runs: for a private-IP instance it admits IAM-
# authenticated statements from the internet (https://cloud.google.com/sql/docs/postgres/
# executesql-instance, "ALLOW_DATA_API"). The values are the API's Settings.DataApiAccess enum
# (ALLOW_DATA_API, DISALLOW_DATA_API: https://cloud.google.com/python/docs/reference/
# google-cloud-sql/latest/google.cloud.sqladmin_v1.types.Settings.DataApiAccess); gcloud
# refuses any other choice, and the step would then fail with the API left open.
DATA_API_ON, DATA_API_OFF = "ALLOW_DATA_API", "DISALLOW_DATA_API"
CLOUD_RUN_CPUS = (1, 2, 4, 6, 8)
# IAM-1: what the Cloud SQL Auth Proxy needs as the app's account (service.py, below).
DATABASE_PERMISSIONS = (
    "cloudsql.instances.connect",
    "cloudsql.instances.get",
    "cloudsql.instances.login",
)
# The Cloud SQL Auth Proxy v2, Google's published image (https://github.com/
# GoogleCloudPlatform/cloud-sql-proxy/releases; 2.20.0 under this path is cited in
# mattes/gce-cloudsql-proxy-action#13), pinned so a release never changes it.
CLOUD_SQL_PROXY_IMAGE = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.20.0"
# The proxy's health server (`--health-check`): not the app's port nor the database's.
PROXY_HEALTH_PORT = 9090
# The pipeline owns the image and gcloud's client fields once the first revision exists.
# Not the template labels the rotator sets to roll the service (constructs/gcp/rotation.py):
# the gate refuses ignoring labels, so the next apply removes that label again, which only
# starts one more revision with the same secret values.
# Only the image: an apply that changes the template otherwise (an external secret switched to
# `value_set: true` adds its env reference) updates the service in place and keeps the
# pipeline's image. With the image ignored, Terraform plans it as the value read back from the
# service (prior state after refresh), and provider 6.50 sends the whole service built from
# that plan in its update (terraform-provider-google#25464), so the new revision runs the
# released image with the new variable (the behaviour terraform-provider-google#13435
# describes). A saved plan applied after a release would send the older image, as #13435 says:
# plan and apply in one run.
PIPELINE_OWNED = ["template[0].containers[0].image", "client", "client_version"]


def cloud_run_cpu(limit: float) -> str:
    """APP-2: the nearest Cloud Run CPU at or above `limit` that allows concurrency."""
    return str(next(c for c in CLOUD_RUN_CPUS if c >= math.ceil(limit)))


def migration_grants(config: EnvironmentConfig, service: str = DEFAULT_SERVICE_NAME) -> str:
    """The statements that let the app's IAM user run its migrations (idempotent: GRANT of
    a privilege already held changes nothing, https://www.postgresql.org/docs/current/
    sql-grant.html)."""
    user = '"' + iam_user(config, service).replace('"', '""') + '"'
    return (
        f"GRANT {DATABASE_PRIVILEGES} ON DATABASE {DATABASE_NAME} TO {user}; "
        f"GRANT {SCHEMA_PRIVILEGES} ON SCHEMA public TO {user};"
    )


def app_role_literal(config: EnvironmentConfig, service: str = DEFAULT_SERVICE_NAME) -> str:
    """The app's IAM database user as an SQL string literal."""
    return "'" + iam_user(config, service).replace("'", "''") + "'"


def revoke_admin(
    config: EnvironmentConfig, instance: str, service: str = DEFAULT_SERVICE_NAME
) -> str:
    """IAM-1: the gcloud command that takes every non-system role (`cloudsqlsuperuser`
    included) from the app's user, whatever made it a member.

    Google documents that an IAM user starts with no privileges (https://cloud.google.com/
    sql/docs/postgres/add-manage-iam-users), but also that users the Cloud SQL API creates
    can be given `cloudsqlsuperuser` (`--database-roles`, https://cloud.google.com/sql/docs/
    postgres/users), and provider 6.50's `google_sql_user` cannot send `database_roles` to
    say which. So the step takes them unconditionally, through the Admin API rather than
    SQL: from PostgreSQL 16 a `REVOKE <role> FROM <user>` needs ADMIN OPTION on the role
    (https://www.postgresql.org/docs/16/release-16.html, "Role membership"; https://www.
    postgresql.org/docs/16/sql-revoke.html), which the deployer's own `cloudsqlsuperuser`
    membership need not carry, and under `set -e` that error would stop the step before the
    service exists. `gcloud sql users assign-roles USER --revoke-existing-roles` with no
    `--database-roles` revokes every existing non-system role and grants none
    (https://cloud.google.com/sdk/gcloud/reference/sql/users/assign-roles; the Admin API's
    `revokeExistingRoles`, https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/
    users/update); it is safe to repeat, and `database_setup` then checks the membership is
    gone. Only the app's own service-account user is named.
    """
    return shlex.join(
        [
            "gcloud", "sql", "users", "assign-roles", iam_user(config, service),
            f"--instance={instance}", "--type=CLOUD_IAM_SERVICE_ACCOUNT",
            "--revoke-existing-roles", f"--project={config.gcp.project}", "--quiet",
        ]
    )  # fmt: skip


def database_statements(config: EnvironmentConfig, service: str = DEFAULT_SERVICE_NAME) -> str:
    """What the step runs in the app's database: the pgAudit extension and the grants (the
    app's role memberships are revoked through the Admin API, `revoke_admin`).

    `cloudsql.enable_pgaudit` and `pgaudit.log` (constructs/gcp/database.py) log nothing
    until the extension exists in the database: Cloud SQL's steps are the flag, then
    `CREATE EXTENSION pgaudit`, then `pgaudit.log` (https://cloud.google.com/sql/docs/
    postgres/pg-audit). Creating it takes `cloudsqlsuperuser`, which the deployer is in this
    step and the app never is; IF NOT EXISTS keeps the step safe to repeat.
    """
    return f"CREATE EXTENSION IF NOT EXISTS pgaudit; {migration_grants(config, service)}"


def role_check(config: EnvironmentConfig, service: str = DEFAULT_SERVICE_NAME) -> str:
    """A query whose result is `app-ready` only if the app's user is no member (direct or
    inherited) of `cloudsqlsuperuser`, holds every privilege `migration_grants` gives, and
    the pgaudit extension exists; else `is-admin` or `not-ready`. The markers are built by
    concatenation so that an error message echoing the statement cannot contain them.

    `gcloud sql instances execute-sql` exits 0 when the SQL fails: the error is in the
    response's `status` ("Contains the error from the database if the SQL execution
    failed", https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1beta4/instances/
    executeSql), which the command returns without reading (googlecloudsdk surface/sql/
    instances/execute_sql.py, `Run`). So only this query's answer proves the grants ran.
    Each privilege is asked alone: `has_database_privilege` with a list is true if ANY is
    held (https://www.postgresql.org/docs/16/functions-info.html, Table 9.70)."""
    user = app_role_literal(config, service)
    held = " AND ".join(
        [
            *(
                f"has_database_privilege({user}, '{DATABASE_NAME}', '{privilege}')"
                for privilege in DATABASE_PRIVILEGES.split(", ")
            ),
            *(
                f"has_schema_privilege({user}, 'public', '{privilege}')"
                for privilege in SCHEMA_PRIVILEGES.split(", ")
            ),
            "EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgaudit')",
        ]
    )
    return (
        f"SELECT CASE WHEN pg_has_role({user}, 'cloudsqlsuperuser', 'MEMBER') "
        f"THEN 'is-' || 'admin' WHEN {held} THEN 'app-' || 'ready' "
        "ELSE 'not-' || 'ready' END AS app_role"
    )


def database_setup(
    config: EnvironmentConfig, instance: str, service: str = DEFAULT_SERVICE_NAME
) -> str:
    """The step's script, run by the deployer on the runner (no VPC path needed).

    - The runner cannot reach a private-IP instance, so the statements go through the Cloud
      SQL Data API (`gcloud sql instances execute-sql`, GA; https://cloud.google.com/sdk/
      gcloud/reference/sql/instances/execute-sql), which "uses the credentials of the
      specified Google Cloud account ... so an IAM user with the same name must exist".
    - An IAM user starts with no privileges (https://cloud.google.com/sql/docs/postgres/
      add-manage-iam-users), and since PostgreSQL 15 `public` belongs to
      `pg_database_owner` and grants CREATE to nobody else (https://www.postgresql.org/docs/
      15/release-15.html, "Remove PUBLIC creation permission on the public schema"). The
      database `app` is owned by `cloudsqlsuperuser` (the Admin API creates it), so only a
      member of that role, as owner of the database and so of `public`, may GRANT on them.
      The deployer is that member (it is the admin; the app never is): the step adds the
      deployer as an IAM database user with `cloudsqlsuperuser`, or assigns it that role if
      it exists (`gcloud sql users create|assign-roles --database-roles`, GA:
      https://cloud.google.com/sdk/gcloud/reference/sql/users/create; IAM users log in
      with tokens, https://cloud.google.com/sql/docs/postgres/iam-logins), runs the grants
      for the app's user, and closes the Data API.
    - A service account's database user is its email without `.gserviceaccount.com`
      (https://cloud.google.com/sql/docs/postgres/add-manage-iam-users).
    - IAM-1: `gcloud sql users assign-roles --revoke-existing-roles` takes every role,
      `cloudsqlsuperuser` included, from the app's user (`revoke_admin`), and the step then
      fails unless a query shows the user is no member of it, holds its grants and the
      database has pgaudit (`role_check`: execute-sql exits 0 when its SQL fails).
    - The Data API is closed again explicitly and the step fails unless the instance then
      reports `settings.dataApiAccess` other than ALLOW_DATA_API (the API's values:
      ALLOW_DATA_API, DISALLOW_DATA_API, unspecified = disallowed;
      https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances, Settings).
      A trap closes it too when an earlier command fails; the step has failed then anyway.
    Everything is idempotent: the deployer's user is created only if missing, GRANT and
    the role revocation repeat nothing, and the Data API ends closed.
    """
    project = config.gcp.project
    q = shlex.quote
    common = f"--instance={instance} --project={q(project)} --quiet"
    patch = f"gcloud sql instances patch {instance} --project={q(project)} --quiet"
    return "; ".join(
        [
            "set -e",
            "account=$(gcloud config get-value account)",
            # Terraform's `$${` is a literal `${`
            'case "$account" in *.gserviceaccount.com) user="$${account%.gserviceaccount.com}"; '
            'kind=CLOUD_IAM_SERVICE_ACCOUNT;; *) user="$account"; kind=CLOUD_IAM_USER;; esac',
            f"{patch} --data-api-access={DATA_API_ON}",
            # closed again whatever happens next
            f"trap '{patch} --data-api-access={DATA_API_OFF}' EXIT",
            f'if gcloud sql users list {common} --filter="name=$user" --format="value(name)" '
            f'| grep -q .; then gcloud sql users assign-roles "$user" --type="$kind" '
            f"--database-roles=cloudsqlsuperuser {common}; else gcloud sql users create "
            f'"$user" --type="$kind" --database-roles=cloudsqlsuperuser {common}; fi',
            f"gcloud sql instances execute-sql {instance} --database={DATABASE_NAME} "
            f"--sql={q(database_statements(config, service))} --project={q(project)} --quiet",
            revoke_admin(config, instance, service),
            # IAM-1, DEPLOY-6: fail unless the app's user is (now) no member of
            # cloudsqlsuperuser and the statements above took effect
            f"role=$(gcloud sql instances execute-sql {instance} --database={DATABASE_NAME} "
            f"--sql={q(role_check(config, service))} --project={q(project)} --quiet)",
            'case "$role" in *app-ready*) ;; *) echo "the app database user is a member of '
            'cloudsqlsuperuser or lacks its grants or pgaudit (is-admin / not-ready): $role" '
            ">&2; exit 1;; esac",
            # close the Data API and prove it is closed; a trap alone cannot fail the step
            f"{patch} --data-api-access={DATA_API_OFF}",
            "trap - EXIT",
            f"access=$(gcloud sql instances describe {instance} --project={q(project)} "
            "--format='value(settings.dataApiAccess)')",
            f'if [ "$access" = {DATA_API_ON} ]; then echo "the Data API of {instance} is still '
            'allowed" >&2; exit 1; fi',
        ]
    )


def is_default(spec: ServiceSpec) -> bool:
    """Today's single service keeps its construct IDs and resource names (no replacement)."""
    return spec.name == DEFAULT_SERVICE_NAME


def construct_id(spec: ServiceSpec) -> str:
    return "service" if is_default(spec) else f"service-{spec.name}"


def default_spec(config: EnvironmentConfig) -> ServiceSpec:
    """The service a caller that names none means: the default one, else the first."""
    return next((s for s in config.services if is_default(s)), config.services[0])


def probe_periods(spec: ServiceSpec) -> tuple[int, int]:
    """(startup, liveness) probe periods from the description's interval. Cloud Run allows
    a startup period of 1-240 s and a liveness period of 1-3600 s
    (https://cloud.google.com/run/docs/configuring/healthchecks); liveness probes a third as
    often as startup, as the platform's defaults do (10 s and 30 s for today's service)."""
    interval = spec.health.interval_seconds
    return min(interval, MAX_STARTUP_PERIOD), min(3 * interval, MAX_LIVENESS_PERIOD)


class SharedParts:
    """What every service's construct shares: the custom database role (one per stack,
    created by the first service that uses the database) and the last database step (each
    service's step waits for the one before: each patches the primary, and Cloud SQL runs one
    operation per instance at a time)."""

    def __init__(self) -> None:
        self.database_role: ProjectIamCustomRole | None = None
        self.last_database_step: GcloudStep | None = None
        self.users: list[SqlUser] = []
        self.steps: list[GcloudStep] = []

    def order_database_steps(self) -> None:
        """Every service's step also waits for every other service's database user: creating
        a user is an operation on the primary as well (CKV_GW_DEPLOY_54)."""
        for step in self.steps:
            users = [f"{u.terraform_resource_type}.{u.friendly_unique_id}" for u in self.users]
            step.depends_on = list(dict.fromkeys([*(step.depends_on or []), *users]))


class Service(Construct):
    """Cloud Run service `<prefix>` (or `<prefix>-<service>`) for one described service;
    `name`, `account`, `spec` for the edge and observability."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        database: Database,
        cache: Cache | None,
        storage: Storage | None,
        secrets: Secrets,
        rotation: Rotation | None,
        spec: ServiceSpec | None = None,
        shared: SharedParts | None = None,
    ) -> None:
        super().__init__(scope, id_)
        spec = spec or default_spec(config)
        shared = shared or SharedParts()
        self.spec = spec
        self._migrations: list[ITerraformDependable] = []
        uses = config.service_uses(spec)
        account = ServiceAccount(
            self,
            "identity",
            account_id=app_account_id(config, spec.name),
            display_name=(
                f"{config.prefix} app (Cloud Run)"
                if is_default(spec)
                else f"{config.prefix} {spec.name} (Cloud Run)"
            ),
        )
        member = f"serviceAccount:{account.email}"
        self.service_account_email = account.email

        # Platform wiring (synth/app.py, PLATFORM_ENVIRONMENT["gcp"], the one list of names):
        # values and secrets of the components this service uses, nothing of the others.
        available: dict[str, str | SecretManagerSecret] = {}
        if "database" in uses:
            available["CLOUD_SQL_INSTANCE"] = database.connection_name
            available["DATABASE_POOL_MAX"] = str(database.pool_size)  # DB-6
        if "cache" in uses and cache is not None:
            available["REDIS_HOST"] = cache.host
            available["REDIS_PORT"] = cache.port_string
            available["REDIS_AUTH"] = cache.auth_secret
            available["REDIS_CA_CERT"] = cache.ca_secret
        if "object_storage" in uses and storage is not None:
            available["BUCKET_NAME"] = storage.bucket_name
        wiring = {
            variable: available[variable]
            for component in COMPONENTS
            if component in uses
            for variable in PLATFORM_ENVIRONMENT["gcp"][component]
            if variable not in CLOUD_RUN_SETS
        }
        plain = {k: v for k, v in wiring.items() if isinstance(v, str)}
        # APP-4: what it reads from Secret Manager: its catalog secrets, then the platform's.
        readable = {
            **secrets.for_service(spec),
            **{k: v for k, v in wiring.items() if not isinstance(v, str)},
        }
        self.environment = {**plain, **spec.environment}
        self.secret_variables = tuple(readable)

        # APP-5, IAM-1: only the secrets it lists, its bucket and its database.
        grants = [
            SecretManagerSecretIamMember(
                self,
                f"reads-{name.lower()}",
                secret_id=secret.id,
                role="roles/secretmanager.secretAccessor",
                member=member,
            )
            for name, secret in readable.items()
        ]
        runtime: list[TerraformResource] = [*grants]
        if "object_storage" in uses and storage is not None:
            runtime.append(
                StorageBucketIamMember(
                    self,
                    "uses-bucket",
                    bucket=storage.bucket_name,
                    role="roles/storage.objectUser",
                    member=member,
                )
            )
        proxy: list[CloudRunV2ServiceTemplateContainers] = []
        if "database" in uses:
            runtime.extend(self._database(config, spec, database, account, member, shared))
            proxy.append(self._proxy(database, spec, secrets))
        # DEPLOY-2: every grant its first revision runs on (`build_services` waits for them
        # to propagate).
        self.grants = runtime
        after: list[ITerraformDependable] = [*runtime]
        after.extend(secrets.versions[k] for k in secrets.version_keys(spec, readable))
        # DEPLOY-5: an external secret labelled set is read only after the step that finds its
        # latest version ENABLED (constructs/gcp/secrets.py, `_value_check`).
        after.extend(secrets.value_checks[n] for n in readable if n in secrets.value_checks)
        if rotation is not None and any(n in secrets.rotated for n in spec.secrets):
            after.append(rotation.first_run)
        after.extend(self._migrations)

        env = [
            CloudRunV2ServiceTemplateContainersEnv(name=name, value=value)
            for name, value in self.environment.items()
        ] + [
            CloudRunV2ServiceTemplateContainersEnv(
                name=name,
                value_source=CloudRunV2ServiceTemplateContainersEnvValueSource(
                    secret_key_ref=CloudRunV2ServiceTemplateContainersEnvValueSourceSecretKeyRef(
                        secret=secret.secret_id, version="latest"
                    )
                ),
            )
            for name, secret in readable.items()
        ]
        startup_period, liveness_period = probe_periods(spec)
        health = spec.health
        # A routed service is reached through the external load balancer, which sends no
        # identity, so the invoker check is off and ingress admits the load balancer only. An
        # internal one (`route: null`) has no load balancer: it admits internal traffic only
        # and keeps the invoker check, so a caller needs `roles/run.invoker` on it
        # (https://cloud.google.com/run/docs/securing/ingress: ingress alone admits every VPC
        # network of the project; layer IAM on it). With no requests to wait for, its CPU is
        # always allocated (`cpu_idle` false), or its background work would be throttled
        # (https://cloud.google.com/run/docs/configuring/billing-settings).
        internal = spec.route is None
        self.service = CloudRunV2Service(
            self,
            "service",
            name=service_name(config, spec.name),
            location=config.gcp.region,
            ingress="INGRESS_TRAFFIC_INTERNAL_ONLY"
            if internal
            else "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
            invoker_iam_disabled=not internal,
            deletion_protection=False,  # stateless: a revision can always be redeployed
            template=CloudRunV2ServiceTemplate(
                service_account=account.email,
                scaling=CloudRunV2ServiceTemplateScaling(  # APP-1
                    min_instance_count=spec.min_replicas, max_instance_count=spec.max_replicas
                ),
                max_instance_request_concurrency=80,
                timeout="30s",
                vpc_access=CloudRunV2ServiceTemplateVpcAccess(
                    egress="ALL_TRAFFIC",  # through the VPC firewall and Cloud NAT
                    network_interfaces=[
                        CloudRunV2ServiceTemplateVpcAccessNetworkInterfaces(
                            network=network.network_name,
                            subnetwork=network.subnets["app"].name,
                            tags=network.tags_for(uses),
                        )
                    ],
                ),
                containers=[
                    CloudRunV2ServiceTemplateContainers(
                        name=APP_CONTAINER,
                        image=config.gcp.initial_image,  # DEPLOY-5
                        ports=CloudRunV2ServiceTemplateContainersPorts(container_port=spec.port),
                        resources=CloudRunV2ServiceTemplateContainersResources(  # APP-2
                            limits={
                                "cpu": cloud_run_cpu(spec.cpu_limit),
                                "memory": f"{spec.memory_limit_mib}Mi",
                            },
                            cpu_idle=not internal,
                            startup_cpu_boost=True,
                        ),
                        env=env,
                        startup_probe=CloudRunV2ServiceTemplateContainersStartupProbe(
                            http_get=CloudRunV2ServiceTemplateContainersStartupProbeHttpGet(
                                path=health.path, port=spec.port
                            ),
                            period_seconds=startup_period,
                            timeout_seconds=health.timeout_seconds,
                            failure_threshold=3,
                        ),
                        liveness_probe=CloudRunV2ServiceTemplateContainersLivenessProbe(
                            http_get=CloudRunV2ServiceTemplateContainersLivenessProbeHttpGet(
                                path=health.path, port=spec.port
                            ),
                            period_seconds=liveness_period,
                            timeout_seconds=health.timeout_seconds,
                            failure_threshold=3,
                        ),
                        depends_on=[PROXY_CONTAINER] if proxy else None,
                    ),
                    *proxy,
                ],
            ),
            lifecycle=TerraformResourceLifecycle(ignore_changes=PIPELINE_OWNED),
            # DEPLOY-2: the first revision starts as `account`: its grants exist first (the
            # proxy sidecar needs the database role's connect, get and login).
            depends_on=after,
        )
        waive(
            self.service,
            "CKV_GW_EDGE_44",
            reason="Cloud Run stops an instance 10 s after SIGTERM and the grace period cannot be "
            "configured (cloud.google.com/run/docs/container-contract#instance-shutdown); "
            "EDGE-4's 30 s needs another platform (GKE or Compute Engine behind the same load "
            "balancer).",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        # F5: APP-1's memory trigger has no Cloud Run equivalent; CKV_GW_APP_46 says so and
        # this waiver makes the gate report APP-1 as waived, never passed.
        waive(
            self.service,
            "CKV_GW_APP_46",
            reason="Cloud Run autoscales on request concurrency and ~60 % CPU only; memory is not "
            "an autoscaling signal (cloud.google.com/run/docs/about-instance-autoscaling), so "
            "APP-1's memory > 80 % trigger cannot be configured. The OBS-2 memory alert "
            "(> 85 % for 5 min) is what reports memory pressure.",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        self.name = self.service.name
        self.account = account
        if rotation is not None and any(n in secrets.rotated for n in spec.secrets):
            rotation.may_restart(self.service, account, spec.name)  # DEPLOY-6: roll after one

    def wait_for(self, ready: TerraformResource) -> None:
        """The first revision also waits for `ready`, the wait after its grants (DEPLOY-2)."""
        self.service.depends_on = [
            *(self.service.depends_on or []),
            f"{ready.terraform_resource_type}.{ready.friendly_unique_id}",
        ]

    def _database(
        self,
        config: EnvironmentConfig,
        spec: ServiceSpec,
        database: Database,
        account: ServiceAccount,
        member: str,
        shared: SharedParts,
    ) -> list[TerraformResource]:
        """The database login: the shared custom role on our instances, an IAM database user,
        and the step that lets that user run its migrations (DB-9, IAM-1, DEPLOY-6)."""
        project = config.gcp.project
        # Cloud SQL roles are project-level; the condition narrows them to our instances.
        own_instances = ProjectIamMemberCondition(
            title="own-database-only",
            expression=(
                'resource.service == "sqladmin.googleapis.com" && resource.name.startsWith('
                f'"projects/{project}/instances/{config.prefix}-pg")'
            ),
        )
        # IAM-1: not roles/cloudsql.client + roles/cloudsql.instanceUser: instanceUser also
        # holds cloudsql.instances.executeSql, the Data API, which runs SQL as this account
        # from anywhere (https://cloud.google.com/sql/docs/postgres/executesql-instance). The
        # proxy needs `connect` and `get` to fetch its ephemeral certificate and connection
        # info (roles/cloudsql.client's permissions, https://cloud.google.com/sql/docs/
        # postgres/roles-and-permissions) and `login` for IAM database authentication
        # (--auto-iam-authn; https://cloud.google.com/sql/docs/postgres/iam-roles,
        # https://cloud.google.com/sql/docs/postgres/iam-authentication).
        if shared.database_role is None:
            shared.database_role = custom_role(
                self,
                "database-role",
                config=config,
                role="app_database",
                title=f"{config.prefix} app: connect and log in to its Cloud SQL instances",
                permissions=list(DATABASE_PERMISSIONS),
            )
        login = ProjectIamMember(
            self,
            "database-login",
            project=project,
            role=shared.database_role.name,
            member=member,
            condition=own_instances,
        )
        user = SqlUser(  # DB-9: IAM login, no password
            self,
            "database-user",
            instance=database.instance_name,
            name=iam_user(config, spec.name),
            type="CLOUD_IAM_SERVICE_ACCOUNT",
            depends_on=[account],  # Cloud SQL checks the service account exists
        )
        statements = database_statements(config, spec.name)
        # DEPLOY-6, IAM-1: the service's own login gets exactly what its migrations need, no
        # admin role (database_setup() says how and why).
        migrations = GcloudStep(
            self,
            "database-roles",
            project=project,
            does="create the pgAudit extension and let the app's IAM database user create in "
            "its own database and schema",
            args=[
                "sql", "instances", "execute-sql", database.instance_name,
                f"--database={database.database_name}", f"--sql={statements}",
            ],
            apis=("sqladmin.googleapis.com",),
            role="roles/cloudsql.admin",
            triggers={
                "user": user.id,
                "grants": statements,
                "roles": revoke_admin(config, database.instance_name, spec.name),
            },
            # It patches the primary (Data API on and off): Cloud SQL runs one operation per
            # instance at a time and refuses another with HTTP 409 "operation in progress"
            # (https://cloud.google.com/sql/docs/troubleshooting#operation-in-progress). The
            # provider serializes its own resources on an instance with a lock this step does
            # not take, so the step waits for everything else that operates on the primary:
            # its database, users, each read replica (whose creation runs on it) and the
            # previous service's step.
            depends_on=[
                user,
                database.database,
                *database.replicas,
                *([shared.last_database_step] if shared.last_database_step else []),
            ],
            script=database_setup(config, database.instance_name, spec.name),
        )  # fmt: skip
        shared.last_database_step = migrations
        shared.users.append(user)
        shared.steps.append(migrations)
        self._migrations = [migrations]
        return [login]

    def _proxy(
        self, database: Database, spec: ServiceSpec, secrets: Secrets
    ) -> CloudRunV2ServiceTemplateContainers:
        """DEPLOY-6: the database path, the Cloud SQL Auth Proxy sidecar. A service that reads
        a `database_reader_url` also reaches read replica 0, on the next port: given several
        instances, the proxy listens on `--port` for the first and on each following port for
        the next (GoogleCloudPlatform/cloud-sql-proxy, cmd/root.go, `--port`: "Initial port for
        listeners. Subsequent listeners increment from this value.")."""
        instances = [database.connection_name]
        if secrets.reads_replica(spec) and database.replicas:
            instances.append(database.replicas[0].connection_name)
        return CloudRunV2ServiceTemplateContainers(
            name=PROXY_CONTAINER,
            image=CLOUD_SQL_PROXY_IMAGE,
            args=[
                "--private-ip",
                "--auto-iam-authn",
                # The service's CPU is allocated only during requests
                # (`cpu_idle`), which throttles the proxy's background refresh of
                # its client certificate and IAM token: connections then fail
                # intermittently (GoogleCloudPlatform/cloud-sql-proxy#2183, fixed
                # by `--lazy-refresh` in #2184, release 2.11.0; the connectors
                # did the same, cloud-sql-python-connector#805). Lazy refresh
                # fetches them when a connection needs them, with no background
                # work. Chosen over `cpu_idle = false` (instance-based billing
                # for every idle instance, APP-2's 0.25 vCPU "request").
                "--lazy-refresh",
                "--structured-logs",
                f"--port={database.port}",
                "--health-check",
                "--http-address=0.0.0.0",
                f"--http-port={PROXY_HEALTH_PORT}",
                *instances,
            ],
            resources=CloudRunV2ServiceTemplateContainersResources(
                # Like the app container: CPU always allocated for an internal service.
                limits={"cpu": "1", "memory": "256Mi"},
                cpu_idle=spec.route is not None,
            ),
            # The app waits for this probe (`depends_on`; Cloud Run refuses a
            # dependency without a startup probe, GoogleCloudPlatform/cloud-run-
            # samples#230; probes: https://cloud.google.com/run/docs/configuring/
            # healthchecks, HTTP 200-399 is success). A TCP probe on
            # 5432 proved nothing: the proxy binds the database port to 127.0.0.1
            # and opens it before it can reach the instance. `/startup` answers 200
            # only once the proxy has started, and the health server listens on
            # 0.0.0.0 so the platform's prober reaches it (the proxy binds it to
            # localhost by default: GoogleCloudPlatform/cloud-sql-proxy, examples/
            # k8s-health-check/README.md). It serves only /startup, /liveness and
            # /readiness, and only the ingress container's port is routed.
            startup_probe=CloudRunV2ServiceTemplateContainersStartupProbe(
                http_get=CloudRunV2ServiceTemplateContainersStartupProbeHttpGet(
                    path="/startup", port=PROXY_HEALTH_PORT
                ),
                period_seconds=2,
                timeout_seconds=1,
                failure_threshold=15,
            ),
        )


def build_services(
    scope: Construct,
    *,
    config: EnvironmentConfig,
    network: Network,
    database: Database,
    cache: Cache | None,
    storage: Storage | None,
    secrets: Secrets,
    rotation: Rotation | None,
) -> list[Service]:
    """APP-7: one Cloud Run service per described service, in the description's order."""
    shared = SharedParts()
    services = [
        Service(
            scope,
            construct_id(spec),
            config=config,
            network=network,
            database=database,
            cache=cache,
            storage=storage,
            secrets=secrets,
            rotation=rotation,
            spec=spec,
            shared=shared,
        )
        for spec in config.services
    ]
    if len(shared.steps) > 1:
        shared.order_database_steps()
    # DEPLOY-2: Cloud Run checks at revision creation that the identity may read each secret
    # the revision references, and the proxy sidecar logs in with its database grant at start;
    # a grant is honoured only once it has propagated (constructs/gcp/propagation.py). One wait
    # per stack after every runtime grant (each service's, the rotator's), which every
    # service and the rotator job depend on. No Artifact Registry grant is among them: the
    # Cloud Run service agent reads repositories of its own project without one (a reader
    # grant is needed only across projects: https://cloud.google.com/artifact-registry/docs/
    # integrate-cloud-run), and the first revision runs gcp.initial_image (DEPLOY-5).
    grants = [g for service in services for g in service.grants]
    if rotation is not None:
        grants.extend(rotation.grants)
    if grants:
        ready = all_propagated(scope, "runtime-grants-propagated", grants)
        for service in services:
            service.wait_for(ready)
        if rotation is not None:
            rotation.wait_for(ready)
    return services
