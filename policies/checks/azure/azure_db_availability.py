"""Builds CKV_GW_DB_74: where the environment asks for it, the primary Flexible Server is
zone-redundant and has the configured number of read replicas (DB-5; production floors from
synth.config.FLOORS).

A zone-redundant primary must also ignore changes to `zone` and
`high_availability[0].standby_availability_zone`: an automatic failover swaps them, and an
apply that plans them back makes azurerm 4.55 run a planned failover in the middle of a deploy
(hashicorp/terraform-provider-azurerm #25538, PR #13512; the resource's `zone` note,
https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/postgresql_flexible_server#zone),
so HA that fails over once would be undone by the next deploy."""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    blocks,
    combine,
    floor_verdicts,
    references_to,
)

# What an automatic failover changes (constructs/azure/database.py FAILOVER_OWNED).
FAILOVER_OWNED = ("zone", "high_availability[0].standby_availability_zone")


class AzureDbAvailability(GroundworkCheck):
    id = "CKV_GW_DB_74"
    name = "PostgreSQL primary has zone-redundant HA and the configured read replicas"
    requirement = "DB-5"
    severity = "HIGH"
    resource_types = ("azurerm_postgresql_flexible_server",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("create_mode") == "Replica":
            return Verdict.passed("read replica")
        assert stack.config is not None
        database = stack.config.database
        mode = (blocks(body, "high_availability") or [{}])[0].get("mode")
        highly_available = mode == "ZoneRedundant"
        replicas = [
            name for name in references_to(stack, "azurerm_postgresql_flexible_server",
                                           "source_server_id", self.address)
            if stack.resources("azurerm_postgresql_flexible_server")[name].get("create_mode")
            == "Replica"
        ]  # fmt: skip
        verdicts = [
            *floor_verdicts(stack, "DB-5", "database.high_availability", highly_available),
            *floor_verdicts(stack, "DB-5", "database.read_replicas", len(replicas)),
        ]
        if database.high_availability and not highly_available:
            verdicts.append(
                Verdict.failed(f"high_availability.mode is {mode}; config wants ZoneRedundant")
            )
        if highly_available:
            ignored = set((body.get("lifecycle") or {}).get("ignore_changes") or [])
            missing = [a for a in FAILOVER_OWNED if a not in ignored and "all" not in ignored]
            if missing:
                verdicts.append(
                    Verdict.failed(
                        f"zone-redundant but lifecycle.ignore_changes lacks {', '.join(missing)}: "
                        "after an automatic failover the next apply fails the server over again"
                    )
                )
        if len(replicas) != database.read_replicas:
            verdicts.append(
                Verdict.failed(
                    f"{len(replicas)} read replicas; config wants {database.read_replicas}"
                )
            )
        return combine(verdicts or [Verdict.passed(f"HA {mode}, {len(replicas)} replicas")])


check = AzureDbAvailability()
