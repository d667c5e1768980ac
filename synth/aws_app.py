"""How the AWS stack names and wires the described services (APP-7, SEC-5): one table the
constructs (constructs/aws/) and the AWS policies (policies/checks/aws/) both read, so a
policy judges a resource by the same name the construct gave it.

The default single service (`synth.app.DEFAULT_SERVICE_NAME`, "app") keeps the names it had
before services were described (`<prefix>` for the ECS service, task family and repository),
so existing environments see no replacement. Every other service is `<prefix>-<service>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synth.app import (
    DEFAULT_SERVICE_NAME,
    PLATFORM_ENVIRONMENT,
    Service,
    secret_variables,
    unset_external_secrets,
)

if TYPE_CHECKING:
    from synth.config import EnvironmentConfig

# Every Secrets Manager secret of the catalog carries its kind (SEC-5) under this tag; the
# database's own master secret is platform wiring and carries `platform`.
SECRET_KIND_TAG = "secret-kind"
PLATFORM_SECRET_KIND = "platform"
# An external secret's `value_set` ("true"/"false"): whether the operator has given it a
# value, so a policy can tell from the JSON that a task would read an empty secret.
SECRET_VALUE_SET_TAG = "value-set"
# A generated secret's key length in bits, read by the rotation function.
SECRET_BITS_TAG = "secret-bits"
# The ECS services (`<cluster>/<service>`, space separated) a rotation restarts.
RESTART_TAG = "restarts-ecs-service"

# The platform wiring variables the AWS constructs set, by component (synth/app.py).
WIRING = PLATFORM_ENVIRONMENT["aws"]

# Derived sources whose URL names an RDS instance endpoint, not RDS Proxy: the instance
# presents a certificate of the RDS CA, which Node's bundled roots lack, so a task reading
# one fetches the region's RDS CA bundle first (constructs/aws/service.py; CKV_GW_DEPLOY_101).
INSTANCE_SOURCES = ("database_direct_url", "database_reader_url")
# That task's init container, the volume it writes, and the file the app trusts.
CA_BUNDLE_CONTAINER = "rds-ca-bundle"
CA_BUNDLE_VOLUME = "rds-ca"
CA_BUNDLE_DIRECTORY = "/rds-ca"
CA_BUNDLE_FILE = f"{CA_BUNDLE_DIRECTORY}/rds-ca-bundle.pem"
# Set to CA_BUNDLE_FILE in the app's container: Node adds it to its trusted roots at start
# (https://nodejs.org/api/cli.html#node_extra_ca_certsfile); libpq clients read the second.
CA_BUNDLE_VARIABLES = ("NODE_EXTRA_CA_CERTS", "PGSSLROOTCERT")
# The same task's DATABASE_URL goes to RDS Proxy, whose certificate comes from ACM and
# chains to Amazon Root CA 1, not to the RDS CA ("RDS Proxy uses certificates from AWS
# Certificate Manager (ACM)", "Using TLS/SSL with RDS Proxy",
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html#rds-proxy-security.tls;
# re:Post: connect with `--ssl-ca=AmazonRootCA1.pem`,
# https://repost.aws/knowledge-center/rds-aurora-mysql-connect-proxy). PGSSLROOTCERT
# REPLACES libpq's roots (psycopg, pgx read it alike), so the bundle holds both CAs or one
# of the two URLs fails verify-full. Amazon Trust Services' own copy of the root:
AMAZON_ROOT_CA_1_URL = "https://www.amazontrust.com/repository/AmazonRootCA1.pem"
# The init container's downloads, concatenated into CA_BUNDLE_FILE.
CA_BUNDLE_PARTS = (
    f"{CA_BUNDLE_DIRECTORY}/rds-region-bundle.pem",
    f"{CA_BUNDLE_DIRECTORY}/amazon-root-ca-1.pem",
)


def rds_ca_bundle_url(region: str) -> str:
    """AWS's RDS CA bundle of `region` ("Certificate bundles by AWS Region",
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html)."""
    return f"https://truststore.pki.rds.amazonaws.com/{region}/{region}-bundle.pem"


def reads_instance_endpoint(config: EnvironmentConfig, service: Service) -> bool:
    """Whether `service` reads a derived secret naming an RDS instance endpoint."""
    catalog = config.secrets.catalog
    return any(
        getattr(catalog.get(name), "source", None) in INSTANCE_SOURCES for name in service.secrets
    )


def is_default(name: str) -> bool:
    return name == DEFAULT_SERVICE_NAME


def service_resource_name(config: EnvironmentConfig, name: str) -> str:
    """The ECS service's and task family's name: `<prefix>` for the default service."""
    return config.prefix if is_default(name) else f"{config.prefix}-{name}"


def service_by_resource_name(config: EnvironmentConfig, resource_name: str) -> Service | None:
    """The described service an ECS service / task family name belongs to."""
    for service in config.services:
        if service_resource_name(config, service.name) == resource_name:
            return service
    return None


# Every ECS task of a described service runs a liveness sidecar of this name next to the
# app's container (constructs/aws/service.py): busybox GETs the service's health path on its
# port, so liveness needs nothing from the app's image (CKV_GW_DEPLOY_39). The hyphen keeps
# it apart from every container named after a service (SERVICE_NAME_PATTERN has none).
LIVENESS_CONTAINER = "liveness-probe"


def liveness_url(service: Service) -> str:
    """What the liveness sidecar GETs: the service's health path on its port, over the task's
    shared loopback (awsvpc: every container of a task shares one network namespace)."""
    return f"http://127.0.0.1:{service.port}{service.health.path}"


def app_containers(containers: list[dict[str, object]]) -> list[dict[str, object]]:
    """A task definition's containers other than the platform's: the liveness sidecar
    (CKV_GW_DEPLOY_39 judges it) and the RDS CA init container (CKV_GW_DEPLOY_101)."""
    platform = (LIVENESS_CONTAINER, CA_BUNDLE_CONTAINER)
    return [c for c in containers if c.get("name") not in platform]


def repository_key(service: Service) -> str:
    """The image repository a service pulls from: its `image.repository`, else its name."""
    return service.image.repository or service.name


def repository_name(config: EnvironmentConfig, key: str) -> str:
    """ECR repository name: `<prefix>` for the default service's, else `<prefix>/<key>`."""
    return config.prefix if is_default(key) else f"{config.prefix}/{key}"


