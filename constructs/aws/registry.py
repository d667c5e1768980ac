"""The private container registry: one ECR repository for the environment's app image.

Tags are immutable (a release is a new tag, `service.image_tag`), every push is scanned,
images are encrypted with the environment's data key, and a lifecycle policy keeps the
repository from growing without bound.

Satisfies: APP-6
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

KEEP_RELEASES = 30  # enough to roll back well past any incident
UNTAGGED_DAYS = 7  # failed or superseded pushes


class Registry(Construct):
    """ECR repository `<prefix>`: scan on push, immutable tags, KMS, lifecycle."""

    def __init__(
        self, scope: Construct, id_: str, *, config: EnvironmentConfig, kms_key_arn: str
    ) -> None:
        super().__init__(scope, id_)
        repository = EcrRepository(
            self,
            "repository",
            name=config.prefix,
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
        rules = [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {UNTAGGED_DAYS} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": UNTAGGED_DAYS,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the last {KEEP_RELEASES} tagged images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": KEEP_RELEASES,
                },
                "action": {"type": "expire"},
            },
        ]
        EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=repository.name,
            policy=json.dumps({"rules": rules}, indent=2),
        )
