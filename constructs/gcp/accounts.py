"""Service account IDs that fit IAM's 6-30 characters at the schema's longest names (DEPLOY-1),
and the project's custom roles (IAM-1: exactly the permissions a job needs, where every
predefined role holds more).

`<prefix>-<role>` when it fits; otherwise the prefix is shortened and a hash of the whole
prefix keeps the ID unique and deterministic (app 12 + environment 16 + `-app` would be 33;
https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/create).
"""

from __future__ import annotations

import hashlib

from cdktf_cdktf_provider_google.project_iam_custom_role import ProjectIamCustomRole
from constructs import Construct

from synth.app import service_suffix
from synth.config import EnvironmentConfig

MAX_ACCOUNT_ID = 30
HASH_LENGTH = 6


def account_id(config: EnvironmentConfig, role: str, max_length: int = MAX_ACCOUNT_ID) -> str:
    """`<prefix>-<role>`, or `<stem>-<hash of prefix>-<role>` within `max_length` (at most
    30, at least 6; a caller lowers it when the ID is part of a longer name)."""
    limit = min(max_length, MAX_ACCOUNT_ID)
    full = f"{config.prefix}-{role}"
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(config.prefix.encode()).hexdigest()[:HASH_LENGTH]
    stem = config.prefix[: max(1, limit - len(role) - HASH_LENGTH - 2)].rstrip("-")
    return f"{stem}-{digest}-{role}"


def custom_role(
    scope: Construct,
    id_: str,
    *,
    config: EnvironmentConfig,
    role: str,
    title: str,
    permissions: list[str],
) -> ProjectIamCustomRole:
    """Project custom role `<prefix>_<role>` (letters, digits, `_` and `.`, 3-64 characters:
    https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/create). A deleted
    custom role keeps its ID for 37 days; the provider undeletes it when it is created again
    (https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/
    google_project_iam_custom_role)."""
    return ProjectIamCustomRole(
        scope,
        id_,
        project=config.gcp.project,
        role_id=f"{config.prefix.replace('-', '_')}_{role}",
        title=title,
        permissions=sorted(permissions),
    )


def service_name(config: EnvironmentConfig, service: str) -> str:
    """A Cloud Run service's name: `<prefix>` for the default service (today's name, so an
    existing environment sees no replacement), else `<prefix>-<service>` (at most 38
    characters at the longest names; Cloud Run allows 49: https://cloud.google.com/run/docs/
    reference/rest/v2/projects.locations.services/create, Service `name`)."""
    return config.prefix + service_suffix(service)