def secret_name(config: EnvironmentConfig, name: str) -> str:
    """The Secrets Manager name of catalog entry `name`."""
    return f"{config.prefix}/{name}"


def wiring_variables(uses: frozenset[str] | set[str]) -> tuple[str, ...]:
    """Every platform variable a service using `uses` gets on AWS, in table order."""
    names = list(WIRING["always"])
    for component in ("database", "cache", "object_storage"):
        if component in uses:
            names += WIRING[component]
    return tuple(names)


def expected_secret_variables(config: EnvironmentConfig, service: Service) -> dict[str, str]:
    """Variable -> catalog name of every secret variable `service`'s container gets: all it
    lists, except external ones without a value yet (`value_set: false`, DEPLOY-6)."""
    catalog = config.secrets.catalog
    unset = unset_external_secrets(config)
    found: dict[str, str] = {}
    for name in service.secrets:
        entry = catalog.get(name)
        if entry is None or name in unset:
            continue
        for variable in secret_variables(name, entry):
            found[variable] = name
    return found


def default_route_service(config: EnvironmentConfig) -> Service:
    """The service routed at `/` on the environment's domain: the listener's default, and
    the one whose health path the uptime check probes (OBS-4)."""
    for service in config.services:
        route = service.route
        if route is not None and route.path_prefix == "/" and route.host in (None, config.domain):
            return service
    raise ValueError(f"{config.prefix}: no service is routed at / on {config.domain}")


def service_of_ecs_address(
    config: EnvironmentConfig, bodies: dict[str, dict[str, object]], address: str | None
) -> Service | None:
    """The described service of the `aws_ecs_service` at `address` (a policy's graph)."""
    body = bodies.get(address or "")
    return service_by_resource_name(config, str(body.get("name"))) if body else None


# Secrets Manager tag values hold at most 256 characters ("Value ... Maximum length of 256",
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Tag.html).
TAG_VALUE_MAX_LENGTH = 256


def restart_tag(config: EnvironmentConfig, secret: str) -> str:
    """`RESTART_TAG`'s value for catalog secret `secret`: `<cluster>/<service>` of every ECS
    service that reads it, space separated (the cluster is `<prefix>`)."""
    return " ".join(
        f"{config.prefix}/{service_resource_name(config, service.name)}"
        for service in config.services
        if secret in service.secrets
    )


def restart_tag_problems(config: EnvironmentConfig) -> list[str]:
    """DEPLOY-1 on AWS at load time: a generated secret read by so many services that the
    list its rotation restarts does not fit a tag value, which Secrets Manager would refuse."""
    if config.cloud != "aws" or config.role != "workload":
        return []
    problems = []
    for name, entry in sorted(config.secrets.catalog.items()):
        value = restart_tag(config, name) if entry.kind == "generated" else ""
        if len(value) > TAG_VALUE_MAX_LENGTH:
            problems.append(
                f"secrets.catalog.{name}: {value.count(' ') + 1} services read it, and the ECS "
                f"services its rotation restarts ({len(value)} characters in the "
                f"`{RESTART_TAG}` tag) exceed the {TAG_VALUE_MAX_LENGTH} a Secrets Manager tag "
                "value holds; let fewer services read it, or shorten `app` or the environment name"
            )
    return problems
