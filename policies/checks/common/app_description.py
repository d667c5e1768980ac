"""Builds CKV_GW_APP_7: the application is described in config (APP-7).

APP-7 asks for one or more services, each with its image, port, health path, size, scaling,
non-secret environment and the secrets it reads, routed by path or host or internal. This
version builds exactly one service per stack whose health path, environment and secret list
the constructs fix (issue #12 makes them config). So the check fails every app service, and
the stack declares the gap as a waiver with an expiry (constructs/app_description.py): the
gate reports APP-7 as waived, never as a pass it is not.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

SERVICES = ("aws_ecs_service", "google_cloud_run_v2_service", "azurerm_container_app")


class AppDescribedInConfig(GroundworkCheck):
    id = "CKV_GW_APP_7"
    name = "The app's services, routes, environment and secrets are described in config"
    requirement = "APP-7"
    severity = "MEDIUM"
    resource_types = SERVICES
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        return Verdict.failed(
            f"{body.get('name')} is the one service the constructs build, with a fixed health "
            "path, environment and secret list; the config cannot describe services"
        )


check = AppDescribedInConfig()
