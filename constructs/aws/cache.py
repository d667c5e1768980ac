"""Builds the Redis cache: an ElastiCache (Redis OSS 7) replication group with IAM auth.

Satisfies: CACHE-1, CACHE-2, CACHE-3, NET-2, OBS-1, DEPLOY-2

Clients authenticate as an ElastiCache user whose authentication mode is IAM: they sign a
short-lived token with their role (`elasticache:Connect` on `connect_arns`), so no password
or AUTH token exists anywhere (CACHE-1, SEC-3). Every user group must also contain a user
named "default"; ours is switched off and has no access.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.elasticache_parameter_group import (
    ElasticacheParameterGroup,
    ElasticacheParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
)
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktf_cdktf_provider_aws.elasticache_user import (
    ElasticacheUser,
    ElasticacheUserAuthenticationMode,
)
from cdktf_cdktf_provider_aws.elasticache_user_group import ElasticacheUserGroup
from constructs import Construct
from constructs.aws import waivers

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

PORT = 6379
ENGINE_VERSION = "7.1"  # Redis OSS; IAM authentication needs 7.0 or later
PARAMETER_FAMILY = "redis7"
# Usable memory (GB) per node type, smallest first: the node is the smallest type with at
# least `config.cache.memory_gb` (CACHE-2), so dev's 0.5 GB is a t4g.micro and 1 GB a
# t4g.small (1.37 GB, the nearest size at or above the requirement).
NODE_TYPES = (
    ("cache.t4g.micro", 0.5),
    ("cache.t4g.small", 1.37),
    ("cache.t4g.medium", 3.09),
    ("cache.m7g.large", 6.38),
    ("cache.r7g.large", 13.07),
    ("cache.r7g.xlarge", 26.32),
    ("cache.r7g.2xlarge", 52.82),
    ("cache.r7g.4xlarge", 105.81),
)
LOG_TYPES = ("slow-log", "engine-log")
# The app may run any command except the ones that can wipe, reconfigure or block the
# server (FLUSHALL, CONFIG, KEYS, DEBUG, ...); all keys and pub/sub channels.
APP_ACCESS = "on ~* &* +@all -@dangerous"


def node_type(memory_gb: float) -> str:
    """The smallest node type with at least `memory_gb` of memory."""
    for name, memory in NODE_TYPES:
        if memory >= memory_gb:
            return name
    raise ValueError(f"no ElastiCache node type has {memory_gb} GB of memory")


class Cache(Construct):
    """A private, encrypted Redis replication group reachable with IAM credentials only.

    Attributes: `endpoint` (primary), `reader_endpoint`, `port`, `username` (the IAM
    user to connect as) and `connect_arns` (what `elasticache:Connect` must allow).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        subnet_ids: Sequence[str],
        security_group_id: str,
        kms_key_arn: str,
        log_kms_key_arn: str,
    ) -> None:
        super().__init__(scope, id)
        cache = config.cache
        name = f"{config.prefix}-redis"
        replicated = cache.replicas > 0
        self.port = PORT

        subnet_group = ElasticacheSubnetGroup(
            self,
            "subnet-group",
            name=name,
            description=f"Private data subnets of {config.prefix} (CACHE-3)",
            subnet_ids=list(subnet_ids),
        )
        parameters = ElasticacheParameterGroup(
            self,
            "parameters",
            name=f"{name}7",
            family=PARAMETER_FAMILY,
            description=f"Eviction policy of {name} (CACHE-2)",
            parameter=[
                ElasticacheParameterGroupParameter(
                    name="maxmemory-policy", value=cache.eviction_policy
                )
            ],
            # A new family is a new name: the replacement exists before the old one goes,
            # which the replication group still uses (DEPLOY-2).
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )

        # IAM users need user ID == user name; both are the lowercase prefix.
        self.username = f"{config.prefix}-app"
        app_user = ElasticacheUser(
            self,
            "app-user",
            user_id=self.username,
            user_name=self.username,
            engine="redis",
            access_string=APP_ACCESS,
            authentication_mode=ElasticacheUserAuthenticationMode(type="iam"),
        )
        # Required by ElastiCache in every user group; disabled ("off"), so no connection
        # can use it, and without a password because it can never log in.
        default_user = ElasticacheUser(
            self,
            "default-user",
            user_id=f"{config.prefix}-default",
            user_name="default",
            engine="redis",
            access_string="off -@all",
            authentication_mode=ElasticacheUserAuthenticationMode(type="no-password-required"),
        )
        user_group = ElasticacheUserGroup(
            self,
            "users",
            user_group_id=name,
            engine="redis",
            user_ids=[default_user.user_id, app_user.user_id],
        )

        log_groups = {
            log_type: CloudwatchLogGroup(
                self,
                f"logs-{log_type}",
                name=f"/aws/elasticache/{name}/{log_type}",
                retention_in_days=config.logs.retention_days,  # OBS-1
                kms_key_id=log_kms_key_arn,
            )
            for log_type in LOG_TYPES
        }
        for log_group in log_groups.values():
            waivers.log_retention(log_group, config)

        group = ElasticacheReplicationGroup(
            self,
            "redis",
            replication_group_id=name,
            description=f"Redis cache of {config.prefix}",
            engine="redis",
            engine_version=ENGINE_VERSION,
            node_type=node_type(cache.memory_gb),  # CACHE-2
            num_cache_clusters=1 + cache.replicas,
            automatic_failover_enabled=replicated,
            multi_az_enabled=replicated,
            port=PORT,
            parameter_group_name=parameters.name,
            subnet_group_name=subnet_group.name,  # CACHE-3
            security_group_ids=[security_group_id],
            # The provider types these two switches as strings.
            at_rest_encryption_enabled="true",  # CACHE-1
            kms_key_id=kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            user_group_ids=[user_group.user_group_id],
            # Cache snapshots follow the environment's database backup retention (>= 1).
            snapshot_retention_limit=config.database.backup_retention_days,
            snapshot_window="03:00-04:00",
            maintenance_window="sun:05:00-sun:06:00",
            auto_minor_version_upgrade="true",
            log_delivery_configuration=[
                ElasticacheReplicationGroupLogDeliveryConfiguration(
                    log_type=log_type,
                    destination_type="cloudwatch-logs",
                    destination=group.name,
                    log_format="json",
                )
                for log_type, group in log_groups.items()
            ],
        )
        waivers.service_linked_role(group, "elasticache.amazonaws.com")  # CKV_GW_DEPLOY_37
        if not replicated:
            waive(
                group,
                "CKV2_AWS_50",
                reason="Replication with automatic failover is a CACHE-2 production rule; "
                "this environment runs one node (cache.replicas is 0) by config.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        self.endpoint = group.primary_endpoint_address
        # The app signs its IAM auth token for `http://<cacheName>/?Action=connect&User=<userId>`
        # with the replication group's id as cacheName
        # (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html, "Connecting"),
        # so it needs the id as well as the endpoint.
        self.cache_name = group.replication_group_id
        self.reader_endpoint = group.reader_endpoint_address
        self.connect_arns = [group.arn, app_user.arn]
