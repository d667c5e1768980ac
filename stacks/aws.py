"""The AWS stack: provider with TAG-1 default tags, composing the AWS components.

Satisfies: TAG-1, STATE-1
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct
from constructs.aws.edge import Edge
from constructs.aws.keys import Keys
from constructs.aws.network import Network
from constructs.aws.registry import Registry

from stacks.base import GroundworkStack
from synth.config import EnvironmentConfig


class AwsStack(GroundworkStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config)
        AwsProvider(
            self,
            "aws",
            region=config.aws.region,
            default_tags=[AwsProviderDefaultTags(tags=config.tags)],
        )
        keys = Keys(self, "keys", config=config)
        network = Network(self, "network", config=config, log_kms_key_arn=keys.logs.arn)
        edge = Edge(self, "edge", config=config, network=network, log_kms_key_arn=keys.logs.arn)
        registry = Registry(self, "registry", config=config, kms_key_arn=keys.data.arn)
        TerraformOutput(
            self,
            "registry_url",
            value=registry.repository_url,
            description="Push the app image here, tagged service.image_tag",
        )
        TerraformOutput(
            self,
            "load_balancer_dns_name",
            value=edge.dns_name,
            description="Public DNS name of the ALB",
        )


STACK = AwsStack
