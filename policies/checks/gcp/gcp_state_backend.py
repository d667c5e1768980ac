"""Builds CKV_GW_STATE_41: the stack's Terraform backend is the one its environment config
names (STATE-1), checked on the Google provider (see ../state_backend.py)."""

from typing import Any

from groundwork_policy import GroundworkProviderCheck, Stack, Verdict
from state_backend import backend_problem


class StateBackend(GroundworkProviderCheck):
    id = "CKV_GW_STATE_41"
    name = "Terraform state goes to the backend the environment config names"
    requirement = "STATE-1"
    severity = "HIGH"
    providers = ("google",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        problem = backend_problem(stack.config, stack.document)
        return Verdict.failed(problem) if problem else Verdict.passed("backend as configured")


check = StateBackend()
