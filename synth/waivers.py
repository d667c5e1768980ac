"""Loads and validates the reviewed waivers file that the verify gate applies to Checkov's results.

A waiver names one check, one stack and either one resource address or a resource type (a rule a
reviewer can read: every resource of that type in the stack; never in production), with a
reason of a full sentence, an owner and an expiry date. A waiver over a whole stack is refused:
it would silently cover resources added after the review. Waivers are our own data: Checkov's
terraform_json runner ignores inline skip comments, so the gate applies them itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
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

from synth.checkov_run import PROVIDER_CLOUDS, CheckovRecord, Stack, stack_cloud

# Blanket waivers are refused where the stakes are highest (STYLE: no blanket production
# waivers). The tier comes from the environment's own file, never from its name; a stack
# with no environment file is treated as production.
RESOURCE_REQUIRED_TIERS = frozenset({"production"})
ENVIRONMENTS_DIR = Path(__file__).resolve().parent.parent / "environments"

MIN_REASON_WORDS = 5

CheckId = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
StackName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
# Terraform addresses as the gate reports them: type.name, data.type.name or provider.name.
ADDRESS_PATTERN = r"^(data\.)?[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$"
ResourceAddress = Annotated[str, Field(pattern=ADDRESS_PATTERN)]
ResourceType = Annotated[str, Field(pattern=r"^(data\.)?[a-z][a-z0-9_]*$")]


class Waiver(BaseModel):
    """One reviewed exception: check `check` may fail on `resource` (or all of `environment`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: CheckId
    environment: StackName
    # Validated even when omitted, so the production rule below sees a missing resource.
    # Validated even when omitted, so the production rule below sees a missing resource.
    resource: ResourceAddress | None = Field(default=None, validate_default=True)
    # A rule instead of one address: every resource of this type in the stack.
    resource_type: ResourceType | None = None
    reason: str
    owner: Annotated[str, Field(min_length=1, pattern=r"\S")]
    expires: dt.date

    @field_validator("reason")
    @classmethod
    def _reason_is_a_sentence(cls, reason: str) -> str:
        text = reason.strip()
        if len(text.split()) < MIN_REASON_WORDS or not text[0].isupper() or text[-1] != ".":
            raise ValueError(
                f"must be a full sentence (at least {MIN_REASON_WORDS} words, starting with a "
                "capital letter and ending with a period)"
            )
        return text

    @field_validator("resource")
    @classmethod
    def _no_blanket_waiver_where_forbidden(
        cls, resource: str | None, info: ValidationInfo
    ) -> str | None:
        environment = info.data.get("environment")
        tiers: dict[str, str] = (info.context or {}).get("tiers", {})
        tier = tiers.get(str(environment), "production")
        if resource is None and tier in RESOURCE_REQUIRED_TIERS:
            raise ValueError(f"a waiver for {environment!r} ({tier} tier) must name a resource")
        return resource

    @model_validator(mode="after")
    def _names_resources(self, info: ValidationInfo) -> Waiver:
        """A waiver names its resource, or a rule over resources a reviewer can read (every
        resource of one type); never "everything in the stack", which would silently absorb
        a resource added later. Production waivers name their resource."""
        if self.resource is not None and self.resource_type is not None:
            raise ValueError("name either resource or resource_type, not both")
        if self.resource is None and self.resource_type is None:
            raise ValueError(
                "a waiver must name a resource (resource: type.name) or the resource type it "
                "covers (resource_type: type); a whole-stack waiver would also cover resources "
                "added later"
            )
        return self

    @property
    def scope(self) -> str:
        """The waiver's scope in words, for reports."""
        if self.resource:
            return self.resource
        return f"every {self.resource_type} in {self.environment}"

    def is_expired(self, today: dt.date) -> bool:
        """A waiver is valid through its expiry date and expired the day after."""
        return self.expires < today

    def matches(self, stack: str, check_id: str, resource: str) -> bool:
        if self.check != check_id or self.environment != stack:
            return False
        if self.resource is not None:
            return self.resource == resource
        return resource.rsplit(".", 1)[0] == self.resource_type


class WaiversFile(BaseModel):
    """The whole waivers file: a single `waivers` list and nothing else."""

    model_config = ConfigDict(extra="forbid")

    waivers: list[Waiver]

    @model_validator(mode="after")
    def _no_duplicates(self) -> WaiversFile:
        seen: dict[tuple[str, str, str | None, str | None], int] = {}
        for index, waiver in enumerate(self.waivers):
            key = (waiver.check, waiver.environment, waiver.resource, waiver.resource_type)
            if key in seen:
                raise ValueError(f"waivers[{index}] duplicates waivers[{seen[key]}]")
            seen[key] = index
        return self


class _Loader(yaml.SafeLoader):
    """YAML that leaves dates as text, so pydantic validates them and names the field."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
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


def load_waivers(path: Path, tiers: dict[str, str] | None = None) -> list[Waiver]:
    """Read and strictly validate the waivers file; raise WaiversError naming file and field.

    `tiers` maps environment names to tiers (default: read from environments/).
    """
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
        raise WaiversError([f"{path}: {where}not valid YAML"]) from None
    if not isinstance(data, dict):
        raise WaiversError([f"{path}: expected a mapping with a 'waivers' list"])
    try:
        context = {"tiers": environment_tiers() if tiers is None else tiers}
        return WaiversFile.model_validate(data, context=context).waivers
    except ValidationError as error:
        raise WaiversError(_messages(path, error)) from None


def waiver_cloud(waiver: Waiver) -> str | None:
    """The cloud a waiver is about, from its resource type or check ID; None if any."""
    if waiver.resource or waiver.resource_type:
        named = waiver.resource or waiver.resource_type or ""
        kind = named.removeprefix("data.").split("_", 1)[0]
        if kind in PROVIDER_CLOUDS:
            return PROVIDER_CLOUDS[kind]
    for marker, cloud in (("_AWS_", "aws"), ("_GCP_", "gcp"), ("_AZURE_", "azure")):
        if marker in waiver.check:
            return cloud
    return None


def scanned_by(waiver: Waiver, stacks: Sequence[Stack]) -> bool:
    """Whether this run scanned the stack a waiver is about (same name, same cloud).

    A run over one cloud does not report the other clouds' waivers as unused."""
    cloud = waiver_cloud(waiver)
    return any(
        stack.name == waiver.environment
        and (cloud is None or stack_cloud(stack.document or {}) in (cloud, None))
        for stack in stacks
    )


def pick_waiver(waivers: Sequence[Waiver], record: CheckovRecord, resource: str) -> Waiver | None:
    """The most specific active waiver for a failed check: a resource waiver beats a stack one."""
    matching = [w for w in waivers if w.matches(record.stack, record.check_id, resource)]
    matching.sort(key=lambda waiver: waiver.resource is None)  # an address beats a type rule
    return matching[0] if matching else None
