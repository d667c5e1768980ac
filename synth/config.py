"""The typed environment config: schema, per-tier defaults, production floors, loading.

An environment file (`environments/<name>.yaml`) names a tier; the tier's defaults from
`synth/tier_defaults.yaml` are merged under it and the result is validated here. Every
problem becomes one line naming the file, the field path, the bad value and what is
allowed (`ConfigError`); callers print it and exit 2.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from synth import clock
from synth.app import (
    CDN_STATIC_PATH_PATTERN,
    DEFAULT_CATALOG,
    DEFAULT_IMAGE_TAG,
    INHERITED,
    MAX_SERVICES,
    PATTERN_MEANINGS,
    SECRET_NAME_PATTERN,
    DerivedSecret,
    Secret,
    Service,
    app_problems,
    at_least,
    default_service,
    with_inherited,
)
from synth.aws_app import restart_tag_problems
from synth.construct_waivers import iso_date_only, sentence
from synth.regions import AWS_REGIONS, AZURE_LOCATIONS, GCP_REGIONS
from synth.requirements import REQUIREMENTS, describe
from synth.skus import database_instance_problem

CLOUDS = ("aws", "gcp", "azure")
TIER_DEFAULTS_FILE = Path(__file__).with_name("tier_defaults.yaml")

# CloudWatch accepts only these retention periods; the other clouds accept all of them.
LOG_RETENTION_DAYS = (30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557)

Cloud = Literal["aws", "gcp", "azure"]
Tier = Literal["dev", "staging", "production"]
Role = Literal["workload", "bootstrap"]
# The tier whose account / project / subscription holds the state storage wins (STATE-2).
TIER_RANK = {"production": 0, "staging": 1, "dev": 2}
# The longest app and environment names the schema admits (DEPLOY-1): every generated name
# must fit its cloud's limits at these lengths (tests/stacks/test_longest_names.py). Both are
# lowercase letters, digits and single hyphens, starting with a letter and ending with a
# letter or digit, because they are the stem of names whose clouds refuse '--' or a final '-'.
APP_MAX_LENGTH = 12
ENVIRONMENT_MAX_LENGTH = 16


def _name_pattern(max_length: int) -> str:
    return rf"^[a-z]([a-z0-9-]{{0,{max_length - 2}}}[a-z0-9])$"


def _single_hyphens(value: str) -> str:
    if "--" in value:
        raise ValueError("must not contain '--' (several clouds refuse it in names)")
    return value


# Tag values must also be valid GCP labels: lowercase letters, digits, '-' and '_'.
Label = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")]


class ConfigError(Exception):
    """Invalid environment input; the message is complete and meant for the user."""


def _one_of(allowed: frozenset[str], what: str) -> Any:
    def check(value: str) -> str:
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"unknown {what} '{value}'{hint}")
        return value

    return AfterValidator(check)


AwsRegion = Annotated[str, _one_of(AWS_REGIONS, "AWS region")]
GcpRegion = Annotated[str, _one_of(GCP_REGIONS, "GCP region")]
AzureLocation = Annotated[str, _one_of(AZURE_LOCATIONS, "Azure location")]


def _differs_from(other: str) -> Any:
    def check(value: str, info: ValidationInfo) -> str:
        if value == info.data.get(other):
            raise ValueError(f"must differ from {other}")
        return value

    return check


class Strict(BaseModel):
    """Unknown keys are errors and values are not coerced between types."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# An image digest, for the ECR Public images of AwsConfig.
AWS_IMAGE_DIGEST = r"@sha256:[0-9a-f]{64}"


class AwsConfig(Strict):
    # The 12-digit account this environment deploys into. Set, it is the provider's
    # `allowed_account_ids` (plan refuses credentials of any other account) and lets the
    # loader tell environments of different accounts apart (`aws_account_region_owners`);
    # unset, environments of one region are taken to possibly share an account.
    account_id: Annotated[str, Field(pattern=r"^[0-9]{12}$")] | None = None
    region: AwsRegion
    replica_region: AwsRegion  # OBJ-4: where production object storage replicates to
    # DB-9: the master password is write-only (never in state); bump to rotate it on apply.
    master_password_version: Annotated[int, Field(ge=1)] = 1
    # CDN-1 (`features.cdn_enabled`): CloudFront proves itself to the ALB with a random origin
    # header value; the ALB's web ACL accepts the values of generations N-1, N and N+1 and
    # CloudFront sends N's (constructs/aws/edge.py, `OriginHeader`). Raise it by ONE per apply
    # to rotate the value without a request refused (README, AWS: CloudFront).
    cdn_origin_header_generation: Annotated[int, Field(ge=1)] = 1
    # RDS enhanced monitoring writes to ONE log group per account and region (RDSOSMetrics).
    # "create": this stack creates it (encrypted, retained); "exists": another stack in the
    # same account and region did, and this one looks it up (plan fails clearly if absent).
    # At most one environment per account and region may say "create" (checked across the
    # files by `aws_account_region_owners`), or the second apply fails with
    # ResourceAlreadyExistsException.
    rds_os_metrics_log_group: Literal["create", "exists"] = "create"
    # COST-1: the monthly budget (constructs/aws/budget.py) counts what the account spends,
    # which is this environment's alone unless other environments (of this app or another)
    # deploy into the account. true: they do, so the budget counts only the costs tagged
    # `environment: <name>`, which AWS counts only once `environment` is activated as a cost
    # allocation tag, by hand, from the management account (README, "A fresh AWS account",
    # step 8; a waiver of CKV_GW_DEPLOY_106 says so). Environments of these files that are
    # (or may be) in one account must all say true (`aws_shared_accounts`), or each budget
    # counts the others' costs too.
    account_shared: bool = False
    # The three ECR Public images below accept a digest (`<image>:<tag>@sha256:<64 hex>`, or
    # for busybox `<image>@sha256:<64 hex>`): a tag may be moved to another image, a digest
    # names one image for good ("Pulling an image by digest",
    # https://docs.docker.com/reference/cli/docker/image/pull/#pull-an-image-by-digest-immutable-identifier).
    # The defaults are tags; production should pin digests (README, AWS). The policies that
    # read these images (CKV_GW_DEPLOY_39, CKV_GW_DEPLOY_101) compare the whole string.
    # DEPLOY-5: the image the service runs until the first release (`service.release_image`
    # false). A public image that serves `/health` on the service port (busybox httpd).
    placeholder_image: Annotated[
        str,
        Field(
            pattern=rf"^public\.ecr\.aws/[a-z0-9._/-]+(:[A-Za-z0-9_.-]+({AWS_IMAGE_DIGEST})?|{AWS_IMAGE_DIGEST})$"
        ),
    ] = "public.ecr.aws/docker/library/busybox:1.37"
    # The image of every ECS task's liveness sidecar (constructs/aws/service.py): busybox,
    # whose `sh`, `wget` and `sleep` the probe runs, so no service's liveness depends on a tool
    # its own image is not promised to contain (synth/app.py promises only an HTTP answer on
    # the service's port; distroless and slim images have no shell, curl or wget). Pinned to
    # busybox from ECR Public so CKV_GW_DEPLOY_39 knows what it contains; the tag may move.
    liveness_probe_image: Annotated[
        str,
        Field(
            pattern=rf"^public\.ecr\.aws/docker/library/busybox"
            rf"(:[0-9][A-Za-z0-9_.-]*({AWS_IMAGE_DIGEST})?|{AWS_IMAGE_DIGEST})$"
        ),
    ] = "public.ecr.aws/docker/library/busybox:1.37"
    # The image of the init container that fetches the region's RDS CA bundle for a service
    # reading `database_direct_url` / `database_reader_url` (constructs/aws/service.py):
    # Amazon Linux 2023 from ECR Public, whose default curl (curl-minimal, "the default
    # package for AL2023 AMIs and containers",
    # https://docs.aws.amazon.com/linux/al2023/ug/curl-minimal.html) verifies TLS against the
    # image's system trust store. Pinned to that image so CKV_GW_DEPLOY_101 knows it has a
    # verifying curl (busybox's wget does not verify certificates); the tag may move. A digest
    # comes with the 2023 tag here: a bare digest would not say which Amazon Linux it is.
    ca_bundle_image: Annotated[
        str,
        Field(
            pattern=rf"^public\.ecr\.aws/amazonlinux/amazonlinux:2023[A-Za-z0-9_.-]*({AWS_IMAGE_DIGEST})?$"
        ),
    ] = "public.ecr.aws/amazonlinux/amazonlinux:2023"
    # The registry image `service.image_tag` exists (the release pipeline pushed it and set
    # this); until then the service runs `placeholder_image` so the first apply serves /health.
    release_image: bool = False
    # ECR expires untagged images after `untagged_image_days`, and tagged images only when
    # their tag matches one of `disposable_image_tags` (ECR lifecycle wildcards: `*`, at most
    # 4 per pattern), `disposable_image_days` after the push: the pipeline's throwaway
    # builds (e.g. "pr-*"), never a release. `service.image_tag` may match none of them
    # (`aws_registry_problems`); releases are kept until removed by hand (README).
    untagged_image_days: Annotated[int, Field(ge=1, le=365)] = 7
    disposable_image_tags: list[
        Annotated[
            str,
            # tag characters and `*`, at least one non-wildcard (a bare `*` is every tag,
            # which the release check refuses anyway)
            Field(pattern=r"^[A-Za-z0-9_.*-]*[A-Za-z0-9_.-][A-Za-z0-9_.*-]*$", max_length=128),
        ]
    ] = []
    disposable_image_days: Annotated[int, Field(ge=1, le=365)] = 14
    # Lambda functions reserve no concurrency unless the account's quota was raised: a new
    # account's quota can be 10, and Lambda keeps 10 unreserved (fault 3, DEPLOY-4).
    reserved_concurrency: Annotated[int, Field(ge=0, le=1000)] = 0
    # CloudWatch Logs resource policies without a resource ARN are limited to 10 per account
    # and region ("An account can have a maximum of 10 policies without resourceARN",
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html),
    # and hashicorp/aws 6.25's aws_cloudwatch_log_resource_policy has no `resource_arn` to
    # scope one to a log group. So the app shares ONE per account and region,
    # `<app>-log-delivery` (constructs/aws/log_delivery.py), whatever its number of
    # environments. These are the regions whose shared policy THIS environment's stack
    # creates; None: every region it delivers logs in (`aws_log_delivery_regions`). Another
    # environment of the app in the same account creates the others; at most one per account
    # and region (`aws_account_region_owners`, CKV_GW_DEPLOY_30).
    log_delivery_policy_regions: list[AwsRegion] | None = None

    _distinct = field_validator("replica_region")(_differs_from("region"))

    @field_validator("log_delivery_policy_regions")
    @classmethod
    def _delivery_regions(cls, value: list[str] | None, info: ValidationInfo) -> Any:
        # The stack delivers logs in its own region and us-east-1 only (CloudFront's web ACL,
        # Route 53): a policy elsewhere would serve nothing of this app.
        allowed = {info.data.get("region"), "us-east-1"}
        for region in value or []:
            if region not in allowed:
                raise ValueError(
                    f"{region} is neither aws.region nor us-east-1, the only regions where "
                    "the stack has AWS deliver logs"
                )
        return value


