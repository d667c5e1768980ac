"""Synthesis into a staging directory that replaces the output only on success.

A failed synth (bad config, a guard, a bug) leaves the previous output untouched and no
half-written stack behind. Terraform's working files in a stack folder (`.terraform/`,
`.terraform.lock.hcl`) move into the new output, as they survive cdktf's own re-synth.

A stack unchanged since the verified output (synth/fingerprint.py `reusable`) is copied from
it into the staging directory (`reuse_stacks`), and the manifest then lists it beside the
stacks synthesized now, written as cdktf writes it (`write_manifest`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TERRAFORM_WORKING_FILES = (".terraform", ".terraform.lock.hcl")
MANIFEST = "manifest.json"


def _carry_over(previous: Path, staged: Path, cli: bool) -> None:
    """Move Terraform's working files of each stack from the previous output to the new."""
    if not (previous / "stacks").is_dir():
        return
    for folder in (previous / "stacks").iterdir():
        if not folder.is_dir():
            continue
        target = staged / "stacks" / folder.name
        if not target.exists():
            # cdktf's CLI deletes the folders of stacks the app no longer writes, and fails
            # if one is already gone: under it, leave an empty folder to delete.
            if cli:
                target.mkdir(parents=True)
            continue
        for name in TERRAFORM_WORKING_FILES:
            if (folder / name).exists() and not (target / name).exists():
                (folder / name).rename(target / name)


@contextmanager
def staged_outdir(target: Path, *, cli: bool = False) -> Iterator[Path]:
    """Yield an empty directory beside `target`; on success it becomes `target`. `cli`: the
    app runs under cdktf's CLI (`cdktf_cli_runs`), which then removes the folders of stacks
    no longer written itself."""
    target = target.absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Beside the target, so the final rename stays on one filesystem.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.chmod(0o755)
    _carry_over(target, staging, cli)
    retired = None
    if target.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        target.rename(retired / target.name)
    staging.rename(target)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def cdktf_cli_runs(environ: Mapping[str, str]) -> bool:
    """Whether cdktf's CLI started this app: it always sets CDKTF_CONTEXT_JSON for the app
    (cdktf-cli's synth-stack.ts, `[CONTEXT_ENV]: JSON.stringify(...)`, pinned in
    package-lock.json); `make synth` runs main.py without it."""
    return "CDKTF_CONTEXT_JSON" in environ


def reuse_stacks(previous: Path, staged: Path, names: Sequence[str]) -> None:
    """Copy the output folders of the stacks `names` from `previous` into `staged`, without
    Terraform's working files (which `staged_outdir` moves over itself)."""
    for name in names:
        source = previous / "stacks" / name

        def working_files(folder: str, _: list[str], source: Path = source) -> Sequence[str]:
            return TERRAFORM_WORKING_FILES if Path(folder) == source else ()

        shutil.copytree(source, staged / "stacks" / name, ignore=working_files)


def stable_stringify(value: Any, space: str = "  ", level: int = 0) -> str:
    """JSON as cdktf writes its manifest: json-stable-stringify 1.x with `{space: 2}`
    (node_modules/cdktf/lib/manifest.js `writeToFile`): keys sorted, every member on a line of
    its own, and an empty object or array still opened and closed on two lines."""
    indent = "\n" + space * level
    if isinstance(value, dict):
        items = [
            f"{indent}{space}{json.dumps(key, ensure_ascii=False)}: "
            f"{stable_stringify(value[key], space, level + 1)}"
            for key in sorted(value)
        ]
        return "{" + ",".join(items) + indent + "}"
    if isinstance(value, list):
        items = [f"{indent}{space}{stable_stringify(item, space, level + 1)}" for item in value]
        return "[" + ",".join(items) + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def write_manifest(previous: Path, staged: Path, reused: Sequence[str]) -> None:
    """cdktf's manifest of `staged` with the entries of the `reused` stacks from `previous`'s;
    when nothing was synthesized now, `previous`'s manifest of only those stacks."""
    old = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))
    written = staged / MANIFEST
    manifest = (
        json.loads(written.read_text(encoding="utf-8"))
        if written.is_file()
        else {
            "stacks": {},
            "version": old["version"],
        }
    )
    manifest["stacks"].update({name: old["stacks"][name] for name in reused})
    written.write_text(stable_stringify(manifest), encoding="utf-8")
