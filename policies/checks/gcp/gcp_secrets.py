"""Builds CKV_GW_SEC_40: every Secret Manager secret is encrypted with a customer-managed key of
the stack in each replica, and the stack holds the three SEC-1 secrets (JWT secret, database URL
and password); a missing one fails every secret of the stack (SEC-1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

REQUIRED = ("jwt-secret", "database-url", "database-password")


class SecretsEncrypted(GroundworkCheck):
    id = "CKV_GW_SEC_40"
    name = "Secrets are CMK-encrypted and JWT_SECRET, DATABASE_URL, DATABASE_PASSWORD exist"
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
        ids = {
            str(s.get("secret_id"))
            for s in stack.resources("google_secret_manager_secret").values()
        }
        for suffix in REQUIRED:
            if not any(i.endswith(suffix) for i in ids):
                verdicts.append(Verdict.failed(f"no *{suffix} secret in the stack"))
        return combine(verdicts or [Verdict.passed("CMK-encrypted; SEC-1 secrets present")])


check = SecretsEncrypted()
