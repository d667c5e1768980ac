"""Builds CKV_GW_DEPLOY_78: no container app or job starts from an image nobody has pushed yet
(DEPLOY-5).

The first apply creates the registry empty, and the first revision of a container app (or a
job's first run) pulls its image at once: an image in a registry this same stack creates
cannot exist before a release pipeline runs, so the revision fails to provision. Every
container's image must be a literal reference to an image outside the stack's registries
(a public bootstrap image the release later replaces), never one of this stack's
`login_server`s (https://learn.microsoft.com/azure/container-apps/revisions).

Nor from Docker Hub: the environment egresses through the stack's NAT address, and Docker Hub
limits anonymous pulls per address (https://docs.docker.com/docker-hub/usage/pulls/); Azure
users see the pull refused with 429 TOOMANYREQUESTS (Azure/azure-cli #29300,
Azure/azure-sdk-for-js #34390), and a job that starts every few minutes pulls often. An image
with no registry host (`postgres:17`) is a Docker Hub image too.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference

DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io"}


def registry_host(image: str) -> str:
    """The registry an image reference names; Docker Hub when its first part is not a host
    (the Docker rule: a host has a `.` or `:`, or is `localhost`)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


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
                elif registry_host(str(image)) in DOCKER_HUB:
                    verdicts.append(
                        Verdict.failed(f"{image} is an anonymous Docker Hub pull (rate-limited)")
                    )
                else:
                    verdicts.append(Verdict.passed(f"starts from {image}"))
        return combine(verdicts or [Verdict.failed("no container")])


check = FirstImageExists()
