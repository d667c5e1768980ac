"""The one table of what each GCP resource type needs: the API it calls and the deployer's role.

`enable_apis(stack)` runs last in each GCP stack: it collects the resource and data-source
types the stack created, enables every API they use exactly once (`google_project_service`,
`disable_on_destroy = false` so destroying one stack never cuts the API from under another),
and adds each resource's API to its `depends_on` (DEPLOY-2). In a fresh project only the
Service Usage API is on; every other call fails with SERVICE_DISABLED until its API is
enabled, and enabling is eventually consistent, so the ordering must be explicit
(https://cloud.google.com/service-usage/docs/enable-disable; the provider's own note on
`google_project_service`). A type missing from the table fails synthesis, so a new resource
cannot ship without naming its API and role.

The same rows give the deploy runner's roles (DEPLOY-3): `DEPLOYER_ROLES` is the documented
set (README, "GCP: before the first apply"); CKV_GW_DEPLOY_46 fails a stack with a type whose
role is outside it. The `terraform_data` steps run `gcloud` on the runner (constructs/gcp/
steps.py) and name their own role in their input.

Satisfies: DEPLOY-2, DEPLOY-3
"""

from __future__ import annotations

from cdktf import TerraformDataSource, TerraformResource, TerraformStack
from cdktf_cdktf_provider_google.project_service import ProjectService
from constructs import Construct

from synth.gcp_needs import IAM_API, NEEDS, RESOURCE_MANAGER_API, Needs


def entity_type(entity: TerraformResource | TerraformDataSource) -> str:
    prefix = "data." if isinstance(entity, TerraformDataSource) else ""
    return prefix + entity.terraform_resource_type


def needs_of(rtype: str) -> Needs:
    try:
        return NEEDS[rtype]
    except KeyError:
        raise ValueError(
            f"constructs/gcp/apis.py: {rtype} has no row in NEEDS (its API and deployer role)"
        ) from None


def address(entity: TerraformResource | TerraformDataSource) -> str:
    """The `depends_on` form of an entity: `type.logical_id` (`data.` for data sources)."""
    return f"{entity_type(entity)}.{entity.friendly_unique_id}"


def enable_apis(stack: TerraformStack, extra: tuple[str, ...] = ()) -> dict[str, ProjectService]:
    """Enable each API the stack's entities use once, and make every entity depend on its
    APIs. `extra` are APIs that steps call (e.g. `iam` for service identities)."""
    entities = [
        c for c in stack.node.find_all() if isinstance(c, TerraformResource | TerraformDataSource)
    ]
    wanted = {
        api
        for e in entities
        for api in needs_of(entity_type(e)).apis + tuple(getattr(e, "step_apis", ()))
    } | set(extra)
    # Identity and Access Management and Resource Manager back every IAM grant and the
    # provider's project lookups; they are off in a fresh project.
    wanted |= {IAM_API, RESOURCE_MANAGER_API}
    scope = Construct(stack, "apis")
    services = {
        api: ProjectService(scope, api.split(".")[0], service=api, disable_on_destroy=False)
        for api in sorted(wanted)
    }
    for entity in entities:
        apis = needs_of(entity_type(entity)).apis + tuple(getattr(entity, "step_apis", ()))
        if not apis:
            continue
        current = list(entity.depends_on or [])
        entity.depends_on = current + [
            f"google_project_service.{services[api].friendly_unique_id}" for api in apis
        ]
    return services
