"""What every cloud's stack shares: state backend, Terraform version, common outputs.

Satisfies: STATE-1
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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

from synth.config import EnvironmentConfig, backend_block, root_from_stack

# One floor for every stack: 1.11 is the first release with write-only arguments (`*_wo`,
# the AWS database password and the Azure JWT secret), after 1.10's S3 lock files and
# ephemeral resources; and 1.11.0 fails on `password_wo` fed from an ephemeral sensitive value
# (the AWS master password; hashicorp/terraform#36603, fixed in 1.11.1). CKV_GW_DEPLOY_2 fails
# a stack whose floor is below what it uses.
REQUIRED_TERRAFORM = ">= 1.11.1, < 2.0.0"


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
    """STATE-1: the environment's state backend, as `backend_block` derives it from config."""
    outdir = Path(stack.node.root.outdir)  # type: ignore[attr-defined]
    kind, arguments = backend_block(config, root=root_from_stack(outdir))
    backends: dict[str, Callable[..., object]] = {
        "local": LocalBackend,
        "gcs": GcsBackend,
        "azurerm": AzurermBackend,
    }
    if kind == "s3":
        # cdktf 0.21's S3Backend predates `use_lockfile`; it is set as an override.
        S3Backend(stack, **{k: v for k, v in arguments.items() if k != "use_lockfile"})
        stack.add_override("terraform.backend.s3.use_lockfile", arguments["use_lockfile"])
    elif kind == "cloud":
        workspace = NamedCloudWorkspace(arguments["workspaces"]["name"])
        CloudBackend(
            stack,
            organization=arguments["organization"],
            workspaces=workspace,
            hostname=arguments.get("hostname"),
        )
    else:
        backends[kind](stack, **arguments)
