"""The app description (APP-7, SEC-5): the services an environment runs, the secrets they read
and the components they use, with the same meaning on every cloud.

An environment file may say:

    services:
      - name: web                       # 1-8 lowercase letters and digits
        image: {repository: web, tag: "1.4.2"}
        port: 3000
        health: {path: /api/health, interval_seconds: 10, timeout_seconds: 5}
        environment: {NODE_ENV: production}
        secrets: [AUTH_SECRET, DATABASE_URL]
        uses: [database]                # database, cache, object_storage
        route: {path_prefix: /}         # or {host: ..., path_prefix: ...}; null: internal
    secrets:
      catalog:
        AUTH_SECRET: {kind: generated}
        DATABASE_URL: {kind: derived, source: database_url}
        STRIPE_API_KEY: {kind: external, description: Stripe live key, from the Stripe dashboard}

Without `services` the environment runs today's single service (`DEFAULT_SERVICE_NAME`),
so existing environment files keep working unchanged. A service's size, replica bounds and
scale triggers default to the environment's `service:` block (the tier's APP-1/APP-2 sizing).

Secret kinds (SEC-5):
- `generated`: random, `bits` long (256 or more), rotated within `secrets.rotation_days`
  (SEC-2). A service reading X gets X (sign and verify), X_PREVIOUS and X_NEXT (verify only),
  so a rotation never invalidates a token in flight.
- `derived`: a value of a component the stack creates (`DERIVED_SOURCES`).
- `external`: created empty by the stack, never given a value in Terraform JSON or state; the
  README documents the command that sets it. Services read it only once the entry says
  `value_set: true` (the operator has run that command), on every cloud.

Components: the database is always created (DB-1..8); the cache and the object-storage bucket
exist only when a service uses them (`uses`, or a derived secret of theirs), and their
requirements are then n/a in the report (policies/requirements/common.yaml, `optional`).
Validation errors name the field and the value like the rest of synth/config.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    from synth.config import EnvironmentConfig

# Names feed resource names next to `<app>-<env>` (DEPLOY-1), so they stay short: 8 characters
# fit every cloud's limits at the schema's longest app and environment names
# (tests/stacks/test_longest_names.py).
SERVICE_NAME_PATTERN = r"^[a-z][a-z0-9]{0,7}$"
# An environment variable name every platform accepts: Container Apps allows letters, digits and
# underscores (https://learn.microsoft.com/azure/container-apps/environment-variables), and
# Cloud Run and ECS accept the same set.
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
# A secret is also an environment variable, in upper case; Key Vault names allow no underscore,
# so the Azure constructs write `_` as `-` (127 characters there, with the prefix). It ends in a
# capital or digit: a Container App secret name must end alphanumeric, so `STRIPE_KEY_` would
# become the refused `stripe-key-` (azurerm 4.55 internal/services/containerapps/validate
# `SecretName`; Azure/azure-cli#23833).
SECRET_NAME_PATTERN = r"^[A-Z]([A-Z0-9_]{0,46}[A-Z0-9])?$"
PATH_PREFIX_PATTERN = r"^/([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$"
HEALTH_PATH_PATTERN = r"^/[A-Za-z0-9._~/-]{0,200}$"
HOST_PATTERN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
# CDN-1: a static path the CDN caches (`edge.cdn_static_paths`, synth/config.py).
CDN_STATIC_PATH_PATTERN = r"^(/[A-Za-z0-9._~-]+)+/\*$"
# What each pattern means, in the words the loader's error uses instead of the regex
# (synth/config.py `_describe`): "services[0].name: must be ... (got 'Web_1')".
PATTERN_MEANINGS = {
    SERVICE_NAME_PATTERN: "1-8 lowercase letters and digits, starting with a letter",
    ENV_NAME_PATTERN: "an environment variable name: letters, digits and underscores, not "
    "starting with a digit, at most 128 characters",
    SECRET_NAME_PATTERN: "an upper-case variable name: capitals, digits and underscores, "
    "starting with a capital and ending with a capital or digit, at most 48 characters",
    PATH_PREFIX_PATTERN: "a path prefix: `/` or `/segment[/segment...]` of letters, digits and "
    "`._~-`, with no trailing slash",
    HEALTH_PATH_PATTERN: "a path starting with `/`: letters, digits and `._~/-`, at most 201 "
    "characters",
    HOST_PATTERN: "a lowercase DNS host name such as api.example.com",
    CDN_STATIC_PATH_PATTERN: "a path of one or more segments ending in `/*`, such as "
    "/static/* (`/*` alone would cache every path)",
}

DEFAULT_SERVICE_NAME = "app"


def service_suffix(service: str, separator: str = "-") -> str:
    """What a service adds to the names and construct IDs it owns: nothing for the default
    service, which keeps today's names (no replacement for existing environments), and
    `<separator><service>` for every other one."""
    return "" if service == DEFAULT_SERVICE_NAME else f"{separator}{service}"


MAX_SERVICES = 8

Component = Literal["database", "cache", "object_storage"]
COMPONENTS: tuple[Component, ...] = ("database", "cache", "object_storage")

# What a derived secret holds, and the component it comes from.
DERIVED_SOURCES: dict[str, Component] = {
    # The URL the app should use: through the pooler where the cloud has one (DB-6).
    "database_url": "database",
    # Straight to the primary, for migrations and session-level features a pooler breaks.
    "database_direct_url": "database",
    # A read replica (database.read_replicas >= 1).
    "database_reader_url": "database",
    # The cache's URL, with its credential where the cloud's cache has a static one.
    "cache_url": "cache",
}
DerivedSource = Literal["database_url", "database_direct_url", "database_reader_url", "cache_url"]

# A generated secret X also reaches its readers as X_PREVIOUS and X_NEXT (verify only).
GENERATED_VARIANTS = ("", "_PREVIOUS", "_NEXT")

# Variables the platform wiring sets for a service, by what the service uses, on each cloud:
# a service's own `environment` may not name them (it would be overwritten or shadowed). The
# constructs set exactly these (tests/constructs/test_app_wiring.py compares).
PLATFORM_ENVIRONMENT: dict[str, dict[str, tuple[str, ...]]] = {
    "aws": {
        "always": ("PORT",),
        "database": ("DATABASE_HOST", "DATABASE_USER"),
        "cache": ("REDIS_HOST", "REDIS_PORT", "REDIS_TLS", "REDIS_USERNAME", "REDIS_CACHE_NAME"),
        "object_storage": ("BUCKET_NAME",),
    },
    "gcp": {
        # Cloud Run sets PORT itself and refuses it in a container's env.
        "always": ("PORT",),
        "database": ("CLOUD_SQL_INSTANCE", "DATABASE_POOL_MAX"),
        "cache": ("REDIS_HOST", "REDIS_PORT", "REDIS_AUTH", "REDIS_CA_CERT"),
        "object_storage": ("BUCKET_NAME",),
    },
    "azure": {
        "always": ("PORT", "AZURE_CLIENT_ID"),
        # PGUSER: the service's own PostgreSQL role (its identity); the URLs name no user.
        "database": ("DATABASE_AUTH", "PGUSER"),
        "cache": ("REDIS_HOST", "REDIS_PORT", "REDIS_USERNAME"),
        # The blob endpoint and container: Azure has no bucket name to give.
        "object_storage": ("STORAGE_BLOB_ENDPOINT", "STORAGE_CONTAINER"),
    },
}


def at_least(other: str) -> Any:
    """A field validator: this field may not be below the (earlier) field `other`. Shared
    with synth/config.py, which imports this module."""

    def check(value: float, info: ValidationInfo) -> float:
        if other in info.data and value < info.data[other]:
            raise ValueError(f"is below {other} ({info.data[other]})")
        return value

    return check


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Image(_Strict):
    """The image a service runs from the stack's registry. `repository` defaults to the
    service's name (the default service keeps the registry's existing repository); `tag`
    defaults to `service.image_tag`. Tags are immutable (APP-6): a release sets a new one."""

    repository: (
        Annotated[str, Field(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*$", max_length=40)] | None
    ) = None
    # Filled from `service.image_tag` when the file names none (`with_inherited`).
    tag: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]


class HealthCheck(_Strict):
    """EDGE-4: the HTTP GET the load balancer and the platform probe on the service's port.
    Every service promises to answer it with a 2xx, an internal worker (`route: null`)
    included, on its own `port`: that answer is ALL a service promises to the platform. Its
    image is not promised to contain a shell, curl, wget or node (distroless has none), so
    no cloud may probe by running a command inside it (AWS: CKV_GW_DEPLOY_39). Seconds.
    ALB requires the timeout below the interval (Elastic Load Balancing, "Health checks for
    your target groups": HealthCheckTimeoutSeconds < interval)."""

    path: Annotated[str, Field(pattern=HEALTH_PATH_PATTERN)] = "/health"
    interval_seconds: Annotated[int, Field(ge=5, le=300)] = 10
    timeout_seconds: Annotated[int, Field(ge=2, le=60)] = 5

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> HealthCheck:
        if self.timeout_seconds >= self.interval_seconds:
            raise ValueError(
                f"timeout_seconds ({self.timeout_seconds}) must be below interval_seconds "
                f"({self.interval_seconds}): a probe must finish before the next one starts"
            )
        return self


class Route(_Strict):
    """How the load balancer reaches a service: requests whose path starts with
    `path_prefix` (whole segments), on `host` when given (the environment's `domain` or a
    name under it, which the certificate then covers)."""

    path_prefix: Annotated[str, Field(pattern=PATH_PREFIX_PATTERN)] = "/"
    host: Annotated[str, Field(pattern=HOST_PATTERN)] | None = None


class Service(_Strict):
    """One container service (APP-7). Sizes in vCPU and MiB; replicas are task/instance
    counts; scale triggers are utilisation percentages (APP-1, APP-2)."""

    name: Annotated[str, Field(pattern=SERVICE_NAME_PATTERN)]
    image: Image
    port: Annotated[int, Field(ge=1024, le=65535)]
    health: HealthCheck = HealthCheck()
    min_replicas: Annotated[int, Field(ge=1, le=100)]
    max_replicas: Annotated[int, Field(ge=1, le=100)]
    cpu_request: Annotated[float, Field(gt=0, le=4)]
    cpu_limit: Annotated[float, Field(gt=0, le=4)]
    memory_request_mib: Annotated[int, Field(ge=128, le=16384)]
    memory_limit_mib: Annotated[int, Field(ge=128, le=16384)]
    scale_cpu_percent: Annotated[int, Field(ge=10, le=95)]
    scale_memory_percent: Annotated[int, Field(ge=10, le=95)]
    environment: dict[Annotated[str, Field(pattern=ENV_NAME_PATTERN)], str] = {}
    secrets: list[Annotated[str, Field(pattern=SECRET_NAME_PATTERN)]] = []
    uses: list[Component] = []
    # Required, so an internal worker says `route: null` rather than losing its route silently.
    route: Route | None

    _max_replicas = field_validator("max_replicas")(at_least("min_replicas"))
    _cpu_limit = field_validator("cpu_limit")(at_least("cpu_request"))
    _memory_limit = field_validator("memory_limit_mib")(at_least("memory_request_mib"))

    @field_validator("secrets", "uses")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        repeated = sorted({item for item in value if value.count(item) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(repeated)} more than once")
        return value

    @property
    def internal(self) -> bool:
        """No route from the load balancer (a worker)."""
        return self.route is None


class GeneratedSecret(_Strict):
    kind: Literal["generated"]
    # SEC-5: at least 256 random bits; whole bytes.
    bits: Annotated[int, Field(ge=256, le=4096, multiple_of=8)] = 384
    description: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class DerivedSecret(_Strict):
    kind: Literal["derived"]
    source: DerivedSource
    description: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @property
    def component(self) -> Component:
        return DERIVED_SOURCES[self.source]


class ExternalSecret(_Strict):
    kind: Literal["external"]
    # Who provides the value and where it comes from: it is shown with the command that sets it.
    description: Annotated[str, Field(min_length=10, max_length=200)]
    # Whether the operator has given the secret a value (the README's command for the cloud).
    # Until then no service reads it: a revision or task that references a secret without a
    # value fails to start, so the first apply never depends on a person (DEPLOY-6). Switching
    # it to true after setting the value makes the next apply hand it to its readers.
    value_set: bool = False


Secret = Annotated[GeneratedSecret | DerivedSecret | ExternalSecret, Field(discriminator="kind")]

# Today's app: one JWT signing key and the database URL.
DEFAULT_CATALOG: dict[str, dict[str, str]] = {
    "JWT_SECRET": {"kind": "generated"},
    "DATABASE_URL": {"kind": "derived", "source": "database_url"},
}


def default_service(service: dict[str, Any]) -> dict[str, Any]:
    """Today's single service from the environment's `service:` block (raw data): port and
    sizes from there, `/health`, NODE_ENV=production, the JWT and database secrets, every
    component, and the whole site routed to it."""
    default: dict[str, Any] = with_inherited(
        {
            "name": DEFAULT_SERVICE_NAME,
            "environment": {"NODE_ENV": "production"},
            "secrets": list(DEFAULT_CATALOG),
            "uses": list(COMPONENTS),
            "route": {"path_prefix": "/"},
        },
        service,
    )
    return default


# The `service:` block's fields a service inherits when it does not set them.
INHERITED = (
    "port",
    "min_replicas",
    "max_replicas",
    "cpu_request",
    "cpu_limit",
    "memory_request_mib",
    "memory_limit_mib",
    "scale_cpu_percent",
    "scale_memory_percent",
)
# Defaults of the `service:` block's optional fields (synth/config.py, ServiceConfig).
SERVICE_BLOCK_DEFAULTS = {"port": 3001, "scale_cpu_percent": 70, "scale_memory_percent": 80}
DEFAULT_IMAGE_TAG = "0.1.0"


def _inherited(service: dict[str, Any]) -> dict[str, Any]:
    return {
        key: service.get(key, SERVICE_BLOCK_DEFAULTS.get(key))
        for key in INHERITED
        if key in service or key in SERVICE_BLOCK_DEFAULTS
    }


def with_inherited(service: Any, block: dict[str, Any]) -> Any:
    """A raw service entry with the `service:` block's values for the fields it leaves out,
    and its image tag (`image.tag`) from `service.image_tag` when it names none."""
    if not isinstance(service, dict):
        return service
    merged = {**_inherited(block), **service}
    image = merged.get("image", {})
    if isinstance(image, dict) and "tag" not in image:
        merged["image"] = {**image, "tag": block.get("image_tag", DEFAULT_IMAGE_TAG)}
    return merged


def reserved_environment(uses: set[str]) -> set[str]:
    """Names the platform sets for a service using `uses`, on any cloud (a file may switch
    cloud with CLOUD=, so a name reserved on one cloud is refused on all)."""
    names: set[str] = set()
    for table in PLATFORM_ENVIRONMENT.values():
        for key, found in table.items():
            if key == "always" or key in uses:
                names.update(found)
    return names


def secret_variables(
    name: str, secret: GeneratedSecret | DerivedSecret | ExternalSecret
) -> tuple[str, ...]:
    """The environment variables a reader of catalog secret `name` gets."""
    if secret.kind == "generated":
        return tuple(f"{name}{suffix}" for suffix in GENERATED_VARIANTS)
    return (name,)


def unset_external_secrets(config: EnvironmentConfig) -> frozenset[str]:
    """Catalog names of external secrets without a value yet (`value_set: false`): no service
    of any cloud reads them (DEPLOY-6; its cloud's README section says how to set one)."""
    return frozenset(
        name
        for name, entry in config.secrets.catalog.items()
        if isinstance(entry, ExternalSecret) and not entry.value_set
    )


def app_problems(config: EnvironmentConfig) -> list[str]:
    """Cross-references the schema cannot state field by field, one line each naming the field
    and the value: unknown or unread secrets, reserved or colliding variable names, routes
    that collide or that no certificate covers, and a reader URL without a replica."""
    problems: list[str] = []
    catalog = config.secrets.catalog
    names = [service.name for service in config.services]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"services: the name {name!r} is used by more than one service")
    read: set[str] = set()
    routes: dict[tuple[str, str], str] = {}
    for index, service in enumerate(config.services):
        where = f"services[{index}] ({service.name})"
        for secret in service.secrets:
            read.add(secret)
            if secret not in catalog:
                declared = ", ".join(sorted(catalog)) or "none"
                problems.append(
                    f"{where}.secrets: {secret!r} is not in secrets.catalog (declared: {declared})"
                )
        variables = {
            variable: secret
            for secret in service.secrets
            if secret in catalog
            for variable in secret_variables(secret, catalog[secret])
        }
        reserved = reserved_environment(set(config.service_uses(service)))
        for variable in sorted(service.environment):
            if variable in reserved:
                problems.append(
                    f"{where}.environment.{variable}: the platform sets this variable for the "
                    "service (synth/app.py, PLATFORM_ENVIRONMENT); choose another name"
                )
            if variable in variables:
                problems.append(
                    f"{where}.environment.{variable}: the service already gets this variable "
                    f"from secret {variables[variable]!r}"
                )
        for variable, secret in variables.items():
            if variable in reserved:
                problems.append(
                    f"{where}.secrets: {secret!r} gives the variable {variable}, which the "
                    "platform sets for the service; rename the secret"
                )
        if service.route is not None:
            host = service.route.host
            if (
                host is not None
                and host != config.domain
                and not host.endswith(f".{config.domain}")
            ):
                problems.append(
                    f"{where}.route.host: {host!r} is not domain ({config.domain}) or a name "
                    "under it, so the environment's certificate cannot cover it"
                )
            key = (host or config.domain, service.route.path_prefix)
            if key in routes:
                problems.append(
                    f"{where}.route: {key[0]}{key[1]} is already routed to service "
                    f"{routes[key]!r}; two services cannot share a host and path prefix"
                )
            routes.setdefault(key, service.name)
    given: dict[str, str] = {}
    for name, entry in sorted(catalog.items()):
        for variable in secret_variables(name, entry):
            if variable in given:
                problems.append(
                    f"secrets.catalog.{name}: its variable {variable} is also what "
                    f"{given[variable]!r} gives its readers; rename one of them"
                )
            given.setdefault(variable, name)
    for name in sorted(set(catalog) - read):
        problems.append(
            f"secrets.catalog.{name}: no service reads it; add it to a service's secrets or "
            "remove it"
        )
    for name, entry in sorted(catalog.items()):
        reader = isinstance(entry, DerivedSecret) and entry.source == "database_reader_url"
        if reader and config.database.read_replicas < 1:
            problems.append(
                f"secrets.catalog.{name}: source database_reader_url needs a read replica, "
                f"but database.read_replicas is {config.database.read_replicas}"
            )
    problems += readiness_problems(config)
    problems += azure_app_problems(config)
    problems += aws_app_problems(config)
    if (config.domain, "/") not in routes:
        problems.append(
            "services: no service is routed at path_prefix '/' on domain "
            f"({config.domain}); the load balancer sends every unmatched request there, so "
            "one service needs `route: {path_prefix: /}`"
        )
    return problems


def aws_app_problems(config: EnvironmentConfig) -> list[str]:
    """What the AWS constructs cannot build from a valid description (cloud aws only): a
    service reading an instance-endpoint URL that sets the CA variables the platform sets for
    it (constructs/aws/service.py)."""
    if config.cloud != "aws":
        return []
    # Imported here: synth/aws_app.py imports this module.
    from synth.aws_app import CA_BUNDLE_VARIABLES, reads_instance_endpoint

    problems = []
    for index, service in enumerate(config.services):
        if not reads_instance_endpoint(config, service):
            continue
        for variable in CA_BUNDLE_VARIABLES:
            if variable in service.environment:
                problems.append(
                    f"services[{index}] ({service.name}).environment.{variable}: the platform "
                    "sets it to the RDS CA bundle its tasks fetch, because the service reads a "
                    "database_direct_url or database_reader_url; remove it"
                )
    return problems


# Container Apps probes run at most every 240 s and time out within 240 s (ContainerAppProbe:
# periodSeconds and timeoutSeconds "Maximum value is 240",
# https://learn.microsoft.com/azure/templates/microsoft.app/containerapps).
AZURE_PROBE_MAX_SECONDS = 240
# EDGE-4 (REQUIREMENTS.md): "readiness probe every 10 s". Where `health.interval_seconds` is
# what decides readiness, a longer one would loosen the requirement; a shorter one probes more
# often and keeps it. On GCP it is the startup probe's period (constructs/gcp/service.py),
# which gates only a new instance's first traffic, so any interval keeps EDGE-4 there.
EDGE_4_READINESS_SECONDS = 10
READINESS_INTERVAL: dict[str, str] = {
    # An ALB routes only to targets its health check finds healthy (constructs/aws/edge.py).
    "aws": "on AWS it is the ALB target group's health check interval",
    "azure": "on Azure it is the Container App's readiness probe period",
}


def readiness_problems(config: EnvironmentConfig) -> list[str]:
    """A `health.interval_seconds` above EDGE-4's 10 s on a cloud where it is the readiness
    period (`READINESS_INTERVAL`), one line per service naming the field and the value."""
    what = READINESS_INTERVAL.get(config.cloud)
    if what is None:
        return []
    return [
        f"services[{index}] ({service.name}).health.interval_seconds: "
        f"{service.health.interval_seconds} is above {EDGE_4_READINESS_SECONDS}: {what}, and "
        f"EDGE-4 probes readiness every {EDGE_4_READINESS_SECONDS} s"
        for index, service in enumerate(config.services)
        if service.health.interval_seconds > EDGE_4_READINESS_SECONDS
    ]


def azure_gateway_target(config: EnvironmentConfig, host: str, path: str) -> Service | None:
    """The routed service Azure's Application Gateway sends `https://<host><path>` to
    (constructs/azure/edge.py): on `host`, the service with the longest path prefix that
    `path` falls under in whole segments (path rules `/api` and `/api/*`), else the host's `/`
    service, else the domain's `/` service; None for a host nothing is routed on."""
    routed = [s for s in config.services if s.route is not None]
    on_host = [s for s in routed if (s.route.host or config.domain) == host]  # type: ignore[union-attr]
    if not on_host and host != config.domain:
        return None
    matching = [
        s
        for s in on_host
        if s.route.path_prefix == "/"  # type: ignore[union-attr]
        or path == s.route.path_prefix  # type: ignore[union-attr]
        or path.startswith(s.route.path_prefix + "/")  # type: ignore[union-attr]
    ]
    if matching:
        return max(matching, key=lambda s: len(s.route.path_prefix))  # type: ignore[union-attr]
    return next(
        (
            s
            for s in routed
            if s.route.path_prefix == "/"  # type: ignore[union-attr]
            and s.route.host in (None, config.domain)  # type: ignore[union-attr]
        ),
        None,
    )


def azure_health_url(config: EnvironmentConfig, service: Service) -> str:
    """The URL of a routed service's health path through the gateway (OBS-4's availability
    test): its route's host (the domain if it names none) and its health path, which the
    gateway forwards unchanged (no path rewrite, constructs/azure/edge.py)."""
    assert service.route is not None
    return f"https://{service.route.host or config.domain}{service.health.path}"


def azure_app_problems(config: EnvironmentConfig) -> list[str]:
    """What the Azure constructs cannot build from a valid description (cloud azure only):
    a health path the gateway sends elsewhere, probe timings above Container Apps' limit."""
    if config.cloud != "azure":
        return []
    problems = []
    for index, service in enumerate(config.services):
        # OBS-4: each routed service's availability test GETs its health path through the
        # gateway, which must send that path to this service, not to another route's.
        if service.route is not None:
            host = service.route.host or config.domain
            target = azure_gateway_target(config, host, service.health.path)
            if target is not service:
                problems.append(
                    f"services[{index}] ({service.name}).health.path: {service.health.path} is "
                    f"not under its route ({host}, path_prefix {service.route.path_prefix}): the "
                    f"gateway sends https://{host}{service.health.path} to service "
                    f"{target.name if target else 'none'}, so the availability test (OBS-4) "
                    f"cannot reach {service.name}'s health; give it a health path under "
                    f"{service.route.path_prefix}"
                )
        # The interval is bounded above; the timeout's schema bound (60) is below this limit
        # today, and this keeps the limit enforced if that bound ever rises.
        timeout = service.health.timeout_seconds
        if timeout > AZURE_PROBE_MAX_SECONDS:
            problems.append(
                f"services[{index}] ({service.name}).health.timeout_seconds: {timeout} is above "
                f"{AZURE_PROBE_MAX_SECONDS}, the most Container Apps probes allow"
            )
    return problems
