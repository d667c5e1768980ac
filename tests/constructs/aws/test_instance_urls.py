"""`database_direct_url` and `database_reader_url` on AWS (SEC-5, DEPLOY-6): instance endpoints,
the same role and IAM token as through RDS Proxy, and the RDS CA bundle fetched by an init
container before the app starts (constructs/aws/service.py, secrets.py, database.py)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdktf import Testing as CdktfTesting

from stacks.aws import AwsStack
from synth.config import ConfigError, load_environment

DESCRIBED = Path(__file__).parent / "environments" / "described.yaml"
PREFIX = "groundwork-described"
BUNDLE = "https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem"
ROOT_CA_1 = "https://www.amazontrust.com/repository/AmazonRootCA1.pem"


def described(tmp_path: Path, change: Any = None) -> Any:
    data = yaml.safe_load(DESCRIBED.read_text())
    data["database"] = {"read_replicas": 2}
    catalog = data["secrets"]["catalog"]
    catalog["DIRECT_URL"] = {"kind": "derived", "source": "database_direct_url"}
    catalog["READER_URL"] = {"kind": "derived", "source": "database_reader_url"}
    [api] = [s for s in data["services"] if s["name"] == "api"]
    api["secrets"] += ["DIRECT_URL"]
    [worker] = [s for s in data["services"] if s["name"] == "worker"]
    worker["secrets"] += ["READER_URL"]
    if change is not None:
        change(data)
    path = tmp_path / "described.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_environment(path)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    config = described(tmp_path_factory.mktemp("instance-urls"))
    return json.loads(CdktfTesting.synth(AwsStack(CdktfTesting.app(), config)))


def resources(stack: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return stack["resource"].get(kind, {})


def by_name(stack: dict[str, Any], kind: str, name: str, key: str = "name") -> tuple[str, Any]:
    [(address, body)] = [(a, b) for a, b in resources(stack, kind).items() if b.get(key) == name]
    return address, body


def containers(stack: dict[str, Any], service: str) -> dict[str, dict[str, Any]]:
    _, task = by_name(stack, "aws_ecs_task_definition", f"{PREFIX}-{service}", "family")
    return {c["name"]: c for c in json.loads(task["container_definitions"])}


def value_of(stack: dict[str, Any], secret: str) -> str:
    address, _ = by_name(stack, "aws_secretsmanager_secret", f"{PREFIX}/{secret}")
    [version] = [
        v
        for v in resources(stack, "aws_secretsmanager_secret_version").values()
        if v["secret_id"] == f"${{aws_secretsmanager_secret.{address}.id}}"
    ]
    return str(version["secret_string"])


def test_direct_and_reader_urls_name_the_primary_and_the_first_replica(
    stack: dict[str, Any],
) -> None:
    primary, _ = by_name(stack, "aws_db_instance", f"{PREFIX}-postgres", "identifier")
    replica, _ = by_name(stack, "aws_db_instance", f"{PREFIX}-postgres-replica-1", "identifier")
    assert value_of(stack, "DIRECT_URL") == (
        f"postgresql://groundwork_app@${{aws_db_instance.{primary}.address}}:5432/groundwork"
        "?sslmode=verify-full"
    )
    assert value_of(stack, "READER_URL") == (
        f"postgresql://groundwork_app@${{aws_db_instance.{replica}.address}}:5432/groundwork"
        "?sslmode=verify-full"
    )


def test_each_reader_may_sign_in_at_exactly_the_instance_it_reads(stack: dict[str, Any]) -> None:
    primary, _ = by_name(stack, "aws_db_instance", f"{PREFIX}-postgres", "identifier")
    replica, _ = by_name(stack, "aws_db_instance", f"{PREFIX}-postgres-replica-1", "identifier")

    def connect(service: str) -> str:
        """The task policy's text: it holds `${element(split(":", ...))}`, which is HCL inside
        a JSON string, so it is read as text."""
        role, _ = by_name(stack, "aws_iam_role", f"{PREFIX}-{service}-task")
        [policy] = [
            b
            for b in resources(stack, "aws_iam_role_policy").values()
            if b["role"] == f"${{aws_iam_role.{role}.id}}"
        ]
        return str(policy["policy"])

    api, worker = connect("api"), connect("worker")
    primary_user = f"${{aws_db_instance.{primary}.resource_id}}/groundwork_app"
    replica_user = f"${{aws_db_instance.{replica}.resource_id}}/groundwork_app"
    assert primary_user in api and replica_user not in api
    assert replica_user in worker and primary_user not in worker
    assert all('dbuser:${element(split(":"' in text for text in (api, worker))


def test_the_app_starts_after_an_init_container_fetched_the_rds_ca(stack: dict[str, Any]) -> None:
    for service in ("api", "worker"):
        found = containers(stack, service)
        app, fetch = found[service], found["rds-ca-bundle"]
        environment = {e["name"]: e["value"] for e in app["environment"]}
        assert environment["NODE_EXTRA_CA_CERTS"] == "/rds-ca/rds-ca-bundle.pem"
        assert environment["PGSSLROOTCERT"] == "/rds-ca/rds-ca-bundle.pem"
        assert {"sourceVolume": "rds-ca", "containerPath": "/rds-ca", "readOnly": True} in app[
            "mountPoints"
        ]
        assert app["dependsOn"] == [{"containerName": "rds-ca-bundle", "condition": "SUCCESS"}]
        assert fetch["essential"] is False
        assert fetch["image"] == "public.ecr.aws/amazonlinux/amazonlinux:2023"
        # The region's RDS CA (instance endpoints) and Amazon Root CA 1 (RDS Proxy, which the
        # same task's DATABASE_URL reaches: PGSSLROOTCERT replaces libpq's roots), each over
        # HTTPS only, then one file of both; `&&` stops at the first failure.
        assert fetch["entryPoint"] == ["sh", "-c"]
        [script] = fetch["command"]
        *downloads, bundle = [shlex.split(step) for step in script.split(" && ")]
        assert not {";", "||", "|"} & set(script.split())
        assert [words[-1] for words in downloads] == [BUNDLE, ROOT_CA_1]
        outputs = []
        for words in downloads:
            assert words[:2] == ["curl", "--fail"]
            assert words[words.index("--proto") + 1] == "=https"
            outputs.append(words[words.index("--output") + 1])
        assert bundle == ["cat", *outputs, ">", "/rds-ca/rds-ca-bundle.pem"]
        assert fetch["mountPoints"] == [
            {"sourceVolume": "rds-ca", "containerPath": "/rds-ca", "readOnly": False}
        ]
    # The web service reads no instance URL: no init container, no CA variables.
    web = containers(stack, "web")
    assert set(web) == {"web", "liveness-probe"}
    assert "NODE_EXTRA_CA_CERTS" not in {e["name"] for e in web["web"]["environment"]}


def test_the_init_containers_memory_is_inside_the_fargate_task(stack: dict[str, Any]) -> None:
    _, task = by_name(stack, "aws_ecs_task_definition", f"{PREFIX}-worker", "family")
    limits = sum(c.get("memory", 0) for c in json.loads(task["container_definitions"]))
    assert limits <= int(task["memory"])
    assert {v["name"] for v in task["volume"]} == {"tmp", "rds-ca"}


def test_a_service_reading_an_instance_url_may_not_set_the_ca_variables(tmp_path: Path) -> None:
    def own_ca(data: dict[str, Any]) -> None:
        [api] = [s for s in data["services"] if s["name"] == "api"]
        api["environment"]["NODE_EXTRA_CA_CERTS"] = "/etc/ssl/mine.pem"

    with pytest.raises(ConfigError) as refused:
        described(tmp_path, own_ca)
    assert "services[1] (api).environment.NODE_EXTRA_CA_CERTS: the platform sets it" in str(
        refused.value
    )
