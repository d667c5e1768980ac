"""Builds CKV_GW_DEPLOY_20: no first revision without an image (DEPLOY-5).

A task definition that names an image in an ECR repository this same stack creates cannot
start on the first apply: the repository is empty until a release pipeline pushes to it, so
ECS fails every task ("CannotPullContainerError") and the deployment circuit breaker rolls
back to nothing. Until the environment says a release exists (`aws.release_image: true`),
every container image must come from outside the stack (the public placeholder).
"""

import json
import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine, is_reference

LEADING_REFERENCE = re.compile(r"\$\{[^}]*\}")


class FirstImage(GroundworkCheck):
    id = "CKV_GW_DEPLOY_20"
    name = "Task definitions run an image that exists before any release pipeline ran"
    requirement = "DEPLOY-5"
    severity = "CRITICAL"
    resource_types = ("aws_ecs_task_definition",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        text = body.get("container_definitions")
        if not isinstance(text, str) or (is_reference(text) and not text.lstrip().startswith("[")):
            return Verdict.unknown("container_definitions is an expression")
        verdicts = []
        for container in json.loads(text):
            image = str(container.get("image", ""))
            # `${aws_ecr_repository.<name>.repository_url}:<tag>`: the leading reference.
            leading = LEADING_REFERENCE.match(image)
            repository = address_of(leading.group(0)) if leading else None
            if repository and repository.startswith("aws_ecr_repository."):
                if stack.config.aws.release_image:
                    verdicts.append(Verdict.passed(f"{image}: aws.release_image says it exists"))
                else:
                    verdicts.append(
                        Verdict.failed(
                            f"{container.get('name')} runs {image} from {repository}, empty on the "
                            "first apply; set aws.release_image once a release pushed it"
                        )
                    )
            elif is_reference(image):
                verdicts.append(Verdict.unknown(f"image {image} is an expression"))
            else:
                verdicts.append(Verdict.passed(f"{image} exists outside the stack"))
        return combine(verdicts)


check = FirstImage()
