"""AWS waivers that several constructs declare in the same words (synth/construct_waivers.py).

Each construct calls these beside the resource that causes the finding; they decide from the
config whether the waiver applies, so an environment that meets the check gets none.
"""

from __future__ import annotations

from typing import Any

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

OWNER = "platform-team"
EXPIRES = "2027-05-31"
# Gaps the project means to close (the master secret's rotation, access logs of the assets
# bucket's replica, which has no log bucket in the replica region): reviewed sooner.
GAP_EXPIRES = "2027-02-28"
# CKV_AWS_338 asks for a year of retention.
YEAR_DAYS = 365


def log_retention(log_group: Any, config: EnvironmentConfig) -> None:
    """CKV_AWS_338 on a log group kept for `logs.retention_days` (OBS-1), below a year."""
    days = config.logs.retention_days
    if days >= YEAR_DAYS:
        return
    waive(
        log_group,
        "CKV_AWS_338",
        reason=f"Log retention is logs.retention_days, {days} days in this environment, the "
        "OBS-1 value REQUIREMENTS sets as a cost trade-off; raise it to 365 for a year.",
        owner=OWNER,
        expires=EXPIRES,
    )


def lambda_function(function: Any, config: EnvironmentConfig, *, dead_letter_reason: str) -> None:
    """The Lambda checks our synchronous, repository-built functions fail by design."""
    if not config.aws.reserved_concurrency:
        waive(
            function,
            "CKV_AWS_115",
            reason="A new account's Lambda concurrency quota can be 10 and Lambda keeps 10 "
            "unreserved, so reserving any concurrency fails the first apply; "
            "aws.reserved_concurrency sets it where the quota was raised.",
            owner=OWNER,
            expires=EXPIRES,
        )
    waive(function, "CKV_AWS_116", reason=dead_letter_reason, owner=OWNER, expires=EXPIRES)
    waive(
        function,
        "CKV_AWS_272",
        reason="Code signing needs an AWS Signer profile; the package is built from reviewed "
        "repository source and pinned by its source_code_hash.",
        owner=OWNER,
        expires=EXPIRES,
    )


def no_event_subscriber(bucket: Any) -> None:
    """CKV2_AWS_62: a bucket whose object events nothing consumes."""
    waive(
        bucket,
        "CKV2_AWS_62",
        reason="Nothing consumes object events from this bucket, so event notifications would "
        "have no subscriber.",
        owner=OWNER,
        expires=EXPIRES,
    )


def service_linked_role(resource: Any, service: str) -> None:
    """CKV_GW_DEPLOY_37 on a resource whose first create in an account makes AWS create the
    service's service-linked role: the stack assumes it rather than creating it."""
    waive(
        resource,
        "CKV_GW_DEPLOY_37",
        reason=f"The service-linked role of {service} is one per account: a stack that "
        "created it would collide with every other environment of the account. AWS creates "
        "it on first use when the deploy role may iam:CreateServiceLinkedRole, which README "
        "'A fresh AWS account' step 5 requires (or the role is created once beforehand).",
        owner=OWNER,
        expires=EXPIRES,
    )
