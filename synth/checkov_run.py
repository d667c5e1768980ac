"""Builds the gate's Checkov run: read the synthesized stacks, scan them once, map the results back.

Checkov runs in a subprocess over scannable copies of every stack laid out as
`stacks/<stack>/cdk.tf.json`, with the inventory probe (`synth/checkov_probe/`) and our policies
as external checks. Its environment is pinned: inherited CKV_/BC_/PRISMA_ settings, a home
config file and the caller's LOG_LEVEL cannot skip checks or hide the crash lines the gate reads.

Speed (issue 13):
- a stack's scan result (its Checkov records) is cached under `.groundwork/checkov-cache/`
  (or `GROUNDWORK_CHECKOV_CACHE`; `off` disables it), keyed by the SHA-256 of the stack's
  name, its document as written, its environment config, and a toolchain digest (every file
  of synth/, policies/ (checks, requirement map, waivers) and the external check dirs, the lock
  files, Checkov's and Python's versions). Any change to a policy, a waiver, the gate's code or
  a tool is a miss. A policy may also read the other stacks' configs (`gate_configs`, which
  records the stack it judges in the run's `consulted` file and hands out only the fields of
  synth.config.SHARED_FIELDS); the entry of a stack whose policies did so holds only while
  those fields of every config are the same (`configs_digest`), while the entry of a stack
  whose policies did not is kept for any: with the same toolchain, document and config the
  policies run the same way up to their first read of another config, so none reads one then
  either. Editing one environment then re-scans that stack (and, when a shared field changed,
  what reads it), not every stack of the cloud. Only the scan is cached: waivers, coverage
  and the verdict are evaluated afresh every run, so a hit can never turn a failure into a
  pass. Records are put in one canonical order, so a report from cached records is
  byte-identical to a fresh one;
- stacks not in the cache are split into at most one Checkov process per idle core when there
  are enough of them to pay for a second start-up (about 4.5 s of CPU; a stack costs 0.5-1 s);
- Checkov runs with `--compact` (the code blocks it would put into its JSON report are never
  read here) and without its in-memory debug log (synth/checkov_launch.py): together 14-18%
  less CPU per scan, with identical records.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from synth.checkov_server import RUNS_ENV, SERVER_ENV
from synth.config import (
    CLOUDS,
    ConfigError,
    EnvironmentConfig,
    bootstrap_configs,
    load_environment,
    shared_view,
)
from synth.fingerprint import hash_files, source_files
from synth.refusals import extra_files, refused_constructs

PROBE_DIR = Path(__file__).resolve().parent / "checkov_probe"

# Checkov names an external check's module after its file; that is how probe results are told apart.
PROBE_MODULE = "groundwork_inventory_probe"

STACK_FILE = "cdk.tf.json"

RESULT_KEYS = ("passed_checks", "failed_checks", "skipped_checks")

# Checkov logs a check that raised on an entity and leaves it out of its report; the gate
# turns each into a failure (never a silent pass) that only a waiver can accept.
CRASHED_CHECK = re.compile(r"Failed to run check (\S+) on (\S+?\.tf\.json):(\S+)")

CRASHED = "CRASHED"
CHECKOV_LOG_LEVEL = "WARNING"

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The scan cache (see the module docstring). Bump CACHE_FORMAT when a cached entry's shape or
# meaning changes.
CACHE_ENV = "GROUNDWORK_CHECKOV_CACHE"
DEFAULT_CACHE = PROJECT_ROOT / ".groundwork" / "checkov-cache"
CACHE_FORMAT = "2"
# What a policy's verdict can depend on besides the stack and its config: the gate's and the
# policies' code and data, and the locked tool versions.
TOOLCHAIN_FOLDERS = ("synth", "policies")
TOOLCHAIN_FILES = ("Pipfile.lock",)
TOOLCHAIN_SUFFIXES = frozenset({".py", ".yaml", ".yml", ".json"})

# A further Checkov process costs about 4 s of CPU (import and check loading); a stack about
# 0.5 s (parse, graph, checks). Below this many stacks per process a split does not pay.
MIN_STACKS_PER_PROCESS = 6

# The policies' side of the context contract lives in policies/checks/groundwork_policy.py.
CONTEXT_ENV = "GROUNDWORK_POLICY_CONTEXT"

# Where the Checkov process writes the names of Checkov's built-in checks
# (synth/checkov_launch.py `write_check_names`), for the records of crashed checks.
CHECK_NAMES_ENV = "GROUNDWORK_CHECK_NAMES"
CHECK_NAMES_FILE = "check-names.json"  # in the run's work folder

# Which provider block names a stack's cloud, for loading its environment file.
PROVIDER_CLOUDS = {"aws": "aws", "google": "gcp", "google-beta": "gcp", "azurerm": "azure"}


class UsageError(Exception):
    """Bad input to the gate itself (missing directory, no stacks): exit 2."""


class CheckovError(Exception):
    """Checkov did not produce a report, so nothing can be claimed: the gate fails."""


@dataclass(frozen=True)
class Stack:
    """One synthesized stack as read by the gate, before Checkov."""

    name: str
    path: Path
    document: dict[str, Any] | None
    resources: tuple[str, ...]
    load_error: str | None = None
    # What synth/refusals.py refuses in this stack's directory or document.
    refusals: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckovRecord:
    """One row of Checkov's JSON report, mapped back to its stack."""

    stack: str
    check_id: str
    check_name: str
    resource: str
    result: str
    line_range: tuple[int, int]
    check_class: str
    guideline: str | None
    details: tuple[str, ...]


