"""One described service on ECS Fargate (APP-7): task definition, service behind the ALB
(or none for an internal service), autoscaling, roles, in the environment's one cluster
(`container_insights_cluster`, created by the stack at a fixed address).

Tasks run in the private app subnets without public IPs, take secrets only by Secrets
Manager reference, and roll out with zero downtime (100 % minimum healthy, 200 % maximum,
circuit breaker with rollback). The execution role pulls the image, writes the log group
and reads exactly the secrets the service lists (IAM-1, SEC-5); the task role reaches only
the bucket, cache and database user of the components the service uses.

Satisfies: APP-1, APP-2, APP-3, APP-4, APP-5, APP-7, EDGE-4, OBS-1, DEPLOY-2, DEPLOY-5, DEPLOY-6

First apply (DEPLOY-5): the registry is created empty by this same apply, so a task
definition naming `<repository>:<tag>` would fail every task until a release pipeline pushed
it. Until `aws.release_image` is true the container runs `aws.placeholder_image`, a public
busybox image whose httpd serves the service's health path on its port (from a file written
to the writable /tmp volume), so the ALB and the uptime check see a healthy service on day
one. No container, placeholder or release, reads an external secret before its catalog entry
says `value_set: true`: it is empty until the operator sets it (README; CKV_GW_DEPLOY_38),
and ECS fails a task whose secret has no value; and since the entry's word is not proof, the
task definition reading it waits for a check that the secret has an AWSCURRENT version, which
fails the plan, or the apply before the revision, when it has none (CKV_GW_DEPLOY_103). A
release pushes `<repository>:<image.tag>`, then sets the tag and `aws.release_image: true`
in the environment file and applies: Terraform stays the only writer of the task definition,
so the pipeline and Terraform never fight over it.

Liveness (EDGE-4) needs nothing from the app's image: a described service, worker included,
promises only to answer GET `health.path` on its `port` (synth/app.py), and distroless or slim
images carry no shell, curl, wget or node to probe with. Each task therefore runs a small
essential sidecar (`LIVENESS_CONTAINER`, busybox from `aws.liveness_probe_image`) whose ECS
container `healthCheck` GETs the health path over the task's shared loopback every 30 s; after
three failures in a row the sidecar, an essential container, is UNHEALTHY, so the task is
("UNHEALTHY - One or more essential containers have failed their health check", "HealthCheck",
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html), and the
service replaces it. The app's container defines no `healthCheck`, whose command would run in
the app's image (CKV_GW_DEPLOY_39).

Why a health check rather than a sidecar that exits: once a task has reached RUNNING, the
deployment circuit breaker (APP-3) counts as failures only tasks replaced because their health
checks failed, the checks being the load balancer's, Cloud Map's and the containers' own
(stage 2 of "How the Amazon ECS deployment circuit breaker detects failures",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html;
re:Post "ecs-deployment-roll-back-failure": a task that starts and then stops may not trip
it, https://repost.aws/knowledge-center/ecs-deployment-roll-back-failure).
An internal worker has no load balancer, so with a sidecar that merely exited, a bad release
of a worker was stopped and restarted forever and never rolled back; with the container health
check its failed tasks count towards the breaker's threshold.

A service that reads an RDS instance endpoint (`database_direct_url`, `database_reader_url`)
trusts the RDS CA, which Node's bundled roots lack: an init container (`CA_BUNDLE_CONTAINER`,
Amazon Linux 2023's verifying curl from `aws.ca_bundle_image`) fetches the region's bundle
from AWS's trust store into a task volume, and the app container, which mounts it read-only
with `NODE_EXTRA_CA_CERTS` and `PGSSLROOTCERT` naming it, starts only on the fetch's SUCCESS
(CKV_GW_DEPLOY_101).

The service starts only after whatever `start_after` names (the app's database role exists,
every generated and derived secret has its first version) and after every rule of its
security group (its own, and the other groups' rules that name it), and Container Insights'
performance log group is created before the cluster so it is encrypted and retained (OBS-1)
instead of being created by ECS.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import (
    ITerraformDependable,
    Op,
    Postcondition,
    TerraformElement,
    TerraformResource,
    TerraformResourceLifecycle,
    TerraformSelf,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_ecr_image import DataAwsEcrImage
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct
from constructs.aws import waivers
from constructs.aws.edge import Edge
from constructs.aws.network import Network

from synth.app import Service as AppService
from synth.aws_app import (
    AMAZON_ROOT_CA_1_URL,
    CA_BUNDLE_CONTAINER,
    CA_BUNDLE_DIRECTORY,
    CA_BUNDLE_FILE,
    CA_BUNDLE_PARTS,
    CA_BUNDLE_VARIABLES,
    CA_BUNDLE_VOLUME,
    LIVENESS_CONTAINER,
    is_default,
    liveness_url,
    rds_ca_bundle_url,
    reads_instance_endpoint,
    service_resource_name,
)
from synth.config import EnvironmentConfig

REDIS_PORT = 6379
LIVENESS_INTERVAL_SECONDS = 30  # EDGE-4
LIVENESS_FAILURES = 3  # failed GETs in a row before the task is UNHEALTHY (healthCheck retries)
LIVENESS_GRACE_SECONDS = 30  # healthCheck startPeriod: failures before it do not count
LIVENESS_TIMEOUT_SECONDS = 5  # per GET
# The sidecar's hard memory limit: busybox sh + wget use about 1 MiB; ECS needs at least 6 MiB
# per container ("memory", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_memory).
LIVENESS_MEMORY_MIB = 32
STOP_TIMEOUT_SECONDS = 30  # EDGE-4: graceful shutdown after SIGTERM
# The RDS CA init container's hard memory limit: curl fetching two files of ~100 KB.
CA_BUNDLE_MEMORY_MIB = 64
CA_BUNDLE_TIMEOUT_SECONDS = 60  # curl gives up (and the task fails to start) after this


def ca_bundle_script(region: str) -> str:
    """The RDS CA init container's shell script: download the region's RDS CA bundle (the
    instance endpoints) and Amazon Root CA 1 (RDS Proxy, synth/aws_app.py) over verified
    HTTPS only, then write both into CA_BUNDLE_FILE; `&&` stops at the first failure, so the
    container exits non-zero and the app never starts on a partial bundle."""
    fetch = (
        "curl",
        "--fail",
        "--silent",
        "--show-error",
        "--proto",
        "=https",
        "--tlsv1.2",
        "--max-time",
        str(CA_BUNDLE_TIMEOUT_SECONDS),
        "--retry",
        "3",
        "--output",
    )
    urls = (rds_ca_bundle_url(region), AMAZON_ROOT_CA_1_URL)
    steps = [
        shlex.join([*fetch, part, url]) for part, url in zip(CA_BUNDLE_PARTS, urls, strict=True)
    ]
    steps.append(f"{shlex.join(['cat', *CA_BUNDLE_PARTS])} > {shlex.quote(CA_BUNDLE_FILE)}")
    return " && ".join(steps)


# Fargate's valid task sizes: CPU units -> memory choices in MiB.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}


def of_task_memory(percent_of_limit: float, memory_share: float) -> float:
    """A percentage of the container's memory limit as ECS reports it: of the task's memory."""
    return round(percent_of_limit * memory_share, 2)


def fargate_task_size(cpu_limit: float, memory_limit_mib: int) -> tuple[int, int]:
    """(CPU units, MiB): the smallest valid Fargate pair at or above the limits."""
    wanted_cpu = math.ceil(cpu_limit * 1024)
    for cpu, memories in FARGATE_SIZES.items():
        if cpu < wanted_cpu:
            continue
        for memory in memories:
            if memory >= memory_limit_mib:
                return cpu, memory
    raise ValueError(f"no Fargate size fits {cpu_limit} vCPU and {memory_limit_mib} MiB")


def service_names(config: EnvironmentConfig, name: str) -> tuple[str, str]:
    """(cluster, service) names of service `name`'s ECS service, known before either exists:
    a rotation function restarts the services reading its secrets by name, and each service
    waits for that function's first rotation, so a reference either way would be a cycle."""
    return config.prefix, service_resource_name(config, name)


