"""Fixtures of the policy tests: the AWS stacks synthesized once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from matrix import start_synth, wait_all


@pytest.fixture(scope="session")
def aws_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`CLOUD=aws` synthesized once: `<dir>/stacks/<env>/cdk.tf.json`."""
    out = tmp_path_factory.mktemp("aws-out")
    wait_all({"aws": start_synth("aws", out)})
    return out
