"""Tests the JWT_SECRET rotation function (SEC-1, SEC-2, SEC-3) against a fake Secrets Manager.

`FakeSecretsManager` keeps versions and staging labels in memory and behaves like the
service where the function depends on it: RotateSecret stages the new version ID as
AWSPENDING before the first step, a version without a value is not found, moving
AWSCURRENT moves AWSPREVIOUS along, and moving a label that sits elsewhere needs
RemoveFromVersionId.
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

    def __init__(self, *, rotation_enabled: bool = True) -> None:
        self.rotation_enabled = rotation_enabled
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


def run(client: FakeSecretsManager, token: str, steps: tuple[str, ...] = STEPS) -> None:
    event = client.start_rotation(token)
    for step in steps:
        rotate({**event, "Step": step}, client)


def test_sec_2_first_rotation_creates_the_first_current_key() -> None:
    """rotate_immediately: the secret has no version at all before the first rotation."""
    client = FakeSecretsManager()
    run(client, "v1")
    assert client.holding("AWSCURRENT") == "v1"
    assert client.holding("AWSPREVIOUS") is None
    assert key_bytes(client.versions["v1"]["value"]) >= 32


def test_sec_2_next_rotation_replaces_the_key_and_keeps_the_previous() -> None:
    client = FakeSecretsManager()
    run(client, "v1")
    run(client, "v2")
    assert client.holding("AWSCURRENT") == "v2"
    assert client.holding("AWSPREVIOUS") == "v1"
    assert client.versions["v2"]["value"] != client.versions["v1"]["value"]


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
    assert client.calls.count("put_secret_value") == 1


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


class DescribeOnly:
    """describe_secret answers from a list of snapshots, one per call."""

    def __init__(self, *snapshots: dict[str, list[str]]) -> None:
        self.snapshots = list(snapshots)
        self.calls = 0

    def describe_secret(self, SecretId: str) -> dict[str, Any]:
        self.calls += 1
        snapshot = self.snapshots[min(self.calls, len(self.snapshots)) - 1]
        return {"ARN": SecretId, "VersionIdsToStages": snapshot}


def test_deploy_5_await_current_returns_once_the_first_rotation_finished() -> None:
    client = DescribeOnly({"v1": ["AWSPENDING"]}, {"v1": ["AWSPENDING"]}, {"v1": ["AWSCURRENT"]})
    pauses: list[int] = []
    assert jwt_rotation.await_current(ARN, client, sleep=pauses.append) == {"current_version": "v1"}
    assert client.calls == 3 and len(pauses) == 2


def test_deploy_5_await_current_fails_the_apply_when_no_version_appears() -> None:
    client = DescribeOnly({"v1": ["AWSPENDING"]})
    with pytest.raises(RotationError, match="no AWSCURRENT version"):
        jwt_rotation.await_current(ARN, client, sleep=lambda _: None, polls=3)
    assert client.calls == 3
