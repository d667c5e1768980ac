"""Builds the base of every custom Python policy: its metadata, its stack and its environment.

A policy declares `id`, `name`, `requirement`, `severity` and `resource_types` as class
attributes and implements `evaluate(conf, stack) -> Verdict`. The base class:

- finds the stack: Checkov 3.3.30's terraform_json runner calls `run()` with
  `scanned_file = "/" + path relative to --directory`, which the gate lays out as
  `/stacks/<stack>/cdk.tf.json`;
- finds the environment: the gate writes a JSON context file (scan root, the folder of the
  stacks as synthesized, and per stack the merged `EnvironmentConfig` of
  `environments/<env>.yaml`) and names it in the environment
  variable `GROUNDWORK_POLICY_CONTEXT`;
- maps three outcomes onto Checkov's two: PASS, FAIL, and UNKNOWN (a value that cannot be
  resolved, or no environment config), which fails staging and production and, in dev, passes
  with a `UNKNOWN:` detail the gate reports as "unknown". Checkov drops UNKNOWN results from
  its report, so returning CheckResult.UNKNOWN would be a silent pass.

The gate reads the same class attributes statically (synth/verify.py, `load_policy_catalog`).
"""

from __future__ import annotations

import enum
import json
import os
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from checkov.common.bridgecrew.severities import Severities
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.common.typing import _CheckResult, _SkippedCheck
from checkov.terraform.checks.provider.base_check import BaseProviderCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from synth.config import FLOORS, EnvironmentConfig, shared_config
from synth.graph import Graph

CONTEXT_ENV = "GROUNDWORK_POLICY_CONTEXT"
STACK_FILE = "cdk.tf.json"
# Tiers where UNKNOWN fails; a stack without an environment config counts as production.
STRICT_TIERS = frozenset({"staging", "production"})
REFERENCE = re.compile(r"\$\{[^}]+\}")
UNKNOWN_PREFIX = "UNKNOWN: "
WAIVED_PREFIX = "WAIVED: "


