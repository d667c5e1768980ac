"""Synthesis into a staging directory that replaces the output only on success.

A failed synth (bad config, a guard, a bug) leaves the previous output untouched and no
half-written stack behind. Terraform's working files in a stack folder (`.terraform/`,
`.terraform.lock.hcl`) move into the new output, as they survive cdktf's own re-synth.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TERRAFORM_WORKING_FILES = (".terraform", ".terraform.lock.hcl")


def _carry_over(previous: Path, staged: Path) -> None:
    """Move Terraform's working files of each stack from the previous output to the new."""
    if not (previous / "stacks").is_dir():
        return
    for folder in (previous / "stacks").iterdir():
        if not folder.is_dir():
            continue
        target = staged / "stacks" / folder.name
        if not target.exists():
            # cdktf's CLI deletes the folders of stacks the app no longer writes, and fails
            # if one is already gone: leave it an empty folder to delete.
            target.mkdir(parents=True)
            continue
        for name in TERRAFORM_WORKING_FILES:
            if (folder / name).exists() and not (target / name).exists():
                (folder / name).rename(target / name)


@contextmanager
def staged_outdir(target: Path) -> Iterator[Path]:
    """Yield an empty directory beside `target`; on success it becomes `target`."""
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
    _carry_over(target, staging)
    retired = None
    if target.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        target.rename(retired / target.name)
    staging.rename(target)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
