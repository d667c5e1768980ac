"""Builds the app's jobs in its Container Apps environment: database roles, cache access, rotation.

Satisfies: SEC-2, SEC-5, DB-9, CACHE-1, APP-5, APP-7, DEPLOY-2, DEPLOY-5, DEPLOY-6

One `database-role` job for every service that uses the database, and one `cache-access` job
per service that uses the cache (each service signs in as its own identity, APP-7); the
default service's cache job keeps today's construct ID and name, the others' carry the service
name.

Both run as Container Apps jobs in the app's (VNet-integrated) environment, so they reach
the database, the vault and the rotation queue through their private endpoints, with
their own user-assigned identities and no stored credential. Their images are public
images that exist before any release pipeline has run (DEPLOY-5): Microsoft's Azure CLI
image (MCR) and the Docker official PostgreSQL image from ECR Public (the AWS stack's
role task uses the same), pinned by tag. None comes from Docker Hub: the environment
egresses through one NAT address, and Docker Hub limits anonymous pulls per address
(https://docs.docker.com/docker-hub/usage/pulls/; refused pulls from Azure: Azure/azure-cli
#29300), which a job that starts every few minutes would exhaust.

- `database-role` (DEPLOY-6, DB-9): the server accepts Entra ID tokens only, and a
  PostgreSQL role for a managed identity can be created only by an Entra administrator,
  in SQL, with `pgaadauth_create_principal_with_oid`
  (https://learn.microsoft.com/azure/postgresql/flexible-server/how-to-manage-azure-ad-users).
  The job runs as the server's Entra administrator (`id-<prefix>-dbadmin`), gets a token
  from the Container Apps identity endpoint
  (https://learn.microsoft.com/azure/container-apps/managed-identity#rest-endpoint-reference),
  and creates the app identity's role if it is missing, then grants it every privilege on
  the app's database (CONNECT, CREATE, TEMPORARY) and, connected to that database, USAGE
  and CREATE on its schema `public` (PostgreSQL 15+ no longer lets every role create
  there), so the app runs its migrations in `public` or in a schema it creates and owns;
  it is not an administrator. One job does this for every service that uses the database,
  one role after the other (`APP_ROLES`), idempotently. It has no schedule: azurerm cannot
  run a job, and a scheduled one first runs after the apply, so the roles appeared only up
  to 15 minutes later and each service's job pulled its image every quarter hour. The job is
  manually triggered and the apply starts it and waits for it to succeed (`JobRun`,
  constructs/azure/steps.py, on the deploy runner), again whenever the roles or the script
  change, and every app that signs in to the database depends on that step
  (CKV_GW_DEPLOY_93), so each service can sign in when the apply ends. A dropped role is
  restored by starting the job (`az containerapp job start`, README).
- `cache-access` (DEPLOY-6, CACHE-1, APP-5): the cache takes Entra ID tokens only, and a
  token is accepted only for an identity with an access policy assignment on the cache's
  database (https://learn.microsoft.com/azure/redis/entra-for-authentication). azurerm 4.55
  cannot create one for Azure Managed Redis (hashicorp/terraform-provider-azurerm #30938;
  the resource came with #30980, after 4.55), so the job PUTs the ARM child resource
  `Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments` (api-version
  2025-04-01, policy `default`, the only one the service offers,
  https://learn.microsoft.com/azure/templates/microsoft.cache/redisenterprise/databases/accesspolicyassignments)
  for the app's identity. It runs as `id-<prefix>-cacheaccess`, whose custom role allows
  exactly that on this one cache, idempotently (a PUT of the same assignment). Like the
  database-role job it has no schedule: the apply starts it and waits (`JobRun`), one
  service's after the other, and the service's app waits for that step, so the app can use
  the cache when the apply ends (CKV_GW_DEPLOY_93).
- `secret-rotation` (SEC-2, DEPLOY-6): Key Vault raises `SecretNearExpiry` 30 days before a
  secret expires; Event Grid puts it on the `secret-rotation` queue (constructs/azure/secrets.py).
  The job runs every `ROTATION_JOB_CRON` (hourly) and takes each message. For a generated
  secret (the rotated-secrets contract) it shifts the group previous <- current <- next <-
  fresh random of the entry's bits (`GENERATED_BYTES`), each with a new expiry
  `secrets.rotation_days` ahead, then waits for Container Apps to refresh its Key Vault
  references and restarts the active revisions of every service that reads one,
  so live replicas are never more than one rotation apart; a derived secret gets a new
  version of its current value; an external secret's events are dropped untouched (its
  issuer rotates it). Its identity may write only those secrets, process only
  that queue, and read and restart revisions of the apps that read a generated secret (a
  custom role, assigned on each of those apps; `APP_NAMES`).

Both custom roles are assigned only after their definition has had time to replicate
(`replicated`, constructs/azure/propagation.py): an assignment made right after its definition
can fail with `RoleDefinitionDoesNotExist` (DEPLOY-2).
"""