def cdktf_logical_id(*components: str) -> str:
    """The logical ID cdktf 0.21 gives a resource at construct path `components` below its
    stack: the path, `_`-joined, then the first 8 hex digits of the MD5 of the `/`-joined
    path, upper case (node_modules/cdktf/lib/private/unique.js, `makeUniqueId`; a lone
    component is used as it is). Only for `moved` blocks from an address an earlier version
    of a construct wrote: nothing else may depend on cdktf's hash suffixes."""
    clean = [re.sub(r"[^A-Za-z0-9_-]", "", c) for c in components]
    if len(clean) == 1:
        return clean[0]
    human: list[str] = []
    for component in clean:  # cdktf's removeDupes: skip a component the previous ends with
        if not (human and human[-1].endswith(component)):
            human.append(component)
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()
    return "_".join(human)[:240] + "_" + digest[:8].upper()


def container_insights_cluster(
    scope: Construct,
    id_: str,
    name: str,
    config: EnvironmentConfig,
    log_kms_key_arn: str,
    moved_from: Sequence[str] | None = None,
) -> EcsCluster:
    """An ECS cluster with Container Insights, whose performance log group exists first.

    ECS would create `/aws/ecs/containerinsights/<cluster>/performance` itself, unencrypted
    and kept for a day ("Setting up Container Insights on Amazon ECS",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/deploy-container-insights-ECS-cluster.html).

    `moved_from`: the construct path both resources had before (`moved` blocks from there,
    https://developer.hashicorp.com/terraform/language/modules/develop/refactoring; Terraform
    ignores one whose old address holds nothing, as in a new environment's state).
    """
    performance = CloudwatchLogGroup(
        scope,
        f"{id_}-insights-logs",
        name=f"/aws/ecs/containerinsights/{name}/performance",
        retention_in_days=config.logs.retention_days,  # OBS-1
        kms_key_id=log_kms_key_arn,
    )
    waivers.log_retention(performance, config)
    cluster = EcsCluster(
        scope,
        id_,
        name=name,
        setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
        depends_on=[performance],
    )
    waivers.service_linked_role(cluster, "ecs.amazonaws.com")  # CKV_GW_DEPLOY_37
    if moved_from:
        *scope_path, old_id = moved_from
        old_logs = cdktf_logical_id(*scope_path, f"{old_id}-insights-logs")
        Moved(
            scope,
            f"{id_}-moved",
            [
                (f"aws_cloudwatch_log_group.{old_logs}", performance),
                (f"aws_ecs_cluster.{cdktf_logical_id(*moved_from)}", cluster),
            ],
        )
    return cluster


