"""Builds the synth-time guards: what must never be generated stops `cdktf synth` outright.

`attach_guards(stack)` adds one construct validation to a stack. cdktf runs validations
before it writes the stack (`runAllValidations` in its synthesizer) and fails the synth with
every message, each naming the stack, the resource and the requirement:

- NET-2: a database or cache with a public endpoint;
- SEC-3: a literal secret value (`secret_string`, `password`, `value`, ...) in configuration;
- TAG-1: a taggable resource without the five required tags (AWS provider default_tags count);
- IAM-1: a grant to the public on any resource (synth/public_access.py);
- NET-3: internet ingress (any set of ranges that covers 0.0.0.0/0 or ::/0: synth/cidrs.py)
  to anything but the load balancer on 443 or 80.

The guards judge the stack's own Terraform JSON (`to_terraform()`), so they see exactly what
would be written; the verify gate checks the rest after synthesis.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jsii
from cdktf import TerraformStack
from constructs import IValidation

from synth.cidrs import internet_with
from synth.public_access import grants

# TAG-1's keys; values are checked by the verify gate against the environment config.
REQUIRED_TAGS = ("app", "environment", "managed-by", "owner", "cost-center")
LOAD_BALANCER_PORTS = frozenset({"80", "443"})
REFERENCE = re.compile(r"\$\{[^}]+\}")

# NET-2: (resource type, attribute path, value that means public, provider default).
PUBLIC_ENDPOINTS: tuple[tuple[str, str, Any, Any], ...] = (
    ("aws_db_instance", "publicly_accessible", True, False),
    ("aws_rds_cluster_instance", "publicly_accessible", True, False),
    ("google_sql_database_instance", "settings.ip_configuration.ipv4_enabled", True, True),
    ("azurerm_postgresql_flexible_server", "public_network_access_enabled", True, True),
    ("azurerm_redis_cache", "public_network_access_enabled", True, True),
)
# SEC-3: attributes that hold a secret value, per resource type.
SECRET_VALUES: dict[str, tuple[str, ...]] = {
    "aws_secretsmanager_secret_version": ("secret_string", "secret_binary"),
    "aws_db_instance": ("password",),
    "aws_rds_cluster": ("master_password",),
    "aws_elasticache_replication_group": ("auth_token",),
    "aws_ssm_parameter": ("value",),
    "google_secret_manager_secret_version": ("secret_data", "secret_data_wo"),
    "google_sql_user": ("password",),
    "azurerm_key_vault_secret": ("value",),
    "azurerm_postgresql_flexible_server": ("administrator_password",),
}
# TAG-1: the attribute carrying tags, per resource-type prefix (GCP calls them labels).
TAG_ATTRIBUTES = {"aws_": "tags", "google_": "labels", "azurerm_": "tags"}


@dataclass(frozen=True)
class Violation:
    requirement: str
    resource: str  # type.name (construct path)
    message: str

    def __str__(self) -> str:
        return f"{self.requirement}: {self.resource}: {self.message}"


def _resources(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for rtype, named in (document.get("resource") or {}).items():
        if rtype == "//" or not isinstance(named, dict):
            continue
        for name, body in named.items():
            if name != "//" and isinstance(body, dict):
                yield rtype, name, body


def _label(rtype: str, name: str, body: dict[str, Any]) -> str:
    path = (body.get("//") or {}).get("metadata", {}).get("path")
    return f"{rtype}.{name}" + (f" ({path})" if path else "")


def _get(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(body, list):
            body = body[0] if body else None
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def public_endpoints(document: dict[str, Any]) -> list[Violation]:
    found = []
    for rtype, name, body in _resources(document):
        for kind, path, public, default in PUBLIC_ENDPOINTS:
            value = _get(body, path)
            if rtype == kind and (default if value is None else value) == public:
                shown = "unset (the provider default is public)" if value is None else value
                found.append(Violation("NET-2", _label(rtype, name, body), f"{path} is {shown}"))
    return found


def secret_literals(document: dict[str, Any]) -> list[Violation]:
    found = []
    for rtype, name, body in _resources(document):
        attributes = SECRET_VALUES.get(rtype, ())
        if rtype == "aws_ssm_parameter" and body.get("type") != "SecureString":
            attributes = ()
        for attribute in attributes:
            value = body.get(attribute)
            if isinstance(value, str) and value and not REFERENCE.search(value):
                found.append(
                    Violation(
                        "SEC-3",
                        _label(rtype, name, body),
                        f"{attribute} is a literal; generate it or reference the secrets manager",
                    )
                )
    return found


# Provider-level tags/labels that merge into every resource the provider creates.
PROVIDER_DEFAULTS = {"aws": ("aws_", "default_tags"), "google": ("google_", "default_labels")}


def _provider_default_keys(provider: str, config: dict[str, Any]) -> set[str]:
    if provider == "aws":
        keys: set[str] = set()
        for block in _as_list(config.get("default_tags")):
            keys.update((block or {}).get("tags") or {})
        return keys
    return set(config.get("default_labels") or {})


def provider_defaults(document: dict[str, Any]) -> dict[str, set[str]]:
    """Tag/label keys each provider configuration applies, keyed as resources name it:
    `aws` for the default configuration, `aws.<alias>` for an aliased one."""
    found: dict[str, set[str]] = {}
    for provider in PROVIDER_DEFAULTS:
        for config in _as_list((document.get("provider") or {}).get(provider)):
            if isinstance(config, dict):
                key = f"{provider}.{config['alias']}" if config.get("alias") else provider
                found[key] = _provider_default_keys(provider, config)
    return found


def _provider_of(rtype: str, body: dict[str, Any]) -> str:
    """The provider configuration a resource uses: `provider = "aws.west"` (cdktf writes the
    bare address; `${aws.west}` is accepted too), else the type's default configuration."""
    named = body.get("provider")
    if isinstance(named, str) and named:
        return named.removeprefix("${").removesuffix("}")
    return rtype.split("_", 1)[0]


