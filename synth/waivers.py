"""The waivers the verify gate applies: declared by constructs, by operators, or by a floor.

Three sources, one model (`Waiver`) once applied to a stack:

- **Construct waivers** (synth/construct_waivers.py): the construct that builds a resource some
  check fails on declares the waiver beside it, from the config (tier, switches). They are in
  each resource's `//` metadata in the synthesized JSON and cover that resource only.
- **Operator exceptions**, the reviewed file (policies/waivers.yaml, `load_waivers`): scoped by
  `tier:` or a list of `environments:` (and optionally `cloud:`), and by a stable address, the
  resource's construct path (`cache/redis`), never cdktf's hashed ID. A rule over every
  resource of a type is allowed only where no production stack is in scope.
- **Floor waivers**, `waivers:` in an environment file (synth/config.py): a policy that sees one
  passes with a `WAIVED:` note; the gate reports the finding as waived, with the reason.

Every waiver has a reason of a full sentence, an owner and an expiry (a floor waiver's expiry is
its environment file's review). A waiver is valid through its expiry date; expired, it covers
nothing and fails the stacks it covers, and only them. `expiring` lists those within
`WARN_DAYS` of today so `make synth` warns before the date arrives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from synth.checkov_run import PROVIDER_CLOUDS, Stack, stack_cloud
from synth.config import Cloud, Tier, UniqueKeyLoader
from synth.construct_waivers import (
    MIN_REASON_WORDS,
    ConstructWaiver,
    WaiverBody,
    construct_paths,
    read_declared,
)

__all__ = [
    "MIN_REASON_WORDS", "ConstructWaiver", "FileWaiver", "Waiver", "WaiversError",
    "declared_waivers", "expiring", "file_waivers_for", "load_waivers", "pick_waiver",
]  # fmt: skip

# Blanket waivers are refused where the stakes are highest (STYLE: no blanket production
# waivers). The tier comes from the environment's own file, never from its name; an
# environment with no file is treated as production.
RESOURCE_REQUIRED_TIERS = frozenset({"production"})
ENVIRONMENTS_DIR = Path(__file__).resolve().parent.parent / "environments"

# `make synth` warns this many days before a waiver expires.
WARN_DAYS = 30

StackName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
# A construct path inside a stack (`cache/redis`, `database/replica-1`): stable across
# environments and renames of the stack, unlike cdktf's hashed unique IDs.
ConstructPath = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*(/[A-Za-z0-9][A-Za-z0-9_-]*)*$")
]
ResourceType = Annotated[str, Field(pattern=r"^(data\.)?[a-z][a-z0-9_]*$")]


@dataclass(frozen=True)
class Waiver:
    """One waiver as applied to one stack; `origin` says where it was declared."""

    check: str
    stack: str
    reason: str
    owner: str
    expires: dt.date | None
    origin: str
    # What it covers: one Terraform address (construct and floor waivers), one construct path
    # (operator file), or every resource of a type (operator file, never production).
    resource: str | None = None
    path: str | None = None
    resource_type: str | None = None

    @property
    def environment(self) -> str:
        return self.stack

    @property
    def scope(self) -> str:
        """The waiver's scope in words, for reports."""
        if self.resource:
            return self.resource
        if self.path:
            return f"construct {self.path}"
        return f"every {self.resource_type} in {self.stack}"

    def is_expired(self, today: dt.date) -> bool:
        """Valid through its expiry date, expired the day after."""
        return self.expires is not None and self.expires < today

    def matches(self, stack: str, check_id: str, resource: str, path: str | None = None) -> bool:
        if self.check != check_id or self.stack != stack:
            return False
        if self.resource is not None:
            return self.resource == resource
        if self.path is not None:
            return self.path == path
        return resource.rsplit(".", 1)[0] == self.resource_type

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "environment": self.stack,
            "resource": self.resource,
            "path": self.path,
            "resource_type": self.resource_type,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat() if self.expires else None,
            "origin": self.origin,
        }


