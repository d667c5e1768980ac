"""Builds CKV_GW_APP_7: every service the environment describes exists once on ECS, with its
port, health path, non-secret environment, secrets, scaling bounds and route, or none (APP-7).

Judged on each `aws_ecs_service` (a service nobody described fails), and on the provider
block for what is missing (a described service with no ECS service). Names follow
synth/aws_app.py (`<prefix>` for the default service, `<prefix>-<service>` for the others).
The platform wiring variables (synth/app.py, PLATFORM_ENVIRONMENT) are judged by what the
service uses; an internal service (`route: null`) has no load balancer, and a routed one is
reached by a listener rule on its path prefix (whole segments) and host, or is the
listener's default at `/`.
"""

import json
from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    expect_equal,
)

from synth.app import Service
from synth.aws_app import (
    CA_BUNDLE_VARIABLES,
    app_containers,
    expected_secret_variables,
    reads_instance_endpoint,
    service_by_resource_name,
    service_resource_name,
    wiring_variables,
)
from synth.config import EnvironmentConfig


def _container(stack: Stack, body: dict[str, Any]) -> dict[str, Any] | None:
    task = address_of(body.get("task_definition"))
    definition = stack.graph.bodies.get(task or "")
    if not definition:
        return None
    containers = app_containers(json.loads(str(definition.get("container_definitions") or "[]")))
    return containers[0] if len(containers) == 1 else None


def _scaling(stack: Stack, address: str) -> dict[str, Any] | None:
    name = address.split(".", 1)[1]
    for body in stack.resources("aws_appautoscaling_target").values():
        if f"aws_ecs_service.{name}." in str(body.get("resource_id")):
            return body
    return None


def _route_verdicts(
    stack: Stack, config: EnvironmentConfig, service: Service, body: dict[str, Any]
) -> list[Verdict]:
    balancers = blocks(body, "load_balancer")
    if service.route is None:
        if balancers:
            return [
                Verdict.failed(f"{service.name} is internal (route: null) but is behind the ALB")
            ]
        return [Verdict.passed(f"{service.name} is internal: no load balancer")]
    if len(balancers) != 1:
        return [Verdict.failed(f"{service.name} is routed but has {len(balancers)} target groups")]
    group = address_of(balancers[0].get("target_group_arn"))
    verdicts = [expect_equal("container_port", balancers[0].get("container_port"), service.port,
                             f"services[{service.name}].port")]  # fmt: skip
    group_body = stack.graph.bodies.get(group or "") or {}
    verdicts.append(expect_equal("target group port", group_body.get("port"), service.port,
                                 f"services[{service.name}].port"))  # fmt: skip
    health = (blocks(group_body, "health_check") or [{}])[0]
    verdicts.append(expect_equal("health_check.path", health.get("path"), service.health.path,
                                 f"services[{service.name}].health.path"))  # fmt: skip
    route = service.route
    defaults = [
        action
        for listener in stack.resources("aws_lb_listener").values()
        if listener.get("protocol") == "HTTPS"
        for action in blocks(listener, "default_action")
    ]
    is_default = route.path_prefix == "/" and route.host in (None, config.domain)
    if is_default:
        forwards = any(address_of(a.get("target_group_arn")) == group for a in defaults)
        verdicts.append(
            Verdict.passed(f"{service.name} is the HTTPS listener's default")
            if forwards
            else Verdict.failed(f"{service.name} is routed at / but is not the listener's default")
        )
        return verdicts
    wanted: dict[str, set[str]] = {}
    if route.host is not None:
        wanted["host_header"] = {route.host}
    if route.path_prefix != "/":
        wanted["path_pattern"] = {route.path_prefix, f"{route.path_prefix}/*"}
    for rule in stack.resources("aws_lb_listener_rule").values():
        if not any(address_of(a.get("target_group_arn")) == group for a in blocks(rule, "action")):
            continue
        found = {
            kind: set(block.get("values") or [])
            for condition in blocks(rule, "condition")
            for kind in ("host_header", "path_pattern")
            for block in blocks(condition, kind)
        }
        if found == wanted:
            verdicts.append(Verdict.passed(f"{service.name} is routed by {sorted(wanted)}"))
            return verdicts
        verdicts.append(
            Verdict.failed(f"{service.name}'s listener rule matches {found}, not {wanted}")
        )
        return verdicts
    verdicts.append(Verdict.failed(f"no listener rule forwards {route} to {service.name}"))
    return verdicts