# A container image reference: registry host, path, optional tag or digest.
IMAGE_PATTERN = r"^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})?$"


PINNED_TAG = re.compile(r"(:[0-9]+\.[0-9]+\.[0-9]+([-.][A-Za-z0-9_.-]+)?|@sha256:[0-9a-f]{64})$")


def _pinned_image(value: str) -> str:
    """An image reference fixed to one release: a version tag (`:573.0.0-slim`) or a digest.
    A floating tag (`:slim`, `:latest`, `:stable`, none) changes under a running schedule."""
    if not PINNED_TAG.search(value):
        raise ValueError(
            "is not pinned: name a published version tag (e.g. `:573.0.0-slim`) or a "
            "`@sha256:` digest, not a floating tag that changes with every release"
        )
    return value


class GcpConfig(Strict):
    project: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")]
    region: GcpRegion
    replica_region: GcpRegion
    billing_account: Annotated[
        str, Field(pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
    ]  # COST-1
    # DEPLOY-5: the image of Cloud Run's first revision, which must exist before the stack's
    # own registry has any image. Google's public sample answers 200 on every path (so on
    # /health) on $PORT, which Cloud Run sets to the container port. Releases replace it.
    initial_image: Annotated[str, Field(pattern=IMAGE_PATTERN)] = (
        "us-docker.pkg.dev/cloudrun/container/hello"
    )
    # SEC-2: the image the secret rotator job runs (the Google Cloud CLI, public), pinned to
    # one release so a new gcloud never changes the job under a running schedule. Google
    # publishes every release as `:<version>-slim` (GoogleCloudPlatform/cloud-sdk-docker,
    # cloudbuild.yaml `$TAG_NAME-slim`; README examples at 573.0.0, 2026-06-17). Its image
    # repositories keep versions for about a year, so move the pin forward within a year.
    cli_image: Annotated[str, Field(pattern=IMAGE_PATTERN), AfterValidator(_pinned_image)] = (
        "gcr.io/google.com/cloudsdktool/google-cloud-cli:573.0.0-slim"
    )

    # DEPLOY-5, EDGE-1: the load balancer's certificate. A Google-managed certificate
    # provisions only once `domain` resolves to the load balancer, and a certificate whose
    # provisioning failed for long enough turns PROVISIONING_FAILED_PERMANENTLY and is never
    # retried (Compute API, SslCertificate.managed.status PROVISIONING_FAILED_PERMANENTLY:
    # https://cloud.google.com/compute/docs/reference/rest/v1/sslCertificates; the provider's
    # google_compute_managed_ssl_certificate page). So a workload names one of the two
    # (`gcp_edge_problems`): `dns_zone`, a public Cloud DNS managed zone in `project` that
    # answers for `domain` (or its parent), where the stack writes the A record itself; or
    # `ssl_certificate`, an existing self-managed certificate (`gcloud compute
    # ssl-certificates create`) in `project` that the load balancer serves instead.
    # Managed zone names: 1-63 lowercase letters, digits, dashes, starting with a letter and
    # ending with a letter or digit (Cloud DNS API, https://cloud.google.com/dns/docs/
    # reference/rest/v1/managedZones, `name`); certificate names follow Compute Engine's
    # RFC 1035 rule (https://cloud.google.com/compute/docs/naming-resources).
    dns_zone: Annotated[str, Field(pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")] | None = None
    ssl_certificate: Annotated[str, Field(pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")] | None = (
        None
    )
    # DEPLOY-5, DNS-1: the project that holds `dns_zone`. The stack reads the zone there and
    # writes its records there (the domain's A records, or with features.dns_enabled the NS
    # delegation); a parent zone the internet resolves is usually one shared project's, not
    # each environment's. Default (None): `project`. The deploy identity needs Cloud DNS
    # write access there: roles/dns.admin on that project, or on the zone alone (the lowest
    # level it can be granted at: https://cloud.google.com/iam/docs/roles-permissions/dns;
    # zone-level IAM: https://cloud.google.com/dns/docs/zones/iam-per-resource-zones).
    dns_project: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")] | None = None

    @property
    def zone_project(self) -> str:
        """The project of `dns_zone`: `dns_project`, else the environment's own."""
        return self.dns_project or self.project

    _distinct = field_validator("replica_region")(_differs_from("region"))


def _runner_range(value: str) -> str:
    """DEPLOY-3: one public IPv4 range the deploy runner's traffic leaves from."""
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"not an IPv4 network in CIDR notation ({error})") from None
    # Key Vault and Storage firewalls match public source addresses only: a private, shared
    # (100.64/10), loopback, link-local or multicast range never reaches them
    # (https://learn.microsoft.com/azure/storage/common/storage-network-security#grant-access-from-an-internet-ip-range).
    if (not network.is_global and not _is_documentation(network)) or network.prefixlen < 8:
        raise ValueError(
            "must be a public range of /8 or narrower (the runner's internet egress): Key Vault "
            "and Storage firewalls never see private, shared, loopback or link-local sources"
        )
    # Storage network rules refuse /31 and /32; a single address is written without a prefix.
    if network.prefixlen == 31:
        raise ValueError("a /31 is not accepted by Storage firewalls; list both addresses as /32")
    return value


def _is_documentation(network: ipaddress.IPv4Network) -> bool:
    """RFC 5737's documentation ranges, which the shipped example environments use."""
    return any(network.subnet_of(ipaddress.IPv4Network(block)) for block in DOCUMENTATION_RANGES)


# RFC 5737: addresses reserved for documentation. The shipped environments use one as their
# (example) runner range, next to their example subscription IDs; both must be replaced.
DOCUMENTATION_RANGES = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")


class AzureCertificateConfig(Strict):
    """EDGE-1, OBS-4: where the Application Gateway's TLS certificate comes from.

    `key_vault`: a certificate the operator keeps (and renews) in a Key Vault of theirs,
    named by the vault's resource ID and the certificate's name; the gateway reads its
    versionless secret ID, so renewals reach it. `self_signed`: the stack creates one in its
    own vault; browsers and the uptime test do not trust it, so it is refused for the
    production tier (`azure_certificate_problems`), and `self_signed_reason` says why an
    environment accepts it.
    """

    source: Literal["key_vault", "self_signed"]
    key_vault_id: (
        Annotated[
            str,
            Field(
                pattern=r"^/subscriptions/[0-9a-f-]{36}/resourceGroups/[-\w._()]{1,90}"
                r"/providers/Microsoft\.KeyVault/vaults/[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$"
            ),
        ]
        | None
    ) = None
    certificate_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,127}$")] | None = None
    self_signed_reason: Annotated[str, Field(min_length=20)] | None = None

    @property
    def trusted(self) -> bool:
        """Whether clients (the uptime test's TLS check among them) can verify the chain."""
        return self.source == "key_vault"

    @property
    def vault_name(self) -> str | None:
        return self.key_vault_id.rsplit("/", 1)[-1] if self.key_vault_id else None

    @property
    def versionless_secret_id(self) -> str | None:
        """`https://<vault>.vault.azure.net/secrets/<name>`: the gateway follows new versions."""
        if self.vault_name is None or self.certificate_name is None:
            return None
        return f"https://{self.vault_name}.vault.azure.net/secrets/{self.certificate_name}"


class AzureConfig(Strict):
    subscription_id: Annotated[
        str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    ]
    location: AzureLocation
    # DEPLOY-3: the public egress ranges of the runner that applies this stack. Required, at
    # least one: every Key Vault and Storage account the apply writes to admits these ranges
    # (and trusted Azure services) and denies everyone else. No default, because no range is
    # right for everyone; see README "Azure: before the first apply".
    deployer_ip_ranges: Annotated[
        list[Annotated[str, AfterValidator(_runner_range)]],
        Field(min_length=1, max_length=100),
    ]
    # EDGE-1, OBS-4: required for an Azure workload (azure_certificate_problems); optional here
    # so other clouds' files need not carry it.
    certificate: AzureCertificateConfig | None = None


def _private_network(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"not an IPv4 network in CIDR notation ({error})") from None
    if not network.is_private:
        raise ValueError("must be a private (RFC 1918) range")
    if not 16 <= network.prefixlen <= 20:
        raise ValueError("prefix length must be between /16 and /20 to fit three subnet tiers")
    return value


class NetworkConfig(Strict):
    cidr: Annotated[str, AfterValidator(_private_network)]  # NET-1
    # Environments of one cloud must not overlap (they could never be peered); an overlap is
    # allowed only when a file says why here (load_environments checks every pair).
    overlap_reason: Annotated[str, Field(min_length=20)] | None = None
    zones: Annotated[int, Field(ge=1, le=3)]
    nat_gateways: Literal["single", "per_zone"]

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)


class ServiceConfig(Strict):
    """APP-1 and APP-2: replica bounds, autoscale triggers and container size."""

    min_replicas: Annotated[int, Field(ge=1, le=100)]
    max_replicas: Annotated[int, Field(ge=1, le=100)]
    cpu_request: Annotated[float, Field(gt=0, le=4)]  # vCPU
    cpu_limit: Annotated[float, Field(gt=0, le=4)]
    memory_request_mib: Annotated[int, Field(ge=128, le=16384)]
    memory_limit_mib: Annotated[int, Field(ge=128, le=16384)]
    scale_cpu_percent: Annotated[int, Field(ge=10, le=95)] = 70
    scale_memory_percent: Annotated[int, Field(ge=10, le=95)] = 80
    port: Annotated[int, Field(ge=1024, le=65535)] = 3001
    # Registry tags are immutable (APP-6): each release deploys a new tag, set here by CI.
    image_tag: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")] = (
        DEFAULT_IMAGE_TAG
    )

    _max_replicas = field_validator("max_replicas")(at_least("min_replicas"))
    _cpu_limit = field_validator("cpu_limit")(at_least("cpu_request"))
    _memory_limit = field_validator("memory_limit_mib")(at_least("memory_request_mib"))