class FileWaiver(WaiverBody):
    """One operator exception in the reviewed file. Fields are validated in order, so each
    rule reports on the field it is about (`waivers[2].resource: ...`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: Tier | None = None
    # Validated even when omitted, so "tier or environments" is reported on this field.
    environments: tuple[StackName, ...] | None = Field(default=None, validate_default=True)
    cloud: Cloud | None = None
    resource_type: ResourceType | None = None
    # Validated even when omitted, so the "name a resource" rules see a missing resource.
    resource: ConstructPath | None = Field(default=None, validate_default=True)

    @field_validator("environments")
    @classmethod
    def _scoped(
        cls, environments: tuple[str, ...] | None, info: ValidationInfo
    ) -> tuple[str, ...] | None:
        if (info.data.get("tier") is None) == (environments is None):
            raise ValueError(
                "scope a waiver by tier (tier: dev) or by a list of environments "
                "(environments: [dev, qa]), exactly one of them"
            )
        if environments is not None and not environments:
            raise ValueError("name at least one environment")
        return environments

    @field_validator("resource", mode="before")
    @classmethod
    def _construct_path_not_address(cls, resource: Any) -> Any:
        if isinstance(resource, str) and "." in resource:
            raise ValueError(
                f"{resource!r} looks like a Terraform address; name the resource by its "
                "construct path (e.g. cache/redis, the metadata path without the stack name), "
                "which stays the same in every environment"
            )
        return resource

    @field_validator("resource")
    @classmethod
    def _names_resources(cls, resource: str | None, info: ValidationInfo) -> str | None:
        """A waiver names its resource, or a rule over resources a reviewer can read (every
        resource of one type); never "everything in the stack", which would silently absorb a
        resource added later. Where production is in scope it names its resource."""
        resource_type = info.data.get("resource_type")
        if resource is not None and resource_type is not None:
            raise ValueError("name either resource or resource_type, not both")
        if resource is not None:
            return resource
        if resource_type is None:
            raise ValueError(
                "a waiver must name a resource by its construct path (resource: cache/redis) "
                "or the resource type it covers (resource_type: type); a whole-stack waiver "
                "would also cover resources added later"
            )
        tiers: dict[str, str] = (info.context or {}).get("tiers", {})
        tier, environments = info.data.get("tier"), info.data.get("environments")
        if tier is not None:
            scoped = [(tier, f"the {tier} tier")]
        else:
            scoped = [(tiers.get(e, "production"), repr(e)) for e in environments or ()]
        for scope_tier, what in scoped:
            if scope_tier in RESOURCE_REQUIRED_TIERS:
                raise ValueError(
                    f"a waiver for {what} ({scope_tier} tier) must name a resource "
                    "(resource: its construct path)"
                )
        return resource

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.check, self.tier, self.environments, self.cloud, self.resource,
                self.resource_type)  # fmt: skip

    def check_cloud(self) -> str | None:
        """The cloud this waiver is about: stated, or from its resource type or check ID."""
        if self.cloud:
            return self.cloud
        if self.resource_type:
            kind = self.resource_type.removeprefix("data.").split("_", 1)[0]
            if kind in PROVIDER_CLOUDS:
                return PROVIDER_CLOUDS[kind]
        for marker, cloud in (("_AWS_", "aws"), ("_GCP_", "gcp"), ("_AZURE_", "azure")):
            if marker in self.check:
                return cloud
        return None

    def in_scope(self, stack: str, tier: str, cloud: str | None) -> bool:
        if self.tier is not None and self.tier != tier:
            return False
        if self.environments is not None and stack not in self.environments:
            return False
        wanted = self.check_cloud()
        return wanted is None or cloud is None or wanted == cloud

    def applied(self, stack: str, origin: str) -> Waiver:
        """This entry as the gate applies (or lists) it for `stack`, citing `origin`."""
        return Waiver(
            check=self.check,
            stack=stack,
            reason=self.reason,
            owner=self.owner,
            expires=self.expires,
            origin=origin,
            path=self.resource,
            resource_type=self.resource_type,
        )


class WaiversFile(BaseModel):
    """The whole waivers file: a single `waivers` list and nothing else."""

    model_config = ConfigDict(extra="forbid")

    waivers: list[FileWaiver]

    @model_validator(mode="after")
    def _no_duplicates(self) -> WaiversFile:
        seen: dict[tuple[Any, ...], int] = {}
        for index, waiver in enumerate(self.waivers):
            if waiver.key in seen:
                raise ValueError(f"waivers[{index}] duplicates waivers[{seen[waiver.key]}]")
            seen[waiver.key] = index
        return self


class _Loader(UniqueKeyLoader):
    """YAML that leaves dates as text, so pydantic validates them and names the field, and
    refuses a key written twice (synth/config.py)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in UniqueKeyLoader.yaml_implicit_resolvers.items()
}


class WaiversError(Exception):
    """The waivers file is missing or invalid; `messages` are `path: field: problem` lines."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


def _location(loc: tuple[int | str, ...]) -> str:
    """Turn pydantic's ('waivers', 2, 'reason') into 'waivers[2].reason'."""
    parts = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if parts else part)
    return "".join(parts)


