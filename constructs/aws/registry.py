"""The private container registry: one ECR repository for the environment's app image.

Tags are immutable (a release is a new tag, `service.image_tag`), every push is scanned,
images are encrypted with the environment's data key, and a lifecycle policy keeps the
repository from filling with leftovers.

The lifecycle policy never selects an image a service can be running (DEPLOY-6,
CKV_GW_DEPLOY_32). A count rule over every image ("keep the last 30") expires the running
release as soon as 30 newer images are pushed, e.g. by a pipeline that builds every branch,
and ECS then cannot start a task, scale out or roll back. So:
- untagged images (superseded or failed pushes; the service names a tag, never a digest)
  expire `aws.untagged_image_days` after their push;
- tagged images expire only when their tag matches one of `aws.disposable_image_tags`
  (one rule per pattern: ECR selects an image only if it matches EVERY pattern of a rule's
  tagPatternList), `aws.disposable_image_days` after their push; the config refuses a
  pattern matching `service.image_tag` (synth/config.py, `aws_registry_problems`);
- there is no `tagStatus: any` rule. Release tags are kept until an operator deletes old
  ones (README); rollbacks always find their image.
("Lifecycle policy properties in Amazon ECR",
https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html)

Satisfies: APP-6, APP-7, DEPLOY-6
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from constructs import Construct

from synth.config import EnvironmentConfig


class Registry(Construct):
    """ECR repository `<prefix>`: scan on push, immutable tags, KMS, lifecycle."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        kms_key_arn: str,
        name: str | None = None,
    ) -> None:
        """`name`: the repository's name (synth/aws_app.py, `repository_name`); `<prefix>`,
        the default service's, without it."""
        super().__init__(scope, id_)
        repository = EcrRepository(
            self,
            "repository",
            name=name or config.prefix,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[
                EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=kms_key_arn)
            ],
            force_delete=False,  # deleting the repository never deletes images silently
        )
        self.repository_url = repository.repository_url
        self.repository_arn = repository.arn
        self.repository_name = repository.name
        aws = config.aws
        rules = [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {aws.untagged_image_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": aws.untagged_image_days,
                },
                "action": {"type": "expire"},
            },
            *(
                {
                    "rulePriority": 2 + index,
                    "description": (
                        f"Expire disposable {pattern} images after {aws.disposable_image_days} days"
                    ),
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPatternList": [pattern],
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": aws.disposable_image_days,
                    },
                    "action": {"type": "expire"},
                }
                for index, pattern in enumerate(aws.disposable_image_tags)
            ),
        ]
        EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=repository.name,
            policy=json.dumps({"rules": rules}, indent=2),
        )
