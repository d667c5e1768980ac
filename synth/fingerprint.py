"""Builds the fingerprint of everything a verified synthesis depends on, so an unchanged
project is not synthesized and verified again (issue 13: no change costs less than the jsii
floor).

The fingerprint is a SHA-256 over: the environment files, the project's code and policies
(every tracked kind of source under constructs/, stacks/, synth/, policies/, and main.py,
cdktf.json), the lock files (so any tool version change counts), the settings that select
what is built (CLOUD, GROUNDWORK_STACKS, the reports folder as resolved), and today's date (a waiver
can expire overnight). main.py writes it into the output folder after the gate passed and
compares it before doing anything else.

The stamp also records, per stack, the inputs it was synthesized from (`stack_inputs`), the
digest of its config alone (`config_digest`) and a digest of the files written for it. The
next run takes a stack whose inputs and files are unchanged from the verified output
instead of constructing it again (`reusable`): editing
one environment synthesizes that stack (and the bootstrap stack, when its derived config
changed), and editing only a policy or a waiver synthesizes nothing; the gate still judges
every stack. A reused stack is byte-identical to a fresh one (tests/test_main.py). `synth
verify` reads the config digests to say when an output is older than its environment files
(`stale_stacks`): judged against the edited files, a stale output fails checks that a new
synthesis passes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from synth.config import EnvironmentConfig, root_from_stack
from synth.output import TERRAFORM_WORKING_FILES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STAMP = ".groundwork-verified"
CODE = ("constructs", "stacks", "synth", "policies")
FILES = ("main.py", "cdktf.json", "Pipfile.lock", "package-lock.json")
# .js: the lazy provider index jsii's Node process runs (synth/lazy_provider_index.js).
SUFFIXES = frozenset({".py", ".yaml", ".yml", ".json", ".js"})
SETTINGS = ("CLOUD", "GROUNDWORK_STACKS", "GROUNDWORK_PROVIDER_IMPORT")
# What a stack's synthesis can read besides its config: every file of the code it runs (any
# suffix: an AWS function's source is zipped into the stack's assets), the locked versions.
SYNTHESIS_CODE = ("constructs", "stacks", "synth")


def source_files(roots: Iterable[Path], suffixes: frozenset[str] | None = None) -> list[Path]:
    """Every file under the folders `roots` (absent ones skipped), only those ending in one
    of `suffixes` when given, `__pycache__` left out: sorted, each once."""
    return sorted(
        {
            path
            for root in roots
            if root.is_dir()
            for path in root.rglob("*")
            if (suffixes is None or path.suffix in suffixes)
            and "__pycache__" not in path.parts
            and path.is_file()
        }
    )


def hash_files(digest: Any, files: Iterable[Path]) -> None:
    """Add each file's path and content to the hashlib object `digest`."""
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")


def _project_files() -> list[Path]:
    """FILES that exist in the project."""
    return [PROJECT_ROOT / name for name in FILES if (PROJECT_ROOT / name).is_file()]


def fingerprint(
    environments: Path, environ: Mapping[str, str], today: dt.date, reports: Path
) -> str:
    """The hex SHA-256 of every input of a verified synthesis (see the module docstring);
    `reports` is the folder the gate writes to, as resolved (`make synth` names it, a bare
    `npx cdktf synth` takes the default: the same folder must give the same fingerprint)."""
    digest = hashlib.sha256()
    hash_files(digest, sorted(environments.glob("*.yaml")))
    hash_files(digest, source_files([PROJECT_ROOT / folder for folder in CODE], SUFFIXES))
    hash_files(digest, _project_files())
    for name in SETTINGS:
        digest.update(f"{name}={environ.get(name, '')}\0".encode())
    digest.update(f"reports={reports.absolute()}\0".encode())
    digest.update(today.isoformat().encode())
    return digest.hexdigest()


