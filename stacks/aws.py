"""The AWS stack: provider with TAG-1 default tags, composing the AWS components.

Satisfies: TAG-1, STATE-1
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct
from constructs.aws.budget import Budget
from constructs.aws.cache import Cache
from constructs.aws.database import Database
from constructs.aws.edge import Edge
from constructs.aws.identity import Identity
from constructs.aws.keys import Keys
from constructs.aws.network import Network
from constructs.aws.observability import UPTIME_REGION, Observability
from constructs.aws.registry import Registry
from constructs.aws.secrets import Secrets
from constructs.aws.service import Service
from constructs.aws.storage import Storage

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
        # Route 53 health-check metrics exist only in us-east-1 (OBS-4).
        uptime_provider = AwsProvider(
            self,
            "aws-uptime",
            alias="uptime",
            region=UPTIME_REGION,
            default_tags=[AwsProviderDefaultTags(tags=config.tags)],
        )
        # OBJ-4: production object storage replicates to a second region.
        replica_provider = AwsProvider(
            self,
            "aws-replica",
            alias="replica",
            region=config.aws.replica_region,
            default_tags=[AwsProviderDefaultTags(tags=config.tags)],
        )
        keys = Keys(self, "keys", config=config)
        network = Network(self, "network", config=config, log_kms_key_arn=keys.logs.arn)
        edge = Edge(self, "edge", config=config, network=network, log_kms_key_arn=keys.logs.arn)
        registry = Registry(self, "registry", config=config, kms_key_arn=keys.data.arn)
        database = Database(
            self,
            "database",
            config=config,
            subnet_ids=network.data_subnet_ids,
            security_group_id=network.security_groups.database.id,
            kms_key_arn=keys.data.arn,
            log_kms_key_arn=keys.logs.arn,
        )
        cache = Cache(
            self,
            "cache",
            config=config,
            subnet_ids=network.data_subnet_ids,
            security_group_id=network.security_groups.cache.id,
            kms_key_arn=keys.data.arn,
            log_kms_key_arn=keys.logs.arn,
        )
        storage = Storage(
            self,
            "storage",
            config=config,
            kms_key_arn=keys.data.arn,
            log_bucket_name=edge.log_bucket_name,
            replica_provider=replica_provider,
        )
        secrets = Secrets(
            self,
            "secrets",
            config=config,
            kms_key_arn=keys.data.arn,
            log_kms_key_arn=keys.logs.arn,
            database=database,
            subnet_ids=network.app_subnet_ids,
            vpc_id=network.vpc_id,
        )
        service = Service(
            self,
            "service",
            config=config,
            network=network,
            edge=edge,
            registry=registry,
            kms_key_arn=keys.data.arn,
            log_kms_key_arn=keys.logs.arn,
            secret_arns=secrets.arns,
            secret_references=secrets.references,
            bucket_arn=storage.bucket_arn,
            cache_connect_arns=cache.connect_arns,
            cache_endpoint=cache.endpoint,
            cache_username=cache.username,
            database_endpoint=database.endpoint,
            database_connect_arn=database.connect_arn,
        )
        observability = Observability(
            self,
            "observability",
            config=config,
            kms_key_arn=keys.data.arn,
            edge=edge,
            service=service,
            uptime_provider=uptime_provider,
            database_log_group_name=database.log_group_name,
        )
        Budget(self, "budget", config=config)
        if config.features.auth_enabled:  # AUTH-1 is optional, switched on per environment
            Identity(self, "identity", config=config)

        TerraformOutput(
            self,
            "alert_topic_arn",
            value=observability.topic_arn,
            description="SNS topic every alert goes to; subscribe more receivers here",
        )
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
