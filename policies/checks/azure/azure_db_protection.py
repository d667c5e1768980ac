"""Builds CKV_GW_DB_76: where the environment asks for deletion protection (staging and up,
floor from synth.config.FLOORS), the Flexible Server has Terraform `prevent_destroy` and a
`CanNotDelete` management lock (DB-7). Azure has no final snapshot: that part of DB-7 is
CKV_GW_DB_80's, which fails and is waived by the construct."""

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


class AzureDbProtection(GroundworkCheck):
    id = "CKV_GW_DB_76"
    name = "PostgreSQL Flexible Server has prevent_destroy and a CanNotDelete lock"
    requirement = "DB-7"
    severity = "HIGH"
    resource_types = ("azurerm_postgresql_flexible_server",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        prevent = any(b.get("prevent_destroy") is True for b in blocks(body, "lifecycle"))
        locks = [
            name for name in references_to(stack, "azurerm_management_lock", "scope", self.address)
            if stack.resources("azurerm_management_lock")[name].get("lock_level") == "CanNotDelete"
        ]  # fmt: skip
        protected = prevent and bool(locks)
        verdicts = floor_verdicts(stack, "DB-7", "database.deletion_protection", protected)
        if stack.config.database.deletion_protection and not protected:
            verdicts.append(
                Verdict.failed(f"prevent_destroy {prevent}, CanNotDelete locks {locks}")
            )
        return combine(verdicts or [Verdict.passed(f"prevent_destroy {prevent}, locks {locks}")])


check = AzureDbProtection()
