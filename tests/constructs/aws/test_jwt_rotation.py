"""Tests the JWT_SECRET rotation function (SEC-1, SEC-2, SEC-3) against a fake Secrets Manager.

`FakeSecretsManager` keeps versions and staging labels in memory and behaves like the
service where the function depends on it: RotateSecret stages the new version ID as
AWSPENDING before the first step, a version without a value is not found, moving
AWSCURRENT (by UpdateSecretVersionStage or PutSecretValue) moves AWSPREVIOUS along,
PutSecretValue moves the labels it names, and moving a
label that sits elsewhere needs RemoveFromVersionId. `FakeEcs` records UpdateService calls.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from constructs.aws.rotation import jwt_rotation
from constructs.aws.rotation.jwt_rotation import RotationError, key_bytes, rotate

ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:groundwork-dev/JWT_SECRET-AbCdEf"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class ResourceNotFoundException(Exception):
    pass


class InvalidParameterException(Exception):
    pass


class ResourceExistsException(Exception):
    pass


class FakeSecretsManager:
    """One secret's versions: {version_id: {"value": str | None, "stages": set[str]}}."""

    exceptions = types.SimpleNamespace(
        ResourceNotFoundException=ResourceNotFoundException,
        InvalidParameterException=InvalidParameterException,
        ResourceExistsException=ResourceExistsException,
    )

    def __init__(self, *, rotation_enabled: bool = True, tags: list[Any] | None = None) -> None:
        self.rotation_enabled = rotation_enabled
        self.tags = (
            tags
            if tags is not None
            else [{"Key": "restarts-ecs-service", "Value": "groundwork-dev/groundwork-app"}]
        )
        self.versions: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    # What RotateSecret does before invoking the function.
    def start_rotation(self, token: str) -> dict[str, str]:
        self._move("AWSPENDING", token)
        return {"SecretId": ARN, "ClientRequestToken": token}

    def _move(self, stage: str, token: str) -> None:
        for version in self.versions.values():
            version["stages"].discard(stage)
        self.versions.setdefault(token, {"value": None, "stages": set()})["stages"].add(stage)

    def holding(self, stage: str) -> str | None:
        return next((v for v, body in self.versions.items() if stage in body["stages"]), None)

    def describe_secret(self, *, SecretId: str) -> dict[str, Any]:
        assert SecretId == ARN
        self.calls.append("describe_secret")
        return {
            "ARN": ARN,
            "RotationEnabled": self.rotation_enabled,
            "Tags": self.tags,
            "VersionIdsToStages": {
                v: sorted(body["stages"]) for v, body in self.versions.items() if body["stages"]
            },
        }

    def get_secret_value(
        self, *, SecretId: str, VersionId: str | None = None, VersionStage: str | None = None
    ) -> dict[str, Any]:
        assert SecretId == ARN
        self.calls.append("get_secret_value")
        version_id = VersionId or (self.holding(VersionStage) if VersionStage else None)
        version = self.versions.get(version_id or "")
        if (
            version is None
            or version["value"] is None
            or (VersionStage and VersionStage not in version["stages"])
        ):
            raise ResourceNotFoundException(f"{VersionId}/{VersionStage}")
        return {"ARN": ARN, "VersionId": version_id, "SecretString": version["value"]}

    def put_secret_value(
        self, *, SecretId: str, ClientRequestToken: str, SecretString: str, VersionStages: list[str]
    ) -> dict[str, Any]:
        assert SecretId == ARN
        self.calls.append("put_secret_value")
        existing = self.versions.get(ClientRequestToken)
        if existing and existing["value"] is not None and existing["value"] != SecretString:
            raise ResourceExistsException(ClientRequestToken)
        self.versions.setdefault(ClientRequestToken, {"value": None, "stages": set()})
        self.versions[ClientRequestToken]["value"] = SecretString
        for stage in VersionStages:
            holder = self.holding(stage)
            if stage == "AWSCURRENT" and holder not in (None, ClientRequestToken):
                self._move("AWSPREVIOUS", holder)  # as PutSecretValue documents
            self._move(stage, ClientRequestToken)
        return {"ARN": ARN, "VersionId": ClientRequestToken}

    def update_secret_version_stage(
        self,
        *,
        SecretId: str,
        VersionStage: str,
        MoveToVersionId: str,
        RemoveFromVersionId: str | None = None,
    ) -> dict[str, Any]:
        assert SecretId == ARN
        self.calls.append("update_secret_version_stage")
        holder = self.holding(VersionStage)
        if holder not in (None, MoveToVersionId) and holder != RemoveFromVersionId:
            raise InvalidParameterException(f"{VersionStage} is attached to {holder}")
        if VersionStage == "AWSCURRENT" and holder not in (None, MoveToVersionId):
            self._move("AWSPREVIOUS", holder)
        self._move(VersionStage, MoveToVersionId)
        return {"ARN": ARN}