class DatabaseInstance(Strict):
    """The database's size on each cloud, one the cloud's PostgreSQL service offers
    (DEPLOY-4, synth/skus.py): an RDS instance class, a Cloud SQL tier, a flexible server SKU."""

    aws: str
    gcp: str
    azure: str

    @field_validator("aws", "gcp", "azure")
    @classmethod
    def _offered(cls, value: str, info: ValidationInfo) -> str:
        problem = database_instance_problem(str(info.field_name), value)
        if problem:
            raise ValueError(problem)
        return value


class DatabaseConfig(Strict):
    """DB-1..8: engine, size, backups, availability and protection."""

    engine_version: Annotated[int, Field(ge=15, le=17)] = 16
    instance: DatabaseInstance
    storage_gb: Annotated[int, Field(ge=20, le=16384)]
    max_storage_gb: Annotated[int, Field(ge=20, le=16384)]
    backup_retention_days: Annotated[int, Field(ge=1, le=35)]
    point_in_time_recovery: bool
    high_availability: bool
    read_replicas: Annotated[int, Field(ge=0, le=5)]
    deletion_protection: bool

    _max_storage = field_validator("max_storage_gb")(at_least("storage_gb"))


class CacheConfig(Strict):
    """CACHE-2: memory, replicas (automatic failover when > 0) and eviction."""

    memory_gb: Annotated[float, Field(ge=0.25, le=64)]
    replicas: Annotated[int, Field(ge=0, le=5)]
    eviction_policy: Literal["allkeys-lru"] = "allkeys-lru"


class LogsConfig(Strict):
    retention_days: int  # OBS-1, NET-4

    @field_validator("retention_days")
    @classmethod
    def _supported_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value


class EdgeConfig(Strict):
    rate_limit_per_minute: Annotated[int, Field(ge=10, le=100000)] = 100  # EDGE-2
    # AWS: an existing, issued ACM certificate for `domain`; without it the stack requests
    # one and validates it by DNS in `hosted_zone_id` (DEPLOY-5: never without records).
    certificate_arn: (
        Annotated[str, Field(pattern=r"^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$")]
        | None
    ) = None
    # AWS: an existing public Route 53 zone that already answers for `domain` (or, with
    # `features.dns_enabled`, for its parent, which then delegates to the stack's own zone).
    hosted_zone_id: Annotated[str, Field(pattern=r"^Z[A-Z0-9]{1,32}$")] | None = None
    # EDGE-2 on AWS: path prefixes whose requests may carry bodies over the 8 KB the managed
    # common rule set allows (uploads, large JSON). Everywhere else the 8 KB rule still blocks.
    large_body_paths: list[Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]{0,200}$")]] = []
    # CDN-1 (`features.cdn_enabled`), every cloud: the static paths the CDN caches; every other
    # path is forwarded to the load balancer uncached. One form all three CDNs take: one or
    # more path segments ending in `/*` (a URL map path rule's `*` only at the end after a `/`,
    # PathRule.paths, https://cloud.google.com/compute/docs/reference/rest/v1/urlMaps; Front
    # Door route patterns, https://learn.microsoft.com/azure/frontdoor/front-door-route-matching;
    # CloudFront path patterns take it too). `/*` alone, every path, is never cached. At most
    # 20: a CloudFront distribution holds 25 cache behaviors ("Quotas", https://docs.aws.amazon.
    # com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html) and a Front Door route
    # 25 patterns (https://learn.microsoft.com/azure/azure-resource-manager/management/
    # azure-subscription-service-limits).
    cdn_static_paths: Annotated[
        list[Annotated[str, Field(pattern=CDN_STATIC_PATH_PATTERN)]],
        Field(min_length=1, max_length=20),
    ] = ["/static/*", "/assets/*"]

    @field_validator("cdn_static_paths")
    @classmethod
    def _distinct_static_paths(cls, value: list[str]) -> list[str]:
        repeated = sorted({path for path in value if value.count(path) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(repeated)} more than once")
        return value


class SecretsConfig(Strict):
    rotation_days: Annotated[int, Field(ge=1, le=90)] = 90  # SEC-2
    # SEC-5: every secret a service reads, by name and kind (synth/app.py).
    catalog: dict[Annotated[str, Field(pattern=SECRET_NAME_PATTERN)], Secret] = Field(
        default_factory=lambda: {
            name: TypeAdapter(Secret).validate_python(entry)
            for name, entry in DEFAULT_CATALOG.items()
        }
    )


class BudgetConfig(Strict):
    monthly_usd: Annotated[int, Field(gt=0, le=1_000_000)]  # COST-1


class FeaturesConfig(Strict):
    """Optional components, off unless an environment switches them on."""

    auth_enabled: bool = False  # AUTH-1
    cdn_enabled: bool = False  # CDN-1
    dns_enabled: bool = False  # DNS-1


class LocalState(Strict):
    backend: Literal["local"]
    # Relative to the project root; the stack writes it relative to its own folder.
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_./-]+\.tfstate$")] | None = None


class S3State(Strict):
    backend: Literal["s3"]
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    region: AwsRegion
    key: str | None = None
    kms_key_id: str | None = None


class GcsState(Strict):
    backend: Literal["gcs"]
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")]
    prefix: str | None = None


class AzurermState(Strict):
    backend: Literal["azurerm"]
    resource_group_name: Annotated[str, Field(min_length=1, max_length=90)]
    storage_account_name: Annotated[str, Field(pattern=r"^[a-z0-9]{3,24}$")]
    container_name: Annotated[str, Field(pattern=r"^[a-z0-9-]{3,63}$")]
    key: str | None = None


class HcpState(Strict):
    backend: Literal["hcp"]
    organization: Annotated[str, Field(min_length=1)]
    workspace: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,90}$")]
    hostname: str | None = None


StateConfig = Annotated[
    LocalState | S3State | GcsState | AzurermState | HcpState, Field(discriminator="backend")
]


class AwsStateTenant(Strict):
    """STATE-1, STATE-2, DEPLOY-3: an AWS environment whose Terraform state the bootstrap's
    bucket keeps (`aws_state_tenants`). The bucket and its key grant its account its own state
    object (`key`, and the lock file `key.tflock`) and nothing else. Set on the bootstrap
    config by `bootstrap_configs`; environment files cannot set it (parse_environment)."""

    environment: str
    account_id: Annotated[str, Field(pattern=r"^[0-9]{12}$")] | None
    key: str


