"""Builds the dependency graph of a synthesized stack as Terraform orders it (DEPLOY-2).

Nodes are addresses: `type.name` for resources and `data.type.name` for data sources. An
edge A -> B means Terraform finishes B before it starts A, because A's body refers to B in
an expression (`${B.attr}`, also inside function calls) or lists B in `depends_on`. That is
Terraform's own rule ("Resource Dependencies" in the Terraform language documentation):
references and `depends_on` are the only ordering there is, so a deployability rule stated
as "every X that uses Y depends on Z" is a question about this graph.

Deliberately not edges: `lifecycle` (its `replace_triggered_by` orders replacement, not
creation) and `provider` (a provider alias is configuration, not a resource).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# A candidate address inside an expression: `type.name` or `data.type.name`. Only candidates
# that name a resource or data source of the document become edges.
_CANDIDATE = re.compile(r"(?<![\w.])((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)")
# Keys of a resource body that are meta-arguments, not attributes that order anything.
_NOT_ORDERING = frozenset({"lifecycle", "provider", "//"})


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value, depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def entities(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{address: body}` of every resource and data source in a Terraform JSON document."""
    found: dict[str, dict[str, Any]] = {}
    for prefix, block in (("", document.get("resource")), ("data.", document.get("data"))):
        if not isinstance(block, Mapping):
            continue
        for rtype, named in block.items():
            if rtype == "//" or not isinstance(named, Mapping):
                continue
            for name, body in named.items():
                if name != "//" and isinstance(body, Mapping):
                    found[f"{prefix}{rtype}.{name}"] = dict(body)
    return found


def _direct(body: Mapping[str, Any], known: Mapping[str, Any]) -> frozenset[str]:
    targets: set[str] = set()
    for key, value in body.items():
        if key in _NOT_ORDERING:
            continue
        if key == "depends_on":
            targets.update(str(item) for item in value if str(item) in known)
            continue
        for text in _strings(value):
            if "${" in text:
                targets.update(c for c in _CANDIDATE.findall(text) if c in known)
    return frozenset(targets)


@dataclass
class Graph:
    """A stack's entities and their ordering edges.

    `bodies[address]` is the entity's JSON; `edges[address]` the addresses it waits for
    directly. `needs(a, b)` answers "does Terraform finish b before it starts a?"."""

    bodies: dict[str, dict[str, Any]]
    edges: dict[str, frozenset[str]]
    _closure: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Graph:
        bodies = entities(document)
        return cls(bodies, {address: _direct(body, bodies) for address, body in bodies.items()})

    def prerequisites(self, address: str) -> frozenset[str]:
        """Everything `address` waits for, directly or through others (empty if unknown)."""
        if address not in self._closure:
            seen: set[str] = set()
            stack = list(self.edges.get(address, ()))
            while stack:
                current = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                stack.extend(self.edges.get(current, ()))
            self._closure[address] = frozenset(seen)
        return self._closure[address]

    def needs(self, address: str, prerequisite: str) -> bool:
        """Whether Terraform finishes `prerequisite` before it starts `address`."""
        return prerequisite in self.prerequisites(address)

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """`{address: body}` of the entities of the given types (`data.<type>` for data)."""
        wanted = set(types)
        return {
            address: body
            for address, body in self.bodies.items()
            if address.rsplit(".", 1)[0] in wanted
        }

    def dependents(self, address: str) -> frozenset[str]:
        """The entities that refer to `address` directly (reference or `depends_on`)."""
        return frozenset(a for a, targets in self.edges.items() if address in targets)

    def refers_to(self, address: str, target: str) -> bool:
        """Whether `address` names `target` directly in a reference or `depends_on`."""
        return target in self.edges.get(address, frozenset())
