"""Secrets Manager rotation function for JWT_SECRET: a fresh 384-bit random signing key.

Satisfies: SEC-1, SEC-2, SEC-3

Secrets Manager calls the function four times per rotation (createSecret, setSecret,
testSecret, finishSecret) with the same ClientRequestToken, the ID of the new version.
The key is generated here, inside AWS, so no value ever passes through Terraform. The
Secrets Manager client is a parameter of `rotate`, so tests drive it with a fake; only
`lambda_handler` builds a real one (boto3 ships with the Lambda runtime).
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from typing import Any

logger = logging.getLogger()
logger.setLevel(logging.INFO)

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
KEY_BYTES = 48  # 384 bits, above SEC-1's 256
MIN_KEY_BYTES = 32  # 256 bits: what testSecret accepts


class RotationError(ValueError):
    """The event does not describe a rotation this function may perform."""


def new_key() -> str:
    """A URL-safe base64 key from the OS CSPRNG."""
    return secrets.token_urlsafe(KEY_BYTES)


def key_bytes(value: str) -> int:
    """How many random bytes a URL-safe base64 key carries; 0 if it is not one."""
    try:
        padded = value + "=" * (-len(value) % 4)
        return len(base64.b64decode(padded, altchars=b"-_", validate=True))
    except (binascii.Error, ValueError):
        return 0


def rotate(event: dict[str, Any], client: Any) -> None:
    """Run one rotation step for `event` against the Secrets Manager `client`."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"rotation is not enabled for secret {arn}")
    versions = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise RotationError(f"version {token} of {arn} is not staged for rotation")
    if CURRENT in versions[token]:
        logger.info("version %s of %s is already AWSCURRENT; nothing to do", token, arn)
        return
    if PENDING not in versions[token]:
        raise RotationError(f"version {token} of {arn} is not staged as AWSPENDING")

    steps = {
        "createSecret": create_secret,
        "setSecret": set_secret,
        "testSecret": verify_secret,
        "finishSecret": finish_secret,
    }
    if step not in steps:
        raise RotationError(f"unknown rotation step {step!r}")
    steps[step](client, arn, token)


def create_secret(client: Any, arn: str, token: str) -> None:
    """Store a new key as the AWSPENDING version, unless a retry already did."""
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)
        logger.info("createSecret: version %s of %s already has a value", token, arn)
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    client.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString=new_key(), VersionStages=[PENDING]
    )
    logger.info("createSecret: stored a new key as version %s of %s", token, arn)


def set_secret(client: Any, arn: str, token: str) -> None:
    """Nothing to do: a JWT signing key has no downstream system to update."""
    logger.info("setSecret: no downstream system for %s", arn)


def verify_secret(client: Any, arn: str, token: str) -> None:
    """The pending key must carry at least 256 bits."""
    value = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)
    if key_bytes(value["SecretString"]) < MIN_KEY_BYTES:
        raise RotationError(f"version {token} of {arn} holds fewer than {MIN_KEY_BYTES} bytes")
    logger.info("testSecret: version %s of %s is a valid key", token, arn)


def finish_secret(client: Any, arn: str, token: str) -> None:
    """Move AWSCURRENT to the new version; the first rotation has no previous one."""
    versions = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    current = next((v for v, stages in versions.items() if CURRENT in stages), None)
    if current == token:
        return
    move: dict[str, str] = {"SecretId": arn, "VersionStage": CURRENT, "MoveToVersionId": token}
    if current is not None:
        move["RemoveFromVersionId"] = current
    client.update_secret_version_stage(**move)
    logger.info("finishSecret: version %s of %s is now AWSCURRENT", token, arn)


AWAIT_CURRENT = "awaitCurrent"
AWAIT_POLLS = 20
AWAIT_SECONDS = 5


def await_current(
    arn: str, client: Any, sleep: Any = None, polls: int = AWAIT_POLLS
) -> dict[str, str]:
    """Wait until the secret has an AWSCURRENT version (the first rotation finished).

    Terraform invokes this after enabling rotation (`rotate_immediately` only starts the first
    rotation), so the app's service starts with a real JWT_SECRET (DEPLOY-5, DEPLOY-6). It
    returns the version ID, never the value.
    """
    import time

    pause = sleep or time.sleep
    for _ in range(polls):
        versions = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
        current = next((v for v, stages in versions.items() if CURRENT in stages), None)
        if current is not None:
            logger.info("%s has AWSCURRENT version %s", arn, current)
            return {"current_version": current}
        pause(AWAIT_SECONDS)
    raise RotationError(f"{arn} has no AWSCURRENT version after {polls * AWAIT_SECONDS} s")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str] | None:
    import boto3  # only in Lambda, whose runtime provides it

    client = boto3.client("secretsmanager")
    if event.get("action") == AWAIT_CURRENT:
        return await_current(event["SecretId"], client)
    rotate(event, client)
    return None
