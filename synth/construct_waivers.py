"""Waivers declared by the construct that causes them (cdk-nag style), and their shared rules.

A construct that knowingly builds a resource some check fails on says so beside the resource:

    waive(group, "CKV2_AWS_50", owner=OWNER, expires=EXPIRES,
          reason="Replication with failover is a CACHE-2 production rule; ...")

and decides from the config (tier, switches) whether the waiver applies at all. `waive`
validates the waiver at synth time and records it in the resource's cdktf metadata,
`"//": {"metadata": {...}, "waivers": [...]}` in the synthesized JSON. Terraform and Checkov
skip `//` keys; the verify gate reads them back from the document (`read_declared`),
validates them again with the same rules (a hand-edited stack is not trusted) and applies each
to that resource only. The waiver follows the resource into every environment that builds it,
so adding an environment needs no waiver edits.

The rules shared with the reviewed file (policies/waivers.yaml, synth/waivers.py) live here:
unknown keys refused, a check ID, a reason of a full sentence, an owner and an ISO date.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MIN_REASON_WORDS = 5

# Where the waivers sit inside a resource's cdktf comment block.
METADATA_KEY = "//"
WAIVERS_KEY = "waivers"

CheckId = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
Owner = Annotated[str, Field(min_length=1, pattern=r"\S")]


def iso_date_only(value: Any) -> Any:
    """`value` if it is a date or a YYYY-MM-DD string, else ValueError: pydantic alone would
    also take a timestamp number for a date. Every waiver's `expires` goes through it."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be an ISO date, YYYY-MM-DD")
    if not isinstance(value, (str, dt.date)):
        raise ValueError("must be an ISO date, YYYY-MM-DD")
    return value


def sentence(reason: str) -> str:
    """A reason is a full sentence: a reviewer must be able to read why."""
    text = reason.strip()
    if len(text.split()) < MIN_REASON_WORDS or not text[0].isupper() or text[-1] != ".":
        raise ValueError(
            f"must be a full sentence (at least {MIN_REASON_WORDS} words, starting with a "
            "capital letter and ending with a period)"
        )
    return text


class WaiverBody(BaseModel):
    """What every waiver says, wherever it is declared: check, reason, owner, expiry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: CheckId
    reason: str
    owner: Owner
    expires: dt.date

    @field_validator("reason")
    @classmethod
    def _reason_is_a_sentence(cls, reason: str) -> str:
        return sentence(reason)

    @field_validator("expires", mode="before")
    @classmethod
    def _iso_date_only(cls, value: Any) -> Any:
        return iso_date_only(value)


class ConstructWaiver(WaiverBody):
    """A waiver a construct declares on one of its resources."""


def waive(resource: Any, check: str, *, reason: str, owner: str, expires: str) -> None:
    """Record on `resource` that `check` may fail on it, for `reason`, until `expires`.

    Validates now, so a bad waiver fails the synth that declares it. Each call adds one
    waiver; cdktf overrides replace, so the resource keeps its list and rewrites it whole."""
    waiver = ConstructWaiver.model_validate(
        {"check": check, "reason": reason, "owner": owner, "expires": expires}
    )
    declared: list[dict[str, str]] = getattr(resource, "_groundwork_waivers", [])
    if any(entry["check"] == waiver.check for entry in declared):
        raise ValueError(f"{check} is already waived on this resource")
    declared = [*declared, waiver.model_dump(mode="json")]
    resource._groundwork_waivers = declared
    resource.add_override(f"{METADATA_KEY}.{WAIVERS_KEY}", declared)


def construct_path(body: Any, stack: str) -> str | None:
    """A resource's construct path inside its stack (`cache/redis`), from cdktf's metadata."""
    comment = body.get(METADATA_KEY) if isinstance(body, dict) else None
    metadata = comment.get("metadata") if isinstance(comment, dict) else None
    path = metadata.get("path") if isinstance(metadata, dict) else None
    if not isinstance(path, str):
        return None
    return path.removeprefix(f"{stack}/")


def construct_paths(document: dict[str, Any], stack: str) -> dict[str, str]:
    """`{type.name: construct path}` for every resource of a synthesized stack."""
    paths = {}
    blocks = document.get("resource")
    for rtype, named in (blocks if isinstance(blocks, dict) else {}).items():
        if rtype == METADATA_KEY or not isinstance(named, dict):
            continue
        for name, body in named.items():
            path = construct_path(body, stack)
            if name != METADATA_KEY and path is not None:
                paths[f"{rtype}.{name}"] = path
    return paths


def _pydantic_messages(error: ValidationError) -> list[str]:
    messages = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = re.sub(r"^Value error, ", "", item["msg"])
        messages.append(f"{where}: {message}" if where else message)
    return messages


def read_declared(
    document: dict[str, Any],
) -> tuple[dict[str, list[ConstructWaiver]], list[str]]:
    """The waivers declared on each resource (`{type.name: [...]}`) and, separately, every
    problem as `type.name: //.waivers[i].field: problem`."""
    declared: dict[str, list[ConstructWaiver]] = {}
    problems: list[str] = []
    blocks = document.get("resource")
    for rtype, named in (blocks if isinstance(blocks, dict) else {}).items():
        if rtype == METADATA_KEY or not isinstance(named, dict):
            continue
        for name, body in named.items():
            comment = body.get(METADATA_KEY) if isinstance(body, dict) else None
            if name == METADATA_KEY or not isinstance(comment, dict):
                continue
            entries = comment.get(WAIVERS_KEY)
            if entries is None:
                continue
            address = f"{rtype}.{name}"
            where = f"{address}: {METADATA_KEY}.{WAIVERS_KEY}"
            if not isinstance(entries, list):
                problems.append(f"{where}: must be a list of waivers")
                continue
            seen: set[str] = set()
            for index, entry in enumerate(entries):
                try:
                    waiver = ConstructWaiver.model_validate(entry)
                except ValidationError as error:
                    problems += [f"{where}[{index}].{m}" for m in _pydantic_messages(error)]
                    continue
                if waiver.check in seen:
                    problems.append(f"{where}[{index}]: {waiver.check} is waived twice")
                    continue
                seen.add(waiver.check)
                declared.setdefault(address, []).append(waiver)
    return declared, problems
