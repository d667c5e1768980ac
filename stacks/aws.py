"""The AWS stack: provider with TAG-1 default tags, composing the AWS components.

Satisfies: TAG-1, STATE-1
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct
from constructs.aws.keys import Keys
from constructs.aws.network import Network

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
        Network(self, "network", config=config, log_kms_key_arn=keys.logs.arn)


STACK = AwsStack
