"""Builds the offline change review: what a change does to every stack, before any plan.

`python -m synth review BASE HEAD` compares two cdktf output folders; `--base REF` first
synthesizes the git ref REF in a temporary worktree (and HEAD, when not given, from the
working tree). Per stack it prints the resources added, removed and changed (old -> new
values) and the changes of its provider configurations and `terraform` block, flags every
stateful resource (data the cloud cannot give back) that would be destroyed or replaced,
optionally the verify gate's delta (`--gate`), and with `--format markdown` (for a pull
request) a Mermaid diagram of the stack's components.

Resources are matched by a stable address, `<type>.<construct path>` (for example
`aws_db_instance.database/primary`), not by cdktf's logical IDs, whose hash suffix changes
whenever a construct moves.

Exit status: 0; 1 with `--fail-on-destroy` when a stateful resource would be destroyed or
replaced; 2 for bad input (a folder without stacks, an unknown git ref).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.graph import Graph

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = "cdk.tf.json"
# Shown values longer than this are cut, so one huge policy document does not drown a review.
VALUE_WIDTH = 120
_HASH_SUFFIX = re.compile(r"_[0-9A-F]{8}$")

# Stateful resource types (their loss is data loss, or a key whose loss is) and, per type,
# the arguments whose change makes Terraform replace the resource: the provider
# documentation's "Changing this forces a new resource" (azurerm, google) and the AWS
# provider's ForceNew schema (registry.terraform.io/providers/hashicorp/aws/latest/docs).
# Reviewed by hand; tests/synth/test_review.py pins it.
STATEFUL: dict[str, frozenset[str]] = {
    # AWS
    "aws_db_instance": frozenset({
        "identifier", "engine", "kms_key_id", "storage_encrypted", "username", "db_name",
        "availability_zone", "character_set_name", "replicate_source_db", "timezone",
    }),
    "aws_rds_cluster": frozenset({
        "cluster_identifier", "engine", "kms_key_id", "storage_encrypted", "master_username",
        "database_name", "availability_zones", "db_cluster_instance_class",
    }),
    "aws_elasticache_replication_group": frozenset({
        "replication_group_id", "at_rest_encryption_enabled", "kms_key_id", "subnet_group_name",
    }),
    "aws_s3_bucket": frozenset({"bucket", "bucket_prefix", "object_lock_enabled"}),
    "aws_kms_key": frozenset({"customer_master_key_spec", "key_usage", "multi_region"}),
    "aws_secretsmanager_secret": frozenset({"name", "name_prefix"}),
    "aws_cloudwatch_log_group": frozenset({"name", "name_prefix"}),
    "aws_ecr_repository": frozenset({"name"}),
    # GCP
    "google_sql_database_instance": frozenset({
        "name", "region", "project", "encryption_key_name", "master_instance_name",
    }),
    "google_redis_instance": frozenset({
        "name", "region", "project", "tier", "location_id", "customer_managed_key",
        "connect_mode", "transit_encryption_mode", "authorized_network",
    }),
    "google_storage_bucket": frozenset({"name", "location", "project"}),
    "google_kms_key_ring": frozenset({"name", "location", "project"}),
    "google_kms_crypto_key": frozenset({"name", "key_ring", "purpose"}),
    "google_secret_manager_secret": frozenset({"secret_id", "project", "replication"}),
    "google_artifact_registry_repository": frozenset({
        "repository_id", "location", "format", "kms_key_name", "project",
    }),
    # Azure
    "azurerm_postgresql_flexible_server": frozenset({
        "name", "resource_group_name", "location", "delegated_subnet_id",
        "geo_redundant_backup_enabled", "create_mode",
    }),
    "azurerm_redis_cache": frozenset({
        "name", "resource_group_name", "location", "subnet_id", "family",
    }),
    "azurerm_storage_account": frozenset({
        "name", "resource_group_name", "location", "account_tier", "is_hns_enabled",
        "infrastructure_encryption_enabled",
    }),
    "azurerm_storage_container": frozenset({"name", "storage_account_name", "storage_account_id"}),
    "azurerm_key_vault": frozenset({"name", "resource_group_name", "location"}),
    "azurerm_key_vault_key": frozenset({"name", "key_vault_id", "key_type", "key_size", "curve"}),
    "azurerm_key_vault_secret": frozenset({"name", "key_vault_id"}),
    "azurerm_log_analytics_workspace": frozenset({"name", "resource_group_name", "location"}),
    "azurerm_resource_group": frozenset({"name", "location"}),
    # Networks: replacing one replaces everything placed in it (subnets, and the databases,
    # caches and endpoints in those), so a forcing change here destroys data too.
    "aws_vpc": frozenset({"cidr_block", "instance_tenancy"}),
    "aws_subnet": frozenset({"cidr_block", "availability_zone", "vpc_id"}),
    "google_compute_network": frozenset({"name", "auto_create_subnetworks", "project"}),
    "google_compute_subnetwork": frozenset({"name", "network", "region", "project"}),
    "azurerm_virtual_network": frozenset({"name", "resource_group_name", "location"}),
    "azurerm_subnet": frozenset({"name", "resource_group_name", "virtual_network_name"}),
}  # fmt: skip


class ReviewError(Exception):
    """Bad input to the review (exit 2); the message names what and why."""


@dataclass(frozen=True)
class Change:
    """One resource's change; `changed` maps an attribute path to (old, new)."""

    address: str  # stable: <type>.<construct path>
    kind: str  # "add" | "remove" | "change"
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.address.split(".", 1)[0]

    @property
    def forcing(self) -> list[str]:
        """Changed arguments that make Terraform replace a stateful resource."""
        keys = STATEFUL.get(self.type, frozenset())
        return sorted({path.split(".", 1)[0] for path in self.changed} & keys)

    @property
    def destroys_data(self) -> bool:
        """A stateful resource removed, or changed in an argument that forces replacement."""
        if self.type not in STATEFUL:
            return False
        return self.kind == "remove" or (self.kind == "change" and bool(self.forcing))


