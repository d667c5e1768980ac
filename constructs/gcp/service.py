"""Cloud Run (v2) service for the app: private ingress, direct VPC egress, secrets by reference.

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
  version before it starts: derived versions are references, JWT_SECRET's first version is
  the rotator's first run (constructs/gcp/rotation.py), which the service depends on.
- DEPLOY-6: the Cloud SQL Auth Proxy runs as a sidecar (`--private-ip --auto-iam-authn`
  on 127.0.0.1:5432; the app container starts once the proxy's `/startup` probe passes),
  the app gets REDIS_CA_CERT to verify Memorystore, and its IAM database user may run its
  migrations and nothing more (`database_setup` below).
- EDGE-4: startup probe `GET /health` every 10 s, liveness every 30 s. Cloud Run gives an
  instance 10 s after SIGTERM (fixed by the platform), not 30 s: the gap is
  CKV_GW_EDGE_44, failing and waived with its reason, not passed on paper.
- APP-4: secrets enter only as `secret_key_ref`; APP-5: the service account
  `<prefix>-app` may read only its own secrets, use only its bucket, and log in to its own
  Cloud SQL instances as an IAM database user (DB-9).
- Ingress only from the internal/Cloud Load Balancing path (NET-3); with that ingress the
  invoker check is off so the external load balancer can reach it without `allUsers`.

Satisfies: APP-1, APP-2, APP-3, APP-4, APP-5, EDGE-4, DB-6, DB-9, NET-3, IAM-1
Satisfies: DEPLOY-2, DEPLOY-5, DEPLOY-6
"""

from __future__ import annotations

import math
import shlex

from cdktf import TerraformResourceLifecycle
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
from cdktf_cdktf_provider_google.project_iam_member import (
    ProjectIamMember,
    ProjectIamMemberCondition,
)
from cdktf_cdktf_provider_google.secret_manager_secret_iam_member import (
    SecretManagerSecretIamMember,
)
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from cdktf_cdktf_provider_google.sql_user import SqlUser
from cdktf_cdktf_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct
from constructs.gcp import waivers
from constructs.gcp.accounts import custom_role
from constructs.gcp.cache import Cache
from constructs.gcp.database import DATABASE_NAME, Database, app_account_id, iam_user
from constructs.gcp.network import Network
from constructs.gcp.rotation import Rotation
from constructs.gcp.secrets import Secrets
from constructs.gcp.steps import GcloudStep
from constructs.gcp.storage import Storage

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

HEALTH_PATH = "/health"
# The app's container; the Cloud SQL Auth Proxy sidecar is `cloud-sql-proxy`. Cloud Run's
# per-container metrics carry it as `metric.label.container_name` (OBS-2 alerts select it).
APP_CONTAINER = "app"
# What the app's migrations need and nothing more (IAM-1, DEPLOY-6): connect to, create
# schemas and temporary tables in its own database, and create in `public`. No role
# membership: not `cloudsqlsuperuser` (extensions, event triggers, replication users,
# https://cloud.google.com/sql/docs/postgres/users) nor any other admin role.
DATABASE_PRIVILEGES = "CONNECT, CREATE, TEMPORARY"
SCHEMA_PRIVILEGES = "USAGE, CREATE"
# The Data API is on only while the step runs: for a private-IP instance it admits IAM-
# authenticated statements from the internet (https://cloud.google.com/sql/docs/postgres/
# executesql-instance, "ALLOW_DATA_API"); the gcloud values are those that page documents.
DATA_API_ON, DATA_API_OFF = "ALLOW_DATA_API", "DENY_DATA_API"
CLOUD_RUN_CPUS = (1, 2, 4, 6, 8)
# IAM-1: what the Cloud SQL Auth Proxy needs as the app's account (service.py, below).
DATABASE_PERMISSIONS = (
    "cloudsql.instances.connect",
    "cloudsql.instances.get",
    "cloudsql.instances.login",
)
# Secrets the app reads, by environment variable (APP-4); DATABASE_PASSWORD is not one (DB-9).
APP_SECRETS = (
    "JWT_SECRET",
    "JWT_SECRET_PREVIOUS",
    "JWT_SECRET_NEXT",
    "DATABASE_URL",
    "REDIS_AUTH",
    "REDIS_CA_CERT",
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
PIPELINE_OWNED = ["template[0].containers[0].image", "client", "client_version"]


def cloud_run_cpu(limit: float) -> str:
    """APP-2: the nearest Cloud Run CPU at or above `limit` that allows concurrency."""
    return str(next(c for c in CLOUD_RUN_CPUS if c >= math.ceil(limit)))


def migration_grants(config: EnvironmentConfig) -> str:
    """The statements that let the app's IAM user run its migrations (idempotent: GRANT of
    a privilege already held changes nothing, https://www.postgresql.org/docs/current/
    sql-grant.html)."""
    user = '"' + iam_user(config).replace('"', '""') + '"'
    return (
        f"GRANT {DATABASE_PRIVILEGES} ON DATABASE {DATABASE_NAME} TO {user}; "
        f"GRANT {SCHEMA_PRIVILEGES} ON SCHEMA public TO {user};"
    )


def app_role_literal(config: EnvironmentConfig) -> str:
    """The app's IAM database user as an SQL string literal."""
    return "'" + iam_user(config).replace("'", "''") + "'"


def revoke_admin(config: EnvironmentConfig, instance: str) -> str:
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
            "gcloud", "sql", "users", "assign-roles", iam_user(config),
            f"--instance={instance}", "--type=CLOUD_IAM_SERVICE_ACCOUNT",
            "--revoke-existing-roles", f"--project={config.gcp.project}", "--quiet",
        ]
    )  # fmt: skip


