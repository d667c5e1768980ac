"""Builds CKV_GW_OBJ_72: reads, writes and deletes on the app container's blob service are
logged through a diagnostic setting on `<account>/blobServices/default` (OBJ-6)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

CATEGORIES = {"StorageRead", "StorageWrite", "StorageDelete"}


class AzureBucketLogging(GroundworkCheck):
    id = "CKV_GW_OBJ_72"
    name = "App storage blob reads, writes and deletes are logged"
    requirement = "OBJ-6"
    roles = ("workload",)  # the bootstrap's state account is not app storage (OBJ-6 n/a there)
    severity = "MEDIUM"
    resource_types = ("azurerm_storage_container",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        account = address_of(body.get("storage_account_id"))
        if account is None:
            return Verdict.unknown(f"storage_account_id is {body.get('storage_account_id')}")
        for name, setting in stack.resources("azurerm_monitor_diagnostic_setting").items():
            target = str(setting.get("target_resource_id"))
            if address_of(target.split("/")[0]) != account or not target.endswith(
                "/blobServices/default"
            ):
                continue
            logged = {log.get("category") for log in blocks(setting, "enabled_log")}
            groups = {log.get("category_group") for log in blocks(setting, "enabled_log")}
            if logged >= CATEGORIES or groups & {"allLogs", "audit"}:
                return Verdict.passed(f"blob access logged by {name}")
        return Verdict.failed(
            f"no diagnostic setting logs {sorted(CATEGORIES)} on {account}'s blobs"
        )


check = AzureBucketLogging()