class ServiceNotFoundException(Exception):
    pass


class ClusterNotFoundException(Exception):
    pass


class ServiceNotActiveException(Exception):
    pass


class FakeEcs:
    """Records UpdateService calls; `missing` makes it answer like ECS before the service
    exists."""

    exceptions = types.SimpleNamespace(
        ServiceNotFoundException=ServiceNotFoundException,
        ClusterNotFoundException=ClusterNotFoundException,
        ServiceNotActiveException=ServiceNotActiveException,
    )

    def __init__(self, *, missing: bool = False) -> None:
        self.missing = missing
        self.updates: list[dict[str, Any]] = []

    def update_service(self, **kwargs: Any) -> dict[str, Any]:
        if self.missing:
            raise ServiceNotFoundException(kwargs["service"])
        self.updates.append(kwargs)
        return {"service": {"serviceName": kwargs["service"]}}


def run(
    client: FakeSecretsManager,
    token: str,
    steps: tuple[str, ...] = STEPS,
    ecs: FakeEcs | None = None,
) -> None:
    event = client.start_rotation(token)
    for step in steps:
        rotate({**event, "Step": step}, client, ecs)


def keys(client: FakeSecretsManager) -> dict[str, str]:
    """The value under each of the three labels the app reads."""
    return {
        stage: client.versions[client.holding(stage) or ""]["value"]
        for stage in ("AWSPREVIOUS", "AWSCURRENT", "NEXT")
    }


def test_sec_2_first_rotation_gives_all_three_keys() -> None:
    """rotate_immediately: the secret has no version at all before the first rotation; after
    it AWSCURRENT, AWSPREVIOUS and NEXT each hold a distinct real key."""
    client = FakeSecretsManager()
    run(client, "v1")
    assert client.holding("AWSCURRENT") == "v1"
    values = keys(client)
    assert len(set(values.values())) == 3
    assert all(key_bytes(value) >= 32 for value in values.values())


def test_sec_2_rotation_shifts_previous_current_next() -> None:
    """previous <- current <- next <- fresh: a task started before the rotation signs with
    the new PREVIOUS and knows the new CURRENT as its NEXT, so old and new tasks accept
    each other's tokens."""
    client = FakeSecretsManager()
    run(client, "v1")
    before = keys(client)
    run(client, "v2")
    after = keys(client)
    assert client.holding("AWSCURRENT") == "v2"
    assert after["AWSPREVIOUS"] == before["AWSCURRENT"]
    assert after["AWSCURRENT"] == before["NEXT"]
    assert after["NEXT"] not in before.values()
    assert key_bytes(after["NEXT"]) >= 32


def test_deploy_6_finish_forces_a_new_deployment_of_the_service() -> None:
    client, ecs = FakeSecretsManager(), FakeEcs()
    run(client, "v1", ("createSecret", "setSecret", "testSecret"), ecs=ecs)
    assert ecs.updates == []  # nothing restarts before the keys shifted
    run(client, "v1", ("finishSecret",), ecs=ecs)
    assert ecs.updates == [
        {"cluster": "groundwork-dev", "service": "groundwork-app", "forceNewDeployment": True}
    ]


def test_a_secret_without_the_restart_tag_restarts_nothing() -> None:
    client, ecs = FakeSecretsManager(tags=[]), FakeEcs()
    run(client, "v1", ecs=ecs)
    assert client.holding("AWSCURRENT") == "v1" and ecs.updates == []


def test_lambda_handler_builds_an_ecs_client_for_the_last_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, ecs = FakeSecretsManager(), FakeEcs()
    clients = {"secretsmanager": client, "ecs": ecs}
    requested: list[str] = []

    def make_client(service: str) -> Any:
        requested.append(service)
        return clients[service]

    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=make_client))
    event = client.start_rotation("v1")
    for step in STEPS:
        jwt_rotation.lambda_handler({**event, "Step": step}, None)
    assert requested.count("ecs") == 1 and len(ecs.updates) == 1


def test_deploy_6_the_first_rotation_runs_before_the_service_exists() -> None:
    """At the first apply the service waits for the first rotation: no service, no error."""
    client, ecs = FakeSecretsManager(), FakeEcs(missing=True)
    run(client, "v1", ecs=ecs)
    assert client.holding("AWSCURRENT") == "v1" and ecs.updates == []