from __future__ import annotations

import hashlib
import json

from cdktf_cdktf_provider_azurerm.container_app_environment import ContainerAppEnvironment
from cdktf_cdktf_provider_azurerm.container_app_job import (
    ContainerAppJob,
    ContainerAppJobIdentity,
    ContainerAppJobManualTriggerConfig,
    ContainerAppJobScheduleTriggerConfig,
    ContainerAppJobTemplate,
    ContainerAppJobTemplateContainer,
    ContainerAppJobTemplateContainerEnv,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.role_definition import RoleDefinition, RoleDefinitionPermissions
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct
from constructs.azure.cache import Cache
from constructs.azure.database import Database
from constructs.azure.keys import global_name
from constructs.azure.propagation import propagated, replicated
from constructs.azure.secrets import Secrets
from constructs.azure.service import ServiceApp
from constructs.azure.steps import JobRun

from synth.app import DEFAULT_SERVICE_NAME, service_suffix
from synth.config import EnvironmentConfig

# Public images that exist before the first release (DEPLOY-5), pinned by tag.
# Azure CLI 2.73 or later: earlier CLIs sign in with a managed identity through IMDS only, and
# `az login --identity` fails inside Container Apps, whose identity endpoint is
# IDENTITY_ENDPOINT (Azure/azure-cli #22677, microsoft/azure-container-apps #502); MSAL's
# managed identity, which reads it, became the default in 2.73 and the only one in 2.75
# (Azure/azure-cli #25959, #31577). Since 2.73 a user-assigned identity is named with
# `--client-id`; `--username` is refused (Azure/azure-cli #31015, #31453).
AZURE_CLI_IMAGE = "mcr.microsoft.com/azure-cli:2.75.0"
# The server's major version (`database.engine_version`, 15..17) picks the tag. psql needs
# libpq 16 or later for `sslrootcert=system` (https://www.postgresql.org/docs/16/libpq-connect.html),
# so a 15 server gets the 16 client, which talks to it (psql supports older servers).
POSTGRES_CLIENT_IMAGE = "public.ecr.aws/docker/library/postgres:{major}-alpine"
MINIMUM_CLIENT_MAJOR = 16
# The database-role and cache-access jobs have no schedule: the apply starts them (see `Jobs`),
# so their images are pulled once per apply that changes what they do, not every 15 minutes.
ROTATION_JOB_CRON = "7 * * * *"
ENTRA_DATABASE_RESOURCE = "https://ossrdbms-aad.database.windows.net"

# Busybox wget (alpine) asks the job's identity endpoint for a database token, then, for each
# `role=object-id` pair of APP_ROLES (every service that uses the database, one after the
# other, so no two sessions GRANT on the same database and schema at once: PostgreSQL can answer
# concurrent GRANTs on one object with "tuple concurrently updated",
# cyrilgdn/terraform-provider-postgresql#178), psql creates the service's role if it is missing
# and grants it the app database (idempotent). Schema grants are per database, so a second
# session connects to the app's database itself: since PostgreSQL 15 only the database owner
# may create in schema `public` (https://www.postgresql.org/docs/15/release-15.html, "Remove
# PUBLIC creation permission on the public schema"), and the database privileges above do not
# include it.
# Why the Entra administrator may grant both: it is not a superuser, but it is a member of
# `azure_pg_admin` (https://learn.microsoft.com/azure/postgresql/flexible-server/how-to-manage-azure-ad-users,
# https://learn.microsoft.com/azure/postgresql/flexible-server/how-to-create-users), and on
# Flexible Server a database created through the Azure API, and its schema `public`, are owned
# by `azure_pg_admin` rather than by `pg_database_owner`'s usual owner, so its members hold the
# owner's right to grant on them (PostgreSQL: privileges of a role are usable by its INHERIT
# members, https://www.postgresql.org/docs/current/role-membership.html). That ownership is
# observed, not promised by Microsoft, and a GRANT without the right only warns ("no
# privileges were granted") instead of failing, so the script checks after each role that it
# really can create in the database and in `public`, and fails the job (and so the apply's
# step, constructs/azure/steps.py) if not.
# The script reaches the JSON verbatim, where Terraform reads every `${` as an interpolation, so
# it splits the pairs with `cut` and uses no shell `${...}` expansion (CKV_GW_DEPLOY_3).
ROLE_SCRIPT = r"""set -eu
token=$(wget -q -O - --header "X-IDENTITY-HEADER: $IDENTITY_HEADER" \
  "$IDENTITY_ENDPOINT?api-version=2019-08-01&resource=$TOKEN_RESOURCE&client_id=$AZURE_CLIENT_ID" \
  | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
test -n "$token"
test -n "$APP_ROLES"
for pair in $APP_ROLES; do
role=$(echo "$pair" | cut -d= -f1)
oid=$(echo "$pair" | cut -d= -f2-)
echo "role $role"
PGPASSWORD="$token" psql -v ON_ERROR_STOP=1 -v role="$role" -v oid="$oid" \
  -v db="$APP_DATABASE" \
  "host=$PGHOST port=5432 dbname=postgres user=$PGADMIN sslmode=verify-full sslrootcert=system" \
  <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS missing \gset
\if :missing
SELECT * FROM pgaadauth_create_principal_with_oid(:'role', :'oid', 'service', false, false);
\endif
GRANT ALL PRIVILEGES ON DATABASE :"db" TO :"role";
SQL
PGPASSWORD="$token" psql -v ON_ERROR_STOP=1 -v role="$role" \
  "host=$PGHOST port=5432 dbname=$APP_DATABASE user=$PGADMIN sslmode=verify-full \
  sslrootcert=system" <<'SQL'
GRANT USAGE, CREATE ON SCHEMA public TO :"role";
SELECT set_config('groundwork.role', :'role', false);
DO $$
DECLARE app text := current_setting('groundwork.role');
BEGIN
  IF NOT (has_database_privilege(app, current_database(), 'CREATE')
          AND has_schema_privilege(app, 'public', 'CREATE')) THEN
    RAISE EXCEPTION 'role % cannot create in % or its schema public', app, current_database();
  END IF;
END $$;
SQL
done
"""

# The ARM operations the cache-access job needs, on its one cache and nothing else. Custom
# roles are defined with the resource group as assignable scope (the documented levels for
# AssignableScopes are management group, subscription and resource group,
# https://learn.microsoft.com/azure/role-based-access-control/custom-roles) and assigned on the
# one resource, which narrows them to it.
CACHE_ACCESS_ACTIONS = [
    "Microsoft.Cache/redisEnterprise/databases/read",
    "Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments/read",
    "Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments/write",
]
CACHE_ACCESS_API_VERSION = "2025-04-01"  # first stable version with accessPolicyAssignments

# Signs in as the job's identity and PUTs the app identity's access policy assignment on the
# cache's database (an idempotent create-or-update), then waits for the assignment itself to
# reach Succeeded: the PUT is asynchronous (201/202), `az rest` does not follow the operation
# (Azure/azure-cli#32141), and a job that ended at the PUT would let the apply start the app
# before, or without, its access (the provider's later managed_redis_access_policy_assignment
# resource polls the same way). Assignment names are [A-Za-z0-9]{1,60}.
CACHE_ACCESS_SCRIPT = r"""set -eu
az login --identity --client-id "$AZURE_CLIENT_ID" --allow-no-subscriptions >/dev/null
url="https://management.azure.com$DATABASE_ID/accessPolicyAssignments/app?api-version=$API_VERSION"
body='{"properties":{"accessPolicyName":"default","user":{"objectId":"'"$APP_OBJECT_ID"'"}}}'
az rest --method put --url "$url" --body "$body" --output none
tries=0
while :; do
  state=$(az rest --method get --url "$url" --query properties.provisioningState --output tsv)
  case "$state" in
    Succeeded) echo "access policy assignment Succeeded"; exit 0 ;;
    Failed|Canceled) echo "access policy assignment $state" >&2; exit 1 ;;
  esac
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "access policy assignment still $state after 10 minutes" >&2
    exit 1
  fi
  sleep 10
done
"""

# Drains the rotation queue. A near-expiry event of any member of a generated secret's group
# (current, previous, next) shifts the whole group once: previous <- current <- next <- fresh
# 256 random bits, each with a new expiry; a group whose member no longer expires within 31
# days was already shifted (its three events arrive together). A derived secret gets a new
# version of its own value. An event of any other secret (an external one, whose issuer rotates
# it: it is in neither GENERATED nor ROTATED, and this identity has no role on it) is taken off
# the queue and nothing is written. After a shift, the job waits for Container Apps to pick up the
# new versions of its versionless Key Vault references (it refreshes them "within 30 minutes",
# https://learn.microsoft.com/azure/container-apps/manage-secrets#reference-secret-from-key-vault)
# and then restarts the app's active revisions, the documented way for running replicas to
# read changed secrets (same page: "Restart an existing revision").
ROTATION_SCRIPT = r"""
import base64, datetime, json, os, secrets, subprocess, time

def az(*args):
    out = subprocess.run(["az", *args, "-o", "json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout or "null")

az("login", "--identity", "--client-id", os.environ["AZURE_CLIENT_ID"], "--allow-no-subscriptions")
vault, queue, account = os.environ["VAULT_NAME"], os.environ["QUEUE_NAME"], os.environ["ACCOUNT"]
groups = json.loads(os.environ["GENERATED"])  # current name -> [previous name, next name]
sizes = json.loads(os.environ["GENERATED_BYTES"])  # current name -> random bytes per value
members = {m: current for current, others in groups.items() for m in (current, *others)}
rotated = set(os.environ["ROTATED"].split(","))
days = int(os.environ["ROTATION_DAYS"])
now = datetime.datetime.now(datetime.timezone.utc)

def show(name):
    return az("keyvault", "secret", "show", "--vault-name", vault, "--name", name)

def put(name, value):
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    az("keyvault", "secret", "set", "--vault-name", vault, "--name", name, "--value", value,
       "--expires", expires.strftime("%Y-%m-%dT%H:%M:%SZ"))

def expires_soon(secret):
    expires = (secret.get("attributes") or {}).get("expires")
    if not expires:
        return True
    when = datetime.datetime.fromisoformat(expires.replace("Z", "+00:00"))
    return when < now + datetime.timedelta(days=31)

shifted = set()
while True:
    messages = az("storage", "message", "get", "--auth-mode", "login", "--account-name", account,
                  "--queue-name", queue, "--num-messages", "32", "--visibility-timeout", "300")
    if not messages:
        break
    for message in messages:
        text = message["content"]
        try:
            text = base64.b64decode(text, validate=True).decode()
        except ValueError:
            pass
        event = json.loads(text)
        name = event.get("data", {}).get("ObjectName") or event.get("subject")
        if name in members:
            current = members[name]
            if current not in shifted and expires_soon(show(name)):
                previous, upcoming = groups[current]
                put(previous, show(current)["value"])
                put(current, show(upcoming)["value"])
                put(upcoming, secrets.token_hex(sizes[current]))  # the entry's bits (SEC-5)
                shifted.add(current)
        elif name in rotated:
            put(name, show(name)["value"])
        az("storage", "message", "delete", "--auth-mode", "login", "--account-name", account,
           "--queue-name", queue, "--id", message["id"], "--pop-receipt", message["popReceipt"])
if shifted:
    time.sleep(int(os.environ["REFRESH_SECONDS"]))
    group = os.environ["APP_RESOURCE_GROUP"]
    for app in filter(None, os.environ["APP_NAMES"].split(",")):
        for revision in az("containerapp", "revision", "list", "--name", app, "--resource-group",
                           group, "--query", "[?properties.active].name"):
            az("containerapp", "revision", "restart", "--name", app, "--resource-group", group,
               "--revision", revision)
"""
# Container Apps refreshes versionless Key Vault references within 30 minutes; wait 35.
KEY_VAULT_REFRESH_SECONDS = 35 * 60
# What the rotation job may do to the app: read it and restart its revisions, nothing else.
RESTART_ACTIONS = [
    "Microsoft.App/containerApps/read",
    "Microsoft.App/containerApps/revisions/read",
    "Microsoft.App/containerApps/revisions/restart/action",
]


class Jobs(Construct):
    """Jobs `caj-role-<prefix>-<hash>` (with the step that runs it in the apply),
    `caj-cache[-<service>]-<prefix>-<hash>` and `caj-rotate-<prefix>-<hash>` (job names allow 32
    characters, so the prefix is cut and a hash keeps them distinct)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        environment: ContainerAppEnvironment,
        database: Database,
        secrets: Secrets,
        cache: Cache | None,
        apps: dict[str, ServiceApp],
        waits_for: list[object],
    ) -> None:
        super().__init__(scope, id_)
        rg = resource_group
        common = {
            "location": rg.location,
            "resource_group_name": rg.name,
            "container_app_environment_id": environment.id,
            "workload_profile_name": "Consumption",
            "replica_retry_limit": 1,
        }
        admin = database.admin
        # DEPLOY-6: one job creates the role of every service that uses the database, and the
        # apply starts it and waits for it (`JobRun`), so every service can sign in when the
        # apply ends; each service's app waits for that step (CKV_GW_DEPLOY_93).
        users = {
            service: built
            for service, built in apps.items()
            if "database" in config.service_uses(built.service)
        }
        self.database_role: ContainerAppJob | None = None
        self.database_role_run: JobRun | None = None
        if users:
            # `<role>=<object id>` pairs; role names are identity names (`id-<prefix>-app...`,
            # no spaces) and object IDs GUIDs, so the script splits them with the shell.
            roles = " ".join(
                f"{built.identity.name}={built.identity.principal_id}" for built in users.values()
            )
            self.database_role = _job(
                self,
                "database-role",
                name=global_name(config, "caj-role", max_length=32),
                timeout_seconds=300,
                identity_id=admin.id,
                cron=None,  # started by the apply (below), not on a schedule
                container="database-role",
                image=POSTGRES_CLIENT_IMAGE.format(
                    major=max(config.database.engine_version, MINIMUM_CLIENT_MAJOR)
                ),
                cpu=0.25,
                memory="0.5Gi",
                command=["/bin/sh", "-c", ROLE_SCRIPT],
                env={
                    "AZURE_CLIENT_ID": admin.client_id,
                    "TOKEN_RESOURCE": ENTRA_DATABASE_RESOURCE,
                    "PGHOST": database.fqdn,
                    "PGADMIN": admin.name,
                    "APP_ROLES": roles,
                    "APP_DATABASE": database.database.name,
                },
                # The admin must be the server's Entra administrator before it signs in.
                depends_on=[database.entra_admin, database.database, *waits_for],
                common=common,
            )
            self.database_role_run = JobRun(
                self,
                "database-role-run",
                job=self.database_role,
                subscription_id=config.azure.subscription_id,
                does="creates the PostgreSQL role of every service that uses the database",
                triggers={
                    "roles": roles,
                    "database": database.database.name,
                    "script": hashlib.sha256(ROLE_SCRIPT.encode()).hexdigest()[:16],
                },
            )
            for built in users.values():
                _waits_for(built, self.database_role_run)

        cache_users = {
            service: built
            for service, built in apps.items()
            if "cache" in config.service_uses(built.service)
        }
        if cache is not None and cache_users:
            self._cache_access(config, common, rg.id, cache, cache_users, waits_for)

        self.rotation_identity = UserAssignedIdentity(
            self,
            "rotation-identity",
            name=f"id-{config.prefix}-rotation",
            location=rg.location,
            resource_group_name=rg.name,
        )
        principal = self.rotation_identity.principal_id
        grants = [
            RoleAssignment(
                self,
                f"rotates-{name}",
                scope=secret.resource_versionless_id,
                role_definition_name="Key Vault Secrets Officer",
                principal_id=principal,
            )
            for name, secret in secrets.rotated.items()
        ]
        restart_role = RoleDefinition(
            self,
            "restart-role",
            name=f"{config.prefix} app revision restarter",
            scope=rg.id,  # defined in the group, assigned on the app only (below)
            description="Reads this one container app and restarts its revisions.",
            permissions=[RoleDefinitionPermissions(actions=RESTART_ACTIONS)],
            assignable_scopes=[rg.id],
        )
        restart_role_replicated = replicated(self, "restart-role-replicated", restart_role)
        # Every service that reads a generated secret is restarted after a shift (the rotated
        # secrets contract); the default service's grant keeps its construct ID.
        catalog = config.secrets.catalog
        readers = [
            (service, built)
            for service, built in apps.items()
            if any(catalog[name].kind == "generated" for name in built.service.secrets)
        ]
        for service, built in readers:
            grants.append(
                RoleAssignment(
                    self,
                    "restarts-app"
                    if service == DEFAULT_SERVICE_NAME
                    else f"restarts-app-{service}",
                    scope=built.app.id,
                    role_definition_id=restart_role.role_definition_resource_id,
                    principal_id=principal,
                    depends_on=[restart_role_replicated],  # RoleDefinitionDoesNotExist (DEPLOY-2)
                )
            )
        grants.append(
            RoleAssignment(
                self,
                "processes-rotation-queue",
                scope=secrets.queue.resource_manager_id,
                role_definition_name="Storage Queue Data Message Processor",
                principal_id=principal,
            )
        )
        self.rotation = _job(
            self,
            "rotation",
            name=global_name(config, "caj-rotate", max_length=32),
            # Draining the queue, then KEY_VAULT_REFRESH_SECONDS, then the restart.
            timeout_seconds=KEY_VAULT_REFRESH_SECONDS + 900,
            identity_id=self.rotation_identity.id,
            cron=ROTATION_JOB_CRON,
            container="secret-rotation",
            image=AZURE_CLI_IMAGE,
            cpu=0.5,
            memory="1Gi",
            command=["python3", "-c", ROTATION_SCRIPT],
            env={
                "AZURE_CLIENT_ID": self.rotation_identity.client_id,
                "VAULT_NAME": secrets.vault_name,
                "ACCOUNT": secrets.queue_account_name,
                "QUEUE_NAME": secrets.queue.name,
                "GENERATED": json.dumps(secrets.generated, sort_keys=True),
                "GENERATED_BYTES": json.dumps(secrets.generated_bytes, sort_keys=True),
                "ROTATED": ",".join(sorted(secrets.rotated)),
                "ROTATION_DAYS": str(config.secrets.rotation_days),
                "REFRESH_SECONDS": str(KEY_VAULT_REFRESH_SECONDS),
                "APP_NAMES": ",".join(built.app.name for _, built in readers),
                "APP_RESOURCE_GROUP": rg.name,
            },
            # The first run is within the hour; a run refused because a grant has not
            # propagated, or before the queue's private path exists, would leave a near-expiry
            # event unprocessed until the next (DEPLOY-2).
            depends_on=[
                propagated(self, "rotation-grants-propagated", grants),
                *waits_for,
                *secrets.queue_path,
            ],
            common=common,
        )

    def _cache_access(
        self,
        config: EnvironmentConfig,
        common: dict[str, object],
        resource_group_id: str,
        cache: Cache,
        users: dict[str, ServiceApp],
        waits_for: list[object],
    ) -> None:
        rg_location, rg_name = common["location"], common["resource_group_name"]
        self.cache_access_identity = UserAssignedIdentity(
            self,
            "cache-access-identity",
            name=f"id-{config.prefix}-cacheaccess",
            location=rg_location,
            resource_group_name=rg_name,
        )
        role = RoleDefinition(
            self,
            "cache-access-role",
            name=f"{config.prefix} cache access assigner",
            scope=resource_group_id,  # assigned on the cache only (below)
            description="Assigns Entra access policies on this one Azure Managed Redis database.",
            permissions=[RoleDefinitionPermissions(actions=CACHE_ACCESS_ACTIONS)],
            assignable_scopes=[resource_group_id],
        )
        self.cache_access_grant = RoleAssignment(
            self,
            "assigns-cache-access",
            scope=cache.redis.id,
            role_definition_id=role.role_definition_resource_id,
            principal_id=self.cache_access_identity.principal_id,
            depends_on=[replicated(self, "cache-access-role-replicated", role)],  # DEPLOY-2
        )
        granted = propagated(self, "cache-access-grant-propagated", [self.cache_access_grant])
        # One job per service that uses the cache (APP-5: only those services get the policy),
        # manually triggered: the apply starts each once and waits (`JobRun`), and the service's
        # app waits for that step, so it can use the cache when the apply ends (a scheduled job
        # first runs after the apply; CKV_GW_DEPLOY_93). The steps run one after the other, so
        # no two PUT on the cache's database at once.
        self.cache_access: dict[str, ContainerAppJob] = {}
        self.cache_access_runs: dict[str, JobRun] = {}
        previous: list[JobRun] = []
        for service, built in users.items():
            suffix = service_suffix(service)
            script = CACHE_ACCESS_SCRIPT.replace(
                "accessPolicyAssignments/app", f"accessPolicyAssignments/{service}"
            )
            job = self.cache_access[service] = _job(
                self,
                f"cache-access{suffix}",
                name=global_name(config, f"caj-cache{suffix}", max_length=32),
                # The script polls the assignment for up to 10 minutes (CACHE_ACCESS_SCRIPT),
                # within the apply step's 20-minute wait (steps.WAIT_SECONDS).
                timeout_seconds=900,
                identity_id=self.cache_access_identity.id,
                cron=None,  # started by the apply (below), not on a schedule
                container="cache-access",
                image=AZURE_CLI_IMAGE,
                cpu=0.25,
                memory="0.5Gi",
                command=["/bin/sh", "-c", script],
                env={
                    "AZURE_CLIENT_ID": self.cache_access_identity.client_id,
                    "DATABASE_ID": f"{cache.redis.id}/databases/default",
                    "API_VERSION": CACHE_ACCESS_API_VERSION,
                    "APP_OBJECT_ID": built.identity.principal_id,
                },
                depends_on=[granted, *waits_for],
                common=common,
            )
            run = self.cache_access_runs[service] = JobRun(
                self,
                f"cache-access{suffix}-run",
                job=job,
                subscription_id=config.azure.subscription_id,
                does=f"gives service {service}'s identity the cache's default access policy",
                triggers={
                    "principal": built.identity.principal_id,
                    "script": hashlib.sha256(script.encode()).hexdigest()[:16],
                },
                depends_on=list(previous) or None,
            )
            previous = [run]
            _waits_for(built, run)


def _job(
    scope: Construct,
    id_: str,
    *,
    name: str,
    timeout_seconds: int,
    identity_id: str,
    cron: str | None,
    container: str,
    image: str,
    cpu: float,
    memory: str,
    command: list[str],
    env: dict[str, str],
    depends_on: list[object],
    common: dict[str, object],
) -> ContainerAppJob:
    """A Container Apps job of one container, run on `cron` (or, with None, only when started)
    as one user-assigned identity: the shape every job here shares (`common` holds placement,
    environment and retries)."""
    return ContainerAppJob(
        scope,
        id_,
        name=name,
        replica_timeout_in_seconds=timeout_seconds,
        identity=ContainerAppJobIdentity(type="UserAssigned", identity_ids=[identity_id]),
        schedule_trigger_config=ContainerAppJobScheduleTriggerConfig(
            cron_expression=cron, parallelism=1, replica_completion_count=1
        )
        if cron is not None
        else None,
        manual_trigger_config=ContainerAppJobManualTriggerConfig(
            parallelism=1, replica_completion_count=1
        )
        if cron is None
        else None,
        template=ContainerAppJobTemplate(
            container=[
                ContainerAppJobTemplateContainer(
                    name=container,
                    image=image,
                    cpu=cpu,
                    memory=memory,
                    command=command,
                    env=_env(**env),
                )
            ]
        ),
        depends_on=depends_on,
        **common,
    )


def _waits_for(built: ServiceApp, run: JobRun) -> None:
    """Adds `run` to the waits of a service's app (the apps exist before the jobs do)."""
    built.app.depends_on = [
        *(built.app.depends_on or []),
        f"{run.terraform_resource_type}.{run.friendly_unique_id}",
    ]


def _env(**values: str) -> list[ContainerAppJobTemplateContainerEnv]:
    return [ContainerAppJobTemplateContainerEnv(name=k, value=v) for k, v in values.items()]
