"""Builds central logging and monitoring: Log Analytics, alerts, uptime test, dashboard.

Satisfies: OBS-1, OBS-2, OBS-3, OBS-4, OBS-5, NET-4

`Logs` is created first, because the network's flow logs and every diagnostic setting
write into it; `Observability` is created last, once the resources it watches exist.
"""

from __future__ import annotations

from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct
from constructs.azure.keys import ManagedKey, global_name
from constructs.azure.storage import hardened_account

from synth.config import EnvironmentConfig


class Logs(Construct):
    """Log Analytics workspace `log-<prefix>` and the flow-log storage account `stlog...`.

    OBS-1: the workspace keeps logs `config.logs.retention_days`, encrypted at rest by the
    platform (Log Analytics CMK needs a dedicated cluster, from 100 GB/day).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        key: ManagedKey,
    ) -> None:
        super().__init__(scope, id_)
        self.workspace = LogAnalyticsWorkspace(
            self,
            "workspace",
            name=f"log-{config.prefix}",
            location=resource_group.location,
            resource_group_name=resource_group.name,
            sku="PerGB2018",
            retention_in_days=config.logs.retention_days,
            local_authentication_enabled=False,  # Entra ID only, no shared workspace keys
        )
        # Flow logs (NET-4) need a storage account in the VNet's region.
        self.storage_account = hardened_account(
            self,
            "storage",
            name=global_name(config, "stlog", max_length=24, sep=""),
            resource_group=resource_group,
            key=key,
            replication="LRS",  # logs are also in the workspace; three local copies suffice
            # Network Watcher writes from Azure's network as a trusted service; the
            # firewall (default Deny) still blocks everyone else.
            public_network_access_enabled=True,
        )
