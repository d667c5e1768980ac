"""Builds CKV_GW_OBJ_70: the app container's storage account keeps blob versions, and its
lifecycle policy deletes noncurrent versions after 90 days (OBJ-3). Azure has no multipart
uploads to abort: uncommitted blocks are discarded by the platform after 7 days."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

NONCURRENT_DAYS = 90


class AzureBucketLifecycle(GroundworkCheck):
    id = "CKV_GW_OBJ_70"
    name = "App storage keeps versions and expires noncurrent ones after 90 days"
    requirement = "OBJ-3"
    severity = "MEDIUM"
    resource_types = ("azurerm_storage_container",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        account = address_of(body.get("storage_account_id"))
        accounts = stack.resources("azurerm_storage_account")
        if account is None or account.split(".")[1] not in accounts:
            return Verdict.unknown(
                f"storage account {body.get('storage_account_id')} not in the stack"
            )
        properties = (blocks(accounts[account.split(".")[1]], "blob_properties") or [{}])[0]
        verdicts = []
        if properties.get("versioning_enabled") is not True:
            verdicts.append(Verdict.failed(f"{account}: versioning is off"))
        expiries = [
            version.get("delete_after_days_since_creation")
            for policy in stack.resources("azurerm_storage_management_policy").values()
            if address_of(policy.get("storage_account_id")) == account
            for rule in blocks(policy, "rule") if rule.get("enabled") is not False
            for actions in blocks(rule, "actions")
            for version in blocks(actions, "version")
        ]  # fmt: skip
        if NONCURRENT_DAYS not in expiries:
            verdicts.append(
                Verdict.failed(
                    f"noncurrent versions expire after {expiries}, want {NONCURRENT_DAYS}"
                )
            )
        return combine(
            verdicts or [Verdict.passed("versioned; noncurrent versions expire at 90 days")]
        )


check = AzureBucketLifecycle()
