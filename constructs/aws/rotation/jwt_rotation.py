"""Secrets Manager rotation function for the generated secrets of the catalog (SEC-5): keys
shift previous <- current <- next. (The file keeps its first name, `jwt_rotation`: the
function's handler and name are unchanged for existing environments.)

Satisfies: SEC-1, SEC-2, SEC-3, SEC-5, DEPLOY-6

A reader of generated secret X receives three versions of the one secret (ECS `valueFrom`
with a version stage): `X` (AWSCURRENT: sign and verify), `X_PREVIOUS` (AWSPREVIOUS) and
`X_NEXT` (the custom label NEXT), both verify only. Keys are `secret-bits` (tag) long,
384 bits without the tag. A rotation makes the old NEXT
key current and a fresh 384-bit key NEXT; Secrets Manager moves AWSPREVIOUS to the version
AWSCURRENT leaves ("UpdateSecretVersionStage", "PutSecretValue" VersionStages,
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html).
So a task started before the rotation (signing with what is now PREVIOUS, knowing what is
now CURRENT as its NEXT) and one started after it accept each other's tokens. Then the
function forces a new deployment of the app's ECS service, so no live task is ever more
than one rotation behind.

Secrets Manager calls the function four times per rotation (createSecret, setSecret,
testSecret, finishSecret) with the same ClientRequestToken, the ID of the new version:
- createSecret stores the NEXT key as the AWSPENDING version. The very first rotation
  (`rotate_immediately` at apply, when the secret has no version at all) first stores a
  fresh AWSCURRENT and a fresh NEXT, so after it all three labels hold real keys;
- finishSecret moves AWSCURRENT to the pending version, puts a fresh NEXT, and restarts
  the services the secret's `restarts-ecs-service` tag names (`<cluster>/<service>`, space
  separated: every service reading the secret; `ecs:UpdateService` with
  forceNewDeployment). At the first rotation the
  services do not exist yet (they wait for this rotation), which is not an error.
Every key is generated here, inside AWS, so no value ever passes through Terraform. The
clients are parameters of `rotate`, so tests drive them with fakes; only `lambda_handler`
builds real ones (boto3 ships with the Lambda runtime).
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import uuid
from typing import Any

logger = logging.getLogger()
logger.setLevel(logging.INFO)

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"
NEXT = "NEXT"  # custom staging label: the key that becomes current at the next rotation
# The secret's tag naming the ECS service (`<cluster>/<service>`) the function restarts
# after a rotation (set by constructs/aws/secrets.py; its role may update only that one).
RESTART_TAG = "restarts-ecs-service"
BITS_TAG = "secret-bits"  # the key length in bits (the catalog entry's `bits`)
KEY_BYTES = 48  # 384 bits, above SEC-1's 256: without the tag
MIN_KEY_BYTES = 32  # 256 bits: what testSecret accepts


class RotationError(ValueError):
    """The event does not describe a rotation this function may perform."""


def new_key(size: int = KEY_BYTES) -> str:
    """A URL-safe base64 key of `size` random bytes from the OS CSPRNG."""
    return secrets.token_urlsafe(size)


def _tags(metadata: dict[str, Any]) -> dict[str, str]:
    return {tag.get("Key"): tag.get("Value") for tag in metadata.get("Tags") or []}


def key_size(metadata: dict[str, Any]) -> int:
    """Key bytes from the secret's BITS_TAG, never below MIN_KEY_BYTES; KEY_BYTES without it."""
    bits = str(_tags(metadata).get(BITS_TAG) or "")
    if not bits.isdigit():
        return KEY_BYTES
    return max(int(bits) // 8, MIN_KEY_BYTES)


def key_bytes(value: str) -> int:
    """How many random bytes a URL-safe base64 key carries; 0 if it is not one."""
    try:
        padded = value + "=" * (-len(value) % 4)
        return len(base64.b64decode(padded, altchars=b"-_", validate=True))
    except (binascii.Error, ValueError):
        return 0


def services_of(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (cluster, service) the secret's RESTART_TAG names (space separated)."""
    found = []
    for item in str(_tags(metadata).get(RESTART_TAG) or "").split():
        cluster, _, name = item.partition("/")
        if cluster and name:
            found.append((cluster, name))
    return found


def service_of(metadata: dict[str, Any]) -> tuple[str, str] | None:
    """The first (cluster, service) of the secret's RESTART_TAG, if it has one."""
    services = services_of(metadata)
    return services[0] if services else None


def rotate(event: dict[str, Any], client: Any, ecs: Any = None) -> None:
    """Run one rotation step for `event` against the Secrets Manager `client`; after the
    last step, force a new deployment (through `ecs`) of the service the secret's
    RESTART_TAG names."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"rotation is not enabled for secret {arn}")
    versions = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise RotationError(f"version {token} of {arn} is not staged for rotation")
    if CURRENT in versions[token] and step != "finishSecret":
        logger.info("version %s of %s is already AWSCURRENT; nothing to do", token, arn)
        return
    if CURRENT not in versions[token] and PENDING not in versions[token]:
        raise RotationError(f"version {token} of {arn} is not staged as AWSPENDING")

    size = key_size(metadata)
    if step == "finishSecret":
        finish_secret(client, arn, token, size)
        for service in services_of(metadata) or [None]:
            restart_service(ecs, service)
        return
    if step == "createSecret":
        create_secret(client, arn, token, size)
    elif step == "setSecret":
        set_secret(client, arn, token)
    elif step == "testSecret":
        verify_secret(client, arn, token)
    else:
        raise RotationError(f"unknown rotation step {step!r}")


def _holder(client: Any, arn: str, stage: str) -> str | None:
    versions = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    return next((v for v, stages in versions.items() if stage in stages), None)


def _put(client: Any, arn: str, stage: str, size: int = KEY_BYTES) -> None:
    """A fresh key as a new version labelled `stage` (the label leaves its old version)."""
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=str(uuid.uuid4()),
        SecretString=new_key(size),
        VersionStages=[stage],
    )


def create_secret(client: Any, arn: str, token: str, size: int = KEY_BYTES) -> None:
    """Store the NEXT key as the AWSPENDING version, unless a retry already did. The first
    rotation finds no version at all: it stores a fresh AWSCURRENT (which finishSecret turns
    into AWSPREVIOUS) and a fresh NEXT first, so every label holds a real key after it."""
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)
        logger.info("createSecret: version %s of %s already has a value", token, arn)
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    if _holder(client, arn, CURRENT) is None:
        _put(client, arn, CURRENT, size)
        logger.info("createSecret: stored a first AWSCURRENT key in %s", arn)
    if _holder(client, arn, NEXT) is None:
        _put(client, arn, NEXT, size)
        logger.info("createSecret: stored a first NEXT key in %s", arn)
    following = client.get_secret_value(SecretId=arn, VersionStage=NEXT)["SecretString"]
    client.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString=following, VersionStages=[PENDING]
    )
    logger.info("createSecret: the NEXT key is pending as version %s of %s", token, arn)


def set_secret(client: Any, arn: str, token: str) -> None:
    """Nothing to do: a generated key has no downstream system to update."""
    logger.info("setSecret: no downstream system for %s", arn)


def verify_secret(client: Any, arn: str, token: str) -> None:
    """The pending key must carry at least 256 bits."""
    value = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)
    if key_bytes(value["SecretString"]) < MIN_KEY_BYTES:
        raise RotationError(f"version {token} of {arn} holds fewer than {MIN_KEY_BYTES} bytes")
    logger.info("testSecret: version %s of %s is a valid key", token, arn)


def finish_secret(client: Any, arn: str, token: str, size: int = KEY_BYTES) -> None:
    """Move AWSCURRENT to the new version (AWSPREVIOUS follows the old one), then a fresh
    NEXT key. A retry after AWSCURRENT moved still replaces a NEXT equal to the current key."""
    current = _holder(client, arn, CURRENT)
    if current != token:
        move: dict[str, str] = {
            "SecretId": arn,
            "VersionStage": CURRENT,
            "MoveToVersionId": token,
        }
        if current is not None:
            move["RemoveFromVersionId"] = current
        client.update_secret_version_stage(**move)
        logger.info("finishSecret: version %s of %s is now AWSCURRENT", token, arn)
    current_key = client.get_secret_value(SecretId=arn, VersionStage=CURRENT)["SecretString"]
    try:
        following = client.get_secret_value(SecretId=arn, VersionStage=NEXT)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        following = None
    if following is None or following == current_key:
        _put(client, arn, NEXT, size)
        logger.info("finishSecret: stored a fresh NEXT key in %s", arn)


def restart_service(ecs: Any, service: tuple[str, str] | None) -> None:
    """Force a new deployment of the app's service so its tasks read the shifted keys (a
    rolling replacement: the service's own minimum healthy percent and circuit breaker
    apply). The first rotation runs before the service exists: nothing to restart."""
    if ecs is None or service is None:
        logger.info("no service to restart")
        return
    cluster, name = service
    try:
        ecs.update_service(cluster=cluster, service=name, forceNewDeployment=True)
    except (ecs.exceptions.ClusterNotFoundException, ecs.exceptions.ServiceNotFoundException):
        logger.info("service %s/%s does not exist yet; nothing to restart", cluster, name)
        return
    except ecs.exceptions.ServiceNotActiveException:
        logger.info("service %s/%s is not active; nothing to restart", cluster, name)
        return
    logger.info("forced a new deployment of %s/%s", cluster, name)


AWAIT_CURRENT = "awaitCurrent"
AWAIT_POLLS = 20
AWAIT_SECONDS = 5


def await_current(
    arn: str, client: Any, sleep: Any = None, polls: int = AWAIT_POLLS
) -> dict[str, str]:
    """Wait until no rotation is in progress and AWSCURRENT exists, then make sure
    AWSPREVIOUS and NEXT label versions too; return the three version IDs, never a value.

    Terraform invokes this after enabling rotation (`rotate_immediately` only starts the first
    rotation), so the app's service starts with all three keys (DEPLOY-5, DEPLOY-6): ECS
    cannot start a task whose `valueFrom` names a label no version carries. After a first
    rotation all three exist. A secret from before this contract (one key, maybe its
    previous) gets the missing ones without changing the current key: a copy of it put as
    AWSCURRENT moves AWSPREVIOUS to the old version (same value; "PutSecretValue",
    VersionStages), and a fresh key becomes NEXT, so running tasks keep signing validly.
    """
    import time

    pause = sleep or time.sleep
    for _ in range(polls):
        versions = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
        rotating = any(PENDING in st and CURRENT not in st for st in versions.values())
        if not rotating and any(CURRENT in st for st in versions.values()):
            break
        pause(AWAIT_SECONDS)
    else:
        raise RotationError(
            f"{arn} lacks AWSCURRENT, AWSPREVIOUS or NEXT after {polls * AWAIT_SECONDS} s"
        )
    if _holder(client, arn, PREVIOUS) is None:
        current = client.get_secret_value(SecretId=arn, VersionStage=CURRENT)["SecretString"]
        client.put_secret_value(
            SecretId=arn,
            ClientRequestToken=str(uuid.uuid4()),
            SecretString=current,
            VersionStages=[CURRENT],
        )
        logger.info("%s: the current key is now also AWSPREVIOUS", arn)
    if _holder(client, arn, NEXT) is None:
        _put(client, arn, NEXT)
        logger.info("%s: stored a NEXT key", arn)
    found = {
        key: _holder(client, arn, label)
        for key, label in (
            ("current_version", CURRENT),
            ("previous_version", PREVIOUS),
            ("next_version", NEXT),
        )
    }
    logger.info("%s has its three keys: %s", arn, found)
    return {key: str(value) for key, value in found.items()}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str] | None:
    import boto3  # only in Lambda, whose runtime provides it

    client = boto3.client("secretsmanager")
    if event.get("action") == AWAIT_CURRENT:
        return await_current(event["SecretId"], client)
    ecs = boto3.client("ecs") if event.get("Step") == "finishSecret" else None
    rotate(event, client, ecs)
    return None
