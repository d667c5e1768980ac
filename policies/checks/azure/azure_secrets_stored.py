"""Builds CKV_GW_SEC_70: Key Vault holds every secret of the app description's catalog (each
variable in Key Vault spelling: `JWT_SECRET` -> `jwt-secret`, `jwt-secret-previous`,
`jwt-secret-next`; synth/app.py) and the database password, in this environment's vault, the one
whose keys encrypt its data (SEC-1, SEC-5). Checked on the vault that the app's secrets live in:
every one of them must be there. Where
every database server accepts Entra ID tokens only, no password exists and
`database-password` is not required (DB-9; a stored placeholder is what issue 9 removed)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

from synth.app import secret_variables


def entra_only_database(stack: Stack) -> bool:
    """Every PostgreSQL server of the stack accepts Entra ID tokens only (no password exists,
    so DATABASE_PASSWORD has nothing to hold; issue 9 removed its placeholder)."""
    servers = stack.resources("azurerm_postgresql_flexible_server").values()
    return bool(servers) and all(
        (blocks(s, "authentication") or [{}])[0].get("password_auth_enabled") is False
        for s in servers
    )


class AzureSecretsStored(GroundworkCheck):
    id = "CKV_GW_SEC_70"
    name = "The catalog's secrets (and any database password) are Key Vault secrets in this stack"
    requirement = "SEC-1"
    severity = "HIGH"
    resource_types = ("azurerm_key_vault_secret",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        vault = address_of(body.get("key_vault_id"))
        if vault is None or vault.split(".")[1] not in stack.resources("azurerm_key_vault"):
            return Verdict.failed(
                f"key_vault_id {body.get('key_vault_id')} is not this stack's vault"
            )
        names = {
            s.get("name")
            for s in stack.resources("azurerm_key_vault_secret").values()
            if address_of(s.get("key_vault_id")) == vault
        }
        assert stack.config is not None
        wanted = [
            variable.lower().replace("_", "-")
            for name, entry in stack.config.secrets.catalog.items()
            for variable in secret_variables(name, entry)
        ]
        if not entra_only_database(stack):
            wanted.append("database-password")
        missing = [name for name in wanted if name not in names]
        if missing:
            return Verdict.failed(f"{vault} lacks {missing}")
        verdicts = []
        if not body.get("content_type"):
            verdicts.append(Verdict.failed("content_type is not set"))
        return combine(verdicts or [Verdict.passed(f"in {vault} with {sorted(names)}")])


check = AzureSecretsStored()
