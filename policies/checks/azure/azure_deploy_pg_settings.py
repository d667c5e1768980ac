"""Builds CKV_GW_DEPLOY_75: a PostgreSQL flexible server's configurations are written one after
another (DEPLOY-2).

A flexible server takes one configuration change at a time and refuses a parallel one with
`ServerBusy` (hashicorp/terraform-provider-azurerm #28298; Azure/azure-postgresql #134), so
every pair of `azurerm_postgresql_flexible_server_configuration` resources on the same server
must be ordered: each depends on the other, in one direction, through the graph.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

TYPE = "azurerm_postgresql_flexible_server_configuration"


class ServerSettingsInSeries(GroundworkCheck):
    id = "CKV_GW_DEPLOY_75"
    name = "Every PostgreSQL server setting is ordered against the server's other settings"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = (TYPE,)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        server = body.get("server_id")
        graph = stack.graph
        parallel = [
            f"{TYPE}.{name}"
            for name, other in stack.resources(TYPE).items()
            if other.get("server_id") == server
            and f"{TYPE}.{name}" != self.address
            and not graph.needs(self.address, f"{TYPE}.{name}")
            and not graph.needs(f"{TYPE}.{name}", self.address)
        ]
        if parallel:
            return Verdict.failed(f"may run in parallel with {parallel} (ServerBusy, #28298)")
        return Verdict.passed("ordered against every other setting of its server")


check = ServerSettingsInSeries()