@dataclass(frozen=True)
class Scan:
    """Everything Checkov said about a set of stacks; evaluate() turns it into a verdict."""

    stacks: list[Stack]
    checkov_version: str
    records: list[CheckovRecord]
    unparsed: frozenset[str]
    # The environment config each stack was checked against (absent: treated as production).
    configs: dict[str, EnvironmentConfig] = field(default_factory=dict)


def stack_cloud(document: dict[str, Any]) -> str | None:
    providers = document.get("provider")
    clouds = {PROVIDER_CLOUDS[p] for p in providers or {} if p in PROVIDER_CLOUDS}
    return clouds.pop() if len(clouds) == 1 else None


def load_configs(stacks: Sequence[Stack], environments: Path) -> dict[str, EnvironmentConfig]:
    """Each stack's environment config, from `environments/<stack>.yaml` with the cloud the
    stack was synthesized for. A bootstrap stack (`bootstrap-<cloud>`) gets what main.py built
    it from: `bootstrap_configs` of the environments synthesized for its cloud alongside it.
    A stack without a loadable config gets none: our policies then report UNKNOWN, which
    fails like production."""
    configs = {}
    clouds = {stack.name: stack_cloud(stack.document or {}) for stack in stacks}
    for stack in stacks:
        path = environments / f"{stack.name}.yaml"
        cloud = clouds[stack.name]
        if not path.is_file() or cloud not in CLOUDS:
            continue
        try:
            configs[stack.name] = load_environment(path, cloud=cloud)
        except ConfigError as error:
            print(f"verify: {stack.name}: no environment config ({error})", file=sys.stderr)
    bootstraps = {
        bootstrap.name: bootstrap
        for cloud in CLOUDS
        for bootstrap in bootstrap_configs(
            [config for name, config in configs.items() if clouds[name] == cloud]
        )
    }
    for stack in stacks:
        if stack.name not in configs and stack.name in bootstraps:
            configs[stack.name] = bootstraps[stack.name]
    return configs


def _resource_addresses(document: dict[str, Any]) -> tuple[str, ...]:
    """Every `resource.<type>.<name>` in a Terraform JSON document, as `type.name`."""
    blocks = document.get("resource", {})
    if not isinstance(blocks, dict) or not all(isinstance(v, dict) for v in blocks.values()):
        raise ValueError("the resource block is not an object of objects")
    # "//" holds cdktf comments, which Checkov skips too.
    return tuple(
        f"{rtype}.{name}"
        for rtype, named in blocks.items()
        if rtype != "//"
        for name in named
        if name != "//"
    )


def load_stack(path: Path) -> Stack:
    """Read one cdk.tf.json; a file we cannot read is kept as a stack with a load error."""
    name = path.parent.name
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError("the top level is not an object")
        resources = _resource_addresses(document)
    except (OSError, ValueError) as error:
        return Stack(name, path, None, (), load_error=f"cannot be read as Terraform JSON: {error}")
    refusals = [
        f"{file}: Terraform would load this file beside {STACK_FILE}, and the gate does not "
        "scan it; remove it or generate its content through the constructs"
        for file in extra_files(path.parent)
    ]
    refusals += refused_constructs(document)
    return Stack(name, path, document, resources, refusals=tuple(refusals))