class Moved(TerraformElement):
    """Terraform `moved` blocks (https://developer.hashicorp.com/terraform/language/moved):
    `moves` is a sequence of (old address such as `aws_ecs_cluster.x`, the resource now there).

    The JSON is what cdktf's `TerraformResource.move_from_id` writes: `{"moved": [{"to": ...,
    "from": ...}]}` in the stack's order, and the moved resources' IDs in the stack's `//`
    metadata. What does not come with it: for a stack with a resource move, cdktf's synthesizer
    adds `ValidateTerraformVersion(">=1.5")`, which runs `terraform version` in a shell during
    every synthesis (cdktf 0.21, lib/synthesize/synthesizer.js). That was a 45-50 MB process
    at the peak memory of every AWS `make synth` (issue 13), and a synthesis that failed on a
    machine without Terraform. The stack's `terraform.required_version` (at least 1.11.1,
    stacks/base.py `REQUIRED_TERRAFORM`, which CKV_GW_DEPLOY_2 holds to what the stack uses)
    already makes Terraform refuse an older binary at `init`."""

    def __init__(
        self, scope: Construct, id_: str, moves: Sequence[tuple[str, TerraformResource]]
    ) -> None:
        super().__init__(scope, id_)
        self._moves = tuple(moves)

    def _addresses(self) -> list[tuple[str, str]]:
        # Read at synthesis: a resource's logical ID may still be overridden until then.
        return [
            (f"{resource.terraform_resource_type}.{resource.friendly_unique_id}", old)
            for old, resource in self._moves
        ]

    def to_terraform(self) -> dict[str, Any]:
        return {"moved": [{"to": to, "from": old} for to, old in self._addresses()]}

    def to_metadata(self) -> dict[str, Any]:
        # What cdktf's resources record of their own moves in the stack's `//` metadata.
        moved: dict[str, list[str]] = {}
        for _, resource in self._moves:
            moved.setdefault(resource.terraform_resource_type, []).append(
                resource.friendly_unique_id
            )
        return {"moved": moved}

    def to_hcl_terraform(self) -> dict[str, Any]:
        def reference(address: str) -> dict[str, Any]:
            # The shape cdktf's resources give their own moved blocks for HCL output.
            return {
                "value": address,
                "isBlock": False,
                "type": "simple",
                "storageClassType": "reference",
            }

        moved = [{"to": reference(to), "from": reference(old)} for to, old in self._addresses()]
        return {"moved": moved}


