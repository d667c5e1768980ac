"""Builds CKV_GW_APP_4: secrets reach containers only as Secrets Manager references (APP-4).

No container `environment` entry may carry a secret's name (a variable of the environment's
secret catalog, SEC-5, DATABASE_PASSWORD, or any *SECRET*, *PASSWORD*, *TOKEN*, *_KEY name);
each `secrets` entry must take its value from an ARN.
"""

import json
import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine

from synth.app import secret_variables

SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$|^DATABASE_URL$", re.IGNORECASE)


class AppSecretsByReference(GroundworkCheck):
    id = "CKV_GW_APP_4"
    name = "ECS containers get secrets by Secrets Manager reference, never as plain environment"
    requirement = "APP-4"
    severity = "CRITICAL"
    resource_types = ("aws_ecs_task_definition",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        raw = body.get("container_definitions")
        if not isinstance(raw, str):
            return Verdict.unknown("container_definitions is not a JSON string")
        catalog = stack.config.secrets.catalog if stack.config is not None else {}
        secret_names = {v for name, e in catalog.items() for v in secret_variables(name, e)}
        verdicts = []
        for container in json.loads(raw):
            for entry in container.get("environment") or []:
                name = str(entry.get("name", ""))
                if SECRET_NAME.search(name) or name in secret_names:
                    verdicts.append(Verdict.failed(f"plain environment value {entry['name']}"))
            for entry in container.get("secrets") or []:
                if "secretsmanager" not in str(entry.get("valueFrom", "")) and "${" not in str(
                    entry.get("valueFrom", "")
                ):
                    verdicts.append(Verdict.failed(f"secret {entry.get('name')} has no ARN"))
        return combine(verdicts or [Verdict.passed("secrets by reference only")])


check = AppSecretsByReference()