def _messages(path: Path, error: ValidationError) -> list[str]:
    messages = []
    for item in error.errors():
        # Our validators raise ValueError; pydantic prefixes their text with "Value error, ".
        message = re.sub(r"^Value error, ", "", item["msg"])
        location = _location(item["loc"])
        messages.append(f"{path}: {location}: {message}" if location else f"{path}: {message}")
    return messages


def environment_tiers(directory: Path = ENVIRONMENTS_DIR) -> dict[str, str]:
    """`{environment name: tier}` from the environment files (their full check is synth's)."""
    tiers = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("tier"), str):
            tiers[path.stem] = data["tier"]
    return tiers


def load_waivers(path: Path, tiers: dict[str, str] | None = None) -> list[FileWaiver]:
    """Read and strictly validate the operator file; raise WaiversError naming file and field.

    `tiers` maps environment names to tiers (default: read from environments/), so a waiver
    over a production environment must name its resource."""
    if not path.is_file():
        raise WaiversError([f"{path}: no such file"])
    try:
        loader = _Loader(path.read_text(encoding="utf-8"))
        try:
            data: Any = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None)
        detail = f" ({problem})" if problem else ""
        raise WaiversError([f"{path}: {where}not valid YAML{detail}"]) from None
    if not isinstance(data, dict):
        raise WaiversError([f"{path}: expected a mapping with a 'waivers' list"])
    if data.get("waivers") is None and set(data) == {"waivers"}:
        data = {"waivers": []}  # `waivers:` with nothing under it: no exceptions
    try:
        context = {"tiers": environment_tiers() if tiers is None else tiers}
        return WaiversFile.model_validate(data, context=context).waivers
    except ValidationError as error:
        raise WaiversError(_messages(path, error)) from None


def declared_waivers(stack: Stack) -> tuple[list[Waiver], list[str]]:
    """The construct waivers recorded in one stack's resources, and any problems with them."""
    if stack.document is None:
        return [], []
    declared, problems = read_declared(stack.document)
    paths = construct_paths(stack.document, stack.name)
    waivers = [
        Waiver(
            check=body.check,
            stack=stack.name,
            reason=body.reason,
            owner=body.owner,
            expires=body.expires,
            origin=f"construct {paths.get(address, address)}",
            resource=address,
        )
        for address, bodies in declared.items()
        for body in bodies
    ]
    return waivers, problems


def file_waivers_for(
    entries: Sequence[FileWaiver],
    stacks: Sequence[Stack],
    tiers: Mapping[str, str],
    waivers_path: str,
) -> tuple[list[Waiver], list[tuple[int, FileWaiver]]]:
    """Each operator waiver applied to every scanned stack it covers: in scope (tier or
    environments, cloud) and holding its construct path or resource type. Also the entries
    that cover nothing this run scanned (reported as unused, a warning)."""
    applied: list[Waiver] = []
    idle: list[tuple[int, FileWaiver]] = []
    for index, entry in enumerate(entries):
        covered = False
        for stack in stacks:
            if stack.document is None:
                continue
            tier = tiers.get(stack.name, "production")
            if not entry.in_scope(stack.name, tier, stack_cloud(stack.document)):
                continue
            paths = construct_paths(stack.document, stack.name)
            if entry.resource is not None:
                present = entry.resource in paths.values()
            else:
                present = any(a.rsplit(".", 1)[0] == entry.resource_type for a in stack.resources)
            if not present:
                continue
            covered = True
            applied.append(entry.applied(stack.name, f"{waivers_path} waivers[{index}]"))
        if not covered:
            idle.append((index, entry))
    return applied, idle


def pick_waiver(
    waivers: Sequence[Waiver], stack: str, check_id: str, resource: str, path: str | None
) -> Waiver | None:
    """The most specific active waiver for a failed check: an address or construct path
    beats a type rule; a construct's own waiver beats the operator file."""
    matching = [w for w in waivers if w.matches(stack, check_id, resource, path)]
    matching.sort(key=lambda w: (w.resource is None and w.path is None, w.resource is None))
    return matching[0] if matching else None


def expiring(waivers: Sequence[Waiver], today: dt.date, days: int = WARN_DAYS) -> list[Waiver]:
    """Active waivers that expire within `days` of `today`."""
    horizon = today + dt.timedelta(days=days)
    return [w for w in waivers if w.expires is not None and today <= w.expires <= horizon]
