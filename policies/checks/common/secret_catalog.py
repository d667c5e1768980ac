"""Builds CKV_GW_SEC_5: secrets are declared in config by name and kind (SEC-5).

SEC-5 asks that the secrets be a catalog in config (generated, derived or external) and that
no code name an application's secret. This version's constructs name them (JWT_SECRET and
DATABASE_URL, plus each cloud's database credential), so the check fails every app service
that reads them, and the stack declares the gap as a waiver with an expiry
(constructs/app_description.py; issue #12 makes the catalog config): the gate reports SEC-5 as
waived, never as a pass it is not.
"""

from typing import Any

from app_description import SERVICES
from groundwork_policy import GroundworkCheck, Stack, Verdict


class SecretsDeclaredInConfig(GroundworkCheck):
    id = "CKV_GW_SEC_5"
    name = "The secrets the app reads are a catalog in config, not names in code"
    requirement = "SEC-5"
    severity = "MEDIUM"
    resource_types = SERVICES
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        return Verdict.failed(
            f"{body.get('name')} reads the secrets the constructs name; the config cannot "
            "declare a secret catalog"
        )


check = SecretsDeclaredInConfig()
