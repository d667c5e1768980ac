"""Builds CKV_GW_SEC_40: every Secret Manager secret is encrypted with a customer-managed key of
the stack in each replica (SEC-1). Which secrets exist is the app description's
(`secrets.catalog`), judged by CKV_GW_SEC_44 (SEC-5): no policy names an app's secret."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine


class SecretsEncrypted(GroundworkCheck):
    id = "CKV_GW_SEC_40"
    name = "Secrets are encrypted with a customer-managed key of the stack in every replica"
    requirement = "SEC-1"
    severity = "HIGH"
    resource_types = ("google_secret_manager_secret",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        replicas = [
            replica
            for replication in blocks(body, "replication")
            for managed in blocks(replication, "user_managed")
            for replica in blocks(managed, "replicas")
        ]
        if not replicas:
            verdicts.append(Verdict.failed("not user-managed replication: no CMK per replica"))
        for replica in replicas:
            key = (blocks(replica, "customer_managed_encryption") or [{}])[0].get("kms_key_name")
            address = address_of(key)
            if not address or not address.startswith("google_kms_crypto_key."):
                verdicts.append(Verdict.failed(f"replica {replica.get('location')} has no CMK"))
        return combine(verdicts or [Verdict.passed("CMK-encrypted in every replica")])


check = SecretsEncrypted()
