"""Builds the one judgement of "does this resource grant access to the public?" on every cloud.

Used by the synth-time guard `public_grants` (synth/guards.py) and the cross-cloud policy
CKV_GW_IAM_2 (policies/checks/common/public_grants.py). A grant to the public is:

- GCP: the members `allUsers` / `allAuthenticatedUsers` anywhere (IAM member, binding or policy
  data, bucket ACL entities), or a public predefined ACL
  (https://cloud.google.com/iam/docs/principals-overview#all-users,
  https://cloud.google.com/storage/docs/access-control/lists#predefined-acl);
- AWS: an Allow statement whose Principal (or NotPrincipal) is `*` / `{"AWS": "*"}` in any
  policy document, inline JSON or `aws_iam_policy_document` data source, a `principal = "*"`
  permission, or a public canned ACL
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl);
- Azure: anonymous blob access (a container's `container_access_type` of blob / container, or
  a storage account that allows it: `allow_nested_items_to_be_public`, true when unset in
  azurerm 4.x), a firewall rule over every address (or 0.0.0.0-0.0.0.0, which admits every
  Azure service of any tenant), or IP rules that cover the internet
  (https://learn.microsoft.com/en-us/azure/storage/blobs/anonymous-read-access-prevent,
  https://learn.microsoft.com/en-us/azure/postgresql/flexible-server/concepts-firewall-rules).

`grants(rtype, body, document)` returns `(surface, problems)`: whether the resource has
anything that can grant access at all (a policy only reports on those), and each public grant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from synth.cidrs import covers_internet

PUBLIC_MEMBERS = re.compile(r"\b(allUsers|allAuthenticatedUsers)\b")
# GCS predefined ACLs and S3 canned ACLs that grant to everyone or every signed-in user.
PUBLIC_ACLS = frozenset(
    {
        "publicRead",
        "publicReadWrite",
        "authenticatedRead",
        "public-read",
        "public-read-write",
        "authenticated-read",
    }
)
# Keys whose presence means the resource can grant access to someone.
GRANT_KEYS = frozenset(
    {
        "member",
        "members",
        "role_entity",
        "entity",
        "policy_data",
        "principal",
        "principals",
        "acl",
        "predefined_acl",
        "container_access_type",
        "allow_nested_items_to_be_public",
        "start_ip_address",
        "ip_rules",
    }
)
POLICY_DATA_SOURCE = re.compile(r"\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}")
EVERY_ADDRESS = ("0.0.0.0", "255.255.255.255")
EVERY_AZURE_SERVICE = ("0.0.0.0", "0.0.0.0")


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted path, leaf value) of a body; keys are yielded with their leaves."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "//":
                continue
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, path)
    else:
        yield path, value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _is_everyone(principal: Any) -> bool:
    """`*`, `{"AWS": "*"}` or a list holding `*`: anyone, signed in or not."""
    if isinstance(principal, dict):
        return any(_is_everyone(value) for value in principal.values())
    return any(str(item).strip() == "*" for item in _as_list(principal))


def statement_problems(document: Any, where: str) -> list[str]:
    """Allow statements of an IAM policy document (parsed JSON) that grant to everyone."""
    if not isinstance(document, dict):
        return []
    problems = []
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect", "Allow") != "Allow":
            continue
        if "NotPrincipal" in statement:
            problems.append(
                f"{where}: an Allow statement with NotPrincipal grants to everyone else"
            )
        elif _is_everyone(statement.get("Principal")):
            actions = statement.get("Action") or statement.get("NotAction")
            problems.append(f"{where}: Allow {actions} to Principal '*' (anyone)")
    return problems


def _data_document_problems(document: dict[str, Any], name: str, where: str) -> list[str]:
    """The statements of `data.aws_iam_policy_document.<name>` that grant to everyone."""
    body = ((document.get("data") or {}).get("aws_iam_policy_document") or {}).get(name) or {}
    problems = []
    for statement in _as_list(body.get("statement")):
        if not isinstance(statement, dict) or statement.get("effect", "Allow") != "Allow":
            continue
        if statement.get("not_principals"):
            problems.append(f"{where}: an Allow statement with not_principals grants to everyone")
        for principal in _as_list(statement.get("principals")):
            if isinstance(principal, dict) and (
                principal.get("type") == "*" or _is_everyone(principal.get("identifiers"))
            ):
                problems.append(f"{where}: Allow {statement.get('actions')} to principals '*'")
    return problems


def _json(text: str) -> Any:
    if "Statement" not in text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def grants(rtype: str, body: dict[str, Any], document: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether the resource can grant access, and each grant it makes to the public."""
    surface = rtype == "azurerm_storage_account"
    problems: list[str] = []
    for path, value in _walk(body):
        key = path.rsplit(".", 1)[-1]
        surface = surface or key in GRANT_KEYS
        if not isinstance(value, str):
            continue
        member = PUBLIC_MEMBERS.search(value)
        if member:
            surface = True
            problems.append(f"{path} grants to {member.group(1)}")
        parsed = _json(value)
        if parsed is not None:
            surface = True
            problems += statement_problems(parsed, path)
        for name in POLICY_DATA_SOURCE.findall(value):
            surface = True
            problems += _data_document_problems(document, name, f"{path} (policy document {name})")
        if key in ("acl", "predefined_acl") and value in PUBLIC_ACLS:
            problems.append(f"{key} {value} grants read access to everyone")
        if key == "principal" and value.strip() == "*":
            problems.append("principal '*' lets any account invoke it")
        if key == "container_access_type" and value in ("blob", "container"):
            problems.append(f"container_access_type {value} allows anonymous reads")
    if rtype == "azurerm_storage_account" and body.get("allow_nested_items_to_be_public") in (
        None,
        True,
    ):
        shown = body.get("allow_nested_items_to_be_public")
        problems.append(
            "allow_nested_items_to_be_public is "
            + ("unset (azurerm 4.x defaults to true)" if shown is None else "true")
            + ": containers may allow anonymous reads"
        )
    span = (body.get("start_ip_address"), body.get("end_ip_address"))
    if span == EVERY_ADDRESS:
        problems.append("firewall rule admits every address (0.0.0.0-255.255.255.255)")
    elif span == EVERY_AZURE_SERVICE:
        problems.append("firewall rule 0.0.0.0-0.0.0.0 admits every Azure service of any tenant")
    ip_rules: dict[str, list[Any]] = {}
    for path, value in _walk(body):
        if path.rsplit(".", 1)[-1] == "ip_rules":
            ip_rules.setdefault(path, []).append(value)
    problems += [f"{path} cover the internet" for path, v in ip_rules.items() if covers_internet(v)]
    return surface, list(dict.fromkeys(problems))
