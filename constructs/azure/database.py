"""Builds the PostgreSQL database: Flexible Server, read replicas, server parameters, locks.

Satisfies: DB-1, DB-2, DB-3, DB-4, DB-5, DB-6, DB-7, DB-8, DB-9, NET-2, OBS-1, DEPLOY-2

- NET-2: VNet-integrated (the delegated data subnet and a private DNS zone), no public
  network access.
- DB-2: encrypted with the customer-managed `database` key through its own identity, in
  every tier (the key exists anyway).
- Highly available servers (production) also keep geo-redundant backups in the Azure
  region pair, encrypted with the `database-geo` key of the paired region's vault
  (`Keys.geo_key()`), as Azure requires for CMK-encrypted geo backups.
- DB-3: `require_secure_transport` on, TLS 1.2 minimum.
- DB-4: Flexible Server always keeps point-in-time recovery over its backup retention, and
  its minimum retention is 7 days, so tiers asking for less (dev: 1) get 7.
- DB-5: zone-redundant HA (standby in another zone) and `read_replicas` replicas
  (`create_mode = "Replica"`) when the config asks for them. A highly available primary
  ignores changes to `zone` and `high_availability[0].standby_availability_zone` (an
  automatic failover swaps them, and planning them back makes azurerm fail over again during
  a deploy: hashicorp/terraform-provider-azurerm #25538); `prevent_destroy` stays.
- DB-6: the built-in PgBouncer on port 6432. Burstable servers (`B_...`) cannot run it;
  there the app's own connection pool is the pooling and it connects on 5432.
- DB-7: with `deletion_protection`, Terraform `prevent_destroy` plus a `CanNotDelete`
  management lock. Azure has no final snapshot: CKV_GW_DB_80 fails and the server declares
  a waiver saying what stands in for it (the lock, `prevent_destroy`, and the automated
  backups a dropped server stays restorable from).
- DB-8: connection, disconnection and slow-query (> 1 s) logging, Query Store with wait
  sampling except on Burstable SKUs, where Microsoft advises against Query Store (a waiver
  of CKV_GW_DB_77 in the cheaper tiers); all server logs go to Log Analytics. A server
  takes one configuration change at a time and answers a parallel one with `ServerBusy`
  (hashicorp/terraform-provider-azurerm #28298), so each server's parameters are written
  one after another, each depending on the one before (DEPLOY-2, CKV_GW_DEPLOY_75).
- Storage: `auto_grow_enabled` only where `database.max_storage_gb` exceeds `storage_gb`
  (production). Flexible Server's auto-grow has no ceiling setting
  (https://learn.microsoft.com/azure/postgresql/flexible-server/how-to-auto-grow-storage-portal),
  so the `database-storage-ceiling` alert (constructs/azure/observability.py) warns at
  90 % of `max_storage_gb`.
- DB-9: Entra ID authentication only (password authentication disabled), so there is no
  administrator password at all. The Entra administrator is the identity
  `id-<prefix>-dbadmin`, which only the `database-role` job uses: it creates the app
  identity's own role (constructs/azure/jobs.py, DEPLOY-6).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.management_lock import ManagementLock
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktf_cdktf_provider_azurerm.postgresql_flexible_server import (
    PostgresqlFlexibleServer,
    PostgresqlFlexibleServerAuthentication,
    PostgresqlFlexibleServerCustomerManagedKey,
    PostgresqlFlexibleServerHighAvailability,
    PostgresqlFlexibleServerIdentity,
)
from cdktf_cdktf_provider_azurerm.postgresql_flexible_server_active_directory_administrator import (
    PostgresqlFlexibleServerActiveDirectoryAdministrator,
)
from cdktf_cdktf_provider_azurerm.postgresql_flexible_server_configuration import (
    PostgresqlFlexibleServerConfiguration,
)
from cdktf_cdktf_provider_azurerm.postgresql_flexible_server_database import (
    PostgresqlFlexibleServerDatabase,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct
from constructs.azure import waivers
from constructs.azure.keys import Keys, global_name

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

if TYPE_CHECKING:
    from constructs.azure.network import Network

# Flexible Server storage comes in these sizes (MiB); the smallest at or above the
# configured `storage_gb` is used (20 GB -> 32 GiB, 50 -> 64, 100 -> 128).
STORAGE_SIZES_MB = (32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608)
MIN_BACKUP_RETENTION_DAYS = 7  # Azure's minimum
POSTGRES_PORT, PGBOUNCER_PORT = 5432, 6432
SLOW_QUERY_MS = 1000
PRIMARY_ZONE, STANDBY_ZONE = "1", "2"
# What an automatic failover changes on a highly available primary (see Database).
FAILOVER_OWNED = ["zone", "high_availability[0].standby_availability_zone"]

# DB-3 and DB-8: set on the primary and on every replica.
SERVER_PARAMETERS = {
    "require_secure_transport": "on",
    "ssl_min_protocol_version": "TLSv1.2",
    "log_connections": "on",
    "log_disconnections": "on",
    "log_checkpoints": "on",
    "log_min_duration_statement": str(SLOW_QUERY_MS),
    "connection_throttle.enable": "on",
    "track_io_timing": "on",
}
# DB-8 query insights: Query Store with wait sampling, on General Purpose and Memory Optimized
# servers only. "We don't recommend enabling Query Store on the Burstable pricing tier for the
# performance implications it might have" (https://learn.microsoft.com/azure/postgresql/
# flexible-server/how-to-configure-index-tuning, concepts-query-store).
QUERY_STORE_PARAMETERS = {
    "pg_qs.query_capture_mode": "TOP",
    "pgms_wait_sampling.query_capture_mode": "ALL",
}
PGBOUNCER_PARAMETERS = {"pgbouncer.enabled": "true", "pgbouncer.pool_mode": "transaction"}


def storage_mb(storage_gb: int) -> int:
    """The smallest Flexible Server storage size that holds `storage_gb` GB."""
    needed = storage_gb * 1000**3 / 1024**2
    return next(size for size in STORAGE_SIZES_MB if size >= needed)


class Database(Construct):
    """Flexible Server `psql-<prefix>-<hash>`, database `<app>`, replicas `...-replica-<n>`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        client: DataAzurermClientConfig,
        network: Network,
        keys: Keys,
        workspace: LogAnalyticsWorkspace,
    ) -> None:
        super().__init__(scope, id_)
        db = config.database
        key = keys.database
        geo = keys.geo_key() if db.high_availability else None
        name = global_name(config, "psql", max_length=63)
        zone_name = f"{name}.private.postgres.database.azure.com"
        zone = network.dns_zone(zone_name)
        self.pgbouncer_enabled = not db.instance.azure.startswith("B_")
        self.port = PGBOUNCER_PORT if self.pgbouncer_enabled else POSTGRES_PORT
        protect = TerraformResourceLifecycle(prevent_destroy=db.deletion_protection)
        common = {
            "location": resource_group.location,
            "resource_group_name": resource_group.name,
            "version": str(db.engine_version),
            "sku_name": db.instance.azure,
            "storage_mb": storage_mb(db.storage_gb),
            "auto_grow_enabled": db.max_storage_gb > db.storage_gb,
            "delegated_subnet_id": network.data_subnet.id,
            "private_dns_zone_id": zone.id,
            "public_network_access_enabled": False,
            "authentication": PostgresqlFlexibleServerAuthentication(
                active_directory_auth_enabled=True,
                password_auth_enabled=False,
                tenant_id=client.tenant_id,
            ),
            "lifecycle": protect,
        }
        # DEPLOY-2: the data subnet's associations too (Network.placed_after).
        depends_on = [network.dns_zone_links[zone_name], key.ready, *network.placed_after("data")]
        cmk = PostgresqlFlexibleServerCustomerManagedKey(
            key_vault_key_id=key.key.versionless_id,
            primary_user_assigned_identity_id=key.identity.id,
        )
        # DB-5: after an automatic failover Azure reports the standby's zone as the server's
        # `zone` and the old primary's as `standby_availability_zone`; planned back, azurerm
        # 4.55 answers the diff with a planned failover in the middle of a deploy
        # (hashicorp/terraform-provider-azurerm #25538 and PR #13512; the resource's `zone`
        # note, https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/postgresql_flexible_server#zone),
        # so a highly available primary ignores both after creation (CKV_GW_DB_74).
        primary_common = {
            **common,
            "lifecycle": TerraformResourceLifecycle(
                prevent_destroy=db.deletion_protection, ignore_changes=FAILOVER_OWNED
            )
            if db.high_availability
            else protect,
        }
        self.server = PostgresqlFlexibleServer(
            self,
            "server",
            name=name,
            zone=PRIMARY_ZONE,
            backup_retention_days=max(db.backup_retention_days, MIN_BACKUP_RETENTION_DAYS),
            geo_redundant_backup_enabled=geo is not None,
            identity=PostgresqlFlexibleServerIdentity(
                type="UserAssigned",
                identity_ids=[key.identity.id, *([geo.identity.id] if geo else [])],
            ),
            customer_managed_key=PostgresqlFlexibleServerCustomerManagedKey(
                key_vault_key_id=key.key.versionless_id,
                primary_user_assigned_identity_id=key.identity.id,
                geo_backup_key_vault_key_id=geo.key.versionless_id if geo else None,
                geo_backup_user_assigned_identity_id=geo.identity.id if geo else None,
            ),
            depends_on=[*depends_on, *([geo.ready] if geo else [])],
            high_availability=PostgresqlFlexibleServerHighAvailability(
                mode="ZoneRedundant", standby_availability_zone=STANDBY_ZONE
            )
            if db.high_availability
            else None,
            **primary_common,
        )
        self.replicas = [
            PostgresqlFlexibleServer(
                self,
                f"replica-{n}",
                name=f"{name}-replica-{n}",
                create_mode="Replica",
                source_server_id=self.server.id,
                zone=str((n + 1) % 3 + 1),  # away from primary and standby: 3, 1, 2, ...
                identity=PostgresqlFlexibleServerIdentity(
                    type="UserAssigned", identity_ids=[key.identity.id]
                ),
                customer_managed_key=cmk,
                depends_on=depends_on,
                **common,
            )
            for n in range(1, db.read_replicas + 1)
        ]
        for server in (self.server, *self.replicas):
            waive(
                server,
                "CKV2_AZURE_57",
                reason="The server is VNet-integrated in a delegated subnet with a private DNS "
                "zone, Azure's other private-access model, so it has no public endpoint (NET-2).",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        if not self.pgbouncer_enabled and config.tier != "production":
            # DB-6: Burstable servers cannot run the built-in PgBouncer
            # (https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-pgbouncer);
            # the production tier's floor keeps a General Purpose SKU, so this is a waiver of
            # the cheaper tiers, not a pass.
            waive(
                self.server,
                "CKV_GW_DB_75",
                reason=f"{db.instance.azure} is a Burstable SKU, which cannot run Flexible "
                "Server's built-in PgBouncer; no managed pooler fronts this server. The app's "
                "own connection pool bounds its connections but is not a managed pooler "
                "(DB-6 deviation accepted for this non-production tier's cost).",
                owner=waivers.OWNER,
                expires=waivers.GAP_EXPIRES,
            )
        if geo is None:
            waive(
                self.server,
                "CKV_AZURE_136",
                reason="Geo-redundant backups follow database.high_availability, which is off in "
                "this environment; locally redundant backups are a cost choice of its tier.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        self.admin = UserAssignedIdentity(
            self,
            "admin",
            name=f"id-{config.prefix}-dbadmin",
            location=resource_group.location,
            resource_group_name=resource_group.name,
        )
        burstable = db.instance.azure.startswith("B_")
        parameters = {**SERVER_PARAMETERS}
        if not burstable:
            parameters.update(QUERY_STORE_PARAMETERS)
        if self.pgbouncer_enabled:
            parameters.update(PGBOUNCER_PARAMETERS)
        if burstable and config.tier != "production":
            # The production tier's floor keeps a General Purpose SKU, so this is a waiver of
            # the cheaper tiers only; a Burstable production server fails DB-8.
            for server in (self.server, *self.replicas):
                waive(
                    server,
                    "CKV_GW_DB_77",
                    reason=f"{db.instance.azure} is a Burstable SKU, on which Microsoft advises "
                    "against Query Store for its performance cost, so this server has no query "
                    "insights; connection, disconnection and slow-query logs stay on (DB-8).",
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
        for index, server in enumerate([self.server, *self.replicas]):
            suffix = "" if index == 0 else f"-replica-{index}"
            if index == 0:  # replicas inherit the primary's roles, admin included
                self.entra_admin = PostgresqlFlexibleServerActiveDirectoryAdministrator(
                    self,
                    f"entra-admin{suffix}",
                    server_name=server.name,
                    resource_group_name=resource_group.name,
                    tenant_id=client.tenant_id,
                    object_id=self.admin.principal_id,
                    principal_name=self.admin.name,
                    principal_type="ServicePrincipal",
                )
            previous: list[ITerraformDependable] = []
            for parameter, value in parameters.items():
                previous = [
                    PostgresqlFlexibleServerConfiguration(
                        self,
                        f"{parameter}{suffix}",
                        server_id=server.id,
                        name=parameter,
                        value=value,
                        depends_on=previous or None,  # one at a time (ServerBusy, #28298)
                    )
                ]
            MonitorDiagnosticSetting(
                self,
                f"logs{suffix}",
                name="postgres-to-log-analytics",
                target_resource_id=server.id,
                log_analytics_workspace_id=workspace.id,
                enabled_log=[MonitorDiagnosticSettingEnabledLog(category_group="allLogs")],
                enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category="AllMetrics")],
            )
            if db.deletion_protection:
                # DB-7's final snapshot: Flexible Server has no snapshot on delete (no API
                # field, azurerm 4.55 has none), so CKV_GW_DB_80 fails and this says what
                # stands in for it. Recreating a dropped server from its backups: "Create a
                # new flexible server using a backup of a flexible server that was deleted or
                # dropped" (https://learn.microsoft.com/rest/api/postgresql/servers/create).
                waive(
                    server,
                    "CKV_GW_DB_80",
                    reason="Azure Database for PostgreSQL Flexible Server takes no final snapshot "
                    "on delete; instead Terraform prevent_destroy and a CanNotDelete lock block "
                    "deletion, and a dropped server can still be recreated from its automated "
                    "backups for a limited time.",
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
                ManagementLock(
                    self,
                    f"lock{suffix}",
                    name=f"{name}{suffix}-can-not-delete",
                    scope=server.id,
                    lock_level="CanNotDelete",
                    notes="DB-7: remove this lock deliberately before deleting the server.",
                )
        self.database = PostgresqlFlexibleServerDatabase(
            self,
            "database",
            name=config.app,
            server_id=self.server.id,
            charset="UTF8",
            collation="en_US.utf8",
            lifecycle=protect,
        )
        self.fqdn = self.server.fqdn
