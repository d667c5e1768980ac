"""Builds CKV_GW_APP_73: the app's secrets reach it only as Key Vault references: every secret
of the Container App names a `key_vault_secret_id` and an identity, and JWT_SECRET,
DATABASE_URL and DATABASE_PASSWORD come from those secrets, never from plain values (APP-4).
Where every database server accepts Entra ID tokens only, no password exists: DATABASE_PASSWORD
is then not required (the app uses a token of its identity, DB-9)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

SECRET_NAMES = ("JWT_SECRET", "DATABASE_URL", "DATABASE_PASSWORD")


def entra_only_database(stack: Stack) -> bool:
    """Every PostgreSQL server of the stack accepts Entra ID tokens only (no password exists,
    so DATABASE_PASSWORD has nothing to hold; issue 9 removed its placeholder)."""
    servers = stack.resources("azurerm_postgresql_flexible_server").values()
    return bool(servers) and all(
        (blocks(s, "authentication") or [{}])[0].get("password_auth_enabled") is False
        for s in servers
    )


class AzureAppSecrets(GroundworkCheck):
    id = "CKV_GW_APP_73"
    name = "Container App secrets are Key Vault references and env secrets use them"
    requirement = "APP-4"
    severity = "CRITICAL"
    resource_types = ("azurerm_container_app",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        referenced = set()
        for secret in blocks(body, "secret"):
            if (
                "value" in secret
                or not secret.get("key_vault_secret_id")
                or not secret.get("identity")
            ):
                verdicts.append(
                    Verdict.failed(f"secret {secret.get('name')} is not a Key Vault reference")
                )
            else:
                referenced.add(secret.get("name"))
        env = {
            item.get("name"): item
            for container in blocks((blocks(body, "template") or [{}])[0], "container")
            for item in blocks(container, "env")
        }
        wanted = [
            n for n in SECRET_NAMES if n != "DATABASE_PASSWORD" or not entra_only_database(stack)
        ]
        for name in wanted:
            item = env.get(name)
            if item is None:
                verdicts.append(Verdict.failed(f"{name} is not given to the app"))
            elif "value" in item or item.get("secret_name") not in referenced:
                verdicts.append(Verdict.failed(f"{name} is not a Key Vault secret reference"))
        return combine(verdicts or [Verdict.passed("secrets by Key Vault reference")])


check = AzureAppSecrets()
