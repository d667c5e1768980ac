"""Helpers of the GCP app-description policies (no check here): which described service
(synth/app.py) a Cloud Run service is, its serving container and environment, and what the
description says it must read and be given.

The naming contract is the constructs' (constructs/gcp/accounts.py, `service_name`): the
default service `app` is `<prefix>`, any other `<prefix>-<service>`.
"""

from typing import Any

from groundwork_policy import Stack, address_of, blocks

from synth.app import (
    COMPONENTS,
    PLATFORM_ENVIRONMENT,
    Service,
    secret_variables,
    service_suffix,
    unset_external_secrets,
)
from synth.config import EnvironmentConfig

# Cloud Run sets PORT itself (https://cloud.google.com/run/docs/container-contract#env-vars).
CLOUD_RUN_SETS = ("PORT",)
# Platform wiring delivered as Secret Manager secrets (constructs/gcp/secrets.py); the rest of
# PLATFORM_ENVIRONMENT["gcp"] are plain values.
PLATFORM_SECRETS = {"REDIS_AUTH": "cache", "REDIS_CA_CERT": "cache"}
# The break-glass database password: external, read by no service (DB-9 logs in with IAM).
BREAK_GLASS = "DATABASE_PASSWORD"


def service_name(config: EnvironmentConfig, service: str) -> str:
    return config.prefix + service_suffix(service)


def described(config: EnvironmentConfig, body: dict[str, Any]) -> Service | None:
    """The described service a `google_cloud_run_v2_service` body is, by its name."""
    name = body.get("name")
    return next((s for s in config.services if service_name(config, s.name) == name), None)


def serving_containers(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The container with a port (sidecars, the Cloud SQL Auth Proxy, take no traffic)."""
    return [
        c
        for t in blocks(body, "template")
        for c in blocks(t, "containers")
        if blocks(c, "ports") or len(blocks(t, "containers")) == 1
    ]


def environment(container: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(plain variables by name -> value, secret variables by name -> secret reference)."""
    plain: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for env in blocks(container, "env"):
        refs = [r for v in blocks(env, "value_source") for r in blocks(v, "secret_key_ref")]
        if refs:
            secret[env.get("name", "")] = refs[0].get("secret")
        else:
            plain[env.get("name", "")] = env.get("value")
    return plain, secret


def wiring(config: EnvironmentConfig, service: Service) -> tuple[set[str], set[str]]:
    """(plain, secret) platform variables the service gets for what it uses (synth/app.py,
    PLATFORM_ENVIRONMENT["gcp"])."""
    uses = config.service_uses(service)
    names = {
        name
        for component in COMPONENTS
        if component in uses
        for name in PLATFORM_ENVIRONMENT["gcp"][component]
        if name not in CLOUD_RUN_SETS
    }
    secret = {n for n in names if n in PLATFORM_SECRETS}
    return names - secret, secret


def secret_names(config: EnvironmentConfig, service: Service) -> set[str]:
    """Every variable the service reads from Secret Manager: its catalog secrets (a generated
    X as X, X_PREVIOUS, X_NEXT; not an external one whose value is not set yet, which no
    service reads) and the platform's secrets for what it uses."""
    catalog = config.secrets.catalog
    unset = unset_external_secrets(config)
    listed = {
        variable
        for name in service.secrets
        if name in catalog and name not in unset
        for variable in secret_variables(name, catalog[name])
    }
    return listed | wiring(config, service)[1]


def service_of(stack: Stack, address: str) -> dict[str, Any] | None:
    """The Cloud Run service body at `address` (`google_cloud_run_v2_service.<name>`)."""
    kind, _, name = address.partition(".")
    if kind != "google_cloud_run_v2_service":
        return None
    return stack.resources(kind).get(name)


def readers(stack: Stack, secret_address: str) -> list[tuple[str, dict[str, Any], str]]:
    """(service address, body, variable) of every Cloud Run env that reads the secret."""
    from gcp_deploy_refs import secret_address as resolve

    found = []
    for name, body in stack.resources("google_cloud_run_v2_service").items():
        for t in blocks(body, "template"):
            for c in blocks(t, "containers"):
                for env in blocks(c, "env"):
                    for v in blocks(env, "value_source"):
                        for ref in blocks(v, "secret_key_ref"):
                            if resolve(stack, ref.get("secret")) == secret_address:
                                found.append(
                                    (f"google_cloud_run_v2_service.{name}", body, env.get("name"))
                                )
    return found


def account_readers(stack: Stack, secret_address: str) -> list[str]:
    """Members granted secretAccessor on the secret."""
    members = []
    for body in stack.resources("google_secret_manager_secret_iam_member").values():
        if address_of(body.get("secret_id")) != secret_address:
            continue
        if body.get("role") == "roles/secretmanager.secretAccessor":
            members.append(str(body.get("member")))
    return members
