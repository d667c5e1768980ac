"""Starts Checkov's CLI (`python -m synth.checkov_launch <checkov arguments>`) as
`python -m checkov.main` would, without its in-memory debug log.

checkov/logging_init.py sets the root logger to DEBUG and keeps every debug record, formatted,
in a StringIO that only its `--support` upload reads; on our stacks that is about a sixth of
a scan's CPU (86,000 debug records over ten stacks, 4.3 s of 24 s profiled). Here the root
logger is raised to the stderr handler's own level (LOG_LEVEL, pinned to WARNING by
synth/checkov_run.py), so what reaches stderr, the "Failed to run check" lines the gate reads
included, is exactly what it was, and nothing else is formatted.
"""

from __future__ import annotations

import importlib
import logging
import runpy
import sys
from collections.abc import Sequence

import checkov.logging_init as checkov_logging


def prepare() -> None:
    """Everything before the run proper: the root logger at the stderr handler's level, and
    Checkov's CLI imported (what synth/checkov_server.py does once for many runs)."""
    logging.getLogger().setLevel(checkov_logging.LOG_LEVEL)
    importlib.import_module("checkov.main")


def main(args: Sequence[str] | None = None) -> None:
    """Run Checkov's CLI with `args` (default: this process's arguments); it exits."""
    prepare()
    sys.argv = ["checkov", *(sys.argv[1:] if args is None else args)]
    runpy.run_module("checkov.main", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
