"""The AWS stacks: provider with TAG-1 default tags, composing the AWS components.

`AwsStack` is an environment (workload); `AwsBootstrapStack` creates the state storage the
environments' S3 backends use (STATE-2). Both configure the provider with `aws_provider`.

Satisfies: TAG-1, STATE-1, STATE-2
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct
from constructs.aws.budget import Budget
from constructs.aws.cache import Cache
from constructs.aws.database import Database
from constructs.aws.database_roles import DatabaseRoles
from constructs.aws.edge import Edge
from constructs.aws.identity import Identity
from constructs.aws.keys import Keys
from constructs.aws.network import Network
from constructs.aws.observability import UPTIME_REGION, Observability
from constructs.aws.registry import Registry
from constructs.aws.secrets import Secrets
from constructs.aws.service import Service, service_names
from constructs.aws.state import StateStorage
from constructs.aws.storage import Storage

from stacks.base import GroundworkStack
from synth.config import EnvironmentConfig


def aws_provider(
    stack: GroundworkStack, *, alias: str | None = None, region: str | None = None
) -> AwsProvider:
    """An AWS provider tagging every resource with the stack's TAG-1 tags; the default one
    (no alias) is in the config's region.

    With `aws.account_id` set, the provider refuses credentials of any other account before
    it plans anything (`allowed_account_ids`, "Error: AWS account ID not allowed",
    https://registry.terraform.io/providers/hashicorp/aws/latest/docs#allowed_account_ids):
    the config's claim that two environments are in different accounts, which lets both
    create RDSOSMetrics (synth/config.py, `aws_account_region_owners`), is then enforced.
    """
    config = stack.config
    account_id = config.aws.account_id
    return AwsProvider(
        stack,
        f"aws-{alias}" if alias else "aws",
        alias=alias,
        region=region or config.aws.region,
        allowed_account_ids=[account_id] if account_id else None,
        default_tags=[AwsProviderDefaultTags(tags=config.tags)],
    )


class AwsStack(GroundworkStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config)
        aws_provider(self)
        # Route 53 health-check metrics exist only in us-east-1 (OBS-4).
        uptime_provider = aws_provider(self, alias="uptime", region=UPTIME_REGION)
        # OBJ-4: production object storage replicates to a second region.
        replica_provider = aws_provider(self, alias="replica", region=config.aws.replica_region)
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
            log_bucket_ready=[edge.log_bucket_policy],
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
            egress=network.app_egress,
            # Restarted after each JWT_SECRET rotation (the rotated-secret contract).
            service=service_names(config),
        )
        roles = DatabaseRoles(
            self,
            "database-roles",
            config=config,
            database=database,
            subnet_ids=network.app_subnet_ids,
            security_group_id=network.security_groups.app.id,
            vpc_id=network.vpc_id,
            kms_key_arn=keys.data.arn,
            log_kms_key_arn=keys.logs.arn,
            egress=network.app_egress,
            security_group_rules=network.app_rules,
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
            cache_name=cache.cache_name,
            database_endpoint=database.endpoint,
            database_connect_arn=database.connect_arn,
            database_environment={"DATABASE_USER": database.app_username},
            # The app's database role and its first JWT_SECRET exist before it starts.
            start_after=[roles.ready, *secrets.ready],
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
            database_proxy_name=database.proxy_name,
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
            "alert_email_pending_confirmation",
            value={
                topic: subscription.pending_confirmation
                for topic, subscription in sorted(observability.email_subscriptions.items())
            },
            description=(
                f"true until {config.alert_email} clicks the link SNS mailed for that topic; "
                "no alert reaches the address before (refresh with terraform apply "
                "-refresh-only)"
            ),
        )
        TerraformOutput(
            self,
            "registry_url",
            value=registry.repository_url,
            description=(
                "Push the app image here, tagged service.image_tag, then set "
                "aws.release_image: true (until then the service runs aws.placeholder_image)"
            ),
        )
        TerraformOutput(
            self,
            "load_balancer_dns_name",
            value=edge.dns_name,
            description="Public DNS name of the ALB",
        )


class AwsBootstrapStack(GroundworkStack):
    """STATE-2: the S3 bucket and key the environments' `backend: s3` state lives in."""

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config)
        aws_provider(self)
        # OBJ-4 / STATE-2: the state replicates to the config's replica region.
        replica_provider = aws_provider(self, alias="replica", region=config.aws.replica_region)
        state = StateStorage(self, "state", config=config, replica_provider=replica_provider)
        TerraformOutput(
            self, "state_bucket", value=state.bucket_name, description="Terraform state bucket"
        )
        TerraformOutput(
            self, "state_kms_key_arn", value=state.kms_key_arn, description="Its KMS key"
        )
        TerraformOutput(
            self,
            "state_replica_bucket",
            value=state.replica_bucket_name,
            description=f"Its replica in {state.replica_region} (read from here if the "
            "state's region is lost)",
        )
        TerraformOutput(
            self,
            "state_access_log_bucket",
            value=state.log_bucket_name,
            description="Server access logs of the state bucket, under s3/<state bucket>/",
        )
        TerraformOutput(
            self,
            "state_backend",
            value=(
                f"state: {{backend: s3, bucket: {state.bucket_name}, region: {state.region}, "
                f"kms_key_id: {state.kms_key_arn}}}"
            ),
            description="Put this in environments/<env>.yaml to keep its state here",
        )


STACK = AwsStack
BOOTSTRAP = AwsBootstrapStack