def discover_stacks(outdir: Path) -> list[Stack]:
    """Every `OUTDIR/stacks/<stack>/cdk.tf.json`, sorted by stack name."""
    if not outdir.is_dir():
        raise UsageError(f"{outdir}: no such directory (run cdktf synth first, or pass OUTDIR)")
    paths = sorted((outdir / "stacks").glob(f"*/{STACK_FILE}"))
    if not paths:
        raise UsageError(f"{outdir / 'stacks' / '*' / STACK_FILE}: no stacks found")
    return [load_stack(path) for path in paths]


def scannable(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stack's document that Checkov's terraform_json parser accepts."""
    result = copy.deepcopy(document)
    terraform = result.get("terraform")
    if isinstance(terraform, dict):
        # Checkov fails the whole file on non-object entries here (terraform.required_version).
        result["terraform"] = {
            key: value for key, value in terraform.items() if isinstance(value, dict)
        }
    # Refactoring blocks (`moved`: a list of {from, to}; `removed`: a list of {from,
    # lifecycle}) declare no resource, and Checkov's parser fails the whole file on them
    # ("this method receives only dicts").
    result.pop("moved", None)
    result.pop("removed", None)
    return result


PROXY_VARIABLES = {"https_proxy", "http_proxy", "all_proxy"}


def _checkov_env(home: Path, context: Path | None = None) -> dict[str, str]:
    """The environment for Checkov: no inherited CKV_/BC_/PRISMA_ settings (which can skip
    checks or upload results), no home config file, and no update check over the network.
    Our policies import `synth.config` (the project root goes on PYTHONPATH) and read their
    stacks' context from the file named in GROUNDWORK_POLICY_CONTEXT."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CKV_", "BC_", "PRISMA_"))
        and key != CONTEXT_ENV
        # An empty proxy variable means "no proxy" to curl and pip, but Checkov's urllib3
        # ProxyManager raises ProxySchemeUnknown on it before scanning anything.
        and not (key.lower() in PROXY_VARIABLES and not value.strip())
    }
    env["HOME"] = str(home)
    env[CHECK_NAMES_ENV] = str(home / CHECK_NAMES_FILE)
    # The gate reads "Failed to run check" lines (logged at ERROR, or WARNING with a lowered
    # check fail level: checkov/common/checks/base_check.py) to turn crashed checks into
    # failures; a caller's LOG_LEVEL=ERROR/CRITICAL would hide them and make crashes passes.
    # Checkov reads LOG_LEVEL at import (checkov/logging_init.py), so it is pinned here.
    env["LOG_LEVEL"] = CHECKOV_LOG_LEVEL
    env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "true"
    # One string-hash seed for every run: a policy that words its message from a set of
    # addresses (a frozenset from synth/graph.py) then words it the same way every time, so
    # the same stacks give the same report (and tests/policy_runner.py, which uses this
    # environment too, the same details as Checkov). Found by that runner's comparison: Azure's
    # CKV_GW_DEPLOY_73 named one of two equally valid waits, differently from run to run.
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
    )
    if context is not None:
        env[CONTEXT_ENV] = str(context)
    return env


def stack_of(file_path: str, root: Path) -> str:
    """Map a path from Checkov's report (`/stacks/dev/cdk.tf.json` or absolute) to its stack."""
    path = Path(file_path)
    relative = path.relative_to(root) if path.is_relative_to(root) else Path(file_path.lstrip("/"))
    if len(relative.parts) != 3 or relative.parts[0] != "stacks" or relative.name != STACK_FILE:
        raise CheckovError(f"Checkov reported on an unexpected file: {file_path}")
    return relative.parts[1]


def _records(data: Any, root: Path) -> tuple[list[CheckovRecord], frozenset[str]]:
    """Checkov's JSON is one report, a list of reports, or a bare summary when nothing ran."""
    records: list[CheckovRecord] = []
    unparsed: set[str] = set()
    for report in data if isinstance(data, list) else [data]:
        results = report.get("results", {})
        unparsed.update(stack_of(path, root) for path in results.get("parsing_errors", []))
        for key in RESULT_KEYS:
            for row in results.get(key, []):
                start, end = row["file_line_range"]
                records.append(
                    CheckovRecord(
                        stack=stack_of(row["file_path"], root),
                        check_id=row["check_id"],
                        check_name=row["check_name"],
                        resource=row["resource"],
                        result=row["check_result"]["result"],
                        line_range=(start, end),
                        check_class=row.get("check_class") or "",
                        guideline=row.get("guideline") or None,
                        details=tuple(row.get("details") or ()),
                    )
                )
    return records, frozenset(unparsed)


