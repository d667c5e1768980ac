"""Builds CKV_GW_DEPLOY_32: no ECR lifecycle rule can expire an image a service references
(DEPLOY-6).

ECS pulls the image whenever it starts a task (a deployment, a scale-out, a replaced task,
a rollback); once the lifecycle policy expired it, every start fails with
CannotPullContainerError and the service cannot recover on its own. A rule selects images
by `tagStatus` ("Lifecycle policy properties in Amazon ECR",
https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html):
- `any` selects every image, so "keep the last N" expires the running release after N
  newer pushes: always a failure;
- `tagged` selects tags matching ALL patterns of its `tagPatternList` (`*` wildcards) or a
  prefix of its `tagPrefixList`: a failure when it matches a tag a task definition of the
  stack runs from this repository, or the environment's `service.image_tag` (what the
  service runs once `aws.release_image` is true);
- `untagged` images cannot be named by a tag: a failure only when a task definition names
  an image of this repository by digest.
"""

from __future__ import annotations

import json
import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, is_reference

from synth.config import ecr_tag_matches

IMAGE = re.compile(r"^\$\{(aws_ecr_repository\.[A-Za-z0-9_-]+)\.repository_url\}([:@])(.+)$")


def _referenced(stack: Stack, repository: str) -> tuple[set[str], bool]:
    """(tags, by digest?) of this repository's images the stack's task definitions run."""
    tags, digests = set(), False
    for body in stack.graph.of_type("aws_ecs_task_definition").values():
        try:
            containers = json.loads(body.get("container_definitions") or "[]")
        except ValueError:
            continue
        for container in containers:
            match = IMAGE.match(str(container.get("image", "")))
            if not match or match.group(1) != repository:
                continue
            if match.group(2) == "@":
                digests = True
            else:
                tags.add(match.group(3))
    return tags, digests


def _selects(selection: dict[str, Any], tag: str) -> bool:
    patterns = selection.get("tagPatternList") or []
    prefixes = selection.get("tagPrefixList") or []
    if patterns:
        return all(ecr_tag_matches(str(p), tag) for p in patterns)
    return any(tag.startswith(str(p)) for p in prefixes)


class RegistryKeepsRunningImages(GroundworkCheck):
    id = "CKV_GW_DEPLOY_32"
    name = "No ECR lifecycle rule can expire an image a service references"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("aws_ecr_lifecycle_policy",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        repository = address_of(body.get("repository"))
        policy = body.get("policy")
        if is_reference(policy):
            return Verdict.unknown(f"policy is an expression ({policy})")
        try:
            rules = json.loads(policy)["rules"]
        except (TypeError, ValueError, KeyError):
            return Verdict.failed("policy is not a lifecycle policy document")
        tags, by_digest = _referenced(stack, repository or "")
        if stack.config is not None:
            # What a release makes each service run (APP-7).
            tags.update(service.image.tag for service in stack.config.services)
        for rule in rules:
            if (rule.get("action") or {}).get("type") != "expire":
                continue
            selection = rule.get("selection") or {}
            status = selection.get("tagStatus")
            priority = rule.get("rulePriority")
            if status == "any":
                return Verdict.failed(
                    f"rule {priority} (tagStatus any) can expire the image a service runs"
                )
            if status == "untagged" and by_digest:
                return Verdict.failed(
                    f"rule {priority} expires untagged images, and a task runs one by digest"
                )
            if status == "tagged":
                hit = sorted(tag for tag in tags if _selects(selection, tag))
                if hit:
                    return Verdict.failed(
                        f"rule {priority} expires tag {hit[0]!r}, which a service runs"
                    )
        return Verdict.passed(
            f"no rule selects a running tag ({', '.join(sorted(tags)) or 'none referenced'})"
        )


check = RegistryKeepsRunningImages()
