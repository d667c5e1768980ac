"""Reads AWS policy documents (IAM, key, bucket policies) as the stack synthesizes them.

A helper for the AWS policies, not a policy: a `policy` attribute is either JSON text or a
reference to a `data.aws_iam_policy_document` in the same stack. Both come back as the same
normalized statements; anything else (another expression, unparseable text) is None, which
the policies report as UNKNOWN.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from groundwork_policy import Stack, blocks

DOCUMENT_REFERENCE = re.compile(r"^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$")


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[str, ...]  # identifiers; "*" for anyone
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (test, variable, values)


def _strings(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    return tuple(str(item) for item in items)


def _from_json(statement: dict[str, Any]) -> Statement:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principals = tuple(p for v in principal.values() for p in _strings(v))
    else:
        principals = _strings(principal)
    conditions = tuple(
        (str(test), str(variable), _strings(values))
        for test, pairs in (statement.get("Condition") or {}).items()
        for variable, values in pairs.items()
    )
    return Statement(
        effect=str(statement.get("Effect", "")),
        actions=_strings(statement.get("Action")),
        not_actions=_strings(statement.get("NotAction")),
        resources=_strings(statement.get("Resource")),
        principals=principals,
        conditions=conditions,
    )


def _from_data(statement: dict[str, Any]) -> Statement:
    # aws_iam_policy_document: effect defaults to Allow in the provider's schema.
    return Statement(
        effect=str(statement.get("effect", "Allow")),
        actions=_strings(statement.get("actions")),
        not_actions=_strings(statement.get("not_actions")),
        resources=_strings(statement.get("resources")),
        principals=tuple(
            p for block in blocks(statement, "principals") for p in _strings(block["identifiers"])
        ),
        conditions=tuple(
            (str(c["test"]), str(c["variable"]), _strings(c.get("values")))
            for c in blocks(statement, "condition")
        ),
    )


def _escape_interpolations(text: str) -> str:
    """Escape the quotes inside `${...}` Terraform interpolations, which JSON text may hold
    raw (`${element(split(":", ...), 6)}`), so the text parses and keeps the expression."""
    out, depth, index = [], 0, 0
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            out.append("${")
            index += 2
            continue
        char = text[index]
        if depth and char == "{":
            depth += 1
        elif depth and char == "}":
            depth -= 1
        elif depth and char == '"' and (index == 0 or text[index - 1] != "\\"):
            char = '\\"'
        out.append(char)
        index += 1
    return "".join(out)


def statements(stack: Stack, policy: Any) -> list[Statement] | None:
    """The statements of a `policy` value, or None when they cannot be resolved."""
    if not isinstance(policy, str):
        return None
    match = DOCUMENT_REFERENCE.match(policy.strip())
    if match:
        document = stack.document.get("data", {}).get("aws_iam_policy_document", {})
        body = document.get(match.group(1))
        if not isinstance(body, dict) or "source_policy_documents" in body:
            return None
        if "override_policy_documents" in body:
            return None
        return [_from_data(s) for s in blocks(body, "statement")]
    try:
        parsed = json.loads(_escape_interpolations(policy))
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    raw = parsed.get("Statement")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
    if items is None:
        return None
    return [_from_json(s) for s in items if isinstance(s, dict)]
