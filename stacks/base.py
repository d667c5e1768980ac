"""What every cloud's stack shares: state backend, Terraform version, common outputs.

Satisfies: STATE-1
"""

from __future__ import annotations

from cdktf import (
    AzurermBackend,
    CloudBackend,
    GcsBackend,
    LocalBackend,
    NamedCloudWorkspace,
    S3Backend,
    TerraformOutput,
    TerraformStack,
)
from constructs import Construct

from synth.config import (
    AzurermState,
    EnvironmentConfig,
    GcsState,
    HcpState,
    LocalState,
    S3State,
)

# 1.10 is the first release whose S3 backend locks with a lock file (no DynamoDB table).
REQUIRED_TERRAFORM = ">= 1.10.0, < 2.0.0"

# Terraform runs in cdktf.out/stacks/<env>/; local state lives in the project root, and a
# relative path keeps the synthesized JSON the same on every machine.
PROJECT_ROOT_FROM_STACK = "../../.."


class GroundworkStack(TerraformStack):
    """Base of the per-cloud stacks; subclasses add the provider and the components."""

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config.name)
        self.config = config
        self.add_override("terraform.required_version", REQUIRED_TERRAFORM)
        configure_backend(self, config)
        TerraformOutput(self, "environment", value=config.name, description="Environment name")
        TerraformOutput(self, "region", value=config.region, description="Primary region")


def configure_backend(stack: TerraformStack, config: EnvironmentConfig) -> None:
    """STATE-1: the environment's state backend, from its config."""
    state = config.state
    default_key = f"{config.app}/{config.name}/terraform.tfstate"
    if isinstance(state, LocalState):
        path = state.path or f"terraform.{config.name}.tfstate"
        LocalBackend(stack, path=f"{PROJECT_ROOT_FROM_STACK}/{path}")
    elif isinstance(state, S3State):
        S3Backend(
            stack,
            bucket=state.bucket,
            key=state.key or default_key,
            region=state.region,
            encrypt=True,
            kms_key_id=state.kms_key_id,
        )
        # cdktf 0.21's S3Backend predates `use_lockfile`; set it directly.
        stack.add_override("terraform.backend.s3.use_lockfile", True)
    elif isinstance(state, GcsState):
        GcsBackend(stack, bucket=state.bucket, prefix=state.prefix or f"{config.app}/{config.name}")
    elif isinstance(state, AzurermState):
        AzurermBackend(
            stack,
            resource_group_name=state.resource_group_name,
            storage_account_name=state.storage_account_name,
            container_name=state.container_name,
            key=state.key or default_key,
            use_azuread_auth=True,
        )
    elif isinstance(state, HcpState):
        CloudBackend(
            stack,
            organization=state.organization,
            workspaces=NamedCloudWorkspace(state.workspace),
            hostname=state.hostname,
        )
    else:  # pragma: no cover - the schema admits no other backend
        raise TypeError(f"unsupported state backend {state!r}")
