"""The Azure first-apply step (constructs/azure/steps.py) run for real under /bin/sh, against a
fake `az` and `curl` on PATH: it signs the CLI in with a fresh GitHub OIDC token when it runs in
GitHub Actions (the deploy workflow signs only Terraform in), starts the job and waits for its
execution; outside Actions it uses the operator's own sign-in (first-apply review, Azure)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from constructs.azure.steps import START_AND_WAIT

FAKE_AZ = """#!/bin/sh
echo "az $*" >> "$CALLS"
case "$*" in
  "containerapp job start"*) echo exec-1 ;;
  "containerapp job execution show"*) echo "$STATUS" ;;
esac
"""
FAKE_CURL = """#!/bin/sh
echo "curl $*" >> "$CALLS"
printf '{"count":1,"value":"oidc-token-from-github"}'
"""


def run_step(tmp_path: Path, *, in_actions: bool, status: str = "Succeeded") -> tuple[int, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("az", FAKE_AZ), ("curl", FAKE_CURL)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "CALLS": str(calls),
        "STATUS": status,
        "SUBSCRIPTION": "00000000-0000-0000-0000-000000000001",
        "RESOURCE_GROUP": "rg-groundwork-dev",
        "JOB": "caj-role-groundwork-dev",
        "ARM_CLIENT_ID": "11111111-1111-1111-1111-111111111111",
        "ARM_TENANT_ID": "22222222-2222-2222-2222-222222222222",
    }
    if in_actions:
        env["ACTIONS_ID_TOKEN_REQUEST_URL"] = "https://token.actions.example/?x=1"
        env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "request-token"
    # Terraform turns the JSON's `$${` into `${`; the script has none (CKV_GW_DEPLOY_3).
    assert "${" not in START_AND_WAIT
    result = subprocess.run(
        ["/bin/sh", "-c", START_AND_WAIT], env=env, capture_output=True, text=True, timeout=60
    )
    return result.returncode, calls.read_text()


def test_in_github_actions_the_step_signs_the_cli_in_with_a_fresh_oidc_token(
    tmp_path: Path,
) -> None:
    code, calls = run_step(tmp_path, in_actions=True)
    assert code == 0, calls
    lines = calls.splitlines()
    assert lines[0] == (
        "curl -fsS -H Authorization: bearer request-token "
        "https://token.actions.example/?x=1&audience=api://AzureADTokenExchange"
    )
    assert lines[1] == (
        "az login --service-principal --username 11111111-1111-1111-1111-111111111111 "
        "--tenant 22222222-2222-2222-2222-222222222222 --federated-token "
        "oidc-token-from-github --allow-no-subscriptions --output none"
    )
    assert lines[2].startswith("az containerapp job start ")
    assert "--job-execution-name exec-1" in lines[3]


def test_outside_actions_the_step_uses_the_operators_sign_in(tmp_path: Path) -> None:
    code, calls = run_step(tmp_path, in_actions=False)
    assert code == 0, calls
    assert not any(line.startswith(("curl", "az login")) for line in calls.splitlines())


@pytest.mark.parametrize("status", ["Failed", "Stopped", "Degraded"])
def test_a_failed_execution_fails_the_step(tmp_path: Path, status: str) -> None:
    code, _ = run_step(tmp_path, in_actions=False, status=status)
    assert code == 1


FAKE_AZ_CACHE = """#!/bin/sh
echo "az $*" >> "$CALLS"
case "$*" in
  "rest --method get"*)
    n=$(wc -l < "$CALLS")
    if [ "$n" -ge 5 ]; then echo "$FINAL"; else echo Updating; fi ;;
esac
"""


@pytest.mark.parametrize(("final", "code"), [("Succeeded", 0), ("Failed", 1)])
def test_the_cache_access_job_waits_for_the_assignment_to_finish(
    tmp_path: Path, final: str, code: int
) -> None:
    """The access-policy PUT is asynchronous and `az rest` does not follow it
    (Azure/azure-cli#32141): the job polls the assignment until it succeeds, and fails with it,
    so the apply never starts an app whose cache access is still pending or failed."""
    from constructs.azure.jobs import CACHE_ACCESS_SCRIPT

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "az").write_text(FAKE_AZ_CACHE)
    (bin_dir / "az").chmod(0o755)
    (bin_dir / "sleep").write_text("#!/bin/sh\n")
    (bin_dir / "sleep").chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "CALLS": str(calls),
        "FINAL": final,
        "AZURE_CLIENT_ID": "11111111-1111-1111-1111-111111111111",
        "DATABASE_ID": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/"
        "redisEnterprise/redis/databases/default",
        "API_VERSION": "2025-04-01",
        "APP_OBJECT_ID": "33333333-3333-3333-3333-333333333333",
    }
    assert "${" not in CACHE_ACCESS_SCRIPT
    result = subprocess.run(
        ["/bin/sh", "-c", CACHE_ACCESS_SCRIPT], env=env, capture_output=True, text=True
    )
    assert result.returncode == code, result.stderr
    lines = calls.read_text().splitlines()
    assert lines[0].startswith("az login --identity")
    assert lines[1].startswith("az rest --method put ")
    assert [line for line in lines[2:] if not line.startswith("az rest --method get ")] == []
    assert len(lines) == 5  # two polls said Updating, the third gave the final state