def _builtin_check_names(work: Path) -> dict[str, str]:
    """Names of Checkov's built-in resource checks (its log gives only the ID of a crash), as
    the Checkov process in `work` wrote them (synth/checkov_launch.py `write_check_names`)."""
    path = work / CHECK_NAMES_FILE
    try:
        names: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CheckovError(f"Checkov wrote no check names ({path}: {error})") from error
    return names


def _crashed(log: str, root: Path, names: dict[str, str]) -> list[CheckovRecord]:
    """A record per (check, entity) that Checkov's log says raised instead of running."""
    found = {}
    for check_id, file_path, resource in CRASHED_CHECK.findall(log):
        stack = stack_of(file_path, root)
        found[stack, check_id, resource] = CheckovRecord(
            stack=stack,
            check_id=check_id,
            check_name=f"{names.get(check_id, check_id)} (the check crashed on this resource)",
            resource=resource,
            result=CRASHED,
            line_range=(0, 0),
            check_class="",
            guideline=None,
            details=("Checkov raised an exception running this check, so it counts as failed",),
        )
    return list(found.values())


def toolchain_digest(external_checks_dirs: Iterable[Path] = ()) -> str:
    """The SHA-256 of everything besides a stack and its config that its scan depends on."""
    digest = hashlib.sha256()
    for part in (CACHE_FORMAT, version("checkov"), platform.python_version()):
        digest.update(part.encode() + b"\0")
    roots = [PROJECT_ROOT / folder for folder in TOOLCHAIN_FOLDERS]
    roots += [Path(d).resolve() for d in (PROBE_DIR, *external_checks_dirs)]
    files = set(source_files(roots, TOOLCHAIN_SUFFIXES))
    files |= {PROJECT_ROOT / name for name in TOOLCHAIN_FILES if (PROJECT_ROOT / name).is_file()}
    hash_files(digest, sorted(files))
    return digest.hexdigest()


def cache_dir() -> Path | None:
    """Where scan results are cached: GROUNDWORK_CHECKOV_CACHE, `off` for nowhere."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if value.lower() == "off":
        return None
    return Path(value) if value else DEFAULT_CACHE


def configs_digest(configs: dict[str, EnvironmentConfig]) -> str:
    """The SHA-256 of what policies may read of every config of a gate run: a policy may
    judge one stack against the others' configs (`groundwork_policy.gate_configs`: which
    environment creates an account's RDSOSMetrics, whose state the AWS bootstrap admits), so
    the cached records of a stack whose policies read them hold only for the same values of
    the fields they can read (synth.config.SHARED_FIELDS; no other is there to read)."""
    dumped = {name: shared_view(config) for name, config in configs.items()}
    return hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()


def stack_key(stack: Stack, config: EnvironmentConfig | None, toolchain: str) -> str:
    """The cache key of one stack's scan: the toolchain, the stack and its config (the
    entry itself says whether it also depends on the other configs: `_load_cached`). The
    document is hashed as written (key order included): Checkov's line ranges, and so the
    records, follow it."""
    digest = hashlib.sha256()
    digest.update(toolchain.encode() + b"\0" + stack.name.encode() + b"\0")
    digest.update(json.dumps(stack.document).encode() + b"\0")
    settings = None if config is None else config.model_dump(mode="json")
    digest.update(json.dumps(settings, sort_keys=True).encode() + b"\0")
    return digest.hexdigest()


def _record_json(record: CheckovRecord) -> dict[str, Any]:
    return {
        "check_id": record.check_id,
        "check_name": record.check_name,
        "resource": record.resource,
        "result": record.result,
        "line_range": list(record.line_range),
        "check_class": record.check_class,
        "guideline": record.guideline,
        "details": list(record.details),
    }


def _load_cached(path: Path, stack: str, run_configs: str) -> list[CheckovRecord] | None:
    """The entry's records; None when it is absent, unreadable, or was scanned with other
    configs read by its policies (its `run_configs` is set and differs)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry["run_configs"] not in (None, run_configs):
            return None
        return [
            CheckovRecord(
                stack=stack,
                check_id=row["check_id"],
                check_name=row["check_name"],
                resource=row["resource"],
                result=row["result"],
                line_range=(row["line_range"][0], row["line_range"][1]),
                check_class=row["check_class"],
                guideline=row["guideline"],
                details=tuple(row["details"]),
            )
            for row in entry["records"]
        ]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # absent or unreadable: scan again