class Outcome(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    message: str

    @classmethod
    def passed(cls, message: str = "") -> Verdict:
        return cls(Outcome.PASS, message)

    @classmethod
    def failed(cls, message: str) -> Verdict:
        return cls(Outcome.FAIL, message)

    @classmethod
    def unknown(cls, message: str) -> Verdict:
        return cls(Outcome.UNKNOWN, message)


@dataclass
class Stack:
    """The stack a resource is in: its name, environment config and whole document."""

    name: str
    config: EnvironmentConfig | None
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def tier(self) -> str:
        return self.config.tier if self.config else "production"

    @cached_property
    def graph(self) -> Graph:
        """The stack's ordering graph (references and `depends_on`), for DEPLOY rules."""
        return Graph.of(self.document)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """`{name: body}` of every resource of a type in this stack (bodies unwrapped JSON)."""
        named = self.document.get("resource", {}).get(resource_type, {})
        return {name: body for name, body in named.items() if name != "//"}


@cache
def _context() -> dict[str, Any]:
    path = os.environ.get(CONTEXT_ENV)
    if not path:
        return {}
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


@cache
def stack_for(scanned_file: str) -> Stack | None:
    """The stack of a scanned file `/stacks/<stack>/cdk.tf.json`; None for any other path."""
    parts = PurePosixPath(scanned_file).parts
    if len(parts) != 4 or parts[:2] != ("/", "stacks") or parts[3] != STACK_FILE:
        return None
    name = parts[2]
    context = _context()
    raw = context.get("stacks", {}).get(name)
    config = EnvironmentConfig.model_validate_json(json.dumps(raw)) if raw else None
    document: dict[str, Any] = {}
    # The stack as synthesized (the gate's scan copy lacks `terraform.required_version`).
    folder = context.get("documents") or context.get("root")
    if folder:
        document = json.loads(
            (Path(folder) / "stacks" / name / STACK_FILE).read_text(encoding="utf-8")
        )
    return Stack(name, config, document)


@cache
def _gate_configs() -> dict[str, EnvironmentConfig]:
    return {
        name: shared_config(EnvironmentConfig.model_validate_json(json.dumps(raw)))
        for name, raw in _context().get("stacks", {}).items()
        if raw
    }


# (context file, stack) pairs already written to the context's `consulted` file.
_recorded: set[tuple[str, str]] = set()


def gate_configs(reader: str) -> dict[str, EnvironmentConfig]:
    """`{stack name: EnvironmentConfig}` of every stack this gate run judges, for rules about
    what stacks share (an account and region); empty without a context. Each holds only the
    fields of synth.config.SHARED_FIELDS (`shared_config`); the stack being judged has its
    whole config in `Stack.config`.

    `reader` is the stack being judged. It is appended to the file the context names as
    `consulted`: the gate's scan cache keys a stack's results on the other stacks' configs
    only when its policies read them (synth/checkov_run.py), so every read must go through
    here, naming its stack."""
    context = _context()
    consulted = context.get("consulted")
    if consulted and (consulted, reader) not in _recorded:
        with Path(consulted).open("a", encoding="utf-8") as record:
            record.write(reader + "\n")
        _recorded.add((consulted, reader))
    return _gate_configs()


def is_reference(value: Any) -> bool:
    """A Terraform expression (`${...}`), whose value is only known at apply time."""
    return isinstance(value, str) and bool(REFERENCE.search(value))


# `$${...}` is Terraform's escape for a literal "${...}". Naming a resource (`<type>.<name>`,
# every type has a provider prefix with an underscore), `ephemeral.`, `data.`, `var.`,
# `local.` or `module.` inside it is a reference written as text: cdktf escapes "${" inside
# Fn.* calls (hashicorp/terraform-cdk PR #1233, issue #3562). Policy variables such as
# `$${aws:username}` or alert templates such as `$${resource.label.x}` stay legitimate.
ESCAPED_REFERENCE = re.compile(
    r"\$\$\{\s*((?:ephemeral|data|var|local|module)\.[A-Za-z0-9_.-]+"
    r"|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][A-Za-z0-9_.-]*)"
)


def strings_in(value: Any) -> list[str]:
    """Every string anywhere in a (nested) value, keys excluded."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


def escaped_references(value: Any) -> list[str]:
    """The addresses a value names inside `$${...}`: references Terraform reads as text."""
    return [m.group(1) for s in strings_in(value) for m in ESCAPED_REFERENCE.finditer(s)]


# A small lexer for the expressions inside a Terraform string template, as cdktf writes them
# into JSON (`"${jsonencode({...})}"`): Terraform parses each JSON string as a template and each
# `${...}` / `%{...}` in it as HCL native syntax, whose quoted strings allow only the escapes
# \n \r \t \" \\ \uNNNN \UNNNNNNNN and no raw newline
# (https://github.com/hashicorp/hcl/blob/main/hclsyntax/spec.md#template-expressions).
# bc-python-hcl2 (Checkov's parser) keeps a template as an opaque string and accepts all of
# these faults, so it cannot judge them. Comments and heredocs inside `${...}` are not lexed:
# cdktf writes neither.
HCL_ESCAPES = {"n": 0, "r": 0, "t": 0, '"': 0, "\\": 0, "u": 4, "U": 8}
HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
OPENERS = {"(": ")", "[": "]", "{": "}"}
# After a string literal in an expression comes an operator, a separator or a closer; a name
# or another quote there means a quote inside the literal ended it early. `if` is the one
# keyword that may follow a literal (`[for x in xs : "a" if c]`).
LITERAL_FOLLOWER = re.compile(r'[ \t]*("|[A-Za-z_][A-Za-z0-9_-]*)')


class TemplateSyntaxError(ValueError):
    def __init__(self, text: str, at: int, problem: str) -> None:
        excerpt = text[max(0, at - 30) : at + 30].replace("\n", "\\n")
        super().__init__(f"{problem} at character {at} (...{excerpt}...)")


def template_syntax_error(text: str) -> str | None:
    """Why Terraform would refuse to parse `text` as a string template (None when it would):
    an invalid escape, a raw newline or an early-ending quote in a string literal inside
    `${...}`, or brackets and quotes that do not close."""
    try:
        _template(text, 0, quoted=False)
    except TemplateSyntaxError as error:
        return str(error)
    return None


def _template(text: str, at: int, *, quoted: bool) -> int:
    """Lex template text from `at`: the whole string, or (quoted) one string literal inside an
    expression up to its closing quote. Returns the position after it."""
    while at < len(text):
        char = text[at]
        if text.startswith(("$${", "%%{"), at):  # the escaped, literal "${" / "%{"
            at += 3
        elif text.startswith(("${", "%{"), at):
            at = _expression(text, at + 2)
        elif not quoted:  # JSON already decoded the top level's escapes
            at += 1
        elif char == '"':
            return at + 1
        elif char == "\\":
            escape = text[at + 1 : at + 2]
            digits = HCL_ESCAPES.get(escape)
            hex_part = text[at + 2 : at + 2 + (digits or 0)]
            if digits is None or len(hex_part) != digits or not set(hex_part) <= HEX_DIGITS:
                raise TemplateSyntaxError(text, at, f"invalid escape sequence \\{escape}")
            at += 2 + digits
        elif char == "\n":
            raise TemplateSyntaxError(text, at, "a raw newline inside a string literal")
        else:
            at += 1
    if quoted:
        raise TemplateSyntaxError(text, at, "a string literal that never closes")
    return at


def _expression(text: str, at: int) -> int:
    """Lex one expression from just inside its `${`; returns the position after its `}`.

    An interpolation's expression must also parse as HCL (`_parses`): a shell parameter
    expansion such as `${pair%%=*}` lexes, but Terraform refuses the whole configuration
    ("Invalid expression"; hashicorp/terraform#15933). A shell script reaches the JSON verbatim,
    so it writes `$${...}` for its own expansions."""
    start, begin, closers = at - 2, at, ["}"]
    while at < len(text):
        char = text[at]
        if char == "#" or text.startswith(("//", "/*"), at):
            # A comment would run to the end of the line, past this interpolation's `}`.
            raise TemplateSyntaxError(text, at, "a comment (or shell '#') inside ${...}")
        if char == '"':
            at = _template(text, at + 1, quoted=True)
            follower = LITERAL_FOLLOWER.match(text, at)
            if follower and follower.group(1) != "if":
                raise TemplateSyntaxError(
                    text,
                    at,
                    f"a string literal followed by {follower.group(1)!r}"
                    " (an unescaped quote inside it?)",
                )
            continue
        if char in OPENERS:
            closers.append(OPENERS[char])
        elif char in ")]}":
            if char != closers.pop():
                raise TemplateSyntaxError(text, at, f"an unbalanced {char!r}")
            if not closers:
                if text[start] == "$":  # `%{` opens a template directive, not an expression
                    _parses(text, start, text[begin:at])
                return at + 1
        at += 1
    raise TemplateSyntaxError(text, start, "a ${ that never closes")


def _parses(text: str, at: int, expression: str) -> None:
    """Raise unless `expression` parses as an HCL native-syntax expression."""
    problem = _hcl_problem(expression)
    if problem:
        raise TemplateSyntaxError(
            text, at, f"${{{expression[:40]}}} is not an HCL expression ({problem})"
        )


@cache
def _hcl_problem(expression: str) -> str | None:
    """Why the parser Checkov itself loads Terraform with (bc-python-hcl2's Lark grammar of
    https://github.com/hashicorp/hcl/blob/main/hclsyntax/spec.md) refuses `expression`; None
    when it parses. Cached: a stack repeats the same references many times."""
    import hcl2  # Checkov's dependency; imported here so the lexer alone stays cheap

    try:
        hcl2.loads(f"x = {expression}\n")
    except Exception as error:  # Lark raises several unrelated types for one meaning
        return type(error).__name__
    return None


def aws_provider_region(stack: Stack, body: dict[str, Any]) -> str | None:
    """The region of the AWS provider a resource is created with: the one its `provider`
    (`aws.<alias>`) names, else the default (unaliased) one; None when that provider sets no
    region."""
    alias = str(body.get("provider") or "aws").partition(".")[2] or None
    providers = stack.document.get("provider", {}).get("aws") or []
    for provider in providers if isinstance(providers, list) else [providers]:
        if provider.get("alias") == alias:
            region = provider.get("region")
            return str(region) if region is not None else None
    return None


ECS_SERVICE = re.compile(r"\$\{(aws_ecs_service\.[A-Za-z0-9_-]+)\.")


def ecs_service_of(stack: Stack, value: Any) -> str | None:
    """The ECS service a scaling `resource_id` or alarm dimension names, through at most one
    `aws_appautoscaling_target` (`${aws_appautoscaling_target.x.resource_id}`)."""
    match = ECS_SERVICE.search(str(value))
    if match:
        return match.group(1)
    target = address_of(value)
    if target and target.startswith("aws_appautoscaling_target."):
        body = stack.graph.bodies.get(target) or {}
        match = ECS_SERVICE.search(str(body.get("resource_id", "")))
    return match.group(1) if match else None


def ecs_memory_share(stack: Stack, service: str | None) -> float | None:
    """Container hard memory limit / task memory of an ECS service's task definition: ECS
    reports MemoryUtilization against the task's memory, the container dies at its limit
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html).
    1.0 when no container sets a hard limit; None when the stack does not say."""
    bodies = stack.graph.bodies
    task = address_of((bodies.get(service or "") or {}).get("task_definition"))
    definition = bodies.get(task or "")
    if not definition:
        return None
    try:
        task_memory = int(definition.get("memory"))
        containers = json.loads(definition.get("container_definitions") or "[]")
    except (TypeError, ValueError):
        return None
    limits = [int(c["memory"]) for c in containers if isinstance(c.get("memory"), int)]
    return min(1.0, max(limits) / task_memory) if limits else 1.0


def blocks(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Nested blocks (`lifecycle`, `rule`, ...) as a list: cdktf writes one block as an object
    and several as a list."""
    value = body.get(key)
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [item for item in items if isinstance(item, dict)]


def address_of(reference: Any) -> str | None:
    """`aws_kms_key.keys_data` from `${aws_kms_key.keys_data.arn}`; None for anything else."""
    match = re.fullmatch(r"\$\{([A-Za-z0-9_]+\.[A-Za-z0-9_-]+)(\.[^}]*)?\}", str(reference))
    return match.group(1) if match else None


def expect_equal(attribute: str, actual: Any, wanted: Any, source: str) -> Verdict:
    """Compare a resource attribute with a config value; references and absence are UNKNOWN
    or FAIL, never PASS."""
    if actual is None:
        return Verdict.failed(f"{attribute} is not set; {source} wants {wanted}")
    if is_reference(actual):
        return Verdict.unknown(f"{attribute} is an expression ({actual}); {source} wants {wanted}")
    try:
        same = type(wanted)(actual) == wanted
    except (TypeError, ValueError):
        same = False
    if not same:
        return Verdict.failed(f"{attribute} is {actual}; {source} wants {wanted}")
    return Verdict.passed(f"{attribute} is {wanted} ({source})")


def combine(verdicts: list[Verdict]) -> Verdict:
    """Any FAIL fails; else any UNKNOWN is unknown; else pass. Messages are kept in order."""
    for outcome in (Outcome.FAIL, Outcome.UNKNOWN):
        hits = [v.message for v in verdicts if v.outcome is outcome]
        if hits:
            return Verdict(outcome, "; ".join(hits))
    return Verdict.passed("; ".join(v.message for v in verdicts if v.message))


class _Policy:
    """Metadata and outcome mapping shared by resource and provider policies."""

    id: ClassVar[str]
    name: ClassVar[str]
    requirement: ClassVar[str]
    severity: ClassVar[str]  # LOW | MEDIUM | HIGH | CRITICAL
    # Set when the check needs the environment config; without one it is UNKNOWN.
    needs_config: ClassVar[bool] = True
    # The stack roles (EnvironmentConfig.role) the policy judges; on any other role it gives
    # no result at all, because its requirement does not apply there (the gate's coverage
    # decides applicability; see policies/requirements/common.yaml).
    roles: ClassVar[tuple[str, ...]] = ("workload", "bootstrap")

    details: list[str]
    _scanned_file: str

    def _metadata(self) -> dict[str, Any]:
        return {
            "name": f"{self.name} ({self.requirement})",
            "id": self.id,
            "categories": (CheckCategories.GENERAL_SECURITY,),
            "guideline": f"REQUIREMENTS.md {self.requirement}",
        }

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        """Judge one entity; `body` is its JSON as synthesized (values not wrapped in lists)."""
        raise NotImplementedError

    def _body(self, stack: Stack) -> dict[str, Any] | None:
        raise NotImplementedError

    def _describe(self, message: str) -> str:
        """The message as reported (a provider policy names an aliased configuration)."""
        return message

    def _decide(self) -> CheckResult:
        stack = stack_for(self._scanned_file) or Stack("?", None)
        body = self._body(stack)
        if stack.config is not None and stack.config.role not in self.roles:
            return CheckResult.UNKNOWN  # not applicable to this role: Checkov drops the result
        if body is None:
            verdict = Verdict.unknown(f"entity not found in the document of stack {stack.name!r}")
        elif self.needs_config and stack.config is None:
            verdict = Verdict.unknown(f"no environment config for stack {stack.name!r}")
        else:
            try:
                verdict = self.evaluate(body, stack)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
                verdict = Verdict.unknown(f"could not evaluate: {error!r}")
        if verdict.outcome is Outcome.UNKNOWN:
            self.details.append(UNKNOWN_PREFIX + self._describe(verdict.message))
            return CheckResult.FAILED if stack.tier in STRICT_TIERS else CheckResult.PASSED
        if verdict.message:
            self.details.append(self._describe(verdict.message))
        return CheckResult.PASSED if verdict.outcome is Outcome.PASS else CheckResult.FAILED


class GroundworkCheck(_Policy, BaseResourceCheck):
    """A resource policy; subclasses set the metadata and `resource_types`."""

    resource_types: ClassVar[tuple[str, ...]]
    _address: tuple[str, str]

    @property
    def address(self) -> str:
        return ".".join(self._address)

    def __init__(self) -> None:
        super().__init__(supported_resources=self.resource_types, **self._metadata())
        self.severity = Severities[type(self).severity.upper()]

    def run(
        self,
        scanned_file: str,
        entity_configuration: dict[str, Any],
        entity_name: str,
        entity_type: str,
        skip_info: _SkippedCheck,
    ) -> _CheckResult:
        self._scanned_file = scanned_file
        self._address = (entity_type, entity_name)
        return super().run(scanned_file, entity_configuration, entity_name, entity_type, skip_info)

    def _body(self, stack: Stack) -> dict[str, Any] | None:
        return stack.resources(self._address[0]).get(self._address[1])

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        """Whether this resource is one the policy judges. A policy over every type (`"*"`)
        narrows it here; where it returns False the policy gives no result at all, so it
        does not count as judging the resource."""
        return True

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        stack = stack_for(self._scanned_file)
        body = self._body(stack) if stack is not None else None
        if stack is not None and body is not None and not self.applies(body, stack):
            return CheckResult.UNKNOWN  # Checkov drops UNKNOWN: no result, not a pass
        return self._decide()


class GroundworkProviderCheck(_Policy, BaseProviderCheck):
    """A provider-block policy; subclasses set the metadata and `providers`."""

    providers: ClassVar[tuple[str, ...]]
    _provider: str
    _alias: str | None = None

    def __init__(self) -> None:
        super().__init__(supported_provider=self.providers, **self._metadata())
        self.severity = Severities[type(self).severity.upper()]

    def run(
        self,
        scanned_file: str,
        entity_configuration: dict[str, Any],
        entity_name: str,
        entity_type: str,
        skip_info: _SkippedCheck,
    ) -> _CheckResult:
        self._scanned_file = scanned_file
        self._provider = entity_type
        # Checkov's parser wraps attribute values in lists (hclify); cdktf writes plain ones.
        alias = entity_configuration.get("alias")
        alias = alias[0] if isinstance(alias, list) and alias else alias
        self._alias = str(alias) if alias else None
        return super().run(scanned_file, entity_configuration, entity_name, entity_type, skip_info)

    def _body(self, stack: Stack) -> dict[str, Any] | None:
        """The provider configuration Checkov handed over: Checkov runs a provider check once
        per configuration, aliases included, so each is judged on its own body (an aliased
        provider in another region must carry the tags too)."""
        configs = stack.document.get("provider", {}).get(self._provider)
        configs = configs if isinstance(configs, list) else [configs]
        same = [c for c in configs if isinstance(c, dict) and c.get("alias") == self._alias]
        return same[0] if same else None

    def _describe(self, message: str) -> str:
        return f"provider {self._provider}.{self._alias}: {message}" if self._alias else message

    def scan_provider_conf(self, conf: dict[str, Any]) -> CheckResult:
        return self._decide()


def floor_verdicts(stack: Stack, requirement: str, field_path: str, actual: Any) -> list[Verdict]:
    """The production floors of synth.config.FLOORS for one config field, applied to the value
    the resource actually has; a floor the environment file waives passes with a WAIVED note."""
    verdicts = []
    for floor in FLOORS:
        if floor.requirement != requirement or floor.field != field_path:
            continue
        if stack.tier not in floor.tiers:
            continue
        waiver = stack.config.floor_waiver(requirement) if stack.config is not None else None
        if waiver is not None:
            verdicts.append(Verdict.passed(f"{WAIVED_PREFIX}{field_path} floor: {waiver.reason}"))
            continue
        if actual is None or is_reference(actual):
            verdicts.append(Verdict.unknown(f"{field_path} floor {floor.minimum}: got {actual}"))
        elif isinstance(floor.minimum, (bool, str)):
            if actual != floor.minimum:
                verdicts.append(
                    Verdict.failed(f"{stack.tier} floor: {field_path} must be {floor.minimum}")
                )
        elif float(actual) < floor.minimum:
            verdicts.append(
                Verdict.failed(
                    f"{stack.tier} floor: {field_path} is {actual}, minimum {floor.minimum}"
                )
            )
    return verdicts


def availability_verdicts(
    stack: Stack, setting: str, highly_available: Any, replicas: int
) -> list[Verdict]:
    """DB-5 for a primary database: its HA `setting` and its read-replica count equal the
    config's, and meet the production floors."""
    assert stack.config is not None
    database = stack.config.database
    return [
        expect_equal(
            setting, highly_available, database.high_availability, "database.high_availability"
        ),
        *floor_verdicts(stack, "DB-5", "database.high_availability", highly_available),
        expect_equal("read replicas", replicas, database.read_replicas, "database.read_replicas"),
        *floor_verdicts(stack, "DB-5", "database.read_replicas", replicas),
    ]


def references_to(stack: Stack, resource_type: str, attribute: str, target: str) -> list[str]:
    """Names of `resource_type` resources whose `attribute` refers to the address `target`."""
    found = []
    for name, body in stack.resources(resource_type).items():
        values = body.get(attribute)
        values = values if isinstance(values, list) else [values]
        if any(address_of(value) == target for value in values):
            found.append(name)
    return found


def one_off_task(stack: Stack, task_definition: str) -> bool:
    """Whether an `aws_ecs_task_definition` (address) is a one-off task: the stack runs ECS
    services and none of them runs it (e.g. a first-deploy setup task started by a Lambda)."""
    services = stack.resources("aws_ecs_service")
    return bool(services) and not any(
        address_of(body.get("task_definition")) == task_definition for body in services.values()
    )


def azure_nsg_subnets(stack: Stack, nsg: str) -> list[dict[str, Any]]:
    """The bodies of the `azurerm_subnet`s associated with NSG `nsg` (a resource name)."""
    subnets = stack.resources("azurerm_subnet")
    found = []
    for association in stack.resources(
        "azurerm_subnet_network_security_group_association"
    ).values():
        if address_of(association.get("network_security_group_id")) != (
            f"azurerm_network_security_group.{nsg}"
        ):
            continue
        subnet = address_of(association.get("subnet_id"))
        if subnet and subnet.split(".", 1)[1] in subnets:
            found.append(subnets[subnet.split(".", 1)[1]])
    return found


def azure_delegated_to(subnet: dict[str, Any], service: str) -> bool:
    """Whether an `azurerm_subnet` body is delegated to `service` (Microsoft.App/environments)."""
    return any(
        delegation.get("name") == service
        for block in blocks(subnet, "delegation")
        for delegation in blocks(block, "service_delegation")
    )
