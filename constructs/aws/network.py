"""The environment's VPC: three subnet tiers, NAT egress, whitelisted security groups, flow logs.

Public subnets hold the load balancer and the NAT gateways; app subnets route out through
NAT; data subnets have no route off the VPC. Every security-group rule is its own resource
with a description, so a reviewer reads NET-3 rule by rule.

Satisfies: NET-1, NET-2, NET-3, NET-4, APP-7, CDN-1, DEPLOY-2
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct
from constructs.aws import waivers
from constructs.subnets import plan_subnets

from synth.app import Service
from synth.aws_app import is_default
from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

ANYWHERE = "0.0.0.0/0"
CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
POSTGRES_PORT = 5432
REDIS_PORT = 6379
HTTPS_OUT = "HTTPS to AWS APIs and the image registry"
PROXY_TO_INSTANCE = "From RDS Proxy to the instance"


@dataclass(frozen=True)
class SecurityGroups:
    alb: SecurityGroup
    # The default service's tasks and the database-roles task (constructs/aws/database_roles.py).
    app: SecurityGroup
    database: SecurityGroup
    # Only when some service uses the cache (APP-7, `config.uses_cache`).
    cache: SecurityGroup | None
    # Service name -> the group its tasks run in; the default service's is `app`.
    services: dict[str, SecurityGroup]


def _id(group: SecurityGroup | None) -> str:
    assert group is not None, "a rule names a group this environment does not create"
    return group.id


class Network(Construct):
    """VPC, subnets, routing, security groups and flow logs of one environment."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        log_kms_key_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        prefix = config.prefix
        # Zones pinned by name (a closed set, no state filter): an impaired or newly opened
        # zone never renumbers the subnets. Local and Wavelength zones have longer names.
        zones = DataAwsAvailabilityZones(
            self,
            "zones",
            filter=[
                DataAwsAvailabilityZonesFilter(
                    name="zone-name", values=[f"{config.aws.region}{letter}" for letter in "abcdef"]
                )
            ],
        )
        plan = plan_subnets(config.network.cidr, config.network.zones)

        vpc = Vpc(
            self,
            "vpc",
            cidr_block=config.network.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": prefix},
        )
        self.vpc_id = vpc.id
        # Adopt the default security group and leave it without rules: nothing can use it.
        DefaultSecurityGroup(self, "default-sg", vpc_id=vpc.id)

        def subnets(tier: str, cidrs: tuple[str, ...]) -> list[Subnet]:
            return [
                Subnet(
                    self,
                    f"{tier}-{index}",
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=Fn.element(zones.names, index),
                    map_public_ip_on_launch=False,  # only the ALB and NAT EIPs are public
                    tags={"Name": f"{prefix}-{tier}-{index}", "tier": tier},
                )
                for index, cidr in enumerate(cidrs)
            ]

        public = subnets("public", plan.public)
        app = subnets("app", plan.app)
        data = subnets("data", plan.data)
        self.public_subnet_ids = [subnet.id for subnet in public]
        self.app_subnet_ids = [subnet.id for subnet in app]
        self.data_subnet_ids = [subnet.id for subnet in data]

        gateway = InternetGateway(self, "igw", vpc_id=vpc.id, tags={"Name": prefix})
        public_routes = RouteTable(
            self, "public-routes", vpc_id=vpc.id, tags={"Name": f"{prefix}-public"}
        )
        Route(
            self,
            "public-default",
            route_table_id=public_routes.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=gateway.id,
        )
        for index, subnet in enumerate(public):
            RouteTableAssociation(
                self, f"public-{index}-routes", subnet_id=subnet.id, route_table_id=public_routes.id
            )

        # NAT: one shared gateway (dev, staging) or one per zone, so egress survives a zone.
        nat_count = len(public) if config.network.nat_gateways == "per_zone" else 1
        nats = []
        for index in range(nat_count):
            address = Eip(
                self, f"nat-{index}-ip", domain="vpc", tags={"Name": f"{prefix}-nat-{index}"}
            )
            nats.append(
                NatGateway(
                    self,
                    f"nat-{index}",
                    allocation_id=address.id,
                    subnet_id=public[index].id,
                    tags={"Name": f"{prefix}-nat-{index}"},
                    depends_on=[gateway],
                )
            )
        app_routes = []
        # What anything in the app subnets needs before it can reach an AWS API or a public
        # registry: the default route through NAT and the subnet's association (DEPLOY-2).
        self.app_egress: list[Route | RouteTableAssociation] = []
        for index, nat in enumerate(nats):
            table = RouteTable(
                self, f"app-routes-{index}", vpc_id=vpc.id, tags={"Name": f"{prefix}-app-{index}"}
            )
            self.app_egress.append(
                Route(
                    self,
                    f"app-default-{index}",
                    route_table_id=table.id,
                    destination_cidr_block=ANYWHERE,
                    nat_gateway_id=nat.id,
                )
            )
            app_routes.append(table)
        for index, subnet in enumerate(app):
            self.app_egress.append(
                RouteTableAssociation(
                    self,
                    f"app-{index}-routes",
                    subnet_id=subnet.id,
                    route_table_id=app_routes[index % len(app_routes)].id,
                )
            )
        # NET-2: the data tier has only the VPC-local route.
        data_routes = RouteTable(
            self, "data-routes", vpc_id=vpc.id, tags={"Name": f"{prefix}-data"}
        )
        for index, subnet in enumerate(data):
            RouteTableAssociation(
                self, f"data-{index}-routes", subnet_id=subnet.id, route_table_id=data_routes.id
            )
        # S3 traffic (image layers, the app bucket) stays on AWS's network and off the NAT bill.
        VpcEndpoint(
            self,
            "s3-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{config.aws.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in app_routes],
            tags={"Name": f"{prefix}-s3"},
        )

        self.security_groups = self._security_groups(config, vpc.id)
        self._flow_logs(config, vpc.id, log_kms_key_arn)

    def _security_groups(self, config: EnvironmentConfig, vpc_id: str) -> SecurityGroups:
        prefix = config.prefix

        def group(name: str, description: str) -> SecurityGroup:
            return SecurityGroup(
                self,
                f"{name}-sg",
                name=f"{prefix}-{name}",
                description=description,
                vpc_id=vpc_id,
                tags={"Name": f"{prefix}-{name}"},
            )

        services: dict[str, SecurityGroup] = {}
        labels: dict[str, str] = {}  # service name -> its group's label in rule IDs
        app = group("app", "App tasks: traffic from the load balancer only")
        if not any(is_default(service.name) for service in config.services):
            waive(
                app,
                "CKV2_AWS_5",
                reason="No described service is the default one, so only the database-roles "
                "task runs in this group; the apply starts that task through a Lambda (RunTask's "
                "networkConfiguration in the invocation input), an attachment Checkov cannot see.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        for service in config.services:
            if is_default(service.name):
                services[service.name], labels[service.name] = app, "app"
                continue
            # `svc-`: a service may be called `alb`, `cache` or `database` too.
            label = f"svc-{service.name}"
            description = (
                f"Service {service.name} tasks: traffic from the load balancer only"
                if service.route is not None
                else f"Service {service.name} tasks (internal): no inbound traffic"
            )
            services[service.name], labels[service.name] = group(label, description), label
        groups = SecurityGroups(
            alb=group("alb", "Load balancer: HTTPS and redirecting HTTP from the internet"),
            app=app,
            database=group("database", "PostgreSQL and RDS Proxy: traffic from the app only"),
            cache=group("cache", "Redis: traffic from the app only") if config.uses_cache else None,
            services=services,
        )
        by_label: dict[str, SecurityGroup | None] = {
            "alb": groups.alb,
            "app": groups.app,
            "database": groups.database,
            "cache": groups.cache,
        }
        by_label |= {labels[name]: group_ for name, group_ in services.items()}

        # NET-3 as data: (group, direction, port, peer group or the internet, description).
        # Per service, what it is reached by and reaches follows its route and
        # `config.service_uses` (APP-7): an internal worker has no ingress at all, a service
        # without the cache no path to it. The `app` group always reaches the database and
        # AWS APIs: the database-roles task runs in it.
        uses = {service.name: config.service_uses(service) for service in config.services}
        tasks = [(labels[service.name], service) for service in config.services]
        routed = [(label, s) for label, s in tasks if s.route is not None]
        ordered = [("app", None)] + [(label, s) for label, s in tasks if label != "app"]
        default = next((s for label, s in tasks if label == "app"), None)

        def reaches(label: str, service: Service | None, component: str) -> bool:
            if service is None:  # the app group without a default service: the roles task
                return component == "database"
            return component in uses[service.name] or (label == "app" and component == "database")

        def task_label(label: str) -> str:
            return "the app tasks" if label == "app" else f"the {label[4:]} tasks"

        # CDN-1: behind CloudFront the ALB admits HTTPS from CloudFront's origin-facing
        # servers only (the AWS-managed prefix list), and no HTTP: CloudFront redirects
        # viewers to HTTPS and reaches the origin over HTTPS only.
        public_in = (
            [("alb", "in", 443, "cloudfront", "HTTPS from CloudFront's origin-facing servers")]
            if config.features.cdn_enabled
            else [
                ("alb", "in", 443, "internet", "HTTPS from the internet"),
                ("alb", "in", 80, "internet", "HTTP from the internet, only redirected to HTTPS"),
            ]
        )
        rules = [
            *public_in,
            *[("alb", "out", s.port, label, f"To {task_label(label)}") for label, s in routed],
            *[(label, "in", s.port, "alb", "From the load balancer") for label, s in routed],
        ]
        for label, service in ordered:
            service = default if label == "app" else service
            rules.append(
                (label, "out", 443, "internet", "HTTPS to AWS APIs and the image registry")
            )
            if reaches(label, service, "database"):
                rules.append(
                    (label, "out", POSTGRES_PORT, "database", "To PostgreSQL through RDS Proxy")
                )
            if groups.cache is not None and reaches(label, service, "cache"):
                rules.append((label, "out", REDIS_PORT, "cache", "To Redis"))
        for label, service in ordered:
            service = default if label == "app" else service
            if reaches(label, service, "database"):
                rules.append(("database", "in", POSTGRES_PORT, label, f"From {task_label(label)}"))
            if label == "app":
                rules += [
                    # RDS Proxy and the instance share this group: the proxy connects to it.
                    ("database", "in", POSTGRES_PORT, "database", "From RDS Proxy to the instance"),
                    (
                        "database",
                        "out",
                        POSTGRES_PORT,
                        "database",
                        "From RDS Proxy to the instance",
                    ),
                ]
        for label, service in ordered:
            service = default if label == "app" else service
            if groups.cache is not None and reaches(label, service, "cache"):
                rules.append(("cache", "in", REDIS_PORT, label, f"From {task_label(label)}"))
        # The rules that open a group's paths: its own, and every rule of another group that
        # names it (the database's ingress from it, the ALB's egress to it).
        # aws_security_group drops the default allow-all egress, so whatever runs in a group
        # at apply time (the role task, each ECS service's first tasks) waits for these
        # (DEPLOY-2, CKV_GW_DEPLOY_11).
        by_group: dict[str, list[VpcSecurityGroupIngressRule | VpcSecurityGroupEgressRule]] = {
            label: [] for label in by_label
        }
        for name, direction, rule_port, peer, description in rules:
            rule = VpcSecurityGroupIngressRule if direction == "in" else VpcSecurityGroupEgressRule
            if peer == "internet":
                target: dict[str, str] = {"cidr_ipv4": ANYWHERE}
            elif peer == "cloudfront":
                target = {"prefix_list_id": self._cloudfront_prefix_list()}
            else:
                target = {"referenced_security_group_id": _id(by_label[peer])}
            created = rule(
                self,
                f"{name}-{direction}-{rule_port}-{peer}",
                security_group_id=_id(by_label[name]),
                ip_protocol="tcp",
                from_port=rule_port,
                to_port=rule_port,
                description=description,
                **target,
            )
            by_group[name].append(created)
            if peer not in ("internet", "cloudfront", name):
                by_group[peer].append(created)
            if (name, direction, rule_port, peer) == ("alb", "in", 80, "internet"):
                waive(
                    created,
                    "CKV_AWS_260",
                    reason="Port 80 is open only so the HTTP listener can answer with a 301 "
                    "redirect to HTTPS, which NET-3 and EDGE-1 allow.",
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
        self.app_rules = by_group["app"]
        # Service name -> the rules of the group its tasks run in (as `app_rules`).
        self.service_rules = {name: by_group[labels[name]] for name in services}
        return groups

    def _cloudfront_prefix_list(self) -> str:
        """The ID of CloudFront's origin-facing prefix list (IPv4) in this region. A rule that
        references it counts as its weight, 55 rules ("AWS-managed prefix lists",
        https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html),
        against the 60 inbound rules a security group may have ("Amazon VPC quotas",
        https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups):
        it is the ALB group's only inbound rule."""
        found = DataAwsEc2ManagedPrefixList(
            self, "cloudfront-origin-facing", name=CLOUDFRONT_PREFIX_LIST
        )
        return found.id

    def _flow_logs(self, config: EnvironmentConfig, vpc_id: str, log_kms_key_arn: str) -> None:
        """NET-4: all traffic, to a KMS-encrypted group kept for the log retention."""
        account_id = DataAwsCallerIdentity(self, "account").account_id
        log_group = CloudwatchLogGroup(
            self,
            "flow-logs",
            name=f"/aws/vpc/{config.prefix}/flow-logs",
            retention_in_days=config.logs.retention_days,
            kms_key_id=log_kms_key_arn,
        )
        waivers.log_retention(log_group, config)
        role = IamRole(
            self,
            "flow-logs-role",
            name=f"{config.prefix}-flow-logs",
            description="VPC flow logs delivery to its log group",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                        }
                    ],
                }
            ),
        )
        policy = IamRolePolicy(
            self,
            "flow-logs-policy",
            name="write-flow-logs",
            role=role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:DescribeLogStreams",
                                "logs:PutLogEvents",
                            ],
                            "Resource": [log_group.arn, f"{log_group.arn}:*"],
                        }
                    ],
                }
            ),
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{config.prefix}-vpc"},
            # Delivery starts at once; the role must already be allowed to write (DEPLOY-2).
            depends_on=[policy],
        )
