"""Shared fixtures: the synthesized matrix (every cloud x every environment), built once.

`matrix_dir` runs the real app (`main.py`) once per cloud with `CLOUD=<cloud>`, in
parallel subprocesses, into a session temporary directory; tests read the JSON from there
and never synthesize at import time. Plain helpers live in tests/matrix.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from matrix import CLOUDS, ENVIRONMENTS, resources_of, synthesize_clouds

from synth.clock import TODAY_ENV

# No test depends on the real date: the gate (and main.py, which tests start as subprocesses
# that inherit this environment) judges waiver expiry against this pinned day.
PINNED_TODAY = "2026-11-01"
os.environ[TODAY_ENV] = PINNED_TODAY

# Every gate run in the suite scans afresh (synth/checkov_run.py's scan cache is off), so each
# test exercises Checkov itself, as it did before the cache existed; the cache's own tests
# (tests/synth/test_scan_cache.py) turn it on in a folder of their own.
os.environ["GROUNDWORK_CHECKOV_CACHE"] = "off"


@pytest.fixture(scope="session")
def matrix_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`<dir>/<cloud>/stacks/<env>/cdk.tf.json` for every cloud and environment."""
    return synthesize_clouds(tmp_path_factory.mktemp("matrix"))


@pytest.fixture(scope="session")
def matrix(matrix_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The parsed Terraform JSON of every (cloud, environment) stack."""
    return {
        (cloud, env): json.loads((matrix_dir / cloud / "stacks" / env / "cdk.tf.json").read_text())
        for cloud in CLOUDS
        for env in ENVIRONMENTS
    }


@pytest.fixture(scope="session")
def resources() -> Callable[[Mapping[str, Any], str], list[dict[str, Any]]]:
    return resources_of