def missing_tags(document: dict[str, Any]) -> list[Violation]:
    """Resources that carry tags or labels must carry all five; provider defaults count
    (AWS default_tags, Google default_labels: both merge into every resource's own). Every
    provider configuration is judged, aliases included: a resource on an aliased provider
    gets that alias's defaults, not the default configuration's."""
    found = []
    defaults = provider_defaults(document)
    for key, keys in defaults.items():
        setting = PROVIDER_DEFAULTS[key.split(".", 1)[0]][1]
        if not set(REQUIRED_TAGS) <= keys:
            missing = ", ".join(sorted(set(REQUIRED_TAGS) - keys))
            found.append(Violation("TAG-1", f"provider.{key}", f"{setting} lack {missing}"))
    for rtype, name, body in _resources(document):
        prefix = next((p for p in TAG_ATTRIBUTES if rtype.startswith(p)), None)
        if prefix is None or TAG_ATTRIBUTES[prefix] not in body:
            continue
        tags = body.get(TAG_ATTRIBUTES[prefix])
        if isinstance(tags, str) and REFERENCE.search(tags):
            continue  # computed tag maps are judged by the verify gate
        have = set(tags or {}) | defaults.get(_provider_of(rtype, body), set())
        lacking = [key for key in REQUIRED_TAGS if key not in have]
        if lacking:
            found.append(
                Violation(
                    "TAG-1",
                    _label(rtype, name, body),
                    f"{TAG_ATTRIBUTES[prefix]} lack {', '.join(lacking)}",
                )
            )
    return found


def _lb_security_groups(document: dict[str, Any]) -> set[str]:
    groups = set()
    for _, _, body in (r for r in _resources(document) if r[0] == "aws_lb"):
        for reference in _as_list(body.get("security_groups")):
            match = re.fullmatch(r"\$\{aws_security_group\.([^.}]+)\.id\}", str(reference))
            if match:
                groups.add(match.group(1))
    return groups


def _ports(low: Any, high: Any) -> set[str] | None:
    """The ports a rule opens as strings; None for all ports or a range."""
    if low is None or high is None or str(low) != str(high) or str(low) in ("-1", "0"):
        return None
    return {str(low)}