def database_statements(config: EnvironmentConfig) -> str:
    """What the step runs in the app's database: the pgAudit extension and the grants (the
    app's role memberships are revoked through the Admin API, `revoke_admin`).

    `cloudsql.enable_pgaudit` and `pgaudit.log` (constructs/gcp/database.py) log nothing
    until the extension exists in the database: Cloud SQL's steps are the flag, then
    `CREATE EXTENSION pgaudit`, then `pgaudit.log` (https://cloud.google.com/sql/docs/
    postgres/pg-audit). Creating it takes `cloudsqlsuperuser`, which the deployer is in this
    step and the app never is; IF NOT EXISTS keeps the step safe to repeat.
    """
    return f"CREATE EXTENSION IF NOT EXISTS pgaudit; {migration_grants(config)}"


def superuser_check(config: EnvironmentConfig) -> str:
    """A query whose result is `not-admin` only if the app's user is no member (direct or
    inherited) of `cloudsqlsuperuser`. The marker is built by concatenation so that an
    error message echoing the statement cannot contain it."""
    return (
        f"SELECT CASE WHEN pg_has_role({app_role_literal(config)}, 'cloudsqlsuperuser', "
        "'MEMBER') THEN 'is-' || 'admin' ELSE 'not-' || 'admin' END AS app_admin"
    )


def database_setup(config: EnvironmentConfig, instance: str) -> str:
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
      fails unless a query shows the user is no member of it (`superuser_check`).
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
            f"--sql={q(database_statements(config))} --project={q(project)} --quiet",
            revoke_admin(config, instance),
            # IAM-1: fail unless the app's user is (now) no member of cloudsqlsuperuser
            f"admin=$(gcloud sql instances execute-sql {instance} --database={DATABASE_NAME} "
            f"--sql={q(superuser_check(config))} --project={q(project)} --quiet)",
            'case "$admin" in *not-admin*) ;; *) echo "the app database user is still a '
            'member of cloudsqlsuperuser: $admin" >&2; exit 1;; esac',
            # close the Data API and prove it is closed; a trap alone cannot fail the step
            f"{patch} --data-api-access={DATA_API_OFF}",
            "trap - EXIT",
            f"access=$(gcloud sql instances describe {instance} --project={q(project)} "
            "--format='value(settings.dataApiAccess)')",
            f'if [ "$access" = {DATA_API_ON} ]; then echo "the Data API of {instance} is still '
            'allowed" >&2; exit 1; fi',
        ]
    )