def _stamp(outdir: Path) -> dict[str, Any]:
    try:
        stamp = json.loads((outdir / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def up_to_date(outdir: Path, reports: Path, expected: str) -> bool:
    """Whether `outdir` holds a verified synthesis of exactly these inputs, with its reports."""
    reports_there = all((reports / name).is_file() for name in ("verify.json", "verify.xml"))
    return _stamp(outdir).get("inputs") == expected and reports_there


def synthesis_code() -> str:
    """The hex SHA-256 of the code and lock files every stack's synthesis runs."""
    digest = hashlib.sha256()
    hash_files(digest, source_files([PROJECT_ROOT / folder for folder in SYNTHESIS_CODE]))
    hash_files(digest, _project_files())
    return digest.hexdigest()


def config_digest(config: EnvironmentConfig) -> str:
    """The hex SHA-256 of a stack's config as loaded: a comment or a key order in its file
    does not count."""
    return hashlib.sha256(
        json.dumps(config.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()


def stack_inputs(
    config: EnvironmentConfig, code: str, outdir: Path, environ: Mapping[str, str]
) -> str:
    """The hex SHA-256 of what one stack's synthesis reads: its config (`config_digest`),
    `code` (`synthesis_code`), where the output goes (the local state path is relative to
    it: `root_from_stack`), and the settings and CDKTF_ variables of the run (the CLI passes
    its context in them)."""
    digest = hashlib.sha256()
    for part in (
        code,
        config_digest(config),
        str(outdir.absolute()),
        root_from_stack(outdir),
        *(f"{name}={environ[name]}" for name in sorted(environ) if name.startswith("CDKTF_")),
        *(f"{name}={environ.get(name, '')}" for name in SETTINGS if name != "GROUNDWORK_STACKS"),
    ):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def stack_files(folder: Path) -> str:
    """The hex SHA-256 of every file in a stack's output folder (names and content),
    Terraform's working files (`.terraform/`, its lock file) left out."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] in TERRAFORM_WORKING_FILES or not path.is_file():
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def reusable(outdir: Path, wanted: Mapping[str, str]) -> set[str]:
    """The stacks of `wanted` (`{name: stack_inputs}`) that the verified output in `outdir`
    holds from the same inputs, with its files as written then and in its manifest."""
    recorded = _stamp(outdir).get("stacks", {})
    try:
        manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
        listed = set(manifest["stacks"])
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    return {
        name
        for name, inputs in wanted.items()
        if name in listed
        and isinstance(recorded.get(name), dict)
        and recorded[name].get("inputs") == inputs
        and (outdir / "stacks" / name).is_dir()
        and recorded[name].get("files") == stack_files(outdir / "stacks" / name)
    }


def stale_stacks(outdir: Path, configs: Mapping[str, EnvironmentConfig]) -> list[str]:
    """The stacks of `configs` (`{name: config}`, as loaded now) that the stamp in `outdir`
    records as synthesized from another config, in `configs` order. A stack without a
    recorded config (no stamp: the output never passed the gate, or is older than this
    check) is not named."""
    recorded = _stamp(outdir).get("stacks", {})
    return [
        name
        for name, config in configs.items()
        if isinstance(recorded.get(name), dict)
        and recorded[name].get("config") not in (None, config_digest(config))
    ]


def record(
    outdir: Path,
    value: str,
    stacks: Mapping[str, str],
    configs: Mapping[str, EnvironmentConfig],
) -> None:
    """Write the stamp into a (staged) output folder after the gate passed: the run's
    fingerprint `value`, and for each stack of `stacks` (`{name: stack_inputs}`) its inputs,
    the digest of its config in `configs` (`{name: config}`) and the digest of its files."""
    entries = {
        name: {
            "inputs": inputs,
            "config": config_digest(configs[name]),
            "files": stack_files(outdir / "stacks" / name),
        }
        for name, inputs in sorted(stacks.items())
    }
    stamp = {"inputs": value, "stacks": entries}
    (outdir / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
