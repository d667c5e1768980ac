"""The AWS stacks: provider with TAG-1 default tags, composing the AWS components.

`AwsStack` is an environment (workload); `AwsBootstrapStack` creates the state storage the
environments' S3 backends use (STATE-2). Both configure the provider with `aws_provider`.

Satisfies: TAG-1, STATE-1, STATE-2, APP-7, SEC-5, CDN-1, DNS-1
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct
from constructs.aws.budget import Budget
from constructs.aws.cache import Cache
from constructs.aws.cdn import CDN_REGION, Cdn
from constructs.aws.database import Database
from constructs.aws.database_roles import DatabaseRoles
from constructs.aws.dns import DNS_REGION, ZoneProtection
from constructs.aws.edge import Edge
from constructs.aws.identity import Identity
from constructs.aws.keys import Keys
from constructs.aws.network import Network
from constructs.aws.observability import UPTIME_REGION, Observability
from constructs.aws.registry import Registry
from constructs.aws.secrets import Secrets
from constructs.aws.service import Service, container_insights_cluster
from constructs.aws.state import StateStorage
from constructs.aws.storage import Storage

from stacks.base import GroundworkStack
from synth.app import Service as AppService
from synth.app import unset_external_secrets
from synth.aws_app import WIRING, is_default, repository_key, repository_name
from synth.config import EnvironmentConfig
from synth.providers import load_companion


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


def database_connect_arns(
    config: EnvironmentConfig, service: AppService, database: Database
) -> list[str]:
    """The `rds-db:connect` resources of a service's role: the proxy's, and the instance it
    reads a direct (primary) or reader (first replica) URL of (constructs/aws/secrets.py)."""
    sources = {
        getattr(config.secrets.catalog.get(name), "source", None) for name in service.secrets
    }
    arns = [database.connect_arn]
    if "database_direct_url" in sources:
        arns.append(database.primary_connect_arn)
    if "database_reader_url" in sources:
        arns.append(database.replica_connect_arns[0])
    return arns


class AwsStack(GroundworkStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config)
        aws_provider(self)
        # Route 53 health-check metrics exist only in us-east-1 (OBS-4); CloudFront's web ACL
        # and certificate too (CDN-1, constructs/aws/cdn.py).
        uptime_provider = aws_provider(self, alias="uptime", region=UPTIME_REGION)
        # OBJ-4: production object storage replicates to a second region.
        replica_provider = aws_provider(self, alias="replica", region=config.aws.replica_region)
        if config.features.cdn_enabled:
            # CDN-1: the origin header's random value (constructs/aws/edge.py, OriginHeader);
            # only CDN stacks load hashicorp/random.
            load_companion("cdktf_cdktf_provider_random")
            from cdktf_cdktf_provider_random.provider import RandomProvider

            RandomProvider(self, "random")
        keys = Keys(self, "keys", config=config)
        network = Network(self, "network", config=config, log_kms_key_arn=keys.logs.arn)
        edge = Edge(
            self,
            "edge",
            config=config,
            network=network,
            log_kms_key_arn=keys.logs.arn,
            global_provider=uptime_provider,
        )
        # APP-7: one repository per image repository the services pull from; the default
        # service's keeps its name (`<prefix>`).
        registries: dict[str, Registry] = {}
        for described in config.services:
            key = repository_key(described)
            if key not in registries:
                registries[key] = Registry(
                    self,
                    "registry" if is_default(key) else f"registry-{key}",
                    config=config,
                    kms_key_arn=keys.data.arn,
                    name=repository_name(config, key),
                )
        database = Database(
            self,
            "database",
            config=config,
            subnet_ids=network.data_subnet_ids,
            security_group_id=network.security_groups.database.id,
            kms_key_arn=keys.data.arn,
            log_kms_key_arn=keys.logs.arn,
        )
        # The cache and the bucket exist only when a service uses them (APP-7, SEC-5).
        cache = None
        if config.uses_cache:
            assert network.security_groups.cache is not None
            cache = Cache(
                self,
                "cache",
                config=config,
                subnet_ids=network.data_subnet_ids,
                security_group_id=network.security_groups.cache.id,
                kms_key_arn=keys.data.arn,
                log_kms_key_arn=keys.logs.arn,
            )
        storage = None
        if config.uses_object_storage:
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
            cache_endpoint=cache.endpoint if cache else None,
            cache_username=cache.username if cache else None,
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
        # The platform wiring by component: exactly synth/aws_app.py's WIRING (checked here,
        # so the table stays the one source; tests/constructs/aws/test_app_wiring.py).
        wiring: dict[str, dict[str, str]] = {
            "database": {
                "DATABASE_HOST": database.endpoint,
                "DATABASE_USER": database.app_username,
            }
        }
        if cache is not None:
            wiring["cache"] = {
                "REDIS_HOST": cache.endpoint,
                "REDIS_PORT": str(cache.port),
                "REDIS_TLS": "true",
                # IAM authentication: the user the app signs in as, and what the IAM auth
                # token is signed for (cacheName).
                "REDIS_USERNAME": cache.username,
                "REDIS_CACHE_NAME": cache.cache_name,
            }
        if storage is not None:
            wiring["object_storage"] = {"BUCKET_NAME": storage.bucket_name}
        for component, variables in wiring.items():
            if tuple(variables) != WIRING[component]:
                raise ValueError(
                    f"{component}: the stack sets {tuple(variables)}, synth/app.py "
                    f"PLATFORM_ENVIRONMENT['aws'] says {WIRING[component]}"
                )
        # The default service first (as before; its construct IDs do not depend on it).
        ordered = sorted(config.services, key=lambda s: not is_default(s.name))
        # The environment's one ECS cluster, at a stack-level address no service order
        # changes. It used to live in the first service's construct (the default service's,
        # else the first listed): `moved` blocks carry an existing environment's cluster and
        # its Container Insights log group over instead of replacing them under running
        # services.
        first = ordered[0].name
        cluster = container_insights_cluster(
            self,
            "cluster",
            config.prefix,
            config,
            keys.logs.arn,
            moved_from=("service" if is_default(first) else f"service-{first}", "cluster"),
        )
        services: list[Service] = []
        for described in ordered:
            registry = registries[repository_key(described)]
            variables = [v for name in described.secrets for v in secrets.variables[name]]
            services.append(
                Service(
                    self,
                    "service" if is_default(described.name) else f"service-{described.name}",
                    config=config,
                    service=described,
                    network=network,
                    edge=edge,
                    repository_url=registry.repository_url,
                    repository_arn=registry.repository_arn,
                    repository_name=registry.repository_name,
                    kms_key_arn=keys.data.arn,
                    log_kms_key_arn=keys.logs.arn,
                    cluster=cluster,
                    # IAM-1: exactly the secrets this service lists.
                    secret_arns={v: secrets.arns[v] for v in variables},
                    secret_references={v: secrets.references[v] for v in variables},
                    # DEPLOY-6: external secrets the operator has not set yet are not read.
                    unset_secrets=sorted(unset_external_secrets(config)),
                    # ... and those it reads must have a value (CKV_GW_DEPLOY_103).
                    value_checks=[
                        secrets.value_checks[name]
                        for name in described.secrets
                        if name in secrets.value_checks
                    ],
                    wiring=wiring,
                    bucket_arn=storage.bucket_arn if storage else None,
                    cache_connect_arns=cache.connect_arns if cache else (),
                    database_connect_arns=database_connect_arns(config, described, database),
                    # The app's database role and the first value of every generated and
                    # derived secret exist before it starts.
                    start_after=[roles.ready, *secrets.ready],
                )
            )
        observability = Observability(
            self,
            "observability",
            config=config,
            kms_key_arn=keys.data.arn,
            edge=edge,
            services=services,
            uptime_provider=uptime_provider,
            database_log_group_names=database.postgresql_log_group_names,
            database_proxy_name=database.proxy_name,
        )
        if edge.zone is not None:  # DNS-1: the stack's own zone is signed and logged
            assert DNS_REGION == UPTIME_REGION
            # time_sleep between signing and the DS record (constructs/aws/dns.py).
            load_companion("cdktf_cdktf_provider_time")
            from cdktf_cdktf_provider_time.provider import TimeProvider

            TimeProvider(self, "time")
            ZoneProtection(
                self,
                "dns",
                config=config,
                edge=edge,
                provider=uptime_provider,
                alarm_topic_arn=observability.uptime_topic_arn,
            )
        Budget(self, "budget", config=config)
        if config.features.auth_enabled:  # AUTH-1 is optional, switched on per environment
            Identity(self, "identity", config=config)
        if config.features.cdn_enabled:  # CDN-1: CloudFront's resources live in us-east-1
            assert CDN_REGION == UPTIME_REGION
            cdn = Cdn(self, "cdn", config=config, edge=edge, provider=uptime_provider)
            observability.cdn_errors(cdn.distribution.id)
            TerraformOutput(
                self,
                "cdn_domain_name",
                value=cdn.domain_name,
                description=f"CloudFront's name for the distribution {config.domain} points at",
            )

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
        for key, registry in registries.items():
            TerraformOutput(
                self,
                "registry_url" if is_default(key) else f"registry_url_{key}",
                value=registry.repository_url,
                description=(
                    "Push the app image here, tagged service.image_tag, then set "
                    "aws.release_image: true (until then the service runs aws.placeholder_image)"
                    if is_default(key)
                    else f"Push the {key} image here, tagged as its services' image.tag, then "
                    "set aws.release_image: true (external secrets are read once their "
                    "catalog entry says value_set: true, README)"
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