@dataclass
class StackReview:
    name: str
    changes: list[Change]
    diagram: str
    gate_new_failures: list[str] = field(default_factory=list)
    gate_new_passes: list[str] = field(default_factory=list)

    @property
    def destructive(self) -> list[Change]:
        return [change for change in self.changes if change.destroys_data]


def stable_address(rtype: str, name: str, body: Mapping[str, Any]) -> str:
    """`<type>.<construct path below the stack>`; the logical name without cdktf's hash
    suffix when the body carries no construct path."""
    path = ((body.get("//") or {}).get("metadata") or {}).get("path")
    if isinstance(path, str) and "/" in path:
        return f"{rtype}.{path.split('/', 1)[1]}"
    return f"{rtype}.{_HASH_SUFFIX.sub('', name)}"


def _resources(document: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """`{stable address: (logical name, body without cdktf metadata)}`."""
    found = {}
    for rtype, named in (document.get("resource") or {}).items():
        for name, body in named.items():
            address = stable_address(rtype, name, body)
            found[address] = (name, {k: v for k, v in body.items() if k != "//"})
    return found


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key in sorted(value):
            yield from _flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value and all(isinstance(i, Mapping) for i in value):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def _attribute_changes(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    before, after = dict(_flatten(old)), dict(_flatten(new))
    return {
        path: (before.get(path), after.get(path))
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    }


def _moved(
    old: dict[str, tuple[str, dict[str, Any]]],
    new: dict[str, tuple[str, dict[str, Any]]],
    head: Mapping[str, Any] | None,
) -> dict[str, tuple[str, dict[str, Any]]]:
    """`old` with every resource that a `moved` block of `head` carries to a new address
    under that address: Terraform moves it in state, it is neither destroyed nor created
    (https://developer.hashicorp.com/terraform/language/modules/develop/refactoring)."""
    logical_old = {f"{a.split('.', 1)[0]}.{name}": a for a, (name, _) in old.items()}
    logical_new = {f"{a.split('.', 1)[0]}.{name}": a for a, (name, _) in new.items()}
    moved = dict(old)
    for block in (head or {}).get("moved") or []:
        source = logical_old.get(str(block.get("from")))
        target = logical_new.get(str(block.get("to")))
        if source is not None and target is not None and target not in old:
            moved[target] = moved.pop(source)
    return moved


def _settings(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The stack's settings besides its resources: each provider configuration
    (`provider.<name>`, `provider.<name>.<alias>`) and the `terraform` block (backend,
    required providers and version), without cdktf metadata. A change there changes what
    every resource is applied with: an AWS provider's `default_tags` retags every resource,
    a new backend moves the state."""
    found: dict[str, dict[str, Any]] = {}
    for name, configs in (document.get("provider") or {}).items():
        for config in configs if isinstance(configs, list) else [configs]:
            alias = config.get("alias")
            address = f"provider.{name}" + (f".{alias}" if alias else "")
            found[address] = {k: v for k, v in config.items() if k != "//"}
    terraform = {k: v for k, v in (document.get("terraform") or {}).items() if k != "//"}
    if terraform:
        found["terraform"] = terraform
    return found


def diff_stack(base: Mapping[str, Any] | None, head: Mapping[str, Any] | None) -> list[Change]:
    """The resource changes from `base` to `head` (None: the stack does not exist there),
    then the changes of its provider configurations and `terraform` block (`_settings`); a
    resource `head` moves (`moved` blocks) is compared at its new address."""
    old, new = _resources(base or {}), _resources(head or {})
    old = _moved(old, new, head)
    changes = [Change(a, "add") for a in sorted(set(new) - set(old))]
    changes += [Change(a, "remove") for a in sorted(set(old) - set(new))]
    for address in sorted(set(old) & set(new)):
        changed = _attribute_changes(old[address][1], new[address][1])
        if changed:
            changes.append(Change(address, "change", changed))
    if base is not None and head is not None:  # a whole stack added or removed says enough
        before, after = _settings(base), _settings(head)
        for address in sorted(set(before) | set(after)):
            changed = _attribute_changes(before.get(address, {}), after.get(address, {}))
            if changed:
                changes.append(Change(address, "change", changed))
    return changes


def component_of(path: str) -> str:
    """The component a construct path belongs to (`database` of `dev/database/primary`)."""
    parts = path.split("/")
    return parts[1] if len(parts) > 2 else "stack"


def diagram(document: Mapping[str, Any]) -> str:
    """A Mermaid flowchart of the stack's components (resources grouped by their top-level
    construct) and which uses which (a reference or depends_on across components)."""
    graph = Graph.of(document)
    component: dict[str, str] = {}
    for address, body in graph.bodies.items():
        path = ((body.get("//") or {}).get("metadata") or {}).get("path", "")
        component[address] = component_of(path) if isinstance(path, str) else "stack"
    counts: dict[str, int] = {}
    for address, name in component.items():
        if not address.startswith("data."):
            counts[name] = counts.get(name, 0) + 1
    edges = sorted(
        {
            (component[a], component[b])
            for a, targets in graph.edges.items()
            for b in targets
            if component[a] != component[b] and component[a] in counts and component[b] in counts
        }
    )
    lines = ["flowchart LR"]
    lines += [f'  {_node(name)}["{name} ({count})"]' for name, count in sorted(counts.items())]
    lines += [f"  {_node(a)} --> {_node(b)}" for a, b in edges]
    return "\n".join(lines)


def _node(component: str) -> str:
    """A Mermaid node ID for a component name (letters, digits and '_' only)."""
    return re.sub(r"\W", "_", component)


def _stacks(outdir: Path, root: Path) -> dict[str, dict[str, Any]]:
    """Every stack of `outdir`, synthesized from the project in `root`, by name; a local
    backend's `path` rewritten relative to `root` (`_rooted`)."""
    paths = sorted((outdir / "stacks").glob(f"*/{STACK_FILE}"))
    if not paths:
        raise ReviewError(f"{outdir}: no stacks/<stack>/{STACK_FILE} (synthesize first)")
    return {
        path.parent.name: _rooted(json.loads(path.read_text(encoding="utf-8")), path.parent, root)
        for path in paths
    }


def _rooted(document: dict[str, Any], stack_dir: Path, root: Path) -> dict[str, Any]:
    """`document` with its local backend's `path` relative to the project `root` instead of
    to `stack_dir`. The path leads from wherever the output folder is to the project's root
    (synth/config.py `root_from_stack`), so the same state file reads differently from a
    worktree or another output folder; this way only a change of the state file shows."""
    local = ((document.get("terraform") or {}).get("backend") or {}).get("local")
    if not isinstance(local, dict):
        return document
    path = local.get("path")
    if not isinstance(path, str) or os.path.isabs(path):
        return document
    state = os.path.normpath(os.path.join(stack_dir, path))
    relative = os.path.relpath(state, root)
    if relative.startswith(os.pardir):  # outside the project: leave it as written
        return document
    local["path"] = f"<project>/{relative}"
    return document


def _finding_keys(report: Path, documents: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """`stack: CHECK on <stable address>` for every non-passing finding of a verify.json."""
    data = json.loads(report.read_text(encoding="utf-8"))
    stable: dict[tuple[str, str], str] = {}
    for stack, document in documents.items():
        for rtype, named in (document.get("resource") or {}).items():
            for name, body in named.items():
                stable[stack, f"{rtype}.{name}"] = stable_address(rtype, name, body)
    return {
        f"{f['stack']}: {f['check_id']} on {stable.get((f['stack'], f['resource']), f['resource'])}"
        for f in data.get("findings", [])
        if f.get("status") not in ("passed", "waived")
    }


def review(
    base_dir: Path,
    head_dir: Path,
    *,
    base_report: Path | None = None,
    head_report: Path | None = None,
    base_root: Path = PROJECT_ROOT,
    head_root: Path = PROJECT_ROOT,
) -> list[StackReview]:
    """Compare two output folders stack by stack (with the gate's delta when both verify.json
    reports are given); each was synthesized from the project in its `*_root` (a worktree
    for `--base REF`)."""
    base, head = _stacks(base_dir, base_root), _stacks(head_dir, head_root)
    failing_before = _finding_keys(base_report, base) if base_report else set()
    failing_after = _finding_keys(head_report, head) if head_report else set()
    reviews = []
    for name in sorted(set(base) | set(head)):
        reviews.append(
            StackReview(
                name=name,
                changes=diff_stack(base.get(name), head.get(name)),
                diagram=diagram(head.get(name) or base.get(name) or {}),
                gate_new_failures=sorted(
                    k.split(": ", 1)[1]
                    for k in failing_after - failing_before
                    if k.startswith(f"{name}: ")
                ),
                gate_new_passes=sorted(
                    k.split(": ", 1)[1]
                    for k in failing_before - failing_after
                    if k.startswith(f"{name}: ")
                ),
            )
        )
    return reviews


def _shown(value: Any) -> str:
    text = "(absent)" if value is None else json.dumps(value, sort_keys=True)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 3] + "..."


def _summary(reviews: Sequence[StackReview]) -> str:
    changes = [c for r in reviews for c in r.changes]
    counts = {
        kind: sum(1 for c in changes if c.kind == kind) for kind in ("add", "remove", "change")
    }
    destructive = sum(len(r.destructive) for r in reviews)
    return (
        f"review: {counts['add']} to add, {counts['change']} to change, {counts['remove']} to "
        f"remove; {destructive} stateful resource(s) destroyed or replaced"
    )


def _change_lines(change: Change) -> list[str]:
    lines = []
    for path, (old, new) in change.changed.items():
        forcing = " (forces replacement)" if path.split(".", 1)[0] in change.forcing else ""
        lines.append(f"{path}: {_shown(old)} -> {_shown(new)}{forcing}")
    return lines


def render_text(reviews: Sequence[StackReview]) -> str:
    out: list[str] = []
    symbol = {"add": "+", "remove": "-", "change": "~"}
    for stack in reviews:
        out.append(f"== {stack.name}: {len(stack.changes)} change(s)")
        for change in stack.changes:
            loud = "  <-- DESTROYS DATA" if change.destroys_data else ""
            out.append(f"  {symbol[change.kind]} {change.address}{loud}")
            out += [f"      {line}" for line in _change_lines(change)]
        out += [f"  gate: newly failing {item}" for item in stack.gate_new_failures]
        out += [f"  gate: newly passing {item}" for item in stack.gate_new_passes]
    for stack in reviews:
        for change in stack.destructive:
            out.append(f"WARNING: {stack.name}: {change.address} would be destroyed or replaced")
    out.append(_summary(reviews))
    return "\n".join(out) + "\n"


def render_markdown(reviews: Sequence[StackReview]) -> str:
    out = ["## Change review", "", _summary(reviews), ""]
    for stack in reviews:
        for change in stack.destructive:
            out.append(
                f"> **Warning:** `{stack.name}`: `{change.address}` would be destroyed or replaced."
            )
    for stack in reviews:
        out += ["", f"### {stack.name}", ""]
        if not stack.changes:
            out.append("No changes.")
        else:
            out += ["| | resource | detail |", "|---|---|---|"]
            for change in stack.changes:
                detail = ", ".join(change.forcing) and f"replaces: {', '.join(change.forcing)}"
                mark = " **destroys data**" if change.destroys_data else ""
                out.append(f"| {change.kind} | `{change.address}` | {detail}{mark} |")
            details = [
                f"- `{c.address}` {line}" for c in stack.changes for line in _change_lines(c)
            ]
            if details:
                out += [
                    "",
                    "<details><summary>Changed attributes</summary>",
                    "",
                    *details,
                    "",
                    "</details>",
                ]
        if stack.gate_new_failures or stack.gate_new_passes:
            out += ["", "Gate: " + "; ".join(
                [*(f"newly failing {i}" for i in stack.gate_new_failures),
                 *(f"newly passing {i}" for i in stack.gate_new_passes)]
            )]  # fmt: skip
        out += [
            "",
            "<details><summary>Components</summary>",
            "",
            "```mermaid",
            stack.diagram,
            "```",
            "",
            "</details>",
        ]
    return "\n".join(out) + "\n"


def _synthesize(jobs: Sequence[tuple[Path, Path]]) -> None:
    """Synthesize each `(project, outdir)` of `jobs` without its gate (the review runs it
    separately with --gate), using this checkout's Python and Node. The projects are
    synthesized at the same time, one process each: a synthesis keeps about one core busy,
    so on two cores `--base REF` takes about as long as one side (issue 13). Raises
    ReviewError naming the first project whose synthesis failed, once all have ended."""
    code = (
        "import sys, main\n"
        "try:\n    status = main.main(verify_output=False)\n"
        "except TypeError:  # a revision from before the gate ran inside synthesis\n"
        "    status = main.main()\n"
        "sys.exit(status)\n"
    )
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(PROJECT_ROOT / "node_modules" / ".bin"), os.environ["PATH"]]),
    }
    env.pop("GROUNDWORK_STACKS", None)
    failures = []
    with contextlib.ExitStack() as stack:
        running = []
        for project, outdir in jobs:
            print(f"review: synthesizing {project} ...", file=sys.stderr)
            # A file, not a pipe: a full pipe would stall one process while the other is read.
            log = stack.enter_context(tempfile.TemporaryFile(mode="w+"))
            process = subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=project,
                env={**env, "CDKTF_OUTDIR": str(outdir)},
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )
            running.append((project, process, log))
        try:
            for project, process, log in running:
                if process.wait() != 0:
                    log.seek(0)
                    failures.append(
                        f"synthesis of {project} failed ({process.returncode}):\n{log.read()}"
                    )
        finally:  # interrupted: no synthesis outlives the review
            for _, process, _ in running:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    if failures:
        raise ReviewError(failures[0])


