"""Builds CKV_GW_OBJ_71: in production the app container's storage account is geo-redundant
(GRS, RA-GRS, GZRS or RA-GZRS: a copy in the paired region) (OBJ-4)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of

GEO = {"GRS", "RAGRS", "GZRS", "RAGZRS"}


class AzureBucketReplication(GroundworkCheck):
    id = "CKV_GW_OBJ_71"
    name = "Production app storage is geo-redundant"
    requirement = "OBJ-4"
    severity = "HIGH"
    resource_types = ("azurerm_storage_container",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        account = address_of(body.get("storage_account_id")) or "?.?"
        found = stack.resources("azurerm_storage_account").get(account.split(".")[1])
        if found is None:
            return Verdict.unknown(
                f"storage account {body.get('storage_account_id')} not in the stack"
            )
        replication = found.get("account_replication_type")
        if replication in GEO:
            return Verdict.passed(f"{replication}")
        if stack.tier != "production":
            return Verdict.passed(f"{replication}: geo-redundancy is a production rule")
        return Verdict.failed(
            f"account_replication_type is {replication}; production wants one of {sorted(GEO)}"
        )


check = AzureBucketReplication()