class AppDescription(GroundworkCheck):
    id = "CKV_GW_APP_7"
    name = (
        "Every described service runs once on ECS with its port, health path, environment, "
        "secrets, scaling bounds and route"
    )
    requirement = "APP-7"
    severity = "HIGH"
    resource_types = ("aws_ecs_service",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        config = stack.config
        assert config is not None
        name = body.get("name")
        service = service_by_resource_name(config, str(name))
        if service is None:
            return Verdict.failed(f"ECS service {name!r} is not a described service")
        verdicts: list[Verdict] = []
        same = [
            address
            for address, other in stack.resources("aws_ecs_service").items()
            if other.get("name") == name
        ]
        if len(same) != 1:
            verdicts.append(Verdict.failed(f"{len(same)} ECS services are named {name}"))
        # The described services missing on ECS are reported on the first one's verdict.
        names = {str(b.get("name")) for b in stack.resources("aws_ecs_service").values()}
        if (
            service is config.services[0]
            or service_resource_name(config, config.services[0].name) not in names
        ):
            for other in config.services:
                if service_resource_name(config, other.name) not in names:
                    verdicts.append(
                        Verdict.failed(f"described service {other.name} has no ECS service")
                    )
        container = _container(stack, body)
        if container is None:
            return combine(
                [*verdicts, Verdict.unknown("its task definition is not one container here")]
            )
        ports = [m.get("containerPort") for m in container.get("portMappings") or []]
        verdicts.append(expect_equal("containerPort", ports, [service.port],
                                     f"services[{service.name}].port"))  # fmt: skip
        environment = {e.get("name"): e.get("value") for e in container.get("environment") or []}
        described = f"services[{service.name}].environment"
        for variable, value in service.environment.items():
            verdicts.append(
                expect_equal(f"environment.{variable}", environment.get(variable), value, described)
            )
        wiring = set(wiring_variables(config.service_uses(service)))
        if reads_instance_endpoint(config, service):  # the RDS CA bundle (CKV_GW_DEPLOY_101)
            wiring |= set(CA_BUNDLE_VARIABLES)
        extra = set(environment) - wiring - set(service.environment)
        missing = wiring - set(environment)
        if extra:
            verdicts.append(
                Verdict.failed(f"environment has undescribed variables {sorted(extra)}")
            )
        if missing:
            verdicts.append(
                Verdict.failed(f"environment lacks the platform wiring {sorted(missing)}")
            )
        verdicts.append(expect_equal("environment.PORT", environment.get("PORT"), str(service.port),
                                     f"services[{service.name}].port"))  # fmt: skip
        secrets = sorted(str(s.get("name")) for s in container.get("secrets") or [])
        wanted = sorted(expected_secret_variables(config, service))
        verdicts.append(expect_equal("secrets", secrets, wanted,
                                     f"services[{service.name}].secrets"))  # fmt: skip
        scaling = _scaling(stack, self.address)
        if scaling is None:
            verdicts.append(Verdict.failed(f"{service.name} has no autoscaling target"))
        else:
            verdicts += [
                expect_equal("min_capacity", scaling.get("min_capacity"), service.min_replicas,
                             f"services[{service.name}].min_replicas"),
                expect_equal("max_capacity", scaling.get("max_capacity"), service.max_replicas,
                             f"services[{service.name}].max_replicas"),
            ]  # fmt: skip
        verdicts += _route_verdicts(stack, config, service, body)
        return combine(verdicts)


check = AppDescription()
