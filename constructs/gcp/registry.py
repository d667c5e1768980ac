"""Artifact Registry: the app's private Docker repository, CMEK, immutable tags, scanned on push.

Scanning (APP-6) is Artifact Analysis: the Container Scanning API is enabled and the
repository's `vulnerability_scanning_config` inherits it, so every pushed image is scanned.
Tags are immutable, so each release pushes a new `service.image_tag`. Cleanup keeps the 30
newest versions and deletes untagged ones after 14 days.

Satisfies: APP-6, DEPLOY-2
"""

from __future__ import annotations

from cdktf_cdktf_provider_google.artifact_registry_repository import (
    ArtifactRegistryRepository,
    ArtifactRegistryRepositoryCleanupPolicies,
    ArtifactRegistryRepositoryCleanupPoliciesCondition,
    ArtifactRegistryRepositoryCleanupPoliciesMostRecentVersions,
    ArtifactRegistryRepositoryDockerConfig,
    ArtifactRegistryRepositoryVulnerabilityScanningConfig,
)
from constructs import Construct
from constructs.gcp.keys import Keys

from synth.app import DEFAULT_SERVICE_NAME
from synth.app import Service as ServiceSpec
from synth.config import EnvironmentConfig

KEEP_VERSIONS = 30
UNTAGGED_AFTER = f"{14 * 24 * 3600}s"


class Registry(Construct):
    """Repository `<prefix>`; `images[service]` is each service's image at its tag."""

    def __init__(
        self, scope: Construct, id_: str, *, config: EnvironmentConfig, keys: Keys
    ) -> None:
        super().__init__(scope, id_)
        repository = ArtifactRegistryRepository(
            self,
            "repository",
            repository_id=config.prefix,
            location=config.gcp.region,
            format="DOCKER",
            description=f"{config.prefix} application images",
            kms_key_name=keys.keys["registry"].id,
            docker_config=ArtifactRegistryRepositoryDockerConfig(immutable_tags=True),
            vulnerability_scanning_config=ArtifactRegistryRepositoryVulnerabilityScanningConfig(
                enablement_config="INHERITED"
            ),
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                ArtifactRegistryRepositoryCleanupPolicies(
                    id="keep-recent",
                    action="KEEP",
                    most_recent_versions=ArtifactRegistryRepositoryCleanupPoliciesMostRecentVersions(
                        keep_count=KEEP_VERSIONS
                    ),
                ),
                ArtifactRegistryRepositoryCleanupPolicies(
                    id="delete-untagged",
                    action="DELETE",
                    condition=ArtifactRegistryRepositoryCleanupPoliciesCondition(
                        tag_state="UNTAGGED", older_than=UNTAGGED_AFTER
                    ),
                ),
            ],
            depends_on=[keys.ready["registry"]],  # DEPLOY-2: the agent may use the key
        )
        self.repository_id = repository.repository_id
        self.repository_url = (
            f"{config.gcp.region}-docker.pkg.dev/{config.gcp.project}/{config.prefix}"
        )
        # APP-7: each service's image, `<repository>:<tag>` from its description; the default
        # service's repository is the app's name, as it always was.
        self.images = {
            spec.name: f"{self.repository_url}/{image_repository(config, spec)}:{spec.image.tag}"
            for spec in config.services
        }


def image_repository(config: EnvironmentConfig, spec: ServiceSpec) -> str:
    if spec.image.repository is not None:
        return spec.image.repository
    return config.app if spec.name == DEFAULT_SERVICE_NAME else spec.name
