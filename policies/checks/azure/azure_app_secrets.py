"""Builds CKV_GW_APP_73: a service's secrets reach it only as Key Vault references: every secret
of the Container App names a `key_vault_secret_id` and an identity, and every variable of the
catalog secrets its service lists (X, and X_PREVIOUS / X_NEXT for a generated X; synth/app.py)
comes from those secrets, never from a plain value (APP-4). No plain variable may carry a
catalog secret's name either. The database accepts Entra ID tokens only (DB-9), so no
DATABASE_PASSWORD exists to pass (the app uses a token of its identity)."""

from typing import Any

from azure_app_description import described, secret_env
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

from synth.app import secret_variables


class AzureAppSecrets(GroundworkCheck):
    id = "CKV_GW_APP_73"
    name = "Container App secrets are Key Vault references and env secrets use them"
    requirement = "APP-4"
    severity = "CRITICAL"
    resource_types = ("azurerm_container_app",)

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
        assert stack.config is not None
        service = described(stack, body)
        if service is None:
            return Verdict.failed("the app runs no described service (groundwork-service tag)")
        every = {
            variable
            for name, entry in stack.config.secrets.catalog.items()
            for variable in secret_variables(name, entry)
        }
        for name, item in env.items():
            if name in every and "value" in item:
                verdicts.append(Verdict.failed(f"{name} is a plain value"))
        for name in sorted(secret_env(stack, service)):
            item = env.get(name)
            if item is None:
                verdicts.append(Verdict.failed(f"{name} is not given to the app"))
            elif "value" in item or item.get("secret_name") not in referenced:
                verdicts.append(Verdict.failed(f"{name} is not a Key Vault secret reference"))
        return combine(verdicts or [Verdict.passed("secrets by Key Vault reference")])


check = AzureAppSecrets()