class Waiver(Strict):
    """Lowers one production floor through `expires` (inclusive); the verify report lists it
    with its owner (the environment's `owner` unless it names one). Expired, it lowers nothing
    and the floor applies again, like every other waiver (README "Waivers")."""

    requirement: str
    reason: str
    expires: dt.date
    owner: Label | None = None

    @field_validator("reason")
    @classmethod
    def _full_sentence(cls, value: str) -> str:
        # The rule every waiver's reason follows (synth/waivers.py), a floor's too.
        return sentence(value)

    @field_validator("expires", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        # The rule every waiver's expiry follows; YAML reads `2026-12-31` as a date, and a
        # quoted "2026-12-31" is the same day (this model is strict, so it is parsed here).
        value = iso_date_only(value)
        return dt.date.fromisoformat(value) if isinstance(value, str) else value

    @field_validator("requirement")
    @classmethod
    def _known_requirement(cls, value: str) -> str:
        if value not in REQUIREMENTS:
            raise ValueError(
                "is not a requirement ID (the catalog is synth/requirements.py; floors that can be"
                f" waived: {', '.join(sorted({floor.requirement for floor in FLOORS}))})"
            )
        return value


class EnvironmentConfig(Strict):
    """One environment, after its tier's defaults are merged in."""

    name: Annotated[
        str, Field(pattern=_name_pattern(ENVIRONMENT_MAX_LENGTH)), AfterValidator(_single_hyphens)
    ]
    tier: Tier
    cloud: Cloud
    app: Annotated[
        str, Field(pattern=_name_pattern(APP_MAX_LENGTH)), AfterValidator(_single_hyphens)
    ]
    owner: Label
    cost_center: Label
    alert_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,63}$")]  # OBS-3
    domain: Annotated[str, Field(pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")]
    aws: AwsConfig
    gcp: GcpConfig
    azure: AzureConfig
    network: NetworkConfig
    service: ServiceConfig
    # APP-7: the services (synth/app.py); without it, today's single service.
    services: Annotated[list[Service], Field(min_length=1, max_length=MAX_SERVICES)]
    database: DatabaseConfig
    cache: CacheConfig
    logs: LogsConfig
    edge: EdgeConfig = EdgeConfig()
    secrets: SecretsConfig = SecretsConfig()
    budget: BudgetConfig
    features: FeaturesConfig = FeaturesConfig()
    state: StateConfig = LocalState(backend="local")
    waivers: list[Waiver] = []
    # Set by `bootstrap_configs` only; environment files cannot set it (parse_environment).
    role: Role = "workload"
    # AWS bootstrap only, set by `bootstrap_configs`: who keeps state in its bucket.
    aws_state_tenants: list[AwsStateTenant] = []

    @model_validator(mode="before")
    @classmethod
    def _services(cls, data: Any) -> Any:
        """APP-7: `services` defaults to today's single service; each service takes the
        `service:` block's port, sizes and scale triggers for the fields it leaves out."""
        if not isinstance(data, Mapping):
            return data
        block = data.get("service")
        block = dict(block) if isinstance(block, Mapping) else {}
        services = data.get("services")
        if services is None:
            return {**data, "services": [default_service(block)]}
        if isinstance(services, list):
            return {**data, "services": [with_inherited(s, block) for s in services]}
        return data

    @property
    def components(self) -> frozenset[str]:
        """The components the stack creates: the database always, the cache and the bucket
        only when some service uses them (synth/app.py)."""
        used = {"database"}
        for service in self.services:
            used.update(self.service_uses(service))
        return frozenset(used)

    @property
    def uses_cache(self) -> bool:
        """CACHE-1..3 apply (policies/requirements/common.yaml, `optional`)."""
        return "cache" in self.components

    @property
    def uses_object_storage(self) -> bool:
        """OBJ-1..6 apply to the workload (policies/requirements/common.yaml, `optional`)."""
        return "object_storage" in self.components

    def service_uses(self, service: Service) -> frozenset[str]:
        """What `service` uses: its `uses` and the components of the derived secrets it reads."""
        used = set(service.uses)
        for name in service.secrets:
            secret = self.secrets.catalog.get(name)
            if isinstance(secret, DerivedSecret):
                used.add(secret.component)
        return frozenset(used)

    @property
    def prefix(self) -> str:
        """`<app>-<env>`: the stem of every resource name."""
        return f"{self.app}-{self.name}"

    @property
    def tags(self) -> dict[str, str]:
        """TAG-1: carried by every taggable resource."""
        return {
            "app": self.app,
            "environment": self.name,
            "managed-by": "groundwork",
            "owner": self.owner,
            "cost-center": self.cost_center,
        }

    @property
    def region(self) -> str:
        """The primary region of the selected cloud."""
        return {"aws": self.aws.region, "gcp": self.gcp.region, "azure": self.azure.location}[
            self.cloud
        ]

    def waived(self, requirement: str, today: dt.date | None = None) -> bool:
        """Whether an unexpired waiver of this file lowers `requirement`'s floors on `today`
        (the gate's today, synth/clock.py, by default)."""
        return self.floor_waiver(requirement, today) is not None

    def floor_waiver(self, requirement: str, today: dt.date | None = None) -> Waiver | None:
        """The unexpired waiver of `requirement`, if any."""
        day = today or clock.today()
        return next(
            (w for w in self.waivers if w.requirement == requirement and w.expires >= day), None
        )


@dataclass(frozen=True)
class Floor:
    """A minimum a tier must meet unless the environment waives the requirement."""

    requirement: str
    field: str  # dotted path into EnvironmentConfig
    minimum: int | float | bool | str
    tiers: tuple[str, ...] = ("production",)


FLOORS = (
    Floor("NET-1", "network.zones", 2),
    Floor("NET-1", "network.nat_gateways", "per_zone"),
    Floor("APP-1", "service.min_replicas", 2),
    Floor("DB-4", "database.backup_retention_days", 7),
    Floor("DB-4", "database.point_in_time_recovery", True, ("staging", "production")),
    Floor("DB-5", "database.high_availability", True),
    Floor("DB-5", "database.read_replicas", 1),
    Floor("DB-7", "database.deletion_protection", True, ("staging", "production")),
    Floor("CACHE-2", "cache.memory_gb", 1),
    Floor("CACHE-2", "cache.replicas", 1),
    Floor("OBS-1", "logs.retention_days", 30),
)


# Local state lives in the project root (the folder of main.py). Terraform runs in
# <outdir>/stacks/<stack>/, so the stack names it by a path relative to that folder: the
# JSON is then the same on every machine, and right for any output folder.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# From the default output folder, cdktf.out/stacks/<stack>/.
DEFAULT_ROOT_FROM_STACK = "../../.."


def root_from_stack(outdir: Path) -> str:
    """The project root as a POSIX path relative to `<outdir>/stacks/<stack>/`."""
    stack_dir = outdir.absolute() / "stacks" / "stack"
    return Path(os.path.relpath(PROJECT_ROOT, stack_dir)).as_posix()


def local_state_file(config: EnvironmentConfig) -> str:
    """The local state file, relative to the project root (STATE-1, `state.backend: local`)."""
    state = config.state
    assert isinstance(state, LocalState)
    return state.path or f"terraform.{config.name}.tfstate"


def default_state_key(config: EnvironmentConfig) -> str:
    """The object key (S3, azurerm) of an environment's state when its config names none."""
    return f"{config.app}/{config.name}/terraform.tfstate"


def backend_block(
    config: EnvironmentConfig, *, root: str = DEFAULT_ROOT_FROM_STACK
) -> tuple[str, dict[str, Any]]:
    """STATE-1: the Terraform block (`backend.<kind>`, or `cloud` for HCP) this environment's
    config asks for, as (kind, arguments). The stack builds it; a policy checks it. `root` is
    the project root relative to the stack's folder (`root_from_stack`), for local state."""
    state = config.state
    default_key = default_state_key(config)
    if isinstance(state, LocalState):
        return "local", {"path": f"{root}/{local_state_file(config)}"}
    if isinstance(state, S3State):
        s3: dict[str, Any] = {
            "bucket": state.bucket,
            "key": state.key or default_key,
            "region": state.region,
            "encrypt": True,
            "use_lockfile": True,  # S3-native locking (Terraform >= 1.10), no DynamoDB table
        }
        if state.kms_key_id:
            s3["kms_key_id"] = state.kms_key_id
        return "s3", s3
    if isinstance(state, GcsState):
        return "gcs", {
            "bucket": state.bucket,
            "prefix": state.prefix or f"{config.app}/{config.name}",
        }
    if isinstance(state, AzurermState):
        return "azurerm", {
            "resource_group_name": state.resource_group_name,
            "storage_account_name": state.storage_account_name,
            "container_name": state.container_name,
            "key": state.key or default_key,
            "use_azuread_auth": True,
        }
    cloud: dict[str, Any] = {
        "organization": state.organization,
        "workspaces": {"name": state.workspace},
    }
    if state.hostname:
        cloud["hostname"] = state.hostname
    return "cloud", cloud


def _field(config: BaseModel, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def floor_violations(config: EnvironmentConfig) -> list[str]:
    """Unwaived floors this environment misses, each as `field: message`."""
    problems = []
    for floor in FLOORS:
        if config.tier not in floor.tiers or config.waived(floor.requirement):
            continue
        # A floor on the `service:` block's sizing holds for every service, which inherits
        # from that block but may set its own value (synth/app.py).
        fields = [(floor.field, _field(config, floor.field))]
        block, _, attribute = floor.field.partition(".")
        if block == "service" and attribute in INHERITED:
            # A service that takes the block's value is covered by the block's line.
            block_value = fields[0][1]
            fields += [
                (f"services[{index}] ({service.name}).{attribute}", getattr(service, attribute))
                for index, service in enumerate(config.services)
                if getattr(service, attribute) != block_value
            ]
        for field, value in fields:
            if isinstance(floor.minimum, (bool, str)):
                if value == floor.minimum:
                    continue
                wanted = f"must be {str(floor.minimum).lower()} in {config.tier}"
            elif value >= floor.minimum:
                continue
            else:
                wanted = f"is below the {config.tier} floor of {floor.minimum}"
            shown = str(value).lower() if isinstance(value, bool) else value
            expired = [w.expires for w in config.waivers if w.requirement == floor.requirement]
            lapsed = f" (its waiver expired on {max(expired)})" if expired else ""
            problems.append(
                f"{field}: {shown} {wanted} ({floor.requirement}){lapsed}; fix it, or add a "
                f"waiver: {{requirement: {floor.requirement}, reason: ..., expires: YYYY-MM-DD}}. "
                f"{describe(floor.requirement)}"
            )
    return problems


def aws_edge_problems(config: EnvironmentConfig) -> list[str]:
    """DEPLOY-5 on AWS: the certificate's prerequisite is explicit, or the config is refused.

    ACM validates a requested certificate only once its DNS record resolves publicly, and
    `aws_acm_certificate_validation` waits 75 minutes for that. So a config must name an
    issued certificate (`edge.certificate_arn`) or a public zone that already answers for the
    domain (`edge.hosted_zone_id`), where the stack writes the validation record itself.
    """
    if config.cloud != "aws" or config.role != "workload":
        return []
    edge = config.edge
    if config.features.cdn_enabled and edge.hosted_zone_id is None:
        # CDN-1: CloudFront's certificate lives in us-east-1 and is validated, and the domain
        # is pointed at the distribution, by records in a zone the stack writes to.
        return [
            "edge.hosted_zone_id: None, but features.cdn_enabled puts CloudFront in front of "
            f"{config.domain}, whose us-east-1 certificate is validated, and whose alias "
            "record is written, in that Route 53 zone; set edge.hosted_zone_id to the public "
            f"zone of {'its parent' if config.features.dns_enabled else config.domain}"
        ]
    if edge.certificate_arn is None and edge.hosted_zone_id is None:
        what = "its parent" if config.features.dns_enabled else config.domain
        return [
            f"edge.hosted_zone_id: None leaves the ACM certificate for {config.domain} without "
            "validation records, and the apply would wait 75 minutes for them (DEPLOY-5); set "
            f"edge.hosted_zone_id to the public Route 53 zone of {what}, or "
            "edge.certificate_arn to an issued certificate"
        ]
    return []


# Optional components each cloud's constructs build (REQUIREMENTS.md "Optional components").
# A switch a cloud does not build is refused, never accepted and ignored: the report would
# then show the requirement unchecked, but the file would have said it was on.
BUILT_FEATURES = {
    "auth_enabled": ("aws", "gcp"),
    "cdn_enabled": ("aws", "gcp", "azure"),
    "dns_enabled": ("aws", "gcp"),
}
# Why a cloud cannot build a component at all, and what the operator does instead.
NOT_EXPRESSIBLE = {
    ("auth_enabled", "azure"): (
        "AUTH-1 asks for Entra External ID, which the azurerm provider (4.55) cannot create "
        "(no external-tenant, user-flow or password-policy resource; constructs/azure/"
        "identity.py); create the external tenant and its user flow in the Microsoft Entra "
        "admin center, give the app its tenant and client IDs as environment variables "
        "(services[].environment), and set features.auth_enabled to false for Azure"
    ),
    ("dns_enabled", "azure"): (
        "DNS-1 on Azure would be Front Door's managed certificate on the apex of the stack's "
        "own zone, and a managed certificate on an apex domain does not renew by itself: with "
        "no CNAME to Front Door, autorotation fails until the domain's ownership is validated "
        "again (https://learn.microsoft.com/azure/frontdoor/apex-domain; MicrosoftDocs/"
        "azure-docs #112765, #96572); set features.cdn_enabled to true and dns_enabled to false, "
        "and in your own zone create the CNAME domain -> the stack output front_door_host and "
        "the TXT _dnsauth.<domain> = front_door_validation_token (with the CNAME in place the "
        'managed certificate rotates on its own; README, "Azure: CDN and DNS")'
    ),
}


def feature_problems(config: EnvironmentConfig) -> list[str]:
    """An optional component switched on for a cloud whose constructs do not build it."""
    problems = []
    for feature, clouds in BUILT_FEATURES.items():
        if not getattr(config.features, feature) or config.cloud in clouds:
            continue
        why = NOT_EXPRESSIBLE.get((feature, config.cloud)) or (
            f"built on: {', '.join(clouds) or 'no cloud'} (issue #12); set it to false"
        )
        problems.append(
            f"features.{feature}: true, but {config.cloud} does not build this component: {why}"
        )
    return problems


def gcp_edge_problems(config: EnvironmentConfig) -> list[str]:
    """DEPLOY-5 on GCP: the certificate's prerequisite is explicit, or the config is refused.

    A Google-managed certificate provisions only once its domain resolves to the load
    balancer, and is never retried once it has failed for good, so the apply would end with a
    load balancer that never serves HTTPS. A config names the Cloud DNS zone where the stack
    writes that record (`gcp.dns_zone`) or a certificate it already has (`gcp.ssl_certificate`).
    """
    if config.cloud != "gcp" or config.role != "workload":
        return []
    zone_project = config.gcp.zone_project
    if config.gcp.dns_project is not None and config.gcp.dns_zone is None:
        # Checked before the rest: a project for a zone that is not named is a typo or a
        # leftover, and would silently do nothing.
        return [
            f"gcp.dns_project: {config.gcp.dns_project}, but gcp.dns_zone is not set; name the "
            f"zone in {config.gcp.dns_project} that answers for {config.domain} (or its parent), "
            "or remove gcp.dns_project"
        ]
    if config.features.dns_enabled:
        # DNS-1: the stack creates the domain's zone, delegated from its parent, and serves a
        # Google-managed certificate for the domain (constructs/gcp/edge.py).
        problems = []
        if config.gcp.dns_zone is None:
            problems.append(
                "gcp.dns_zone: None, but features.dns_enabled creates the zone of "
                f"{config.domain}, which resolves only once a parent zone delegates to it; set "
                f"gcp.dns_zone to the public Cloud DNS managed zone (in gcp.dns_project, "
                f"default {zone_project}) of a parent domain of {config.domain}"
            )
        if config.gcp.ssl_certificate is not None:
            problems.append(
                f"gcp.ssl_certificate: {config.gcp.ssl_certificate}, but features.dns_enabled "
                f"serves a Google-managed certificate for {config.domain} (DNS-1); remove "
                "gcp.ssl_certificate, or set features.dns_enabled to false"
            )
        return problems
    if config.gcp.dns_zone is None and config.gcp.ssl_certificate is None:
        return [
            f"gcp.dns_zone: None leaves the Google-managed certificate for {config.domain} "
            "without the DNS record that points the domain at the load balancer, so it never "
            "provisions and HTTPS never serves (DEPLOY-5); set gcp.dns_zone to the public "
            f"Cloud DNS managed zone (in gcp.dns_project, default {zone_project}) of "
            f"{config.domain} or its parent, or gcp.ssl_certificate to an existing "
            "self-managed certificate's name"
        ]
    return []


def azure_certificate_problems(config: EnvironmentConfig) -> list[str]:
    """EDGE-1, OBS-4 on Azure: the gateway's certificate source is explicit and fits the tier.

    A self-signed certificate lets the first apply finish, but no client trusts it: browsers
    warn and the uptime test's TLS check fails, so EDGE-1 and OBS-4 would hold on paper only.
    It is allowed where the file says so and why, never for the production tier.
    """
    if config.cloud != "azure" or config.role != "workload":
        return []
    certificate = config.azure.certificate
    if certificate is None:
        return [
            "azure.certificate: missing; set source: key_vault with key_vault_id and "
            "certificate_name (a certificate clients trust), or source: self_signed with "
            "self_signed_reason (not for the production tier)"
        ]
    if certificate.source == "key_vault":
        missing = [
            f"azure.certificate.{field}: None; source key_vault needs it"
            for field in ("key_vault_id", "certificate_name")
            if getattr(certificate, field) is None
        ]
        if certificate.self_signed_reason is not None:
            missing.append("azure.certificate.self_signed_reason: set, but source is key_vault")
        return missing
    problems = []
    if config.tier == "production":
        problems.append(
            "azure.certificate.source: 'self_signed' is refused for the production tier: "
            "clients and the uptime test (OBS-4) do not trust it (EDGE-1); use source: "
            "key_vault with the vault and name of a CA-issued certificate"
        )
    if certificate.self_signed_reason is None:
        problems.append(
            "azure.certificate.self_signed_reason: None; say why this environment accepts a "
            "certificate no client trusts"
        )
    if certificate.key_vault_id is not None or certificate.certificate_name is not None:
        problems.append(
            "azure.certificate: key_vault_id/certificate_name are set, but source is self_signed"
        )
    return problems


# CDN-1 on Azure: the host name Front Door reaches the gateway at. Front Door sends an origin's
# host name as SNI and, with the certificate name check on, checks the origin's certificate
# against it, so an IP origin fails every request ("My origin is configured as an IP address",
# https://learn.microsoft.com/azure/frontdoor/troubleshoot-issues; MicrosoftDocs/azure-docs
# #65432). The origin is therefore `origin.<domain>`: the gateway's HTTPS listener answers it,
# the operator's Key Vault certificate names it (SAN or `*.<domain>`), and an A record in the
# operator's zone points it at the gateway's public IP (README, "Azure: CDN and DNS").
AZURE_ORIGIN_LABEL = "origin"


def azure_origin_host(config: EnvironmentConfig) -> str | None:
    """The gateway's host name behind Front Door (`features.cdn_enabled`), else None."""
    if config.cloud != "azure" or not config.features.cdn_enabled:
        return None
    return f"{AZURE_ORIGIN_LABEL}.{config.domain}"


# A Front Door managed certificate's host name is at most 64 characters, the limit of a
# certificate's common name (hashicorp/terraform-provider-azurerm #32349, which made azurerm
# refuse longer ones at plan; RFC 5280 ub-common-name).
MANAGED_CERTIFICATE_HOST_LENGTH = 64


# COST-1 with CDN-1 on Azure: a Front Door profile is billed a base fee per profile, charged
# hourly whether or not traffic flows ("Understand Azure Front Door billing", base fees:
# https://learn.microsoft.com/azure/frontdoor/billing). For Premium_AzureFrontDoor that fee is
# USD 330 a month on Azure's list (https://azure.microsoft.com/pricing/details/frontdoor/, as
# quoted by https://blog.cdnsun.com/microsoft-azure-front-door-pricing/, 2026; the pricing page
# itself was not in our sources, so re-check it when Microsoft changes prices). A budget below
# it is spent by Front Door alone and its alerts fire every month.
FRONT_DOOR_PREMIUM_MONTHLY_USD = 330
FRONT_DOOR_PRICE_SOURCE = "https://azure.microsoft.com/pricing/details/frontdoor/"


def azure_edge_problems(config: EnvironmentConfig) -> list[str]:
    """CDN-1 on Azure: the combinations Front Door and the gateway cannot serve (DNS-1 is not
    built on Azure: NOT_EXPRESSIBLE).

    - Front Door reaches the gateway over HTTPS and checks its certificate chain against the
      CAs Microsoft trusts ("End-to-end TLS with Azure Front Door", backend TLS connection:
      https://learn.microsoft.com/azure/frontdoor/end-to-end-tls): a self-signed gateway
      certificate fails every request, so cdn_enabled needs source key_vault.
    - Front Door sends one host to the gateway, `origin.<domain>` (one origin, whose health
      probe must reach that listener; `azure_origin_host`), so route hosts other than `domain`
      are refused.
    - Front Door Premium's base fee alone exceeds a monthly budget below
      FRONT_DOOR_PREMIUM_MONTHLY_USD (COST-1), so such a budget is refused with the CDN.
    """
    if config.cloud != "azure" or config.role != "workload":
        return []
    problems: list[str] = []
    if not config.features.cdn_enabled:
        return problems
    certificate = config.azure.certificate
    if certificate is not None and certificate.source == "self_signed":
        problems.append(
            "azure.certificate.source: 'self_signed' with features.cdn_enabled: Azure Front Door "
            "refuses an origin certificate no trusted CA signed, so every request would fail; "
            "use source: key_vault with a CA-issued certificate for the domain"
        )
    hosts = sorted(
        {s.route.host for s in config.services if s.route and s.route.host} - {config.domain}
    )
    if hosts:
        problems.append(
            f"services[].route.host: {', '.join(hosts)} with features.cdn_enabled: on Azure "
            f"Front Door serves {config.domain} only (it sends that host to the gateway); "
            "route those services by path_prefix on the domain, or switch cdn_enabled off"
        )
    if config.budget.monthly_usd < FRONT_DOOR_PREMIUM_MONTHLY_USD:
        problems.append(
            f"budget.monthly_usd: {config.budget.monthly_usd} is below Azure Front Door "
            f"Premium's base fee of USD {FRONT_DOOR_PREMIUM_MONTHLY_USD} a month "
            f"({FRONT_DOOR_PRICE_SOURCE}), which features.cdn_enabled bills before any "
            "traffic (COST-1); raise budget.monthly_usd to at least "
            f"{FRONT_DOOR_PREMIUM_MONTHLY_USD} plus the rest of the environment, or switch "
            "cdn_enabled off"
        )
    if len(config.domain) > MANAGED_CERTIFICATE_HOST_LENGTH:
        problems.append(
            f"domain: {config.domain!r} is longer than the {MANAGED_CERTIFICATE_HOST_LENGTH} "
            "characters of a Front Door managed certificate's host name (features.cdn_enabled)"
        )
    return problems


# Name prefixes AWS reserves, which `<app>-<env>-...` names would begin with: S3 bucket names
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html) and load
# balancer / target group names (CreateLoadBalancer, CreateTargetGroup: not "internal-").
AWS_RESERVED_PREFIXES = {
    "internal-": "load balancer and target group names",
    "sthree-": "S3 bucket names",
    "amzn-s3-demo-": "S3 bucket names",
    "xn--": "S3 bucket names",
}


def aws_name_problems(config: EnvironmentConfig) -> list[str]:
    """DEPLOY-1 on AWS at config time: refuse an app whose names AWS would refuse at apply."""
    if config.cloud != "aws":
        return []
    stem = f"{config.prefix}-"
    return [
        f"app: {config.app!r} makes names beginning {stem!r}, and AWS refuses {what} that begin"
        f" with {reserved!r}; choose another app name"
        for reserved, what in AWS_RESERVED_PREFIXES.items()
        if stem.startswith(reserved)
    ]


# ECR lifecycle tag patterns allow at most 4 wildcards each ("Lifecycle policy properties
# in Amazon ECR", tagPatternList,
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html).
ECR_PATTERN_WILDCARDS = 4


def ecr_tag_matches(pattern: str, tag: str) -> bool:
    """Whether an ECR lifecycle `tagPatternList` entry (`*` matches any run of characters,
    nothing else is special) selects `tag`."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, tag) is not None


def aws_registry_problems(config: EnvironmentConfig) -> list[str]:
    """No ECR lifecycle rule may expire the tag the service runs (or runs after the first
    release): `service.image_tag` must match none of `aws.disposable_image_tags`."""
    if config.cloud != "aws":
        return []
    problems = []
    for index, pattern in enumerate(config.aws.disposable_image_tags):
        if pattern.count("*") > ECR_PATTERN_WILDCARDS:
            problems.append(
                f"aws.disposable_image_tags[{index}]: {pattern!r} has more than "
                f"{ECR_PATTERN_WILDCARDS} wildcards, which ECR refuses"
            )
        for service in config.services:
            if ecr_tag_matches(pattern, service.image.tag):
                problems.append(
                    f"aws.disposable_image_tags[{index}]: {pattern!r} matches the image tag "
                    f"{service.image.tag!r} of service {service.name!r}: ECR would expire the "
                    f"image the service runs {config.aws.disposable_image_days} days after its push"
                )
    return problems


def _merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _tier_defaults() -> dict[str, Any]:
    with TIER_DEFAULTS_FILE.open() as handle:
        defaults: dict[str, Any] = yaml.safe_load(handle)
    return defaults


def _location(loc: tuple[int | str, ...]) -> str:
    # Drop pydantic's union-member tags (e.g. "local", "function-after[...]") from paths.
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        elif "[" not in part and part not in ("local", "s3", "gcs", "azurerm", "hcp"):
            parts.append(part)
    return ".".join(parts) or "(top level)"


def _members(annotation: Any) -> list[Any]:
    """The types an annotation may hold: Annotated and unions (`X | None`, the secret kinds)
    unwrapped, each member as it is."""
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return [member for arg in get_args(annotation) for member in _members(arg)]
    return [annotation]


def _step(annotation: Any, part: int | str) -> Any:
    """The type one step of an error location leads to from `annotation`: a list's items, a
    mapping's values (whatever the key), a model's field, or the member of a tagged union
    pydantic names by its tag (`secrets.catalog.X.generated.bits`); None if unknown."""
    for member in _members(annotation):
        origin = get_origin(member)
        if origin in (list, tuple) and isinstance(part, int):
            return get_args(member)[0]
        if origin is dict and isinstance(part, str):
            return get_args(member)[-1]
        fields = getattr(member, "model_fields", {})
        if isinstance(part, str) and part in fields:
            return fields[part].annotation
    for member in _members(annotation):  # a tagged-union member's tag, e.g. "generated"
        kind = getattr(member, "model_fields", {}).get("kind")
        if kind is not None and part in get_args(kind.annotation):
            return member
    return None


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys a mapping at `loc[:-1]` allows (the fields of the model there), for an
    "unknown key" error; [] where the location leads to no model."""
    annotation: Any = EnvironmentConfig
    for part in loc[:-1]:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    models = [m for m in _members(annotation) if hasattr(m, "model_fields")]
    return sorted(models[0].model_fields) if len(models) == 1 else []


def _describe(error: Mapping[str, Any]) -> str:
    loc = tuple(error["loc"])
    where = _location(loc)
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(loc)) or "none"
        return f"{where}: unknown key; allowed keys here: {allowed}"
    if error["type"] == "missing":
        return f"{where}: required field is missing"
    # A scalar where a section belongs (`database.instance: db.t4g.small` for the per-cloud map):
    # pydantic's "valid dictionary or instance of DatabaseInstance" names a class, not a key.
    keys = _allowed_keys((*loc, "")) if error["type"] == "model_type" else []
    if keys:
        return (
            f"{where}: must be a mapping with the keys {', '.join(keys)} (got {error['input']!r})"
        )
    meaning = PATTERN_MEANINGS.get(error.get("ctx", {}).get("pattern", ""))
    if error["type"] == "string_pattern_mismatch" and meaning is not None:
        return f"{where}: must be {meaning} (got {error['input']!r})"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message} (got {error['input']!r})"