def open_ingress(document: dict[str, Any]) -> list[Violation]:
    found = []
    lb_groups = _lb_security_groups(document)
    # (label, group the rule belongs to, sources, ports, to the load balancer): judged together
    # so that ranges split over several rules of one group and port add up to the internet.
    collected: list[tuple[str, str, set[str], frozenset[str] | None, bool]] = []

    def judge(
        label: str, sources: set[str], ports: set[str] | None, to_lb: bool, group: str = ""
    ) -> None:
        collected.append(
            (label, group or label, sources, None if ports is None else frozenset(ports), to_lb)
        )

    for rtype, name, body in _resources(document):
        label = _label(rtype, name, body)
        if rtype == "aws_vpc_security_group_ingress_rule":
            group = re.fullmatch(
                r"\$\{aws_security_group\.([^.}]+)\.id\}", str(body.get("security_group_id"))
            )
            open_all = str(body.get("ip_protocol")) in ("-1", "all")
            ports = None if open_all else _ports(body.get("from_port"), body.get("to_port"))
            sources = {str(body.get("cidr_ipv4")), str(body.get("cidr_ipv6"))}
            key = f"aws_security_group.{group.group(1)}" if group else label
            judge(label, sources, ports, bool(group and group.group(1) in lb_groups), key)
        elif rtype == "aws_security_group_rule" and body.get("type") == "ingress":
            group = re.fullmatch(
                r"\$\{aws_security_group\.([^.}]+)\.id\}", str(body.get("security_group_id"))
            )
            sources = set(map(str, _as_list(body.get("cidr_blocks"))))
            sources |= set(map(str, _as_list(body.get("ipv6_cidr_blocks"))))
            ports = _ports(body.get("from_port"), body.get("to_port"))
            key = f"aws_security_group.{group.group(1)}" if group else label
            judge(label, sources, ports, bool(group and group.group(1) in lb_groups), key)
        elif rtype == "aws_security_group":
            for rule in _as_list(body.get("ingress")):
                sources = set(map(str, _as_list(rule.get("cidr_blocks"))))
                sources |= set(map(str, _as_list(rule.get("ipv6_cidr_blocks"))))
                ports = _ports(rule.get("from_port"), rule.get("to_port"))
                judge(label, sources, ports, name in lb_groups, f"aws_security_group.{name}")
        elif rtype == "google_compute_firewall" and body.get("direction", "INGRESS") == "INGRESS":
            allows = _as_list(body.get("allow"))
            if not allows:
                continue  # a deny rule
            sources = set(map(str, _as_list(body.get("source_ranges"))))
            listed = [_as_list(allow.get("ports")) for allow in allows]
            ports = None if not all(listed) else {str(p) for group in listed for p in group}
            # GCP and Azure load balancers are not in the rule: 443/80 are judged by the gate.
            judge(label, sources, ports, True, str(body.get("network") or label))
        elif rtype in ("azurerm_network_security_rule", "azurerm_network_security_group"):
            rules = [body] if rtype.endswith("_rule") else _as_list(body.get("security_rule"))
            for rule in rules:
                if rule.get("direction") != "Inbound" or rule.get("access") != "Allow":
                    continue
                sources = {str(rule.get("source_address_prefix"))}
                sources |= set(map(str, _as_list(rule.get("source_address_prefixes"))))
                listed = _as_list(rule.get("destination_port_ranges")) or [
                    rule.get("destination_port_range")
                ]
                ranges = {str(port) for port in listed}
                whole = ranges & {"*", "None"} or any("-" in port for port in ranges)
                nsg = str(body.get("network_security_group_name") or label)
                judge(label, sources, None if whole else ranges, True, nsg)
    for label, owner, own_sources, own_ports, to_lb in collected:
        peers = {
            source
            for _, other_owner, other_sources, other_ports, _ in collected
            if other_owner == owner and other_ports == own_ports
            for source in other_sources
        }
        if not internet_with(own_sources, peers):
            continue
        if to_lb and own_ports is not None and own_ports <= LOAD_BALANCER_PORTS:
            continue
        where = "all ports" if own_ports is None else f"port {', '.join(sorted(own_ports))}"
        target = "the load balancer" if to_lb else "a resource other than the load balancer"
        found.append(Violation("NET-3", label, f"internet ingress on {where} to {target}"))
    return found


def public_grants(document: dict[str, Any]) -> list[Violation]:
    """IAM-1: a grant to the public (allUsers, `*` principals, anonymous blob access, ...) on
    any resource of any cloud, judged by synth/public_access.py like CKV_GW_IAM_2."""
    found = []
    for rtype, name, body in _resources(document):
        for problem in grants(rtype, body, document)[1]:
            found.append(Violation("IAM-1", _label(rtype, name, body), problem))
    return found


GUARDS: tuple[Callable[[dict[str, Any]], list[Violation]], ...] = (
    public_endpoints,
    public_grants,
    secret_literals,
    missing_tags,
    open_ingress,
)


def violations(document: dict[str, Any]) -> list[Violation]:
    """Every guard's findings for one stack's Terraform JSON."""
    return [violation for guard in GUARDS for violation in guard(document)]


@jsii.implements(IValidation)
class _StackGuards:
    def __init__(self, stack: TerraformStack) -> None:
        self._stack = stack

    def validate(self) -> list[str]:
        name = self._stack.node.id
        document: dict[str, Any] = self._stack.to_terraform()
        return [f"stack {name}: {violation}" for violation in violations(document)]


def attach_guards(stack: TerraformStack) -> None:
    """Make `cdktf synth` fail on any guard violation in `stack`, naming stack, resource and
    requirement."""
    stack.node.add_validation(_StackGuards(stack))


def guard_failures(error: BaseException) -> list[str] | None:
    """The violation lines of a synth that guards stopped, or None for any other error.

    cdktf reports failed validations as one RuntimeError whose text also suggests skipping
    validation; only our `stack <name>: <ID>: ...` lines are worth showing.
    """
    text = str(error)
    if "Validation failed with the following errors" not in text:
        return None
    return [line.split("] ", 1)[-1] for line in text.splitlines() if "] stack " in line]
