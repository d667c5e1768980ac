"""Builds CKV_GW_APP_47: every Cloud Run service is one described service (APP-7, synth/app.py)
and looks as described: its port, health path on both probes, non-secret environment (its
`environment` plus exactly the platform wiring for what it uses, PLATFORM_ENVIRONMENT["gcp"]),
the secrets it lists (no more, no fewer), its replica bounds, and its route from the load
balancer: a serverless NEG and backend for it that the HTTPS URL map reaches at its host
and path prefix (the `/` service on the domain as the URL map's default), or, for an
internal service (`route: null`), no NEG at all. Every described service exists exactly
once in the stack; one missing or doubled fails every service.
"""

from typing import Any

from gcp_app_services import (
    described,
    environment,
    secret_names,
    service_name,
    serving_containers,
    wiring,
)
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

from synth.app import Service


def backends_of(stack: Stack, address: str) -> list[str]:
    """The backend services whose serverless NEG serves the Cloud Run service at `address`."""
    negs = {
        f"google_compute_region_network_endpoint_group.{n}"
        for n, b in stack.resources("google_compute_region_network_endpoint_group").items()
        for run in blocks(b, "cloud_run")
        if address_of(run.get("service")) == address
    }
    return [
        f"google_compute_backend_service.{n}"
        for n, b in stack.resources("google_compute_backend_service").items()
        if any(address_of(g.get("group")) in negs for g in blocks(b, "backend"))
    ]


def routed(stack: Stack, spec: Service, backends: list[str], domain: str) -> list[str]:
    """What is wrong with the route of a routed service (empty when the URL map routes its
    host and path prefix to one of `backends`)."""
    assert spec.route is not None
    host = spec.route.host or domain
    prefix = spec.route.path_prefix
    maps = [
        b
        for b in stack.resources("google_compute_url_map").values()
        if not blocks(b, "default_url_redirect")
    ]
    if not maps:
        return ["no URL map routes to services"]
    for url_map in maps:
        if prefix == "/" and host == domain:
            if address_of(url_map.get("default_service")) in backends:
                return []
            continue
        matchers = {m.get("name"): m for m in blocks(url_map, "path_matcher")}
        for rule in blocks(url_map, "host_rule"):
            if host not in (rule.get("hosts") or []):
                continue
            matcher = matchers.get(rule.get("path_matcher")) or {}
            if prefix == "/":
                if address_of(matcher.get("default_service")) in backends:
                    return []
                continue
            for path_rule in blocks(matcher, "path_rule"):
                paths = set(path_rule.get("paths") or [])
                if {prefix, f"{prefix}/*"} <= paths and address_of(
                    path_rule.get("service")
                ) in backends:
                    return []
    return [f"the URL map does not route {host}{prefix} to this service"]


class AppDescription(GroundworkCheck):
    id = "CKV_GW_APP_47"
    name = (
        "Each Cloud Run service is a described service with its port, health, env, secrets, "
        "scaling and route"
    )
    requirement = "APP-7"
    severity = "HIGH"
    resource_types = ("google_cloud_run_v2_service",)
    roles = ("workload",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        config = stack.config
        assert config is not None
        spec = described(config, body)
        if spec is None:
            wanted = ", ".join(service_name(config, s.name) for s in config.services)
            return Verdict.failed(f"{body.get('name')!r} is no described service ({wanted})")
        verdicts = []
        names = [b.get("name") for b in stack.resources("google_cloud_run_v2_service").values()]
        for other in config.services:
            count = names.count(service_name(config, other.name))
            if count != 1:
                verdicts.append(Verdict.failed(f"service {other.name} exists {count} times"))
        containers = serving_containers(body)
        if len(containers) != 1:
            return Verdict.failed(f"{len(containers)} serving containers; want 1")
        container = containers[0]
        ports = [p.get("container_port") for p in blocks(container, "ports")]
        if ports != [spec.port]:
            verdicts.append(Verdict.failed(f"port {ports}; want {spec.port}"))
        for probe in ("startup_probe", "liveness_probe"):
            http = [h for p in blocks(container, probe) for h in blocks(p, "http_get")]
            paths = [h.get("path") for h in http]
            if paths != [spec.health.path]:
                verdicts.append(Verdict.failed(f"{probe} path {paths}; want {spec.health.path}"))
        plain, secret = environment(container)
        platform_plain, _ = wiring(config, spec)
        for name, value in spec.environment.items():
            if plain.get(name) != value:
                verdicts.append(Verdict.failed(f"env {name}={plain.get(name)!r}; want {value!r}"))
        extra = set(plain) - set(spec.environment) - platform_plain
        missing = platform_plain - set(plain)
        if extra:
            verdicts.append(Verdict.failed(f"env {sorted(extra)} is not in the description"))
        if missing:
            verdicts.append(Verdict.failed(f"platform wiring {sorted(missing)} is missing"))
        wanted_secrets = secret_names(config, spec)
        if set(secret) != wanted_secrets:
            verdicts.append(
                Verdict.failed(f"reads secrets {sorted(secret)}; want {sorted(wanted_secrets)}")
            )
        scaling = next(iter(s for t in blocks(body, "template") for s in blocks(t, "scaling")), {})
        bounds = (scaling.get("min_instance_count"), scaling.get("max_instance_count"))
        if bounds != (spec.min_replicas, spec.max_replicas):
            verdicts.append(
                Verdict.failed(f"scales {bounds}; want ({spec.min_replicas}, {spec.max_replicas})")
            )
        backends = backends_of(stack, self.address)
        if spec.route is None:
            if backends:
                verdicts.append(Verdict.failed("an internal service has a load-balancer backend"))
        elif not backends:
            verdicts.append(Verdict.failed("no serverless NEG and backend serve it"))
        else:
            verdicts.extend(Verdict.failed(m) for m in routed(stack, spec, backends, config.domain))
        return combine(verdicts or [Verdict.passed(f"service {spec.name} as described")])


check = AppDescription()