def _own_errors(errors: list[Any]) -> list[Any]:
    """The validation errors without the echoes of inherited values: a service inherits what
    it does not set from `service:` (or is derived from it entirely), so one bad value there
    would otherwise be reported again under every `services[i]`."""
    inherited = {
        (loc[1:], e["type"], repr(e["input"]))
        for e in errors
        if (loc := tuple(e["loc"]))[:1] == ("service",)
    }
    return [
        e
        for e in errors
        if not (
            (loc := tuple(e["loc"]))[:1] == ("services",)
            and len(loc) > 2
            and (loc[2:], e["type"], repr(e["input"])) in inherited
        )
    ]


def parse_environment(
    name: str, data: Any, *, source: str, cloud: str | None = None
) -> EnvironmentConfig:
    """Validate one environment's raw YAML data; raise ConfigError naming `source`."""
    if data is None:
        raise ConfigError(f"{source}: the file is empty; it needs at least tier, cloud and app")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping of settings, got {type(data).__name__}")
    if "name" in data:
        raise ConfigError(f"{source}: name: unknown key; the environment name is the file name")
    if "role" in data:
        raise ConfigError(
            f"{source}: role: unknown key; environments are workloads, and the bootstrap "
            "stacks (role: bootstrap) are derived from them, not written as files"
        )
    if "aws_state_tenants" in data:
        raise ConfigError(
            f"{source}: aws_state_tenants: unknown key; the AWS bootstrap derives who keeps "
            "state in its bucket from the environment files (state.backend)"
        )
    tiers = _tier_defaults()
    tier = data.get("tier")
    if tier not in tiers:
        raise ConfigError(f"{source}: tier: got {tier!r}; expected one of {', '.join(tiers)}")
    merged = _merge(tiers[tier], {**data, "name": name})
    if cloud is not None:
        merged["cloud"] = cloud
    try:
        config = EnvironmentConfig.model_validate(merged)
    except ValidationError as error:
        lines = [f"{source}: {_describe(detail)}" for detail in _own_errors(error.errors())]
        raise ConfigError("\n".join(lines)) from None
    problems = (
        app_problems(config)
        + floor_violations(config)
        + aws_edge_problems(config)
        + aws_name_problems(config)
        + aws_registry_problems(config)
        + gcp_edge_problems(config)
        + feature_problems(config)
        + restart_tag_problems(config)
        + azure_certificate_problems(config)
        + azure_edge_problems(config)
    )
    if problems:
        raise ConfigError("\n".join(f"{source}: {problem}" for problem in problems))
    return config


class UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key written twice in one mapping. PyYAML keeps the last one
    silently, so a reviewer could read a value that never applies (a second `service:` block
    in production.yaml passed the gate; newcomer review, issue 13 session). The error is a
    yaml.YAMLError whose marks give both lines."""


def _construct_unique_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    first: dict[Any, yaml.Mark] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *base` keys may be overridden; that is what merging means
        key = loader.construct_object(key_node, deep=True)
        try:
            earlier = first.setdefault(key, key_node.start_mark)
        except TypeError:
            continue  # an unhashable key: construct_mapping refuses it with its own message
        if earlier is not key_node.start_mark:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r} (first at line {earlier.line + 1})",
                key_node.start_mark,
            )
    return loader.construct_mapping(node, deep=True)


UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)


def load_environment(path: Path, *, cloud: str | None = None) -> EnvironmentConfig:
    """Read and validate `path`; its file name (without .yaml) is the environment name."""
    source = str(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{source}: file not found") from None
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{source}: malformed YAML{where}: {problem}") from None
    return parse_environment(path.stem, data, source=source, cloud=cloud)


def cloud_override(environ: Mapping[str, str] = os.environ) -> str | None:
    """`CLOUD=aws|gcp|azure` replaces the cloud of every environment."""
    value = environ.get("CLOUD") or None
    if value is not None and value not in CLOUDS:
        raise ConfigError(f"CLOUD={value}: expected one of {', '.join(CLOUDS)}")
    return value


ENVIRONMENT_FILE = re.compile(_name_pattern(ENVIRONMENT_MAX_LENGTH).removesuffix("$") + r"\.yaml$")


def load_environments(directory: Path, *, cloud: str | None = None) -> list[EnvironmentConfig]:
    """Every `*.yaml` in `directory`, validated; all problems of all files in one error."""
    if not directory.is_dir():
        raise ConfigError(f"{directory}: environments directory not found")
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigError(f"{directory}: no environment files (*.yaml) found")
    environments, problems = [], []
    for path in files:
        if not ENVIRONMENT_FILE.match(path.name):
            problems.append(
                f"{path}: file name must be <name>.yaml with a name of 2-{ENVIRONMENT_MAX_LENGTH}"
                " lowercase letters, digits and hyphens, starting with a letter and not ending"
                " with a hyphen"
            )
            continue
        try:
            environments.append(load_environment(path, cloud=cloud))
        except ConfigError as error:
            problems.append(str(error))
    problems += overlapping_networks(environments, files)
    problems += shared_identities(environments, files)
    problems += aws_account_region_owners(environments, files)
    problems += aws_shared_accounts(environments, files)
    problems += gcp_parent_zones(environments, files)
    problems += aws_zone_accounts(environments, files)
    if problems:
        raise ConfigError("\n".join(problems))
    return environments


def _claimed_apart(claims: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """`(thing, owner, environment)` claims -> for each thing claimed under several owners:
    (the thing, its first environment by name, "owner (environments), ..." sorted)."""
    owners: dict[str, dict[str, list[str]]] = {}
    for thing, owner, environment in claims:
        owners.setdefault(thing, {}).setdefault(owner, []).append(environment)
    return [
        (
            thing,
            min(name for group in by_owner.values() for name in group),
            ", ".join(f"{owner} ({', '.join(group)})" for owner, group in sorted(by_owner.items())),
        )
        for thing, by_owner in sorted(owners.items())
        if len(by_owner) > 1
    ]


def aws_zone_accounts(environments: list[EnvironmentConfig], files: list[Path]) -> list[str]:
    """DEPLOY-5 on AWS: environments writing into one `edge.hosted_zone_id` are in its account.

    A Route 53 hosted zone belongs to one account, and the stacks write its records with their
    own account's credentials (no cross-account provider), so of two environments in different
    accounts naming one zone, one apply fails on ChangeResourceRecordSets (AccessDenied or
    NoSuchHostedZone) and its certificate is never validated (AWS first-apply review)."""
    paths = {path.stem: path for path in files}
    claims = [
        (config.edge.hosted_zone_id, config.aws.account_id, config.name)
        for config in environments
        if config.cloud == "aws" and config.edge.hosted_zone_id and config.aws.account_id
    ]
    return [
        f"{paths.get(first, first)}: edge.hosted_zone_id: {zone} is named by environments in "
        f"different accounts ({where}), but a hosted zone belongs to one account and each stack "
        "writes its records with its own: give each account's environments a zone of that "
        "account (a delegated subdomain zone)"
        for zone, first, where in _claimed_apart(claims)
    ]


def gcp_parent_zones(environments: list[EnvironmentConfig], files: list[Path]) -> list[str]:
    """DEPLOY-5 on GCP: environments naming one `gcp.dns_zone` read it in one project.

    A zone is found by name in `gcp.dns_project` (default: the environment's own project). One
    name read in several projects means several public zones for one domain, of which the
    registrar delegates to one only: the others' records resolve for nobody, so their
    Google-managed certificates never provision (and in an empty project the read itself fails,
    since nothing there creates the zone). Cloud DNS zones live in a project
    (https://cloud.google.com/dns/docs/overview)."""
    paths = {path.stem: path for path in files}
    claims = [
        (config.gcp.dns_zone, config.gcp.zone_project, config.name)
        for config in environments
        if config.cloud == "gcp" and config.role == "workload" and config.gcp.dns_zone
    ]
    return [
        f"{paths.get(first, first)}: gcp.dns_zone: {zone!r} is read in several projects "
        f"({where}), but one domain has one public zone the internet resolves: set "
        'gcp.dns_project in each of them to the project that holds it (README, "GCP: before '
        'the first apply", step 4)'
        for zone, first, where in _claimed_apart(claims)
    ]


def _pairs(
    environments: list[EnvironmentConfig], files: list[Path]
) -> Iterator[tuple[EnvironmentConfig, EnvironmentConfig]]:
    """Each pair of `environments` once, as `(lead, other)`: a problem two files have together
    is reported on `lead`, the file modified last (the copy a user just made, or the edit that
    made the two clash), naming `other`. Files modified at the same moment (a fresh checkout)
    lead with the later name. Pairs come in the order of `environments`."""
    modified = {path.stem: path.stat().st_mtime_ns for path in files}
    for index, first in enumerate(environments):
        for second in environments[index + 1 :]:
            if modified.get(first.name, 0) > modified.get(second.name, 0):
                yield first, second
            else:
                yield second, first


def overlapping_networks(environments: list[EnvironmentConfig], files: list[Path]) -> list[str]:
    """Two environments of one cloud whose `network.cidr` overlap could never be peered (NET-1);
    each such pair is an error naming both files, unless either sets `network.overlap_reason`."""
    paths = {path.stem: path for path in files}
    problems = []
    for lead, other in _pairs(environments, files):
        if lead.cloud != other.cloud:
            continue
        if not lead.network.network.overlaps(other.network.network):
            continue
        if lead.network.overlap_reason or other.network.overlap_reason:
            continue
        problems.append(
            f"{paths.get(lead.name, lead.name)}: network.cidr: {lead.network.cidr} "
            f"overlaps {other.network.cidr} of {paths.get(other.name, other.name)} "
            f"(both on {lead.cloud}): they could never be peered; choose disjoint ranges, "
            "or say why in network.overlap_reason"
        )
    return problems


# What no two environments may share: the domain (its certificate, DNS records and uptime
# check would collide), and, on the cloud they run on, their project or subscription, which a
# copied file keeps unless it is changed (the README's "Adding an environment").
SHARED_IDENTITIES = {"domain": None, "gcp.project": "gcp", "azure.subscription_id": "azure"}


def shared_identities(environments: list[EnvironmentConfig], files: list[Path]) -> list[str]:
    """Each pair of environments sharing a field of SHARED_IDENTITIES, as an error naming both
    files (a copied environment file that still carries its source's identity)."""
    paths = {path.stem: path for path in files}
    problems = []
    for lead, other in _pairs(environments, files):
        for field_path, cloud in SHARED_IDENTITIES.items():
            if cloud is not None and not lead.cloud == other.cloud == cloud:
                continue
            value = _field(lead, field_path)
            if value != _field(other, field_path):
                continue
            problems.append(
                f"{paths.get(lead.name, lead.name)}: {field_path}: {value!r} is also "
                f"{paths.get(other.name, other.name)}'s; every environment needs its own"
            )
    return problems


# Names AWS keeps ONE of per account and region that an AWS environment stack may create,
# with the config field that says which environment owns it: RDS enhanced monitoring's
# log group ("Monitoring OS metrics with Enhanced Monitoring": the metrics go to the
# RDSOSMetrics log group, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.html).
# Every other name the AWS stacks create carries the environment's prefix (CKV_GW_DEPLOY_30).
AWS_ACCOUNT_REGION_SINGLETONS = {"aws.rds_os_metrics_log_group": "RDSOSMetrics"}


# What a policy judging one stack may read of the other stacks' configs
# (policies/checks/groundwork_policy.py `gate_configs`): the fields the rules about what AWS
# environments share read (an account and region's singletons, the app's log-delivery policy,
# the state bucket's tenants: `aws_same_account_region`, `aws_log_delivery_conflicts`,
# `aws_state_tenants`). The gate's scan cache keys a stack whose policies read other configs
# on these fields only (synth/checkov_run.py `configs_digest`), so `shared_config` removes the
# rest: reading another field raises AttributeError, a crashed check, which fails the gate.
SHARED_FIELDS = (
    "name",
    "cloud",
    "role",
    "app",
    "state",
    "features",
    "aws.account_id",
    "aws.region",
    "aws.log_delivery_policy_regions",
    *AWS_ACCOUNT_REGION_SINGLETONS,
)


def _shared_parts() -> dict[str, frozenset[str]]:
    """SHARED_FIELDS as `{top-level field: its shared inner fields}` (empty: all of it)."""
    parts: dict[str, set[str]] = {}
    for path in SHARED_FIELDS:
        head, _, rest = path.partition(".")
        parts.setdefault(head, set()).update([rest] if rest else [])
    return {head: frozenset(inner) for head, inner in parts.items()}


SHARED_PARTS = _shared_parts()


def shared_view(config: EnvironmentConfig) -> dict[str, Any]:
    """`config`'s SHARED_FIELDS as JSON values, nested as in the config."""
    dumped = config.model_dump(mode="json")
    return {
        head: {name: dumped[head][name] for name in inner} if inner else dumped[head]
        for head, inner in SHARED_PARTS.items()
    }


def shared_config(config: EnvironmentConfig) -> EnvironmentConfig:
    """A copy of `config` holding only SHARED_FIELDS: any other field raises AttributeError
    (pydantic reads a field from the instance's `__dict__`, from which it is removed)."""
    reduced = config.model_copy(deep=True)
    for name in list(reduced.__dict__):
        if name not in SHARED_PARTS:
            del reduced.__dict__[name]
        elif SHARED_PARTS[name]:
            part = reduced.__dict__[name]
            for inner in list(part.__dict__):
                if inner not in SHARED_PARTS[name]:
                    del part.__dict__[inner]
    return reduced


def aws_same_account(first: EnvironmentConfig, second: EnvironmentConfig) -> bool:
    """Two AWS environments that are, or may be, in one account: the same `aws.account_id`,
    or either leaves it unset (the config cannot tell)."""
    accounts = (first.aws.account_id, second.aws.account_id)
    return None in accounts or accounts[0] == accounts[1]


def aws_account_words(first: EnvironmentConfig, second: EnvironmentConfig) -> str:
    """The account two AWS environments of `aws_same_account` share, in words for an error."""
    accounts = (first.aws.account_id, second.aws.account_id)
    if None in accounts:
        return "possibly the same account (aws.account_id is not set in both)"
    return f"account {accounts[0]}"


def aws_same_account_region(first: EnvironmentConfig, second: EnvironmentConfig) -> bool:
    """Two AWS environments that are, or may be, in one account and region: same region and
    `aws_same_account`."""
    return first.aws.region == second.aws.region and aws_same_account(first, second)


# Where Route 53 and CloudFront's web ACL deliver logs: us-east-1 only (constructs/aws/cdn.py,
# constructs/aws/dns.py).
AWS_GLOBAL_LOG_REGION = "us-east-1"


def aws_log_delivery_regions(config: EnvironmentConfig) -> tuple[str, ...]:
    """The regions where this AWS environment's stack has AWS services deliver logs through a
    CloudWatch Logs resource policy: its own (the ALB's WAF), and us-east-1 with CDN-1 (the
    CloudFront web ACL) or DNS-1 (Route 53 query logs)."""
    regions = [config.aws.region]
    if config.features.cdn_enabled or config.features.dns_enabled:
        regions.append(AWS_GLOBAL_LOG_REGION)
    return tuple(dict.fromkeys(regions))


def aws_log_delivery_owned(config: EnvironmentConfig) -> tuple[str, ...]:
    """The regions whose shared `<app>-log-delivery` policy this environment's stack creates."""
    chosen = config.aws.log_delivery_policy_regions
    return aws_log_delivery_regions(config) if chosen is None else tuple(dict.fromkeys(chosen))


def aws_log_delivery_conflicts(first: EnvironmentConfig, second: EnvironmentConfig) -> list[str]:
    """The regions where two AWS environments of one app, in (possibly) the same account, would
    both create the app's shared log-delivery policy."""
    if first.app != second.app or not aws_same_account(first, second):
        return []
    return sorted(set(aws_log_delivery_owned(first)) & set(aws_log_delivery_owned(second)))


def aws_account_region_owners(
    environments: list[EnvironmentConfig], files: list[Path]
) -> list[str]:
    """Each pair of AWS environments that are (or may be) in one account and region and both
    create a name AWS keeps one of there, as an error naming both files, the field and the
    value: the second apply would fail with ResourceAlreadyExistsException."""
    paths = {path.stem: path for path in files}
    aws = [config for config in environments if config.cloud == "aws"]
    problems = []
    for lead, other in _pairs(aws, files):
        if not aws_same_account_region(lead, other):
            continue
        where = aws_account_words(lead, other)
        for field_path, name in AWS_ACCOUNT_REGION_SINGLETONS.items():
            if _field(lead, field_path) != "create" or _field(other, field_path) != "create":
                continue
            problems.append(
                f"{paths.get(lead.name, lead.name)}: {field_path}: 'create' is also "
                f"{paths.get(other.name, other.name)}'s, in {lead.aws.region}, {where}: "
                f"AWS keeps one {name} per account and region, so the second apply fails "
                "with ResourceAlreadyExistsException; set 'exists' in all but one of them, "
                "or set aws.account_id in both if they deploy to different accounts"
            )
    for lead, other in _pairs(aws, files):
        regions = aws_log_delivery_conflicts(lead, other)
        if not regions:
            continue
        problems.append(
            f"{paths.get(lead.name, lead.name)}: aws.log_delivery_policy_regions: "
            f"{list(aws_log_delivery_owned(lead))} creates the shared "
            f"{lead.app}-log-delivery CloudWatch Logs resource policy in "
            f"{', '.join(regions)}, as {paths.get(other.name, other.name)} does, in "
            f"(possibly) the same account: the second apply fails with "
            "ResourceAlreadyExistsException (one per account and region keeps the app "
            "under the quota of 10); list in each file only the regions it creates, or "
            "set aws.account_id in both if they deploy to different accounts"
        )
    return problems


def aws_shared_accounts(environments: list[EnvironmentConfig], files: list[Path]) -> list[str]:
    """COST-1: each pair of AWS environments that are (or may be) in one account where either
    leaves `aws.account_shared` false, as an error naming both files: an AWS budget counts its
    whole account's costs (constructs/aws/budget.py), so each would count the other's too."""
    paths = {path.stem: path for path in files}
    aws = [config for config in environments if config.cloud == "aws"]
    problems = []
    for lead, other in _pairs(aws, files):
        both = lead.aws.account_shared and other.aws.account_shared
        if both or not aws_same_account(lead, other):
            continue
        where = aws_account_words(lead, other)
        unset = [
            str(paths.get(config.name, config.name))
            for config in (lead, other)
            if not config.aws.account_shared
        ]
        problems.append(
            f"{paths.get(lead.name, lead.name)}: aws.account_shared: "
            f"{paths.get(other.name, other.name)} deploys into {where} too, and a budget counts "
            "its whole account's costs, so each would count the other's; set "
            f"'account_shared: true' under aws: in {' and '.join(unset)} (the budgets then "
            "count their own environment tag, which must be activated from the management "
            "account: README, 'A fresh AWS account', step 8), or set aws.account_id in both "
            "if they deploy to different accounts"
        )
    return problems


def aws_names_state_bucket(bucket: str, bootstrap: EnvironmentConfig) -> bool:
    """Whether an S3 backend's `bucket` is the one `bootstrap` creates,
    `<app>-tfstate-<account>` (constructs/aws/state.py); any 12-digit account when the
    bootstrap's `aws.account_id` is unset."""
    account = bootstrap.aws.account_id or "[0-9]{12}"
    return re.fullmatch(f"{re.escape(bootstrap.app)}-tfstate-{account}", bucket) is not None


def aws_state_tenants(
    bootstrap: EnvironmentConfig, environments: list[EnvironmentConfig]
) -> list[AwsStateTenant]:
    """The AWS environments of the bootstrap's app whose state its bucket keeps or is ready to
    keep: an S3 backend naming that bucket (its `key`), or local state, which the bootstrap's
    `state_backend` output tells how to move there (the default key). An environment whose
    backend is elsewhere (another bucket, GCS, azurerm, HCP) is not one. Granting the local
    ones too means following the output needs no second bootstrap apply."""
    tenants = []
    for config in environments:
        if config.cloud != "aws" or config.role != "workload" or config.app != bootstrap.app:
            continue
        state = config.state
        if isinstance(state, S3State) and aws_names_state_bucket(state.bucket, bootstrap):
            key = state.key or default_state_key(config)
        elif isinstance(state, LocalState):
            key = default_state_key(config)
        else:
            continue
        tenants.append(
            AwsStateTenant(environment=config.name, account_id=config.aws.account_id, key=key)
        )
    return sorted(tenants, key=lambda tenant: tenant.environment)


def bootstrap_configs(environments: list[EnvironmentConfig]) -> list[EnvironmentConfig]:
    """STATE-2: one bootstrap config per cloud in use (sorted), which creates the state storage.

    Each is a copy of that cloud's highest-tier environment (production, then staging, then
    dev; ties by name), named `bootstrap-<cloud>`, with `role: bootstrap`, no waivers and
    local state. State storage lives in the most protected environment's account / project
    / subscription; the environments' remote backends (`state: {backend: s3|gcs|azurerm,
    ...}`) point at what it creates, and its outputs print the names. Its own state is
    local: it cannot be kept in the storage it is about to create (chicken and egg).
    """
    configs = []
    for cloud in sorted({config.cloud for config in environments}):
        source = min(
            (config for config in environments if config.cloud == cloud),
            key=lambda config: (TIER_RANK[config.tier], config.name),
        )
        configs.append(
            source.model_copy(
                update={
                    "name": f"bootstrap-{cloud}",
                    "role": "bootstrap",
                    "state": LocalState(backend="local"),
                    "waivers": [],
                    "aws_state_tenants": (
                        aws_state_tenants(source, environments) if cloud == "aws" else []
                    ),
                }
            )
        )
    return configs
