"""Builds CKV_GW_DEPLOY_78: no container app or job starts from an image nobody has pushed yet
(DEPLOY-5).

The first apply creates the registry empty, and the first revision of a container app (or a
job's first run) pulls its image at once: an image in a registry this same stack creates
cannot exist before a release pipeline runs, so the revision fails to provision. Every
container's image must be a literal reference to an image outside the stack's registries
(a public bootstrap image the release later replaces), never one of this stack's
`login_server`s (https://learn.microsoft.com/azure/container-apps/revisions).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference


class FirstImageExists(GroundworkCheck):
    id = "CKV_GW_DEPLOY_78"
    name = "Container apps and jobs start from an image that exists before any release"
    requirement = "DEPLOY-5"
    severity = "HIGH"
    resource_types = ("azurerm_container_app", "azurerm_container_app_job")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        for template in blocks(body, "template"):
            for container in blocks(template, "container"):
                image = container.get("image")
                if "azurerm_container_registry." in str(image):
                    verdicts.append(
                        Verdict.failed(f"{image} is in a registry this apply creates empty")
                    )
                elif image is None or is_reference(image):
                    verdicts.append(Verdict.unknown(f"image {image} cannot be resolved"))
                else:
                    verdicts.append(Verdict.passed(f"starts from {image}"))
        return combine(verdicts or [Verdict.failed("no container")])


check = FirstImageExists()
