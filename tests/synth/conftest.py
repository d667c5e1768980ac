"""Fixtures the gate's tests share across modules (tests/synth/test_verify.py, test_waivers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth import verify

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "verify"


@pytest.fixture(scope="session")
def failing_scan() -> verify.Scan:
    """One Checkov run over `failing`: dev and production each have one unencrypted SNS topic.
    Session-scoped: test_verify.py and test_waivers.py each ran this same scan (issue 13); a
    Scan is frozen and every test derives its variants with dataclasses.replace."""
    return verify.run_checkov(verify.discover_stacks(FIXTURES / "failing"))