def test_finish_retry_after_current_moved_still_replaces_next() -> None:
    """A finishSecret that moved AWSCURRENT but failed before the fresh NEXT: the retry
    leaves NEXT different from the current key and restarts the service."""
    client, ecs = FakeSecretsManager(), FakeEcs()
    run(client, "v1")
    run(client, "v2", ("createSecret", "setSecret", "testSecret"))
    client.update_secret_version_stage(
        SecretId=ARN, VersionStage="AWSCURRENT", MoveToVersionId="v2", RemoveFromVersionId="v1"
    )
    assert keys(client)["NEXT"] == keys(client)["AWSCURRENT"]
    run(client, "v2", ("finishSecret",), ecs=ecs)
    values = keys(client)
    assert len(set(values.values())) == 3 and len(ecs.updates) == 1


def test_sec_1_generated_keys_carry_at_least_256_bits_and_differ() -> None:
    keys = {jwt_rotation.new_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(key_bytes(key) >= 32 for key in keys)


def test_create_secret_twice_keeps_the_first_value() -> None:
    client = FakeSecretsManager()
    event = {**client.start_rotation("v1"), "Step": "createSecret"}
    rotate(event, client)
    first = client.versions["v1"]["value"]
    rotate(event, client)
    assert client.versions["v1"]["value"] == first
    # the first rotation's AWSCURRENT, NEXT and pending versions; the retry writes nothing
    assert client.calls.count("put_secret_value") == 3


def test_set_secret_changes_nothing() -> None:
    client = FakeSecretsManager()
    run(client, "v1", ("createSecret",))
    before = {v: (b["value"], set(b["stages"])) for v, b in client.versions.items()}
    calls = len(client.calls)
    rotate({**client.start_rotation("v1"), "Step": "setSecret"}, client)
    assert {v: (b["value"], set(b["stages"])) for v, b in client.versions.items()} == before
    assert client.calls[calls:] == ["describe_secret"]


def test_test_secret_rejects_a_key_below_256_bits() -> None:
    client = FakeSecretsManager()
    client.start_rotation("v1")
    client.versions["v1"]["value"] = "c2hvcnQ"  # 5 bytes
    with pytest.raises(RotationError, match="fewer than 32 bytes"):
        rotate({"SecretId": ARN, "ClientRequestToken": "v1", "Step": "testSecret"}, client)


def test_test_secret_rejects_a_value_that_is_not_a_key() -> None:
    client = FakeSecretsManager()
    client.start_rotation("v1")
    client.versions["v1"]["value"] = "not base64 at all!" * 8
    with pytest.raises(RotationError):
        rotate({"SecretId": ARN, "ClientRequestToken": "v1", "Step": "testSecret"}, client)


def test_finish_secret_is_idempotent() -> None:
    client = FakeSecretsManager()
    run(client, "v1")
    run(client, "v2", ("createSecret", "setSecret", "testSecret"))
    finish = {"SecretId": ARN, "ClientRequestToken": "v2", "Step": "finishSecret"}
    rotate(finish, client)
    rotate(finish, client)  # a retry after success: v2 is AWSCURRENT, nothing to do
    assert client.holding("AWSCURRENT") == "v2"
    assert client.holding("AWSPREVIOUS") == "v1"
    assert client.calls.count("update_secret_version_stage") == 2  # v1 once, v2 once


def test_a_version_not_staged_for_rotation_is_refused() -> None:
    client = FakeSecretsManager()
    run(client, "v1")
    event = {"SecretId": ARN, "ClientRequestToken": "unknown", "Step": "createSecret"}
    calls = len(client.calls)
    with pytest.raises(RotationError, match="not staged for rotation"):
        rotate(event, client)
    assert client.calls[calls:] == ["describe_secret"]  # refused before writing anything


def test_a_version_staged_without_awspending_is_refused() -> None:
    client = FakeSecretsManager()
    run(client, "v1")
    run(client, "v2")  # v1 is now AWSPREVIOUS only
    with pytest.raises(RotationError, match="not staged as AWSPENDING"):
        rotate({"SecretId": ARN, "ClientRequestToken": "v1", "Step": "createSecret"}, client)


def test_rotation_must_be_enabled_on_the_secret() -> None:
    client = FakeSecretsManager(rotation_enabled=False)
    event = {**client.start_rotation("v1"), "Step": "createSecret"}
    with pytest.raises(RotationError, match="rotation is not enabled"):
        rotate(event, client)


def test_an_unknown_step_is_refused() -> None:
    client = FakeSecretsManager()
    with pytest.raises(RotationError, match="unknown rotation step"):
        rotate({**client.start_rotation("v1"), "Step": "dropSecret"}, client)


def test_lambda_handler_builds_its_client_only_when_invoked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = FakeSecretsManager()
    requested: list[str] = []

    def make_client(service: str) -> FakeSecretsManager:
        requested.append(service)
        return client

    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=make_client))
    assert requested == []  # importing the module built nothing
    jwt_rotation.lambda_handler({**client.start_rotation("v1"), "Step": "createSecret"}, None)
    assert requested == ["secretsmanager"]
    assert client.versions["v1"]["value"] is not None