def _gate(outdir: Path, report: Path) -> None:
    print(f"review: running the verify gate on {outdir} ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "synth", "verify", str(outdir), "--json", str(report)],
        cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    if not report.is_file():
        raise ReviewError(f"the verify gate wrote no report for {outdir}")


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="groundwork-review-") as tmp:
        work = Path(tmp)
        try:
            base_dir, head_dir = args.base_dir, args.head_dir
            if args.base_ref and head_dir is None:
                head_dir, base_dir = base_dir, None  # `--base REF [HEAD]`
            if args.base_ref:
                worktree = work / "base"
                added = subprocess.run(
                    ["git", "worktree", "add", "--detach", str(worktree), args.base_ref],
                    cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if added.returncode != 0:
                    raise ReviewError(f"--base {args.base_ref}: {added.stderr.strip()}")
                try:
                    base_dir = work / "base.out"
                    jobs = [(worktree, base_dir)]
                    if head_dir is None:
                        head_dir = work / "head.out"
                        jobs.append((PROJECT_ROOT, head_dir))
                    _synthesize(jobs)
                finally:
                    subprocess.run(
                        ["git", "worktree", "remove", "--force", str(worktree)],
                        cwd=PROJECT_ROOT, capture_output=True, check=False,
                    )  # fmt: skip
            if base_dir is None or head_dir is None:
                raise ReviewError("give BASE and HEAD output folders, or --base REF")
            reports: dict[str, Path | None] = {"base": None, "head": None}
            if args.gate:
                # One after the other: with the scan cache on, the second side's unchanged
                # stacks are hits of the first's scan (synth/checkov_run.py).
                for side, folder in (("base", base_dir), ("head", head_dir)):
                    reports[side] = work / f"{side}.verify.json"
                    _gate(folder, reports[side])  # type: ignore[arg-type]
            reviews = review(
                base_dir,
                head_dir,
                base_report=reports["base"],
                head_report=reports["head"],
                base_root=work / "base" if args.base_ref else PROJECT_ROOT,
            )
        except ReviewError as error:
            print(f"review: {error}", file=sys.stderr)
            return 2
    text = render_markdown(reviews) if args.format == "markdown" else render_text(reviews)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.fail_on_destroy and any(r.destructive for r in reviews):
        print("review: FAIL (a stateful resource would be destroyed or replaced)", file=sys.stderr)
        return 1
    return 0


def add_parser(commands: Any) -> None:
    """The `review` subcommand of `python -m synth`."""
    parser = commands.add_parser(
        "review",
        help="compare two synthesized outputs (or a git ref with the working tree)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("base_dir", nargs="?", type=Path, help="the base output folder")
    parser.add_argument("head_dir", nargs="?", type=Path, help="the head output folder")
    parser.add_argument(
        "--base", dest="base_ref", metavar="REF", help="synthesize this git ref as the base"
    )
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--output", type=Path, metavar="PATH", help="write here, not stdout")
    parser.add_argument(
        "--gate", action="store_true", help="run the verify gate on both and show its delta"
    )
    parser.add_argument(
        "--fail-on-destroy",
        action="store_true",
        help="exit 1 when a stateful resource would be destroyed or replaced",
    )


README_BEGIN = "<!-- diagrams: generated by `python -m synth diagrams --readme README.md` -->"
README_END = "<!-- diagrams: end -->"


def diagram_markdown(outdir: Path) -> str:
    """One Mermaid block per workload stack of `outdir` (bootstrap stacks left out)."""
    blocks = []
    for name, document in _stacks(outdir, PROJECT_ROOT).items():
        if name.startswith("bootstrap-"):
            continue
        blocks += [f"**{name}**", "", "```mermaid", diagram(document), "```", ""]
    return "\n".join(blocks).rstrip() + "\n"


def with_diagrams(readme: str, diagrams: str) -> str:
    """`readme` with the text between its diagram markers replaced by `diagrams`."""
    if README_BEGIN not in readme or README_END not in readme:
        raise ReviewError(f"the README has no {README_BEGIN} ... {README_END} block")
    head, rest = readme.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    return f"{head}{README_BEGIN}\n\n{diagrams}\n{README_END}{tail}"


def diagrams_main(args: argparse.Namespace) -> int:
    """`python -m synth diagrams [OUTDIR] [--readme PATH]`: print the component diagrams of
    OUTDIR's workload stacks, or rewrite the README's diagram block with them."""
    try:
        text = diagram_markdown(args.outdir)
        if args.readme is None:
            sys.stdout.write(text)
            return 0
        args.readme.write_text(with_diagrams(args.readme.read_text(encoding="utf-8"), text))
    except ReviewError as error:
        print(f"diagrams: {error}", file=sys.stderr)
        return 2
    print(f"diagrams: rewrote the diagram block of {args.readme}", file=sys.stderr)
    return 0


def add_diagrams_parser(commands: Any) -> None:
    parser = commands.add_parser("diagrams", help="Mermaid diagrams of each stack's components")
    parser.add_argument("outdir", nargs="?", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--readme", type=Path, metavar="PATH", help="rewrite its diagram block")