def _policy(statements: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)


class Service(Construct):
    """The Fargate service of one described service (APP-7): `<prefix>` for the default
    service, `<prefix>-<name>` for the others; `task_role_arn` is its identity. It joins the
    environment's ECS cluster `cluster`, which the stack owns: a cluster inside the first
    service's construct would change address whenever `services:` is reordered."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        service: AppService,
        network: Network,
        edge: Edge,
        repository_url: str,
        repository_arn: str,
        repository_name: str,
        kms_key_arn: str,
        log_kms_key_arn: str,
        cluster: EcsCluster,
        secret_arns: Mapping[str, str] | None = None,
        secret_references: Mapping[str, str] | None = None,
        unset_secrets: Sequence[str] = (),
        value_checks: Sequence[ITerraformDependable] = (),
        wiring: Mapping[str, Mapping[str, str]] | None = None,
        bucket_arn: str | None = None,
        cache_connect_arns: Sequence[str] = (),
        database_connect_arns: Sequence[str] = (),
        start_after: Sequence[ITerraformDependable] = (),
    ) -> None:
        """`secret_arns`: variable -> secret ARN, exactly the variables this service reads;
        `secret_references`: variable -> `valueFrom` where it is not the whole secret;
        `unset_secrets`: variables of external secrets without a value yet (their catalog
        entry says `value_set: false`), which no container reads (DEPLOY-6);
        `value_checks`: the checks that the external secrets this service reads have a value
        (constructs/aws/secrets.py, `value_checks`), which its task definition waits for;
        `wiring`: component -> the platform variables it gives (synth/aws_app.py, WIRING),
        of which the service gets those of the components it uses."""
        super().__init__(scope, id_)
        default = is_default(service.name)
        prefix = config.prefix
        region = config.aws.region
        uses = config.service_uses(service)
        secret_arns = dict(sorted((secret_arns or {}).items()))
        # An external secret has no value before the operator's `put-secret-value` (README);
        # ECS fails a task whose secret has none, so no container reads it until its catalog
        # entry says `value_set: true`, whichever image runs (synth/app.py; CKV_GW_DEPLOY_38).
        secret_arns = {k: v for k, v in secret_arns.items() if k not in set(unset_secrets)}
        # `valueFrom` per variable; defaults to the secret's ARN (the whole value).
        secret_references = {**secret_arns, **(secret_references or {})}
        account_id = DataAwsCallerIdentity(self, "account").account_id
        container_name = service.name  # the default service's is `app`, as before

        _, service_name = service_names(config, service.name)
        self.cluster = cluster
        self.cluster_name = cluster.name
        self.name = service.name
        log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/ecs/{prefix}/{container_name}",
            retention_in_days=config.logs.retention_days,  # OBS-1
            kms_key_id=log_kms_key_arn,
        )
        waivers.log_retention(log_group, config)
        self.log_group_name = log_group.name

        # ECS assumes both roles only for task definitions of this account and region.
        trust = _policy(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account_id},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{region}:{account_id}:*"},
                    },
                }
            ]
        )
        execution_role = IamRole(
            self,
            "execution-role",
            name=f"{prefix}-ecs-execution" if default else f"{prefix}-{service.name}-ecs-execution",
            description=(
                "ECS agent: pull the image, write logs, inject the app's secrets"
                if default
                else f"ECS agent of {service.name}: pull its image, write its logs, inject its "
                "secrets"
            ),
            assume_role_policy=trust,
        )
        execution_statements: list[dict[str, Any]] = [
            {
                "Sid": "RegistryLogin",  # GetAuthorizationToken has no resource-level scope
                "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken"],
                "Resource": "*",
            },
            {
                "Sid": "PullTheAppImage",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                "Resource": repository_arn,
            },
            {
                "Sid": "WriteTheAppLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group.arn}:*",
            },
        ]
        if secret_arns:  # APP-4, IAM-1: exactly the secrets this container references
            execution_statements += [
                {
                    "Sid": "ReadTheAppSecrets",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    # One secret may be read at several version stages (a generated one).
                    "Resource": list(dict.fromkeys(secret_arns.values())),
                },
                {
                    "Sid": "DecryptTheAppSecrets",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt"],
                    "Resource": kms_key_arn,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                    },
                },
            ]
        execution_policy = IamRolePolicy(
            self,
            "execution-policy",
            name="pull-log-secrets",
            role=execution_role.id,
            policy=_policy(execution_statements),
        )

        task_role = IamRole(
            self,
            "task-role",
            name=f"{prefix}-app" if default else f"{prefix}-{service.name}-task",
            description=(
                "The app's own identity (APP-5): its bucket, cache and database only"
                if default
                else f"{service.name}'s own identity (APP-5): only what it uses"
            ),
            assume_role_policy=trust,
        )
        self.task_role_arn = task_role.arn
        task_statements = self._task_statements(
            config,
            kms_key_arn,
            bucket_arn if "object_storage" in uses else None,
            cache_connect_arns if "cache" in uses else (),
            database_connect_arns if "database" in uses else (),
        )
        if task_statements:
            IamRolePolicy(
                self,
                "task-policy",
                name="app-resources",
                role=task_role.id,
                policy=_policy(task_statements),
            )

        # Fargate accepts fixed CPU/memory pairs: the task gets the smallest pair at or above
        # the configured limits; the container keeps the exact request and limit (APP-2).
        # The liveness sidecar's memory comes on top of the app's limit, so neither can starve
        # the other of memory inside the task.
        instance_ca = reads_instance_endpoint(config, service)
        task_cpu, task_memory = fargate_task_size(
            service.cpu_limit,
            service.memory_limit_mib
            + LIVENESS_MEMORY_MIB
            + (CA_BUNDLE_MEMORY_MIB if instance_ca else 0),
        )
        # ECS measures MemoryUtilization against the TASK's memory, but the container is killed
        # at its own hard limit ("Service utilization",
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html):
        # with a 512 MiB limit in a 2048 MiB task, 80 % of the task is never reached. Memory
        # triggers and alarms are therefore scaled by limit/task, so "80 %" means 80 % of the
        # container's limit. (CPU needs no scaling: a container's `cpu` is a relative share on
        # Linux, not a cap, so one container can use the whole task's CPU.)
        self.memory_share = service.memory_limit_mib / task_memory
        # The platform wiring (synth/aws_app.py, WIRING), then the service's own variables
        # (synth/app.py refuses own variables that collide with the wiring).
        environment = {"PORT": str(service.port)}
        for component, variables in (wiring or {}).items():
            if component in uses:
                environment |= dict(variables)
        environment |= service.environment
        if instance_ca:  # set last: the loader refuses a service's own (synth/app.py)
            environment |= {variable: CA_BUNDLE_FILE for variable in CA_BUNDLE_VARIABLES}
        health = service.health.path
        # DEPLOY-5: `aws.release_image` is the operator's word that the tag was pushed; in a
        # fresh account (or after a wrong tag) the repository this stack creates holds no such
        # image and every task fails with CannotPullContainerError. The task definition waits
        # for a lookup of `<repository>:<tag>`, which fails when the image is missing ("reading
        # ECR Images: ImageNotFoundException: The image with imageId {...imageTag:'<tag>'} does
        # not exist within the repository with name '<repository>'",
        # hashicorp/terraform-provider-aws#35268): at plan time on an existing repository, at
        # apply time before the task definition on a fresh one (CKV_GW_DEPLOY_104). No
        # postcondition: the read errors before one could run, and its message names both.
        image_lookups: list[ITerraformDependable] = []
        if config.aws.release_image:
            image = f"{repository_url}:{service.image.tag}"
            placeholder: dict[str, Any] = {}
            image_lookups.append(
                DataAwsEcrImage(
                    self,
                    "release-image",
                    repository_name=repository_name,
                    image_tag=service.image.tag,
                )
            )
        else:
            image = config.aws.placeholder_image
            # busybox httpd serves files: the health path is a file (a path ending in `/`
            # its index.html) under /tmp/www, the only writable place.
            folder, _, file_name = f"/tmp/www{health}".rpartition("/")
            placeholder = {
                "entryPoint": ["sh", "-c"],
                "command": [
                    f"mkdir -p {folder} && echo ok > {folder}/{file_name or 'index.html'}"
                    f" && exec httpd -f -p {service.port} -h /tmp/www"
                ],
            }
        logs = {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group.name,
                "awslogs-region": region,
                "awslogs-stream-prefix": container_name,
            },
        }
        container = {
            "name": container_name,
            "image": image,
            **placeholder,
            "essential": True,
            "cpu": math.ceil(service.cpu_request * 1024),
            "memoryReservation": service.memory_request_mib,
            "memory": service.memory_limit_mib,
            "portMappings": [{"containerPort": service.port, "protocol": "tcp"}],
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            # APP-4: values are fetched from Secrets Manager at start, never stored here.
            "secrets": [
                {"name": name, "valueFrom": secret_references[name]} for name in secret_arns
            ],
            "readonlyRootFilesystem": True,
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
            "linuxParameters": {"initProcessEnabled": True},  # forwards SIGTERM to the app
            "stopTimeout": STOP_TIMEOUT_SECONDS,
            # No `healthCheck`: its command would run in this image (module docstring).
            "logConfiguration": logs,
        }
        containers: list[dict[str, Any]] = []
        volumes = [EcsTaskDefinitionVolume(name="tmp")]  # writable scratch, root read-only
        if instance_ca:
            # DEPLOY-6: an instance endpoint presents the RDS CA, which Node's bundled roots
            # lack. Before the app starts, a short-lived container fetches the region's
            # bundle from AWS's trust store over verified TLS (curl of the pinned AL2023
            # image; the tasks reach the internet through the app subnets' NAT route,
            # constructs/aws/network.py) into a volume the app mounts read-only; the app
            # starts only on its SUCCESS (exit 0: "SUCCESS - ... the container exits with a
            # zero status", "ContainerDependency",
            # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html),
            # so a failed fetch stops the task instead of starting an app that cannot verify
            # the database. essential false: its exit does not stop the task ("Each task must
            # have at least one essential container", "essential", task definition parameters).
            volumes.append(EcsTaskDefinitionVolume(name=CA_BUNDLE_VOLUME))
            container["mountPoints"] = [
                *container["mountPoints"],
                {
                    "sourceVolume": CA_BUNDLE_VOLUME,
                    "containerPath": CA_BUNDLE_DIRECTORY,
                    "readOnly": True,
                },
            ]
            container["dependsOn"] = [
                {"containerName": CA_BUNDLE_CONTAINER, "condition": "SUCCESS"}
            ]
            containers.append(
                {
                    "name": CA_BUNDLE_CONTAINER,
                    "image": config.aws.ca_bundle_image,
                    "essential": False,
                    # A shell joins the steps with `&&`: a failed download exits
                    # non-zero before the bundle is written (AL2023's image has bash).
                    "entryPoint": ["sh", "-c"],
                    "command": [ca_bundle_script(region)],
                    "cpu": 0,
                    "memory": CA_BUNDLE_MEMORY_MIB,
                    "readonlyRootFilesystem": True,
                    "mountPoints": [
                        {
                            "sourceVolume": CA_BUNDLE_VOLUME,
                            "containerPath": CA_BUNDLE_DIRECTORY,
                            "readOnly": False,
                        }
                    ],
                    "logConfiguration": {
                        **logs,
                        "options": {
                            **logs["options"],
                            "awslogs-stream-prefix": CA_BUNDLE_CONTAINER,
                        },
                    },
                }
            )
        url = liveness_url(service)
        # Liveness (EDGE-4; the ALB's check is readiness): the sidecar's container health
        # check, run by ECS inside busybox (whose wget the stack chose): three failed GETs in a
        # row, 30 s apart, after a 30 s start period, and the essential sidecar, hence the
        # task, is UNHEALTHY; the service replaces it and the circuit breaker counts it
        # (module docstring). ECS's bounds: interval 5-300 s, timeout 2-60 s, retries 1-10,
        # startPeriod 0-300 s ("HealthCheck", API reference, as above). The container itself
        # only idles; busybox's `sleep` takes whole seconds (about 68 years here).
        probe = {
            "name": LIVENESS_CONTAINER,
            "image": config.aws.liveness_probe_image,
            "essential": True,
            "entryPoint": ["sh", "-c"],
            "command": ["exec sleep 2147483647"],
            "healthCheck": {
                "command": [
                    "CMD-SHELL",
                    f"wget -q -O /dev/null -T {LIVENESS_TIMEOUT_SECONDS} {url} || exit 1",
                ],
                "interval": LIVENESS_INTERVAL_SECONDS,
                "timeout": LIVENESS_TIMEOUT_SECONDS + 1,  # wget's own -T gives up first
                "retries": LIVENESS_FAILURES,
                "startPeriod": LIVENESS_GRACE_SECONDS,
            },
            "cpu": 0,
            "memory": LIVENESS_MEMORY_MIB,
            "readonlyRootFilesystem": True,
            "linuxParameters": {"initProcessEnabled": True},
            # Counts from the app's start, not from the task's image pulls.
            "dependsOn": [{"containerName": container_name, "condition": "START"}],
            "logConfiguration": {
                **logs,
                "options": {**logs["options"], "awslogs-stream-prefix": LIVENESS_CONTAINER},
            },
        }
        task_definition = EcsTaskDefinition(
            self,
            "task",
            family=service_name,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(task_cpu),
            memory=str(task_memory),
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            volume=volumes,
            container_definitions=json.dumps([container, probe, *containers], indent=2),
            # Tasks start as soon as the service exists: the roles' policies come first, and
            # the release image must exist (above). An external secret marked set must have an
            # AWSCURRENT version before the first revision that reads it exists: its check
            # fails the plan (or the apply, before this) when the operator has not set it
            # (CKV_GW_DEPLOY_103).
            depends_on=[execution_policy, *image_lookups, *value_checks],
        )

        target_group = edge.target_groups.get(service.name)
        # A target group takes targets only once a listener (rule) forwards to it: ECS
        # refuses a service on a group without a load balancer.
        routing: list[ITerraformDependable] = [edge.listener]
        if service.name in edge.listener_rules:
            routing.append(edge.listener_rules[service.name])
        ecs_service = EcsService(
            self,
            "service",
            name=service_name,
            cluster=cluster.arn,
            task_definition=task_definition.arn,
            launch_type="FARGATE",
            platform_version="LATEST",
            desired_count=service.min_replicas,
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=network.app_subnet_ids,
                security_groups=[network.security_groups.services[service.name].id],
                assign_public_ip=False,
            ),
            load_balancer=(
                [
                    EcsServiceLoadBalancer(
                        target_group_arn=target_group.arn,
                        container_name=container_name,
                        container_port=service.port,
                    )
                ]
                if target_group is not None
                else None  # internal (APP-7): no load-balancer path
            ),
            # APP-3: new tasks start before old ones stop; a failing rollout rolls back.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(
                enable=True, rollback=True
            ),
            # Only a service behind a load balancer may set a grace period (ECS
            # CreateService: healthCheckGracePeriodSeconds).
            health_check_grace_period_seconds=60 if target_group is not None else None,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            # An apply that creates or changes the service reports success only once its
            # tasks run: the provider waits until the service has ONE deployment and as many
            # running tasks as desired (`waitServiceStable`, internal/service/ecs/service.go),
            # within the create/update timeout (20 minutes). Alone that is not enough: after
            # the circuit breaker rolls a failed release back, the rolled-back deployment is
            # stable too and the apply succeeds (hashicorp/terraform-provider-aws#20858,
            # open; terraform-aws-modules/terraform-aws-ecs#325), so the postcondition
            # compares the task definition the service runs after the wait with the one this
            # apply asked for. A first deployment that never starts has nothing to roll back
            # to and times out: the apply fails instead of reporting a service that serves
            # nothing.
            wait_for_steady_state=True,
            lifecycle=TerraformResourceLifecycle(
                # Autoscaling owns the running count once the service exists.
                ignore_changes=["desired_count"],
                postcondition=[
                    Postcondition(
                        condition=Op.eq(
                            TerraformSelf.get_string("task_definition"), task_definition.arn
                        ),
                        error_message=(
                            f"ECS service {service_name} does not run the task definition this "
                            "apply registered: its deployment failed and the circuit breaker "
                            "rolled it back (see the service's events and stopped tasks)."
                        ),
                    )
                ],
            ),
            # Its security group has no egress until its standalone rules exist (Terraform
            # drops the default allow-all, "NOTE on Egress rules",
            # https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/security_group),
            # and nothing else orders them: tasks started first could not pull from public
            # registries, reach the database or pass the ALB's checks (CKV_GW_DEPLOY_11).
            depends_on=[
                *(routing if target_group is not None else []),
                *network.service_rules[service.name],
                *start_after,
            ],
        )
        self.service_name = ecs_service.name

        # APP-1: replica bounds, and target tracking on CPU and memory.
        target = AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{cluster.name}/{ecs_service.name}",
            min_capacity=service.min_replicas,
            max_capacity=service.max_replicas,
        )
        waivers.service_linked_role(target, "ecs.application-autoscaling.amazonaws.com")
        for metric, percent in (
            ("ECSServiceAverageCPUUtilization", service.scale_cpu_percent),
            (
                "ECSServiceAverageMemoryUtilization",
                of_task_memory(service.scale_memory_percent, self.memory_share),
            ),
        ):
            AppautoscalingPolicy(
                self,
                f"scale-on-{metric}",
                name=f"{service_name}-{metric}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=(
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                        target_value=percent,
                        predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                            predefined_metric_type=metric
                        ),
                        scale_out_cooldown=60,
                        scale_in_cooldown=300,
                    )
                ),
            )

    @staticmethod
    def _task_statements(
        config: EnvironmentConfig,
        kms_key_arn: str,
        bucket_arn: str | None,
        cache_connect_arns: Sequence[str],
        database_connect_arns: Sequence[str],
    ) -> list[dict[str, Any]]:
        """APP-5: the bucket, cache user and database user the service uses, nothing else."""
        statements: list[dict[str, Any]] = []
        if bucket_arn is not None:
            statements += [
                {
                    "Sid": "ListTheAppBucket",
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket"],
                    "Resource": bucket_arn,
                },
                {
                    "Sid": "ReadWriteTheAppObjects",
                    "Effect": "Allow",
                    "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                    "Resource": f"{bucket_arn}/*",
                },
                {
                    "Sid": "UseTheDataKeyThroughS3",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": kms_key_arn,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"s3.{config.aws.region}.amazonaws.com"}
                    },
                },
            ]
        if cache_connect_arns:
            statements.append(
                {
                    "Sid": "ConnectToTheCache",
                    "Effect": "Allow",
                    "Action": ["elasticache:Connect"],
                    "Resource": list(cache_connect_arns),
                }
            )
        if database_connect_arns:
            statements.append(
                {
                    "Sid": "ConnectToTheDatabase",
                    "Effect": "Allow",
                    "Action": ["rds-db:connect"],
                    "Resource": (
                        database_connect_arns[0]
                        if len(database_connect_arns) == 1
                        else list(database_connect_arns)
                    ),
                }
            )
        return statements