def test_deploy_5_await_current_returns_the_first_rotations_three_keys() -> None:
    client = FakeSecretsManager()
    run(client, "v1")
    writes = client.calls.count("put_secret_value")
    pauses: list[int] = []
    found = jwt_rotation.await_current(ARN, client, sleep=pauses.append)
    assert found == {
        "current_version": "v1",
        "previous_version": client.holding("AWSPREVIOUS"),
        "next_version": client.holding("NEXT"),
    }
    assert pauses == [] and client.calls.count("put_secret_value") == writes  # nothing added


def test_deploy_5_await_current_waits_while_the_first_rotation_runs() -> None:
    """rotate_immediately returned; createSecret already stored AWSCURRENT, finishSecret has
    not run: waiting, not repairing, until the rotation ends."""
    client = FakeSecretsManager()
    run(client, "v1", ("createSecret",))
    pauses: list[int] = []

    def finish_during_pause(seconds: int) -> None:
        pauses.append(seconds)
        run(client, "v1", ("setSecret", "testSecret", "finishSecret"))

    found = jwt_rotation.await_current(ARN, client, sleep=finish_during_pause)
    assert len(pauses) == 1 and found["current_version"] == "v1"
    assert len(set(keys(client).values())) == 3


def test_deploy_6_await_current_completes_a_secret_from_before_the_contract() -> None:
    """One key, no AWSPREVIOUS, no NEXT (rotated once under the old function): the current
    key keeps its value, AWSPREVIOUS holds the same key, NEXT a fresh one."""
    client = FakeSecretsManager()
    client.put_secret_value(
        SecretId=ARN,
        ClientRequestToken="old",
        SecretString=jwt_rotation.new_key(),
        VersionStages=["AWSCURRENT"],
    )
    before = client.versions["old"]["value"]
    jwt_rotation.await_current(ARN, client, sleep=lambda _: None)
    values = keys(client)
    assert values["AWSCURRENT"] == values["AWSPREVIOUS"] == before
    assert values["NEXT"] != before and key_bytes(values["NEXT"]) >= 32


def test_deploy_5_await_current_fails_the_apply_when_no_version_appears() -> None:
    client = FakeSecretsManager()
    client.start_rotation("v1")  # a rotation that never finishes
    with pytest.raises(RotationError, match="lacks AWSCURRENT, AWSPREVIOUS or NEXT"):
        jwt_rotation.await_current(ARN, client, sleep=lambda _: None, polls=3)


def test_sec_5_finish_restarts_every_service_that_reads_the_secret() -> None:
    """One generated secret read by several services (APP-7): the tag names them all,
    space separated, and a rotation restarts each."""
    tags = [
        {
            "Key": "restarts-ecs-service",
            "Value": "groundwork-dev/groundwork-dev-web groundwork-dev/groundwork-dev-api",
        }
    ]
    client, ecs = FakeSecretsManager(tags=tags), FakeEcs()
    run(client, "v1", ecs=ecs)
    assert [(u["cluster"], u["service"]) for u in ecs.updates] == [
        ("groundwork-dev", "groundwork-dev-web"),
        ("groundwork-dev", "groundwork-dev-api"),
    ]


def test_sec_5_keys_are_as_long_as_the_catalog_entry_says() -> None:
    """The `secret-bits` tag (the catalog's `bits`) sets the key length; never below 256."""
    tags = [{"Key": "secret-bits", "Value": "512"}]
    client = FakeSecretsManager(tags=tags)
    run(client, "v1")
    assert {key_bytes(value) for value in keys(client).values()} == {64}
    assert jwt_rotation.key_size({"Tags": [{"Key": "secret-bits", "Value": "128"}]}) == 32
    assert jwt_rotation.key_size({}) == jwt_rotation.KEY_BYTES
