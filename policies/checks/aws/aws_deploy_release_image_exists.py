"""Builds CKV_GW_DEPLOY_104: every task definition that runs an image from an ECR repository of
this stack depends on a lookup of that image (DEPLOY-5).

`aws.release_image: true` is the operator's word that `<repository>:<tag>` was pushed
(CKV_GW_DEPLOY_20 trusts it). In a fresh account the repository is created empty by the same
apply, and a wrong tag is just as empty: ECS then fails every task with
CannotPullContainerError and the first deployment never becomes stable. A `data
"aws_ecr_image"` of the repository and tag fails when the image is missing ("reading ECR
Images: ImageNotFoundException: The image with imageId {...} does not exist within the
repository", hashicorp/terraform-provider-aws#35268): at plan time when the repository
exists, at apply time when it does not yet. The task definition must wait for it, so the
failure comes before a task definition whose tasks cannot start.

Judged on `aws_ecs_task_definition`: for every container whose image is
`${aws_ecr_repository.<r>.repository_url}:<tag>`, some `data.aws_ecr_image` with
`repository_name` from `aws_ecr_repository.<r>` and `image_tag` `<tag>` is finished before the
task definition starts (`Graph.needs`: reference or `depends_on`).
"""

import json
import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine, is_reference

# `${aws_ecr_repository.<name>.repository_url}:<tag>`
REPOSITORY_IMAGE = re.compile(r"^(\$\{aws_ecr_repository\.[A-Za-z0-9_-]+\.repository_url\}):(.+)$")


class ReleaseImageExists(GroundworkCheck):
    id = "CKV_GW_DEPLOY_104"
    name = "Every task definition running an image of this stack's registry waits for its lookup"
    requirement = "DEPLOY-5"
    severity = "CRITICAL"
    resource_types = ("aws_ecs_task_definition",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        text = body.get("container_definitions")
        if not isinstance(text, str) or (is_reference(text) and not text.lstrip().startswith("[")):
            return Verdict.unknown("container_definitions is an expression")
        lookups = stack.graph.of_type("data.aws_ecr_image")
        verdicts = []
        for container in json.loads(text):
            image = str(container.get("image", ""))
            match = REPOSITORY_IMAGE.match(image)
            if match is None:
                continue
            repository, tag = address_of(match.group(1)), match.group(2)
            found = [
                address
                for address, lookup in lookups.items()
                if address_of(lookup.get("repository_name")) == repository
                and lookup.get("image_tag") == tag
            ]
            where = f"container {container.get('name')} runs {repository}:{tag}"
            if not found:
                verdicts.append(
                    Verdict.failed(
                        f"{where}, and no data.aws_ecr_image looks that tag up: a missing image "
                        "fails every task (CannotPullContainerError) instead of the plan"
                    )
                )
            elif not any(stack.graph.needs(self.address, address) for address in found):
                verdicts.append(
                    Verdict.failed(
                        f"{where}, and the task definition does not wait for "
                        f"{', '.join(sorted(found))}: it may be registered before the lookup "
                        "finds the image missing"
                    )
                )
            else:
                verdicts.append(Verdict.passed(f"{where} after {found[0]} found it"))
        if not verdicts:
            return Verdict.passed("runs no image of this stack's repositories")
        return combine(verdicts)


check = ReleaseImageExists()
