"""Shared logic of the STATE-1 policies (one per cloud's provider): the stack's Terraform
backend is exactly the one its environment config asks for.

Not a check itself; `aws_state_backend.py`, `gcp_state_backend.py` and
`azure_state_backend.py` anchor it on their cloud's provider block. The expected block comes
from `synth.config.backend_block`, the same function the stack is built with.
"""

from typing import Any

from synth.config import EnvironmentConfig, backend_block, local_state_file


def backend_problem(config: EnvironmentConfig, document: dict[str, Any]) -> str | None:
    """Why the stack's backend differs from the config's, or None when it matches.

    Returns plain values, not a Verdict: Checkov imports this module on its own, so a
    Verdict built here could belong to another copy of groundwork_policy."""
    kind, wanted = backend_block(config)
    terraform: dict[str, Any] = document.get("terraform") or {}
    actual = terraform.get("cloud") if kind == "cloud" else terraform.get("backend")
    if kind != "cloud":
        if not isinstance(actual, dict) or list(actual) != [kind]:
            found = sorted(actual) if isinstance(actual, dict) else actual
            return f"backend is {found}, config asks for {kind} (state.backend)"
        actual = actual[kind]
    if kind == "local" and isinstance(actual, dict):
        # The root's relative path depends on the output folder: judge the file and that the
        # path is relative (an absolute one would differ per machine).
        path = str(actual.get("path", ""))
        wanted_file = local_state_file(config)
        if set(actual) != {"path"} or path.startswith("/") or not path.endswith(f"/{wanted_file}"):
            return f"local backend is {actual!r}, config asks for <project root>/{wanted_file}"
        return None
    if actual != wanted:
        return f"{kind} backend is {actual!r}, config asks for {wanted!r}"
    return None