def write_cache_file(path: Path, entry: Any) -> None:
    """Write one cache file's JSON `entry` whole (a concurrent reader sees the old file or the
    new one). A cache that cannot be written costs time, never a verdict: a warning only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(entry, stream)
        os.replace(temporary, path)
    except OSError as error:
        print(f"verify: cannot write the scan cache ({error})", file=sys.stderr)


def _store(path: Path, records: Sequence[CheckovRecord], run_configs: str | None) -> None:
    """Write one entry; `run_configs` is the configs digest its policies read, None when they
    read none."""
    write_cache_file(
        path, {"run_configs": run_configs, "records": [_record_json(r) for r in records]}
    )


def _canonical(records: Iterable[CheckovRecord], stacks: Sequence[Stack]) -> list[CheckovRecord]:
    """One order for the records, whatever mix of processes and cache produced them."""
    order = {stack.name: index for index, stack in enumerate(stacks)}

    def key(r: CheckovRecord) -> tuple[Any, ...]:
        return (
            order.get(r.stack, len(order)), r.stack, r.resource, r.check_id, r.line_range,
            r.result, r.check_name, r.check_class, r.guideline or "", r.details,
        )  # fmt: skip

    return sorted(records, key=key)


@dataclass
class _Process:
    """One Checkov subprocess over a share of the stacks."""

    work: Path
    root: Path
    process: subprocess.Popen[str]


def _start_checkov(
    stacks: Sequence[Stack],
    dirs: Sequence[Path],
    configs: dict[str, EnvironmentConfig],
    work: Path,
    runs: int,
) -> _Process:
    """Start one of the gate's `runs` Checkov runs, over `stacks`, in `work`."""
    root = work / "scan"
    for stack in stacks:
        if stack.document is None:
            continue
        target = root / "stacks" / stack.name / STACK_FILE
        target.parent.mkdir(parents=True)
        # Indented so every entity starts on its own line: line ranges identify entities.
        target.write_text(json.dumps(scannable(stack.document), indent=2), encoding="utf-8")
        # Policies read the stack as synthesized, `terraform.required_version` included.
        original = work / "documents" / "stacks" / stack.name / STACK_FILE
        original.parent.mkdir(parents=True)
        original.write_text(json.dumps(stack.document), encoding="utf-8")
    root.mkdir(parents=True, exist_ok=True)
    # Every stack's config, not only this process's share: policies compare a stack with the
    # others of its gate run (groundwork_policy.gate_configs), and a verdict must not depend on
    # how the stacks were split over processes (process_count follows the load average).
    context = work / "policy-context.json"
    context.write_text(
        json.dumps(
            {
                "root": str(root),
                "documents": str(work / "documents"),
                "stacks": {n: c.model_dump(mode="json") for n, c in configs.items()},
                # Where gate_configs names each stack whose policies read the others' configs.
                "consulted": str(work / "consulted"),
            }
        ),
        encoding="utf-8",
    )
    # checkov.main, less its debug log (synth/checkov_launch.py); through a fork server that
    # has Checkov imported already when the caller runs one (synth/checkov_server.py), while
    # its socket is there (a one-gate server removes it when it takes its last run).
    server = os.environ.get(SERVER_ENV)
    if server and os.path.exists(server):
        launch = ["synth.checkov_server", "run", server]
    else:
        launch = ["synth.checkov_launch"]
    command = [
        sys.executable, "-m", *launch,
        "--directory", str(root),
        "--framework", "terraform_json",
        "--skip-download",
        # No code blocks in the report: nothing here reads them, and writing them is a third
        # of Checkov's time on our stacks.
        "--compact",
        "--output", "json",
        "--output-file-path", str(work / "out"),
    ]  # fmt: skip
    for directory in dirs:
        command += ["--external-checks-dir", str(directory.resolve())]
    # cwd and HOME are the temp dir so no stray .checkov.yaml can skip checks.
    process = subprocess.Popen(
        command,
        cwd=work,
        env={**_checkov_env(work, context), RUNS_ENV: str(runs)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return _Process(work, root, process)


def _consulted(run: _Process) -> set[str]:
    """The stacks whose policies read the other stacks' configs in this run."""
    try:
        return set((run.work / "consulted").read_text(encoding="utf-8").split())
    except FileNotFoundError:
        return set()


def _finish_checkov(run: _Process) -> tuple[list[CheckovRecord], frozenset[str]]:
    _, stderr = run.process.communicate()
    report_file = run.work / "out" / "results_json.json"
    if run.process.returncode not in (0, 1) or not report_file.is_file():
        sys.stderr.write(stderr)
        raise CheckovError(f"Checkov exited with {run.process.returncode} and wrote no report")
    records, unparsed = _records(json.loads(report_file.read_text(encoding="utf-8")), run.root)
    if unparsed:
        sys.stderr.write(stderr)  # the parse errors' explanation
    crashed = (
        _crashed(stderr, run.root, _builtin_check_names(run.work))
        if CRASHED_CHECK.search(stderr)
        else []
    )
    if crashed:
        print(
            f"verify: {len(crashed)} check runs crashed inside Checkov; "
            "each counts as a failure unless a waiver covers it (the report lists them)",
            file=sys.stderr,
        )
    return records + crashed, unparsed


def process_count(stacks: int, cores: int | None = None) -> int:
    """How many Checkov processes scan `stacks` stacks: one per idle core at most (the
    caller's own counts as idle), and one more only for every MIN_STACKS_PER_PROCESS stacks.

    On a busy machine (load average at or above the core count) a second process only adds
    its start-up: measured on 30 stacks with four other users, 34.4 s CPU and no gain in wall
    time against 29.0 s in one process."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        cores = min(cores, 1 + int(max(0.0, cores - os.getloadavg()[0])))
    return max(1, min(cores, stacks // MIN_STACKS_PER_PROCESS))


def run_checkov(
    stacks: Sequence[Stack],
    external_checks_dirs: Sequence[Path] = (),
    configs: dict[str, EnvironmentConfig] | None = None,
) -> Scan:
    """Scan all stacks with Checkov (cached stacks from the cache) and collect its results.

    `configs` maps stack names to the environment config their policies judge them by."""
    configs = dict(configs or {})
    checkov_version = version("checkov")
    dirs = [PROBE_DIR, *external_checks_dirs]
    cache = cache_dir()
    toolchain = toolchain_digest(external_checks_dirs) if cache is not None else ""
    run_configs = configs_digest(configs) if cache is not None else ""
    records: list[CheckovRecord] = []
    keys: dict[str, Path] = {}
    todo: list[Stack] = []
    for stack in stacks:
        if stack.document is None:
            continue
        if cache is not None:
            key = stack_key(stack, configs.get(stack.name), toolchain)
            keys[stack.name] = cache / key[:2] / f"{key}.json"
            cached = _load_cached(keys[stack.name], stack.name, run_configs)
            if cached is not None:
                records += cached
                continue
        todo.append(stack)
    noun = "stack" if len(stacks) == 1 else "stacks"
    hits = len(stacks) - len(todo) - sum(stack.document is None for stack in stacks)
    from_cache = f", {hits} unchanged from the scan cache" if hits else ""
    print(
        f"verify: scanning {len(stacks)} {noun}{from_cache} with Checkov {checkov_version} "
        f"(checks from {', '.join(str(d) for d in dirs)}) ...",
        file=sys.stderr,
    )
    unparsed: frozenset[str] = frozenset()
    if todo or not records:
        started = time.monotonic()
        count = process_count(len(todo))
        shares = [todo[index::count] for index in range(count)]
        with tempfile.TemporaryDirectory(prefix="groundwork-verify-") as tmp:
            work = Path(tmp).resolve()
            runs = [
                _start_checkov(share, dirs, configs, work / str(index), len(shares))
                for index, share in enumerate(shares)
            ]
            try:
                results = [_finish_checkov(run) for run in runs]
                consulted = set().union(*(_consulted(run) for run in runs))
            finally:
                for run in runs:
                    if run.process.poll() is None:
                        run.process.kill()
                        run.process.wait()
        processes = f" ({count} processes)" if count > 1 else ""
        print(
            f"verify: Checkov finished in {time.monotonic() - started:.1f} s{processes}",
            file=sys.stderr,
        )
        fresh = [record for found, _ in results for record in found]
        unparsed = frozenset().union(*(bad for _, bad in results))
        records += fresh
        if cache is not None:
            for stack in todo:
                if stack.name not in unparsed:
                    _store(
                        keys[stack.name],
                        [r for r in fresh if r.stack == stack.name],
                        run_configs if stack.name in consulted else None,
                    )
    return Scan(list(stacks), checkov_version, _canonical(records, stacks), unparsed, configs)
