"""The app entry point: one stack per environment file and a bootstrap stack per cloud;
bad input writes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from matrix import ENVIRONMENTS, ROOT, bootstrap_stack, normalized_stack

from synth import fingerprint

# A fresh login shell's environment: the system's PATH only (no .tools/bin, no pipenv, no
# node_modules/.bin), HOME, and the offline switches the README tells users to set.
PLAIN_SHELL = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": os.environ.get("HOME", "/root"),
    "CHECKPOINT_DISABLE": "1",
}


def run_main(tmp_path: Path, environments: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        env={
            **os.environ,
            "GROUNDWORK_ENVIRONMENTS": str(environments),
            "CDKTF_OUTDIR": str(tmp_path / "out"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def copy_environments(tmp_path: Path) -> Path:
    target = tmp_path / "environments"
    shutil.copytree(ROOT / "environments", target)
    return target


def test_manifest_has_one_stack_per_environment_named_after_its_file(matrix_dir: Path) -> None:
    for cloud in ("aws", "gcp", "azure"):
        manifest = json.loads((matrix_dir / cloud / "manifest.json").read_text())
        stacks = [*ENVIRONMENTS, bootstrap_stack(cloud)]  # STATE-2: one bootstrap per cloud
        assert sorted(manifest["stacks"]) == sorted(stacks)
        for name in stacks:
            assert manifest["stacks"][name]["synthesizedStackPath"] == f"stacks/{name}/cdk.tf.json"


def test_bad_config_exits_2_with_file_and_field_and_writes_nothing(tmp_path: Path) -> None:
    environments = copy_environments(tmp_path)
    production = yaml.safe_load((environments / "production.yaml").read_text())
    production["service"]["min_replicas"] = 1
    (environments / "production.yaml").write_text(yaml.safe_dump(production))
    previous = tmp_path / "out" / "manifest.json"
    previous.parent.mkdir()
    previous.write_text("previous output")

    result = run_main(tmp_path, environments)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"{environments / 'production.yaml'}: service.min_replicas: 1 is below the production "
        "floor of 2 (APP-1); fix it, or add a waiver: "
        "{requirement: APP-1, reason: ..., expires: YYYY-MM-DD}. "
        "APP-1: Replica bounds and autoscale triggers per environment. (guide 000)"
    )
    assert previous.read_text() == "previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["environments", "out"]


def test_a_bad_waivers_file_exits_2_before_anything_is_synthesized(tmp_path: Path) -> None:
    """main.py reads the operator waivers file (policies/waivers.yaml, from the working
    folder, as the gate does) before the synthesis: `make synth` has no separate check."""
    waivers = tmp_path / "policies" / "waivers.yaml"
    waivers.parent.mkdir()
    waivers.write_text(
        "waivers:\n  - check: CKV_AWS_150\n    tier: dev\n    resource: edge/alb\n"
        "    reason: Too short.\n    owner: platform-team\n    expires: 2099-01-01\n"
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        cwd=tmp_path,
        env={
            **os.environ,
            "GROUNDWORK_ENVIRONMENTS": str(ROOT / "environments"),
            "CDKTF_OUTDIR": str(tmp_path / "out"),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "policies/waivers.yaml: waivers[0].reason: must be a full sentence (at least 5 words, "
        "starting with a capital letter and ending with a period)"
    ]
    assert "synth:" not in result.stdout  # no stack was started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policies"]


def test_missing_environments_directory_exits_2(tmp_path: Path) -> None:
    result = run_main(tmp_path, tmp_path / "nowhere")
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tmp_path / 'nowhere'}: environments directory not found"
    assert not (tmp_path / "out").exists()


def test_unknown_cloud_override_exits_2(tmp_path: Path) -> None:
    result = run_main(tmp_path, ROOT / "environments", CLOUD="oracle")
    assert result.returncode == 2
    assert result.stderr.strip() == "CLOUD=oracle: expected one of aws, gcp, azure"


def cdktf(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real cdktf CLI (`npx cdktf ...`) from a plain shell, writing to tmp_path/out."""
    return subprocess.run(
        ["npx", "--no-install", "cdktf", *args, "--output", str(tmp_path / "out")],
        cwd=ROOT,
        env={**PLAIN_SHELL, "CLOUD": APP_CLOUD, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@dataclass(frozen=True)
class CliRun:
    result: subprocess.CompletedProcess[str]
    out: Path


@pytest.fixture(scope="module")
def cli_synth_over_aws(tmp_path_factory: pytest.TempPathFactory, matrix_dir: Path) -> CliRun:
    """`npx cdktf synth` with CLOUD=gcp, from a plain shell, over an output folder holding the
    session's AWS synthesis of environments/ (the same app's): the gate runs (CI is set)."""
    out = tmp_path_factory.mktemp("cli") / "out"
    shutil.copytree(matrix_dir / "aws", out)
    assert (out / "stacks" / "bootstrap-aws" / "cdk.tf.json").exists()
    return CliRun(cdktf(out.parent, "synth", CI="true", CLOUD="gcp"), out)


def test_cdktf_synth_can_switch_cloud_over_an_existing_output(
    cli_synth_over_aws: CliRun, matrix_dir: Path
) -> None:
    """Switching CLOUD renames the bootstrap stack; the old one is gone from the output."""
    result, out = cli_synth_over_aws.result, cli_synth_over_aws.out
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (out / "stacks").iterdir()) == sorted(
        [*ENVIRONMENTS, "bootstrap-gcp"]
    )
    # `make synth` runs main.py without the CLI (issue 13), as the session's matrix does: the
    # CLI's files are the same ones, with the same content once the output folder is named.
    direct = matrix_dir / "gcp"
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    files.remove(fingerprint.STAMP)  # the gate's stamp; the matrix is synthesized ungated
    assert files == sorted(str(p.relative_to(direct)) for p in direct.rglob("*") if p.is_file())
    for name in files:
        if name.endswith(".json"):
            assert normalized_stack(json.loads((out / name).read_text()), out) == (
                normalized_stack(json.loads((direct / name).read_text()), direct)
            ), name
        else:
            assert (out / name).read_bytes() == (direct / name).read_bytes(), name


def test_cdktf_cli_lists_every_environment_and_the_bootstrap_through_cdktf_json(
    cli_synth_over_aws: CliRun,
) -> None:
    """`cdktf list` runs the app the way cdktf.json says, from a plain shell: the system's
    PATH, no pipenv, `npx` putting the pinned Node first (the README's promise). It lists the
    verified output of the `cdktf synth` above, which the app finds up to date (issue 13: a
    second synthesis and gate here cost 20 s of CPU and tested nothing more)."""
    assert cli_synth_over_aws.result.returncode == 0, cli_synth_over_aws.result.stderr
    out = cli_synth_over_aws.out
    written = (out / "manifest.json").stat().st_mtime_ns
    result = cdktf(out.parent, "list", CI="true", CLOUD="gcp")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"synth: {out} is verified and up to date" in result.stdout
    # The table's rows; a long path wraps onto an indented line of its own.
    rows = [line.split() for line in result.stdout.splitlines() if line[:1].strip()]
    header = next(i for i, row in enumerate(rows) if row[:2] == ["Stack", "name"])
    stacks = [*ENVIRONMENTS, bootstrap_stack("gcp")]
    assert sorted(row[0] for row in rows[header + 1 :]) == sorted(stacks), result.stdout
    stack = json.loads((out / "stacks" / "production" / "cdk.tf.json").read_text())
    assert "google" in stack["provider"]
    assert (out / "manifest.json").stat().st_mtime_ns == written  # reused, not written again


# No single quotes: a test puts this program inside a shell's single quotes (cdktf.json's app).
# The gate's stand-in also lists the app's live child processes when the gate starts: jsii's
# Node process (the provider assembly, 420-570 MB) must be gone by then (main.stop_jsii), and
# the Checkov fork server main.py started beside the synthesis must be there, ready.
GATE_SAYS = """
import os, stat, sys, main, synth.verify as v

def children():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()[1]
            argv = open(f"/proc/{{pid}}/cmdline").read().split("\\0")
        except OSError:
            continue
        if ppid == str(os.getpid()):
            found.append(" ".join(argv[1:4]))
    return sorted(found)

def gate(outdir, *args, **kwargs):
    stacks = sorted(os.listdir(os.path.join(outdir, "stacks")))
    print(f"gate stand-in: stacks {{stacks}}")
    server = os.environ.get("GROUNDWORK_CHECKOV_SERVER")
    print(f"gate stand-in: children {{children()}}")
    print(f"gate stand-in: server socket {{server and stat.S_ISSOCK(os.stat(server).st_mode)}}")
    return {status}

v.run = gate
sys.exit(main.main())
"""

# The cloud of the runs below whose subject (the gate's verdict, the output folder, the
# fingerprint, the CLI's order of steps) does not depend on the cloud: the one whose app
# starts fastest. Starting jsii and loading the provider assembly is most of each run, and
# Azure's dev stack took 4.6 s against AWS's 7.1 s (issue 13, measured 2026-12-01).
APP_CLOUD = "azure"


def run_with_gate(tmp_path: Path, status: int, **env: str) -> subprocess.CompletedProcess[str]:
    """main.py's app with the verify gate's verdict replaced by `status` (0, 1 or 2)."""
    return subprocess.run(
        [sys.executable, "-c", GATE_SAYS.format(status=status)],
        cwd=ROOT,
        env={**os.environ, "CDKTF_OUTDIR": str(tmp_path / "out"), "CLOUD": APP_CLOUD, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_failing_gate_leaves_the_previous_output_and_exits_with_its_status(
    tmp_path: Path,
) -> None:
    """What cdktf deploy/diff act on is the output folder: a failing gate never replaces it."""
    previous = tmp_path / "out" / "manifest.json"
    previous.parent.mkdir()
    previous.write_text("previous output")
    for status in (1, 2):
        result = run_with_gate(tmp_path, status, GROUNDWORK_STACKS="dev")
        assert result.returncode == status, result.stdout + result.stderr
        assert f"the verify gate failed; {tmp_path / 'out'} is unchanged" in result.stderr
        assert previous.read_text() == "previous output"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left
    # Without the suite's Checkov server (conftest.py), as `make synth` runs it.
    passed = run_with_gate(tmp_path, 0, GROUNDWORK_STACKS="dev", GROUNDWORK_CHECKOV_SERVER="")
    assert passed.returncode == 0, passed.stderr
    # Issue 13: the gate runs without jsii's Node process beside it, and through the Checkov
    # server main.py started before the synthesis (the import overlapped it).
    assert "gate stand-in: children ['-m synth.checkov_server serve']" in passed.stdout
    assert "gate stand-in: server socket True" in passed.stdout
    assert sorted(p.name for p in (tmp_path / "out" / "stacks").iterdir()) == ["dev"]


def test_skipping_the_gate_is_refused_in_ci_and_for_production(tmp_path: Path) -> None:
    in_ci = run_main(
        tmp_path, ROOT / "environments", GROUNDWORK_VERIFY="skip", GROUNDWORK_STACKS="dev",
        CI="true",
    )  # fmt: skip
    assert in_ci.returncode == 2
    assert in_ci.stderr.strip() == (
        "GROUNDWORK_VERIFY=skip: refused because CI is set; CI always verifies"
    )
    production = run_main(tmp_path, ROOT / "environments", GROUNDWORK_VERIFY="skip", CI="")
    assert production.returncode == 2
    assert production.stderr.strip().startswith(
        "GROUNDWORK_VERIFY=skip: refused for production-tier stacks (production, bootstrap-"
    )
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def skipped_dev(tmp_path_factory: pytest.TempPathFactory) -> SkippedRun:
    """One run of the app with the gate skipped for the dev stack (`GROUNDWORK_VERIFY=skip`,
    `GROUNDWORK_STACKS=dev`, outside CI), which the two tests below read."""
    tmp_path = tmp_path_factory.mktemp("skipped-dev")
    result = run_main(
        tmp_path, ROOT / "environments", GROUNDWORK_VERIFY="skip", GROUNDWORK_STACKS="dev",
        CI="", CLOUD=APP_CLOUD,
    )  # fmt: skip
    return SkippedRun(result, tmp_path / "out")


@dataclass(frozen=True)
class SkippedRun:
    result: subprocess.CompletedProcess[str]
    out: Path


def test_skipping_the_gate_for_a_dev_stack_says_so(skipped_dev: SkippedRun) -> None:
    result = skipped_dev.result
    assert result.returncode == 0, result.stderr
    assert "NOT VERIFIED; never deploy this output" in result.stdout
    assert sorted(p.name for p in (skipped_dev.out / "stacks").iterdir()) == ["dev"]


def test_an_unknown_stack_selection_exits_2_naming_the_stacks(tmp_path: Path) -> None:
    result = run_main(tmp_path, ROOT / "environments", GROUNDWORK_STACKS="dev,qa", CLOUD="gcp")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "GROUNDWORK_STACKS=dev,qa: no stack named qa; the stacks are bootstrap-gcp, dev, "
        "production, staging"
    )


def test_local_state_is_in_the_project_root_whatever_the_output_folder(
    skipped_dev: SkippedRun,
) -> None:
    """STATE-1: Terraform runs in <outdir>/stacks/<stack>/; the path leads back to the root."""
    assert skipped_dev.result.returncode == 0, skipped_dev.result.stderr
    stack_dir = skipped_dev.out / "stacks" / "dev"
    path = json.loads((stack_dir / "cdk.tf.json").read_text())["terraform"]["backend"]["local"]
    assert not path["path"].startswith("/")
    assert (stack_dir / path["path"]).resolve() == ROOT / "terraform.dev.tfstate"


def test_ci_refuses_a_production_deploy_with_local_state(tmp_path: Path) -> None:
    """A deploy job names its stack; production's state must not live on the runner's disk."""
    result = run_main(tmp_path, ROOT / "environments", GROUNDWORK_STACKS="production", CI="true")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "GROUNDWORK_STACKS: production: state.backend is local; CI deploys production only "
        "with remote state (README: 'Moving an environment to remote state')"
    )
    assert not (tmp_path / "out").exists()


def test_cdktf_deploy_reaches_terraform_init(tmp_path: Path) -> None:
    """Offline, the first thing that cannot work is downloading providers in terraform init:
    everything before it (CLI, app, synthesis, backend) did."""
    result = cdktf(
        tmp_path, "deploy", "dev", "--auto-approve", GROUNDWORK_STACKS="dev",
        GROUNDWORK_VERIFY="skip",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Initializing the backend" in output, output
    assert "Failed to query available provider packages" in output, output


def test_cdktf_deploy_stops_before_terraform_when_the_gate_fails(tmp_path: Path) -> None:
    """The CLI runs the app (here with the gate's verdict set to fail) and, as it exits 1,
    never starts Terraform: nothing unverified can be deployed."""
    app = f"{sys.executable} -c '{GATE_SAYS.format(status=1)}'"
    result = cdktf(
        tmp_path, "deploy", "dev", "--auto-approve", "--app", app, GROUNDWORK_STACKS="dev"
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "the verify gate failed" in output, output
    assert "Initializing the backend" not in output
    assert not (tmp_path / "out" / "stacks" / "dev" / ".terraform").exists()


def test_cdktf_deploy_refuses_an_unverified_skip_in_ci(tmp_path: Path) -> None:
    result = cdktf(
        tmp_path, "deploy", "dev", "--auto-approve", GROUNDWORK_STACKS="dev",
        GROUNDWORK_VERIFY="skip", CI="true",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "GROUNDWORK_VERIFY=skip: refused because CI is set" in output, output
    assert "Initializing the backend" not in output


def test_an_unchanged_project_is_not_synthesized_again(tmp_path: Path) -> None:
    """A verified output whose inputs did not change is kept as it is (issue 13); an edit of
    an environment file, or a missing report, synthesizes and verifies again."""
    environments = copy_environments(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in ("verify.json", "verify.xml"):  # the patched gate writes none
        (reports / name).write_text("{}")
    # One stack is enough (the fingerprint covers every environment file): each run of the
    # app costs a jsii start and a synthesis.
    env = {
        "GROUNDWORK_ENVIRONMENTS": str(environments),
        "GROUNDWORK_REPORTS": str(reports),
        "GROUNDWORK_STACKS": "dev",
    }
    first = run_with_gate(tmp_path, 0, **env)
    assert first.returncode == 0, first.stderr
    again = run_with_gate(tmp_path, 0, **env)
    assert again.returncode == 0
    assert (
        again.stdout.strip()
        == f"synth: {tmp_path / 'out'} is verified and up to date (no input changed)"
    )
    # An edit of another environment's file counts too: bootstrap stacks derive from all.
    with (environments / "staging.yaml").open("a") as handle:
        handle.write("# an edit\n")
    edited = run_with_gate(tmp_path, 0, **env)
    assert edited.returncode == 0
    assert "synth: wrote 1 stack(s)" in edited.stdout
    (reports / "verify.xml").unlink()
    assert "synth: wrote 1 stack(s)" in run_with_gate(tmp_path, 0, **env).stdout


def test_a_stack_whose_inputs_did_not_change_is_taken_from_the_verified_output(
    tmp_path: Path,
) -> None:
    """Issue 13: after an edit of staging.yaml, dev comes from the verified output instead of
    being synthesized again, the gate judges both, and the output is byte-identical to a
    fresh synthesis."""
    environments = copy_environments(tmp_path)
    env = {
        "GROUNDWORK_ENVIRONMENTS": str(environments),
        "GROUNDWORK_STACKS": "dev,staging",
        "GROUNDWORK_REPORTS": str(tmp_path / "reports"),
    }
    first = run_with_gate(tmp_path / "kept", 0, **env)
    assert first.returncode == 0, first.stdout + first.stderr
    out = tmp_path / "kept" / "out"
    before = (out / "stacks" / "staging" / "cdk.tf.json").read_text()
    staging = environments / "staging.yaml"
    staging.write_text(staging.read_text().replace("cost_center: cc-1001", "cost_center: cc-1009"))
    edited = run_with_gate(tmp_path / "kept", 0, **env)
    assert edited.returncode == 0, edited.stdout + edited.stderr
    assert f"synth: dev unchanged: taken from the verified {out}" in edited.stdout
    assert f"synth: staging on {APP_CLOUD}" in edited.stdout
    assert f"synth: dev on {APP_CLOUD}" not in edited.stdout
    assert "gate stand-in: stacks ['dev', 'staging']" in edited.stdout  # the gate judges both
    after = (out / "stacks" / "staging" / "cdk.tf.json").read_text()
    assert "cc-1009" in after and "cc-1009" not in before
    # A fresh synthesis, at the same depth as `out` (the local state path is relative).
    fresh = run_with_gate(tmp_path / "fresh", 0, **env)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "taken from" not in fresh.stdout

    def files(folder: Path) -> dict[str, bytes]:
        return {
            str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != fingerprint.STAMP
        }

    assert files(out) == files(tmp_path / "fresh" / "out")
