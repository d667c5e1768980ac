"""Cloud SQL for PostgreSQL on a private IP only, TLS-only, CMEK, with IAM database login.

- Sizing from the config: tier (`database.instance.gcp`), disk and autoresize limit,
  backups and point-in-time recovery, REGIONAL availability and read replicas (DB-4, DB-5).
- No password exists anywhere (DB-9, SEC-3): `cloudsql.iam_authentication` is on and the app
  logs in as its service account (an IAM user the service component creates), with
  short-lived OAuth tokens as passwords. DATABASE_PASSWORD stays an empty secret for
  break-glass use (constructs/gcp/secrets.py).
- DB-6: Cloud SQL managed connection pooling exists only on the Enterprise Plus edition; our
  tiers are Enterprise (shared-core and custom machines), so the documented equivalent is
  the app's in-process pool, sized by `pool_size` (passed to the app as DATABASE_POOL_MAX) so
  that every instance at max_replicas together stays below `max_connections`.
- The app's path (DEPLOY-6), one and coherent: `ssl_mode =
  TRUSTED_CLIENT_CERTIFICATE_REQUIRED` (DB-3) admits only the Cloud SQL connectors, which
  reach the instance's private IP on 3307 with a client certificate they mint per
  connection (https://cloud.google.com/sql/docs/postgres/sql-proxy). The service runs the
  Cloud SQL Auth Proxy as a sidecar (`--private-ip --auto-iam-authn`), the firewall's
  `allow-app-to-postgres` opens exactly 3307 to the private-service range, and
  DATABASE_URL is `postgresql://<iam user>@127.0.0.1:5432/app`: the proxy verifies the
  server, encrypts, and logs in with the service account's IAM token.
- Migrations (DEPLOY-6, IAM-1): an IAM database user starts with no privileges, and since
  PostgreSQL 15 nobody but the database owner may create in `public`. The app's user gets
  exactly CONNECT, CREATE, TEMPORARY on `app` and USAGE, CREATE on `public`, granted once
  by a declared step through the Cloud SQL Data API (constructs/gcp/service.py,
  `database_setup`); never `cloudsqlsuperuser`, and the master `postgres` user is never
  given a password or used.
- TAG-1: Cloud SQL takes labels as `settings.user_labels`; the provider's `default_labels`
  do not reach it (terraform-provider-google#16375), so they are set on the resource.
- DB-7: deletion protection (Terraform and the Cloud SQL API), `prevent_destroy`, and
  `retain_backups_on_delete` when the config asks for it. That keeps the existing backups
  (up to a day old), not a backup taken at deletion: Cloud SQL's final backup has no field
  in provider 6.50 (`final_backup_config` arrived in 7.5.0), so CKV_GW_DB_48 fails and the
  primary declares a waiver saying what stands in for it.

Satisfies: DB-1, DB-2, DB-3, DB-4, DB-5, DB-6, DB-7, DB-8, DB-9, NET-2, TAG-1
Satisfies: DEPLOY-2, DEPLOY-4, DEPLOY-6
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_google.sql_database import SqlDatabase
from cdktf_cdktf_provider_google.sql_database_instance import (
    SqlDatabaseInstance,
    SqlDatabaseInstanceSettings,
    SqlDatabaseInstanceSettingsBackupConfiguration,
    SqlDatabaseInstanceSettingsBackupConfigurationBackupRetentionSettings,
    SqlDatabaseInstanceSettingsDatabaseFlags,
    SqlDatabaseInstanceSettingsInsightsConfig,
    SqlDatabaseInstanceSettingsIpConfiguration,
    SqlDatabaseInstanceSettingsMaintenanceWindow,
)
from constructs import Construct
from constructs.gcp import waivers
from constructs.gcp.accounts import account_id
from constructs.gcp.keys import Keys
from constructs.gcp.network import POSTGRES_PORT, Network

from synth.app import DEFAULT_SERVICE_NAME
from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

DATABASE_NAME = "app"
SLOW_QUERY_MS = 1000  # DB-8: statements slower than this are logged
MAX_CONNECTIONS = 100  # set explicitly so the pool budget below does not depend on the tier
# Connections kept free of the app pool: replicas, admin sessions, Cloud SQL's own.
RESERVED_CONNECTIONS = 20

FLAGS = {
    # DB-8: connection, disconnection and slow-query logging.
    "log_connections": "on",
    "log_disconnections": "on",
    "log_min_duration_statement": str(SLOW_QUERY_MS),
    "log_checkpoints": "on",
    "log_lock_waits": "on",
    "log_temp_files": "0",
    "log_min_messages": "warning",
    "log_min_error_statement": "error",
    "log_hostname": "on",
    "log_statement": "ddl",  # schema changes, never row data
    # pgAudit logs DDL and role changes, not row data.
    "cloudsql.enable_pgaudit": "on",
    "pgaudit.log": "ddl,role",
    # DB-9: the app logs in with IAM, not a password.
    "cloudsql.iam_authentication": "on",
    "max_connections": str(MAX_CONNECTIONS),
}


# PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1), and Cloud SQL refuses an
# IAM user whose `<account ID>@<project>.iam` is longer
# (https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS,
# terraform-provider-google#15520).
MAX_SQL_USER = 63
IAM_USER_SUFFIX = "@.iam"  # plus the project ID


def app_account_id(config: EnvironmentConfig, service: str = DEFAULT_SERVICE_NAME) -> str:
    """A service's account ID (created by constructs/gcp/service.py): at most 30, and short
    enough that its IAM database user fits MAX_SQL_USER with this project's ID (a 30-character
    project leaves 28). The default service's is `<prefix>-app`; another's `<prefix>-svc-<name>`
    (`svc-` keeps it apart from the stack's other accounts, such as `<prefix>-rotate`)."""
    room = MAX_SQL_USER - len(IAM_USER_SUFFIX) - len(config.gcp.project)
    role = "app" if service == DEFAULT_SERVICE_NAME else f"svc-{service}"
    return account_id(config, role, max_length=room)


def iam_user(config: EnvironmentConfig, service: str = DEFAULT_SERVICE_NAME) -> str:
    """DB-9: a service's IAM database user: its service account email minus the suffix."""
    return f"{app_account_id(config, service)}@{config.gcp.project}.iam"


def database_max_replicas(config: EnvironmentConfig) -> int:
    """DB-6: how many instances may hold a pool at once: every database-using service's
    `max_replicas` together."""
    return sum(s.max_replicas for s in config.services if "database" in config.service_uses(s)) or 1


def pool_size(config: EnvironmentConfig) -> int:
    """DB-6: connections each service instance may open so every service's max_replicas fit
    the server together."""
    return max(1, (MAX_CONNECTIONS - RESERVED_CONNECTIONS) // database_max_replicas(config))


class Database(Construct):
    """Instance `<prefix>-pg`, database `app`, replicas `<prefix>-pg-replica-<n>`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        keys: Keys,
        network: Network,
    ) -> None:
        super().__init__(scope, id_)
        db = config.database
        protected = db.deletion_protection
        lifecycle = TerraformResourceLifecycle(prevent_destroy=True) if protected else None
        flags = [
            SqlDatabaseInstanceSettingsDatabaseFlags(name=k, value=v) for k, v in FLAGS.items()
        ]
        ip = SqlDatabaseInstanceSettingsIpConfiguration(
            ipv4_enabled=False,  # NET-2: private IP only
            private_network=network.network_id,
            allocated_ip_range=network.psa_range_name,
            # DB-3, strictest mode: only clients with a Cloud SQL client certificate, which the
            # Auth Proxy sidecar mints per connection (the app's path: DEPLOY-6).
            ssl_mode="TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
        )
        insights = SqlDatabaseInstanceSettingsInsightsConfig(
            query_insights_enabled=True,  # DB-8
            query_string_length=1024,
            record_application_tags=True,
            record_client_address=True,
        )
        disk_autoresize = db.max_storage_gb > db.storage_gb

        self.instance = SqlDatabaseInstance(
            self,
            "instance",
            name=f"{config.prefix}-pg",
            database_version=f"POSTGRES_{db.engine_version}",  # DB-1
            region=config.gcp.region,
            encryption_key_name=keys.keys["database"].id,  # DB-2
            deletion_protection=protected,  # DB-7 (Terraform)
            settings=SqlDatabaseInstanceSettings(
                user_labels=config.tags,  # TAG-1 (provider #16375)
                # PostgreSQL 16+ defaults to Enterprise Plus, which has no shared-core or
                # small custom tiers; the sizing table's tiers are Enterprise edition.
                edition="ENTERPRISE",
                tier=db.instance.gcp,
                availability_type="REGIONAL" if db.high_availability else "ZONAL",  # DB-5
                disk_type="PD_SSD",
                disk_size=db.storage_gb,
                disk_autoresize=disk_autoresize,
                disk_autoresize_limit=db.max_storage_gb if disk_autoresize else 0,
                deletion_protection_enabled=protected,  # DB-7 (Cloud SQL API)
                retain_backups_on_delete=protected,  # DB-7: backups outlive the instance
                ip_configuration=ip,
                backup_configuration=SqlDatabaseInstanceSettingsBackupConfiguration(  # DB-4
                    enabled=True,
                    start_time="02:00",
                    point_in_time_recovery_enabled=db.point_in_time_recovery,
                    # Set whether or not PITR is on (CKV_GW_DEPLOY_55): unset, Cloud SQL
                    # keeps 7 days of logs on Enterprise (https://cloud.google.com/sql/docs/
                    # postgres/backup-recovery/pitr) and refuses retained_backups below that
                    # ("backup retention should be > transaction log retention",
                    # terraform-google-modules/terraform-google-sql-db#785), so dev's single
                    # backup needs a single day. Enterprise allows 1 to 7 days.
                    transaction_log_retention_days=min(7, db.backup_retention_days),
                    backup_retention_settings=(
                        SqlDatabaseInstanceSettingsBackupConfigurationBackupRetentionSettings(
                            retained_backups=db.backup_retention_days, retention_unit="COUNT"
                        )
                    ),
                ),
                maintenance_window=SqlDatabaseInstanceSettingsMaintenanceWindow(
                    day=7, hour=3, update_track="stable"
                ),
                database_flags=flags,
                insights_config=insights,
            ),
            lifecycle=lifecycle,
            # DEPLOY-2: the Cloud SQL agent may use the key; the peering exists.
            depends_on=[keys.ready["database"], network.private_services],
        )
        waivers.postgres_instance(self.instance, config)
        if protected:
            # DB-7's final backup: Cloud SQL can take one on delete (`finalBackupConfig`,
            # https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances), but
            # provider 6.50 cannot send it (terraform-provider-google#24032; 7.5.0 added
            # `final_backup_config`), so CKV_GW_DB_48 fails and this says what stands in.
            waive(
                self.instance,
                "CKV_GW_DB_48",
                reason="Provider hashicorp/google 6.50 has no final_backup_config, so deleting the "
                "instance takes no final backup. Instead deletion is blocked three times "
                "(Terraform deletion_protection, the Cloud SQL API's deletion protection, "
                "lifecycle prevent_destroy), and retain_backups_on_delete keeps every "
                "automated and on-demand backup (the newest at most a day old) after a "
                "deletion. Provider >= 7.5 closes the gap with "
                "settings.final_backup_config.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        self.instance_name = self.instance.name
        self.connection_name = self.instance.connection_name
        self.private_ip = self.instance.private_ip_address
        self.port = POSTGRES_PORT  # where the proxy sidecar listens for the app
        self.pool_size = pool_size(config)

        self.database = SqlDatabase(
            self,
            "app-database",
            name=DATABASE_NAME,
            instance=self.instance.name,
            deletion_policy="ABANDON" if protected else "DELETE",
        )
        self.database_name = self.database.name  # a reference: DATABASE_URL waits for it

        # DB-5: read replicas in the same region (and under the same regional key).
        self.replicas = [
            SqlDatabaseInstance(
                self,
                f"replica-{index}",
                name=f"{config.prefix}-pg-replica-{index}",
                database_version=f"POSTGRES_{db.engine_version}",
                region=config.gcp.region,
                master_instance_name=self.instance.name,
                encryption_key_name=keys.keys["database"].id,
                deletion_protection=protected,
                # No replica_configuration: its fields are MySQL's (failover_target is "Not
                # supported for Postgres database", provider docs; #1773, #20975).
                settings=SqlDatabaseInstanceSettings(
                    user_labels=config.tags,  # TAG-1
                    edition="ENTERPRISE",
                    tier=db.instance.gcp,
                    availability_type="ZONAL",
                    disk_type="PD_SSD",
                    disk_size=db.storage_gb,
                    disk_autoresize=disk_autoresize,
                    disk_autoresize_limit=db.max_storage_gb if disk_autoresize else 0,
                    deletion_protection_enabled=protected,
                    ip_configuration=ip,
                    database_flags=flags,
                    insights_config=insights,
                ),
                lifecycle=lifecycle,
                depends_on=[keys.ready["database"]],  # DEPLOY-2
            )
            for index in range(db.read_replicas)
        ]
        for replica in self.replicas:
            waivers.postgres_instance(replica, config)
