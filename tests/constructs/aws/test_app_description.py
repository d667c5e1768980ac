"""The AWS stack follows the app description (APP-7, SEC-5), one test per switch: services,
routes, internal workers, per-service environment and secrets, the cache and the bucket only
when used, generated and external secrets; and the described app passes the gate."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdktf import Testing as CdktfTesting
from matrix import ROOT, gate_report, requirement_statuses, start_synth, wait_all

from stacks.aws import AwsStack
from synth.config import EnvironmentConfig, load_environment

DESCRIBED = Path(__file__).resolve().parent / "environments" / "described.yaml"
PREFIX = "groundwork-described"
PROBE = "liveness-probe"  # synth/aws_app.py, LIVENESS_CONTAINER


def load(tmp_path: Path, change: Any = None) -> EnvironmentConfig:
    """The described environment, after `change(data)` edits its raw YAML."""
    data = yaml.safe_load(DESCRIBED.read_text())
    if change is not None:
        change(data)
    path = tmp_path / "described.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_environment(path)


def synth(config: EnvironmentConfig) -> dict[str, Any]:
    stack = AwsStack(CdktfTesting.app(), config)
    return json.loads(CdktfTesting.synth(stack))


def resources(stack: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return stack.get("resource", {}).get(kind, {})


def by_name(stack: dict[str, Any], kind: str, name: str, key: str = "name") -> dict[str, Any]:
    [body] = [b for b in resources(stack, kind).values() if b.get(key) == name]
    return body


def address(stack: dict[str, Any], kind: str, name: str, key: str = "name") -> str:
    [found] = [a for a, b in resources(stack, kind).items() if b.get(key) == name]
    return f"{kind}.{found}"


def container(stack: dict[str, Any], family: str) -> dict[str, Any]:
    task = by_name(stack, "aws_ecs_task_definition", family, "family")
    [definition] = [c for c in json.loads(task["container_definitions"]) if c["name"] != PROBE]
    return definition


def probe(stack: dict[str, Any], family: str) -> dict[str, Any]:
    task = by_name(stack, "aws_ecs_task_definition", family, "family")
    [definition] = [c for c in json.loads(task["container_definitions"]) if c["name"] == PROBE]
    return definition


@pytest.fixture(scope="module")
def described(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synth(load(tmp_path_factory.mktemp("described")))


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    def release(data: dict[str, Any]) -> None:
        data["aws"]["release_image"] = True
        # The operator has set STRIPE_API_KEY (README, "External secrets").
        data["secrets"]["catalog"]["STRIPE_API_KEY"]["value_set"] = True

    return synth(load(tmp_path_factory.mktemp("released"), release))


def test_deploy_6_an_external_secret_is_read_only_once_its_value_is_set(
    released: dict[str, Any], tmp_path: Path
) -> None:
    """The release image alone does not make a task read an external secret: only
    `value_set: true` does (the cross-cloud contract, synth/app.py); the secret's
    `value-set` tag says which, for CKV_GW_DEPLOY_38."""

    def release_unset(data: dict[str, Any]) -> None:
        data["aws"]["release_image"] = True

    unset = synth(load(tmp_path, release_unset))
    for stack, value_set in ((unset, "false"), (released, "true")):
        secret = by_name(stack, "aws_secretsmanager_secret", f"{PREFIX}/STRIPE_API_KEY")
        assert secret["tags"]["value-set"] == value_set
        api = container(stack, f"{PREFIX}-api")
        assert api["image"].startswith("${aws_ecr_repository.")
        read = "STRIPE_API_KEY" in {s["name"] for s in api["secrets"]}
        assert read is (value_set == "true")
        role = address(stack, "aws_iam_role", f"{PREFIX}-api-ecs-execution")
        [policy] = [
            b for b in resources(stack, "aws_iam_role_policy").values()
            if b["role"] == f"${{{role}.id}}"
        ]  # fmt: skip
        stripe = address(stack, "aws_secretsmanager_secret", f"{PREFIX}/STRIPE_API_KEY")
        assert (f"{stripe}.arn" in policy["policy"]) is (value_set == "true")


def test_deploy_6_an_external_secret_marked_set_is_checked_for_a_value_before_it_is_read(
    described: dict[str, Any], released: dict[str, Any]
) -> None:
    """`value_set: true` is the operator's word: a metadata-only read of the secret's versions
    whose postcondition wants AWSCURRENT fails the plan (or the apply, before the reader's
    task definition) when the secret has none, with the command that sets it
    (CKV_GW_DEPLOY_103)."""
    stripe = address(released, "aws_secretsmanager_secret", f"{PREFIX}/STRIPE_API_KEY")
    checks = released["data"]["aws_secretsmanager_secret_versions"]
    [(name, check)] = [(n, b) for n, b in checks.items() if b["secret_id"] == f"${{{stripe}.id}}"]
    [condition] = check["lifecycle"]["postcondition"]
    assert condition["condition"] == (
        '${contains(flatten(self.versions[*].version_stages), "AWSCURRENT")}'
    )
    message = condition["error_message"]
    for words in (
        "STRIPE_API_KEY",
        "value_set: true",
        "aws secretsmanager put-secret-value --region eu-west-1 --secret-id "
        f"{PREFIX}/STRIPE_API_KEY",
        "External secrets: setting their values",
        "or set value_set: false",
    ):
        assert words in message
    assert "${" not in message and message[0].isupper() and message.endswith(".")
    # Never the value: no data source that returns one.
    assert "aws_secretsmanager_secret_version" not in released["data"]
    # The API reads it and its task definition waits for the check; the others do not read it.
    waits = {
        family: f"data.aws_secretsmanager_secret_versions.{name}" in task.get("depends_on", [])
        for task in resources(released, "aws_ecs_task_definition").values()
        if (family := task["family"]).startswith(f"{PREFIX}-")
        and family[len(PREFIX) + 1 :] in ("web", "api", "worker")
    }
    assert waits == {f"{PREFIX}-web": False, f"{PREFIX}-api": True, f"{PREFIX}-worker": False}
    # Not marked set: nobody reads it, and nothing checks it.
    assert "aws_secretsmanager_secret_versions" not in described.get("data", {})


def test_app_7_three_services_each_once_with_its_own_names(described: dict[str, Any]) -> None:
    names = sorted(b["name"] for b in resources(described, "aws_ecs_service").values())
    assert names == [f"{PREFIX}-api", f"{PREFIX}-web", f"{PREFIX}-worker"]
    families = sorted(b["family"] for b in resources(described, "aws_ecs_task_definition").values())
    assert families == sorted([*names, f"{PREFIX}-db-roles"])  # and the one-off roles task
    # One cluster for all of them (the roles task has its own); each service has its own
    # roles, log group and scaling bounds.
    clusters = sorted(b["name"] for b in resources(described, "aws_ecs_cluster").values())
    assert clusters == [PREFIX, f"{PREFIX}-db-roles"]
    logs = {b["name"] for b in resources(described, "aws_cloudwatch_log_group").values()}
    assert {f"/ecs/{PREFIX}/{s}" for s in ("web", "api", "worker")} <= logs
    roles = {b["name"] for b in resources(described, "aws_iam_role").values()}
    for service in ("web", "api", "worker"):
        assert {f"{PREFIX}-{service}-ecs-execution", f"{PREFIX}-{service}-task"} <= roles
    bounds = {
        b["resource_id"].split("/")[-1]: (b["min_capacity"], b["max_capacity"])
        for b in resources(described, "aws_appautoscaling_target").values()
    }
    api = address(described, "aws_ecs_service", f"{PREFIX}-api")
    assert bounds[f"${{{api}.name}}"] == (2, 4)


def test_app_7_two_routes_and_the_worker_is_not_routed(described: dict[str, Any]) -> None:
    groups = resources(described, "aws_lb_target_group")
    assert sorted(g["port"] for g in groups.values()) == [3000, 8080]
    web_group = next(a for a, g in groups.items() if g["port"] == 3000)
    api_group = next(a for a, g in groups.items() if g["port"] == 8080)
    # The web service at / is the listener's default; /api is a rule on whole segments.
    https = next(b for b in resources(described, "aws_lb_listener").values() if b["port"] == 443)
    assert https["default_action"][0]["target_group_arn"].startswith(
        f"${{aws_lb_target_group.{web_group}."
    )
    [rule] = resources(described, "aws_lb_listener_rule").values()
    assert rule["action"][0]["target_group_arn"].startswith(f"${{aws_lb_target_group.{api_group}.")
    assert rule["condition"] == [{"path_pattern": {"values": ["/api", "/api/*"]}}]
    # Each target group checks its own service's health path and timings.
    assert groups[api_group]["health_check"]["path"] == "/api/health"
    assert groups[api_group]["health_check"]["interval"] == 8
    assert groups[api_group]["health_check"]["timeout"] == 4
    assert groups[web_group]["health_check"]["path"] == "/healthz"
    worker = by_name(described, "aws_ecs_service", f"{PREFIX}-worker")
    assert "load_balancer" not in worker
    assert "health_check_grace_period_seconds" not in worker
    # No ingress at all into the worker's tasks.
    worker_group = address(described, "aws_security_group", f"{PREFIX}-svc-worker")
    ingress = [
        r
        for r in resources(described, "aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"] == f"${{{worker_group}.id}}"
    ]
    assert ingress == []
    # OBS-4 probes the health path of the service at /.
    [check] = resources(described, "aws_route53_health_check").values()
    assert check["resource_path"] == "/healthz"


def test_app_7_each_service_gets_exactly_its_environment_and_secrets(
    described: dict[str, Any],
) -> None:
    web = container(described, f"{PREFIX}-web")
    api = container(described, f"{PREFIX}-api")
    worker = container(described, f"{PREFIX}-worker")
    env = {c["name"]: {e["name"]: e["value"] for e in c["environment"]} for c in (web, api, worker)}
    # web uses nothing: no database, cache or bucket wiring.
    assert env["web"] == {"PORT": "3000", "NODE_ENV": "production", "PUBLIC_API_PATH": "/api"}
    assert set(env["api"]) == {"PORT", "LOG_LEVEL", "DATABASE_HOST", "DATABASE_USER", "BUCKET_NAME"}
    assert env["api"]["LOG_LEVEL"] == "info"
    assert set(env["worker"]) == {"PORT", "QUEUE", "DATABASE_HOST", "DATABASE_USER"}
    secrets = {c["name"]: sorted(s["name"] for s in c["secrets"]) for c in (web, api, worker)}
    generated = ["SESSION_SECRET", "SESSION_SECRET_NEXT", "SESSION_SECRET_PREVIOUS"]
    assert secrets["web"] == generated
    # Nothing reads the external STRIPE_API_KEY before it says value_set: true (DEPLOY-6).
    assert secrets["api"] == sorted(["DATABASE_URL", *generated])
    assert secrets["worker"] == ["DATABASE_URL"]


def test_edge_4_the_worker_and_each_service_are_probed_on_their_own_port_from_busybox(
    released: dict[str, Any],
) -> None:
    """A worker (route: null) has no ALB check: its liveness is the sidecar's health check, a
    GET of its own port and health path with busybox's wget, never a tool of the (released)
    app image; the health check makes a failed worker task UNHEALTHY, which the deployment
    circuit breaker counts (F9)."""
    for service, url in (
        ("worker", "http://127.0.0.1:9090/health"),
        ("api", "http://127.0.0.1:8080/api/health"),
        ("web", "http://127.0.0.1:3000/healthz"),
    ):
        app = container(released, f"{PREFIX}-{service}")
        assert app["image"].startswith("${aws_ecr_repository.")
        assert "healthCheck" not in app
        sidecar = probe(released, f"{PREFIX}-{service}")
        assert sidecar["image"] == "public.ecr.aws/docker/library/busybox:1.37"
        assert sidecar["healthCheck"]["command"] == [
            "CMD-SHELL",
            f"wget -q -O /dev/null -T 5 {url} || exit 1",
        ]
        assert sidecar["essential"] is True


def test_iam_1_each_execution_role_reads_only_its_own_secrets(released: dict[str, Any]) -> None:
    stripe = address(released, "aws_secretsmanager_secret", f"{PREFIX}/STRIPE_API_KEY")
    url = address(released, "aws_secretsmanager_secret", f"{PREFIX}/DATABASE_URL")
    session = address(released, "aws_secretsmanager_secret", f"{PREFIX}/SESSION_SECRET")
    by_service = {}
    for service in ("web", "api", "worker"):
        role = address(released, "aws_iam_role", f"{PREFIX}-{service}-ecs-execution")
        [policy] = [
            b for b in resources(released, "aws_iam_role_policy").values()
            if b["role"] == f"${{{role}.id}}"
        ]  # fmt: skip
        [statement] = [
            s for s in json.loads(policy["policy"])["Statement"] if s["Sid"] == "ReadTheAppSecrets"
        ]
        by_service[service] = sorted(statement["Resource"])
    assert by_service["web"] == [f"${{{session}.arn}}"]
    assert by_service["api"] == sorted(f"${{{s}.arn}}" for s in (url, stripe, session))
    assert by_service["worker"] == [f"${{{url}.arn}}"]
    # After the release the API reads the external secret by reference.
    api = container(released, f"{PREFIX}-api")
    assert {"name": "STRIPE_API_KEY", "valueFrom": f"${{{stripe}.arn}}"} in api["secrets"]


def test_sec_5_every_catalog_entry_is_one_secret_tagged_with_its_kind(
    described: dict[str, Any],
) -> None:
    kinds = {
        b["name"]: b.get("tags", {}).get("secret-kind")
        for b in resources(described, "aws_secretsmanager_secret").values()
    }
    assert kinds == {
        f"{PREFIX}/SESSION_SECRET": "generated",
        f"{PREFIX}/DATABASE_URL": "derived",
        f"{PREFIX}/STRIPE_API_KEY": "external",
        f"{PREFIX}/DATABASE_PASSWORD": "platform",
    }


def test_sec_5_a_generated_secret_rotates_with_its_bits_and_restarts_its_readers(
    described: dict[str, Any],
) -> None:
    session = address(described, "aws_secretsmanager_secret", f"{PREFIX}/SESSION_SECRET")
    body = by_name(described, "aws_secretsmanager_secret", f"{PREFIX}/SESSION_SECRET")
    assert body["tags"]["secret-bits"] == "512"
    assert body["tags"]["restarts-ecs-service"] == f"{PREFIX}/{PREFIX}-web {PREFIX}/{PREFIX}-api"
    [rotation] = [
        r
        for r in resources(described, "aws_secretsmanager_secret_rotation").values()
        if r["secret_id"] == f"${{{session}.id}}"
    ]
    assert rotation["rotation_rules"]["automatically_after_days"] <= 90
    assert rotation["rotate_immediately"] is True
    versions = [
        v
        for v in resources(described, "aws_secretsmanager_secret_version").values()
        if v["secret_id"] == f"${{{session}.id}}"
    ]
    assert versions == []  # generated inside AWS, never in the JSON
    web = container(described, f"{PREFIX}-web")
    references = {s["name"]: s["valueFrom"] for s in web["secrets"]}
    assert references == {
        "SESSION_SECRET": f"${{{session}.arn}}",
        "SESSION_SECRET_PREVIOUS": f"${{{session}.arn}}::AWSPREVIOUS:",
        "SESSION_SECRET_NEXT": f"${{{session}.arn}}::NEXT:",
    }
    # The one rotator may restart exactly the two services that read it.
    policy = next(
        d
        for d in described["data"]["aws_iam_policy_document"].values()
        if any(s.get("sid") == "RestartTheAppService" for s in d["statement"])
    )
    [restart] = [s for s in policy["statement"] if s["sid"] == "RestartTheAppService"]
    assert sorted(r.rsplit("/", 1)[-1] for r in restart["resources"]) == [
        f"{PREFIX}-api",
        f"{PREFIX}-web",
    ]


def test_sec_5_an_external_secret_is_created_empty(released: dict[str, Any]) -> None:
    stripe = address(released, "aws_secretsmanager_secret", f"{PREFIX}/STRIPE_API_KEY")
    # No version, no rotation names it: only the metadata check that it has a value does.
    without_check = {**released, "data": {
        kind: bodies for kind, bodies in released.get("data", {}).items()
        if kind != "aws_secretsmanager_secret_versions"
    }}  # fmt: skip
    assert f"{stripe}.id" not in json.dumps(without_check)
    assert not any(
        v["secret_id"].startswith(f"${{{stripe}.")
        for v in resources(released, "aws_secretsmanager_secret_version").values()
    )


def test_cache_off_means_no_cache_and_no_cache_variables(described: dict[str, Any]) -> None:
    assert not any(kind.startswith("aws_elasticache_") for kind in described["resource"])
    text = json.dumps(described)
    assert "REDIS_" not in text
    assert "elasticache:Connect" not in text
    groups = {b["name"] for b in resources(described, "aws_security_group").values()}
    assert f"{PREFIX}-cache" not in groups


def test_cache_on_when_a_service_uses_it(tmp_path: Path) -> None:
    def worker_uses_cache(data: dict[str, Any]) -> None:
        data["services"][2]["uses"] = ["cache"]

    stack = synth(load(tmp_path, worker_uses_cache))
    assert len(resources(stack, "aws_elasticache_replication_group")) == 1
    worker = container(stack, f"{PREFIX}-worker")
    assert {"REDIS_HOST", "REDIS_USERNAME"} <= {e["name"] for e in worker["environment"]}
    api = container(stack, f"{PREFIX}-api")
    assert not any(e["name"].startswith("REDIS_") for e in api["environment"])


def test_bucket_off_means_no_bucket(tmp_path: Path) -> None:
    def nobody_stores(data: dict[str, Any]) -> None:
        data["services"][1]["uses"] = []

    stack = synth(load(tmp_path, nobody_stores))
    buckets = {b["bucket"] for b in resources(stack, "aws_s3_bucket").values()}
    assert all("-logs-" in name for name in buckets), buckets  # only the access-log bucket
    assert "BUCKET_NAME" not in json.dumps(stack)


def test_a_route_host_is_covered_by_the_certificate_and_matched(tmp_path: Path) -> None:
    host = "api.described.groundwork.example.com"

    def api_on_its_host(data: dict[str, Any]) -> None:
        data["services"][1]["route"] = {"host": host, "path_prefix": "/"}

    stack = synth(load(tmp_path, api_on_its_host))
    [certificate] = resources(stack, "aws_acm_certificate").values()
    assert certificate["subject_alternative_names"] == [host]
    assert len(resources(stack, "aws_route53_record")) >= 4  # A x2, validation x2
    [rule] = resources(stack, "aws_lb_listener_rule").values()
    assert rule["condition"] == [{"host_header": {"values": [host]}}]


def test_the_default_service_keeps_its_names() -> None:
    config = load_environment(ROOT / "environments" / "dev.yaml")
    stack = synth(config)
    [service] = resources(stack, "aws_ecs_service").values()
    assert service["name"] == "groundwork-dev"
    # Its construct IDs are unchanged too: the snapshots (tests/stacks/test_snapshots.py).
    [repository] = resources(stack, "aws_ecr_repository").values()
    assert repository["name"] == "groundwork-dev"


def lean(data: dict[str, Any]) -> dict[str, Any]:
    """described.yaml with the switches the other way: no bucket, the worker uses the cache,
    and DNS-1 is on (its own domain and network, so both stacks can be gated together)."""
    data = copy.deepcopy(data)
    # DNS-1: the stack's own zone, delegated from edge.hosted_zone_id, signed and logged.
    data["features"] = {"dns_enabled": True}
    # described.yaml's account: described creates the app's log-delivery policy of eu-west-1,
    # this one that of us-east-1 (CloudWatch Logs' quota, constructs/aws/log_delivery.py).
    data["aws"]["log_delivery_policy_regions"] = ["us-east-1"]
    data["domain"] = "lean.groundwork.example.com"
    data["alert_email"] = "alerts-lean@example.com"
    data["network"]["cidr"] = "10.60.0.0/16"
    data["services"][1]["uses"] = []
    data["services"][2]["uses"] = ["cache"]
    return data


@pytest.fixture(scope="module")
def described_gate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """described.yaml, its lean twin and its released state, synthesized as users do
    (main.py, CLOUD=aws)."""
    environments = tmp_path_factory.mktemp("environments")
    data = yaml.safe_load(DESCRIBED.read_text())
    (environments / "described.yaml").write_text(yaml.safe_dump(data))
    (environments / "lean.yaml").write_text(yaml.safe_dump(lean(data)))
    # After the release: the API reads its external secret (set by then, README), the images
    # come from the stack's repositories.
    released = copy.deepcopy(data)
    released["domain"] = "released.groundwork.example.com"
    released["alert_email"] = "alerts-released@example.com"
    released["network"]["cidr"] = "10.61.0.0/16"
    released["aws"]["release_image"] = True
    released["secrets"]["catalog"]["STRIPE_API_KEY"]["value_set"] = True
    # CDN-1 switched on in one stack of the run: pass there, n/a in the others; the API on a
    # host of its own, so the static paths are cached per host (F3).
    released["features"] = {"cdn_enabled": True}
    [api] = [s for s in released["services"] if s["name"] == "api"]
    api["route"] = {"host": "api.released.groundwork.example.com", "path_prefix": "/api"}
    released["aws"]["log_delivery_policy_regions"] = []  # described's and lean's serve it
    (environments / "released.yaml").write_text(yaml.safe_dump(released))
    out = tmp_path_factory.mktemp("described-out")
    stacks = "described,lean,released"
    extra = {"GROUNDWORK_ENVIRONMENTS": str(environments), "GROUNDWORK_STACKS": stacks}
    wait_all({"aws": start_synth("aws", out, extra_env=extra)})
    return environments, out


def test_the_described_app_passes_the_gate_with_each_switch(
    described_gate: tuple[Path, Path], tmp_path: Path
) -> None:
    environments, out = described_gate
    report = gate_report(out, environments, tmp_path / "verify.json")
    status = requirement_statuses(report)
    assert [r for r in report["requirements"] if r["status"] == "unchecked"] == []
    # Every construct waiver covers a failed check: CKV_AWS_378 only on a group a listener rule
    # forwards to, not on the default action's (web's here, at /), which passes it.
    assert report["waivers"]["unused"] == []
    for stack in ("described", "lean", "released"):
        assert status[stack, "APP-7"] == "pass" and status[stack, "SEC-5"] == "pass"
        # The three share one account (aws.account_shared), so each budget counts its
        # environment tag, whose activation by hand its construct waives (CKV_GW_DEPLOY_106);
        # every other DEPLOY-6 check passes.
        assert status[stack, "DEPLOY-6"] == "waived"
        assert {
            (f["check_id"], f["resource"].split(".")[0])
            for f in report["findings"]
            if f["stack"] == stack and "DEPLOY-6" in f["requirements"] and f["status"] != "passed"
        } == {("CKV_GW_DEPLOY_106", "aws_budgets_budget")}
    # An unused component's requirements are n/a, never pass.
    assert status["described", "CACHE-1"] == "n/a"
    # CDN-1 passes: only this distribution's origin header value gets past the ALB's web ACL
    # (CKV_GW_CDN_2, no waiver), and its values are strong enough (CKV_GW_CDN_3).
    assert status["released", "CDN-1"] == "pass"
    assert {
        (f["check_id"], f["status"])
        for f in report["findings"]
        if f["stack"] == "released" and f["check_id"].startswith("CKV_GW_CDN_")
    } == {("CKV_GW_CDN_1", "passed"), ("CKV_GW_CDN_2", "passed"), ("CKV_GW_CDN_3", "passed")}
    assert status["described", "CDN-1"] == status["lean", "CDN-1"] == "n/a"
    assert status["lean", "CACHE-1"] == "pass"
    # DNS-1 (Checkov's DNSSEC and query-logging checks on the zone included) passes where it
    # is on, and is n/a where it is off.
    assert status["lean", "DNS-1"] == "pass"
    assert status["described", "DNS-1"] == status["released", "DNS-1"] == "n/a"
    findings = {
        (f["stack"], f["check_id"], f["status"])
        for f in report["findings"]
        if f["resource"].startswith("aws_route53_zone.")
    }
    assert {("lean", "CKV2_AWS_38", "passed"), ("lean", "CKV2_AWS_39", "passed")} <= findings


def test_the_cluster_keeps_its_address_when_the_services_are_reordered(
    described: dict[str, Any], tmp_path: Path
) -> None:
    """The ECS cluster is the stack's, not the first service's: reordering `services:` must
    not destroy and recreate it under running services."""

    def reverse(data: dict[str, Any]) -> None:
        data["services"] = list(reversed(data["services"]))

    reordered = synth(load(tmp_path, reverse))
    for stack in (described, reordered):
        assert address(stack, "aws_ecs_cluster", PREFIX) == "aws_ecs_cluster.cluster"
        names = {b["name"]: a for a, b in resources(stack, "aws_cloudwatch_log_group").items()}
        performance = f"/aws/ecs/containerinsights/{PREFIX}/performance"
        assert names[performance] == "cluster-insights-logs"
        clusters = {s["cluster"] for s in resources(stack, "aws_ecs_service").values()}
        assert clusters == {"${aws_ecs_cluster.cluster.arn}"}
    # Where the cluster was before (in the first listed service's construct) moves over.
    moved = {m["to"]: m["from"] for m in described["moved"]}
    assert moved["aws_ecs_cluster.cluster"].startswith("aws_ecs_cluster.service-web_cluster_")
    moved = {m["to"]: m["from"] for m in reordered["moved"]}
    assert moved["aws_ecs_cluster.cluster"].startswith("aws_ecs_cluster.service-worker_cluster_")


def test_deploy_2_each_ecs_service_waits_for_every_rule_of_its_security_group(
    described: dict[str, Any],
) -> None:
    """Terraform drops a new group's allow-all egress: tasks started before the group's
    rules exist reach nothing (CKV_GW_DEPLOY_11)."""
    rules = {
        f"{kind}.{a}": b
        for kind in ("aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule")
        for a, b in resources(described, kind).items()
    }
    for service in ("web", "api", "worker"):
        body = by_name(described, "aws_ecs_service", f"{PREFIX}-{service}")
        (group,) = body["network_configuration"]["security_groups"]
        naming = {
            a
            for a, r in rules.items()
            if group in (r["security_group_id"], r.get("referenced_security_group_id"))
        }
        assert naming, service
        assert naming <= set(body["depends_on"]), service
    # The worker's group: HTTPS out and PostgreSQL both ways, nothing from the ALB.
    worker = by_name(described, "aws_ecs_service", f"{PREFIX}-worker")
    assert not any("alb" in d for d in worker["depends_on"] if "security_group" in d)


def test_the_rotation_may_restart_exactly_the_services_its_secrets_restart_tags_name(
    described: dict[str, Any],
) -> None:
    """One source (synth/aws_app.py, restart_tag): the secret's tag that tells the rotation
    function whom to restart, and the services its role may UpdateService."""
    tag = by_name(described, "aws_secretsmanager_secret", f"{PREFIX}/SESSION_SECRET")["tags"]
    tagged = set(tag["restarts-ecs-service"].split())
    assert tagged == {f"{PREFIX}/{PREFIX}-web", f"{PREFIX}/{PREFIX}-api"}
    [document] = [
        d
        for d in described["data"]["aws_iam_policy_document"].values()
        if any(s.get("sid") == "RestartTheAppService" for s in d["statement"])
    ]
    [restart] = [s for s in document["statement"] if s.get("sid") == "RestartTheAppService"]
    assert restart["actions"] == ["ecs:UpdateService"]
    assert {arn.rsplit(":service/", 1)[1] for arn in restart["resources"]} == tagged
