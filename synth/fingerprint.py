"""Builds the fingerprint of everything a verified synthesis depends on, so an unchanged
project is not synthesized and verified again (issue 13: no change costs less than the jsii
floor).

The fingerprint is a SHA-256 over: the environment files, the project's code and policies
(every tracked kind of source under constructs/, stacks/, synth/, policies/, and main.py,
cdktf.json), the lock files (so any tool version change counts), the settings that select
what is built (CLOUD, GROUNDWORK_STACKS, the reports folder as resolved), and today's date (a waiver
can expire overnight). main.py writes it into the output folder after the gate passed and
compares it before doing anything else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STAMP = ".groundwork-verified"
CODE = ("constructs", "stacks", "synth", "policies")
FILES = ("main.py", "cdktf.json", "Pipfile.lock", "package-lock.json")
SUFFIXES = frozenset({".py", ".yaml", ".yml", ".json"})
SETTINGS = ("CLOUD", "GROUNDWORK_STACKS", "GROUNDWORK_PROVIDER_IMPORT")


def fingerprint(
    environments: Path, environ: Mapping[str, str], today: dt.date, reports: Path
) -> str:
    """The hex SHA-256 of every input of a verified synthesis (see the module docstring);
    `reports` is the folder the gate writes to, as resolved (`make synth` names it, a bare
    `npx cdktf synth` takes the default: the same folder must give the same fingerprint)."""
    digest = hashlib.sha256()
    files = sorted(environments.glob("*.yaml")) + sorted(
        path
        for folder in CODE
        for path in (PROJECT_ROOT / folder).rglob("*")
        if path.suffix in SUFFIXES and "__pycache__" not in path.parts and path.is_file()
    )
    files += [PROJECT_ROOT / name for name in FILES if (PROJECT_ROOT / name).is_file()]
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    for name in SETTINGS:
        digest.update(f"{name}={environ.get(name, '')}\0".encode())
    digest.update(f"reports={reports.absolute()}\0".encode())
    digest.update(today.isoformat().encode())
    return digest.hexdigest()


def up_to_date(outdir: Path, reports: Path, expected: str) -> bool:
    """Whether `outdir` holds a verified synthesis of exactly these inputs, with its reports."""
    stamp = outdir / STAMP
    try:
        recorded = stamp.read_text(encoding="ascii").strip()
    except OSError:
        return False
    reports_there = all((reports / name).is_file() for name in ("verify.json", "verify.xml"))
    return recorded == expected and reports_there


def record(outdir: Path, value: str) -> None:
    """Write the stamp into a (staged) output folder after the gate passed."""
    (outdir / STAMP).write_text(value + "\n", encoding="ascii")