class Service(Construct):
    """Service `<prefix>`; `name`, `service_account_email` for the edge and observability."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        database: Database,
        cache: Cache,
        storage: Storage,
        secrets: Secrets,
        rotation: Rotation,
    ) -> None:
        super().__init__(scope, id_)
        project = config.gcp.project
        svc = config.service
        account = ServiceAccount(
            self,
            "identity",
            account_id=app_account_id(config),
            display_name=f"{config.prefix} app (Cloud Run)",
        )
        member = f"serviceAccount:{account.email}"
        self.service_account_email = account.email

        # APP-5: only its own secrets, bucket and database.
        app_secrets = secrets.secrets
        grants = [
            SecretManagerSecretIamMember(
                self,
                f"reads-{name.lower()}",
                secret_id=app_secrets[name].id,
                role="roles/secretmanager.secretAccessor",
                member=member,
            )
            for name in APP_SECRETS
        ]
        bucket_grant = StorageBucketIamMember(
            self,
            "uses-bucket",
            bucket=storage.bucket_name,
            role="roles/storage.objectUser",
            member=member,
        )
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
        database_role = custom_role(
            self,
            "database-role",
            config=config,
            role="app_database",
            title=f"{config.prefix} app: connect and log in to its Cloud SQL instances",
            permissions=list(DATABASE_PERMISSIONS),
        )
        database_grants = [
            ProjectIamMember(
                self,
                "database-login",
                project=project,
                role=database_role.name,
                member=member,
                condition=own_instances,
            )
        ]
        user = SqlUser(  # DB-9: IAM login, no password
            self,
            "database-user",
            instance=database.instance_name,
            name=iam_user(config),
            type="CLOUD_IAM_SERVICE_ACCOUNT",
            depends_on=[account],  # Cloud SQL checks the service account exists
        )
        # DEPLOY-6, IAM-1: the app's own login gets exactly what its migrations need, no
        # admin role (database_setup() says how and why).
        migrations = GcloudStep(
            self,
            "database-roles",
            project=project,
            does="create the pgAudit extension and let the app's IAM database user create in "
            "its own database and schema",
            args=[
                "sql", "instances", "execute-sql", database.instance_name,
                f"--database={database.database_name}", f"--sql={database_statements(config)}",
            ],
            apis=("sqladmin.googleapis.com",),
            role="roles/cloudsql.admin",
            triggers={
                "user": user.id,
                "grants": database_statements(config),
                "roles": revoke_admin(config, database.instance_name),
            },
            # It patches the primary (Data API on and off): Cloud SQL runs one operation per
            # instance at a time and refuses another with HTTP 409 "operation in progress"
            # (https://cloud.google.com/sql/docs/troubleshooting#operation-in-progress). The
            # provider serializes its own resources on an instance with a lock this step does
            # not take, so the step waits for everything else that operates on the primary:
            # its database, users, and each read replica (whose creation runs on it).
            depends_on=[user, database.database, *database.replicas],
            script=database_setup(config, database.instance_name),
        )  # fmt: skip

        env = [
            CloudRunV2ServiceTemplateContainersEnv(name=name, value=value)
            for name, value in {
                "CLOUD_SQL_INSTANCE": database.connection_name,
                "DATABASE_POOL_MAX": str(database.pool_size),  # DB-6
                "REDIS_HOST": cache.host,
                "REDIS_PORT": cache.port_string,
                "BUCKET_NAME": storage.bucket_name,
            }.items()
        ] + [
            CloudRunV2ServiceTemplateContainersEnv(
                name=name,
                value_source=CloudRunV2ServiceTemplateContainersEnvValueSource(
                    secret_key_ref=CloudRunV2ServiceTemplateContainersEnvValueSourceSecretKeyRef(
                        secret=app_secrets[name].secret_id, version="latest"
                    )
                ),
            )
            for name in APP_SECRETS
        ]
        self.service = CloudRunV2Service(
            self,
            "service",
            name=config.prefix,
            location=config.gcp.region,
            ingress="INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
            invoker_iam_disabled=True,
            deletion_protection=False,  # stateless: a revision can always be redeployed
            template=CloudRunV2ServiceTemplate(
                service_account=account.email,
                scaling=CloudRunV2ServiceTemplateScaling(  # APP-1
                    min_instance_count=svc.min_replicas, max_instance_count=svc.max_replicas
                ),
                max_instance_request_concurrency=80,
                timeout="30s",
                vpc_access=CloudRunV2ServiceTemplateVpcAccess(
                    egress="ALL_TRAFFIC",  # through the VPC firewall and Cloud NAT
                    network_interfaces=[
                        CloudRunV2ServiceTemplateVpcAccessNetworkInterfaces(
                            network=network.network_name,
                            subnetwork=network.subnets["app"].name,
                            tags=[network.app_tag],
                        )
                    ],
                ),
                containers=[
                    CloudRunV2ServiceTemplateContainers(
                        name=APP_CONTAINER,
                        image=config.gcp.initial_image,  # DEPLOY-5
                        ports=CloudRunV2ServiceTemplateContainersPorts(container_port=svc.port),
                        resources=CloudRunV2ServiceTemplateContainersResources(  # APP-2
                            limits={
                                "cpu": cloud_run_cpu(svc.cpu_limit),
                                "memory": f"{svc.memory_limit_mib}Mi",
                            },
                            cpu_idle=True,
                            startup_cpu_boost=True,
                        ),
                        env=env,
                        startup_probe=CloudRunV2ServiceTemplateContainersStartupProbe(
                            http_get=CloudRunV2ServiceTemplateContainersStartupProbeHttpGet(
                                path=HEALTH_PATH, port=svc.port
                            ),
                            period_seconds=10,
                            timeout_seconds=5,
                            failure_threshold=3,
                        ),
                        liveness_probe=CloudRunV2ServiceTemplateContainersLivenessProbe(
                            http_get=CloudRunV2ServiceTemplateContainersLivenessProbeHttpGet(
                                path=HEALTH_PATH, port=svc.port
                            ),
                            period_seconds=30,
                            timeout_seconds=5,
                            failure_threshold=3,
                        ),
                        depends_on=["cloud-sql-proxy"],
                    ),
                    CloudRunV2ServiceTemplateContainers(  # DEPLOY-6: the database path
                        name="cloud-sql-proxy",
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
                            database.connection_name,
                        ],
                        resources=CloudRunV2ServiceTemplateContainersResources(
                            limits={"cpu": "1", "memory": "256Mi"}, cpu_idle=True
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
                    ),
                ],
            ),
            lifecycle=TerraformResourceLifecycle(ignore_changes=PIPELINE_OWNED),
            # DEPLOY-2: the first revision starts as `account`: its grants exist first (the
            # proxy sidecar needs the database role's connect, get and login).
            depends_on=[
                *grants,
                bucket_grant,
                *database_grants,
                *secrets.versions.values(),
                rotation.first_run,
                migrations,
            ],
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
        rotation.may_restart(self.service, account)  # DEPLOY-6: roll after a rotation
