"""The offline change review (synth/review.py) on crafted before/after outputs: additions,
removals, changes, a stateful removal and a replacement-forcing change failing with
--fail-on-destroy, no change at all, and cdktf hash churn that is not a change."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from matrix import ROOT

from synth import review
from synth.__main__ import main as synth_main
from synth.review import STATEFUL, diagram, diagram_markdown, stable_address, with_diagrams


def body(path: str, **attributes: Any) -> dict[str, Any]:
    return {**attributes, "//": {"metadata": {"path": path, "uniqueId": "x"}}}


BASE = {
    "resource": {
        "aws_kms_key": {"keys_data_1A2B3C4D": body("dev/keys/data", description="data key")},
        "aws_db_instance": {
            "database_primary_D3810515": body(
                "dev/database/primary",
                identifier="gw-dev-postgres",
                instance_class="db.t4g.micro",
                kms_key_id="${aws_kms_key.keys_data_1A2B3C4D.arn}",
            )
        },
        "aws_s3_bucket": {"storage_app_0F0F0F0F": body("dev/storage/app", bucket="gw-dev-app")},
        "aws_sns_topic": {"observability_alerts_11111111": body("dev/observability/alerts")},
    }
}


def write(root: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    for name, document in stacks.items():
        target = root / "stacks" / name / "cdk.tf.json"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(document))
    return root


def edited(**changes: Any) -> dict[str, Any]:
    """BASE with `type=(name, new body or None)` edits."""
    document = json.loads(json.dumps(BASE))
    for rtype, (name, new) in changes.items():
        if new is None:
            del document["resource"][rtype][name]
        else:
            document["resource"].setdefault(rtype, {})[name] = new
    return document


def run(tmp_path: Path, head: dict[str, Any], *flags: str) -> tuple[int, str]:
    base_dir = write(tmp_path / "base", {"dev": BASE})
    head_dir = write(tmp_path / "head", {"dev": head})
    out = tmp_path / "review.txt"
    status = synth_main(["review", str(base_dir), str(head_dir), "--output", str(out), *flags])
    return status, out.read_text()


def test_no_change_reports_nothing_and_passes(tmp_path: Path) -> None:
    status, text = run(tmp_path, BASE, "--fail-on-destroy")
    assert status == 0
    assert "== dev: 0 change(s)" in text
    assert text.strip().endswith(
        "0 to add, 0 to change, 0 to remove; 0 stateful resource(s) destroyed or replaced"
    )


def test_hash_churn_is_not_a_change(tmp_path: Path) -> None:
    """A construct whose cdktf logical ID changes keeps its stable address."""
    moved = edited(aws_sns_topic=("observability_alerts_11111111", None))
    moved["resource"]["aws_sns_topic"]["observability_alerts_99999999"] = body(
        "dev/observability/alerts"
    )
    status, text = run(tmp_path, moved, "--fail-on-destroy")
    assert status == 0
    assert "== dev: 0 change(s)" in text


def test_an_addition_and_an_in_place_change_pass_with_fail_on_destroy(tmp_path: Path) -> None:
    head = edited(
        aws_sns_topic=("observability_extra_22222222", body("dev/observability/extra")),
        aws_db_instance=(
            "database_primary_D3810515",
            body(
                "dev/database/primary",
                identifier="gw-dev-postgres",
                instance_class="db.t4g.small",
                kms_key_id="${aws_kms_key.keys_data_1A2B3C4D.arn}",
            ),
        ),
    )
    status, text = run(tmp_path, head, "--fail-on-destroy")
    assert status == 0
    assert "  + aws_sns_topic.observability/extra\n" in text
    assert "  ~ aws_db_instance.database/primary\n" in text
    assert 'instance_class: "db.t4g.micro" -> "db.t4g.small"\n' in text
    assert "DESTROYS DATA" not in text


def test_removing_a_stateful_resource_fails_with_fail_on_destroy(tmp_path: Path) -> None:
    head = edited(aws_s3_bucket=("storage_app_0F0F0F0F", None))
    assert run(tmp_path / "plain", head)[0] == 0
    status, text = run(tmp_path / "strict", head, "--fail-on-destroy")
    assert status == 1
    assert "  - aws_s3_bucket.storage/app  <-- DESTROYS DATA" in text
    assert "WARNING: dev: aws_s3_bucket.storage/app would be destroyed or replaced" in text


def test_removing_a_stateless_resource_is_not_destructive(tmp_path: Path) -> None:
    head = edited(aws_sns_topic=("observability_alerts_11111111", None))
    status, text = run(tmp_path, head, "--fail-on-destroy")
    assert status == 0
    assert "  - aws_sns_topic.observability/alerts\n" in text


def test_a_replacement_forcing_change_fails_with_fail_on_destroy(tmp_path: Path) -> None:
    head = edited(
        aws_db_instance=(
            "database_primary_D3810515",
            body(
                "dev/database/primary",
                identifier="gw-dev-db",
                instance_class="db.t4g.micro",
                kms_key_id="${aws_kms_key.keys_data_1A2B3C4D.arn}",
            ),
        )
    )
    status, text = run(tmp_path, head, "--fail-on-destroy")
    assert status == 1
    assert 'identifier: "gw-dev-postgres" -> "gw-dev-db" (forces replacement)' in text


def test_markdown_has_the_warning_the_table_and_the_diagram(tmp_path: Path) -> None:
    head = edited(aws_s3_bucket=("storage_app_0F0F0F0F", None))
    status, text = run(tmp_path, head, "--format", "markdown")
    assert status == 0
    assert (
        "> **Warning:** `dev`: `aws_s3_bucket.storage/app` would be destroyed or replaced." in text
    )
    assert "| remove | `aws_s3_bucket.storage/app` |  **destroys data** |" in text
    assert "```mermaid\nflowchart LR\n" in text


def test_the_diagram_links_components_that_refer_to_each_other() -> None:
    assert diagram(BASE).splitlines() == [
        "flowchart LR",
        '  database["database (1)"]',
        '  keys["keys (1)"]',
        '  observability["observability (1)"]',
        '  storage["storage (1)"]',
        "  database --> keys",
    ]


def test_a_folder_without_stacks_is_bad_input(tmp_path: Path) -> None:
    assert synth_main(["review", str(tmp_path), str(tmp_path)]) == 2


def test_stable_address_falls_back_to_the_name_without_the_hash() -> None:
    assert (
        stable_address("aws_s3_bucket", "storage_app_0F0F0F0F", {}) == "aws_s3_bucket.storage_app"
    )


PROVIDERS = {"aws_": "cdktf_cdktf_provider_aws", "google_": "cdktf_cdktf_provider_google",
             "azurerm_": "cdktf_cdktf_provider_azurerm"}  # fmt: skip


@pytest.mark.parametrize("rtype", sorted(STATEFUL))
def test_every_replacement_forcing_argument_exists_in_the_pinned_provider(rtype: str) -> None:
    """The reviewed table names real resource types and arguments (read from the installed
    prebuilt provider's generated bindings, without importing them)."""
    prefix = next(p for p in PROVIDERS if rtype.startswith(p))
    package = importlib.util.find_spec(PROVIDERS[prefix])
    assert package is not None and package.submodule_search_locations
    module = Path(next(iter(package.submodule_search_locations))) / rtype.removeprefix(prefix)
    source = (module / "__init__.py").read_text()
    arguments = set(
        re.findall(r"^        ([a-z_0-9]+): (?:typing|builtins)\.", source, re.MULTILINE)
    )
    assert STATEFUL[rtype] <= arguments, STATEFUL[rtype] - arguments


def test_base_ref_mode_synthesizes_both_sides_and_removes_its_worktree(tmp_path: Path) -> None:
    """`--base HEAD`: the committed project against the working tree (equal in CI's clean
    checkout); every stack is reviewed and no worktree is left behind."""
    out = tmp_path / "review.txt"

    def worktrees() -> list[str]:
        # Paths only: another checkout of the repository may commit meanwhile, which changes
        # its commit in `git worktree list`, not whether the review left a worktree behind.
        listed = subprocess.run(
            ["git", "worktree", "list", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        )
        return [line for line in listed.stdout.splitlines() if line.startswith("worktree ")]

    before = worktrees()
    status = synth_main(["review", "--base", "HEAD", "--output", str(out)])
    after = worktrees()
    assert status == 0
    text = out.read_text()
    for stack in ("dev", "staging", "production", "bootstrap-aws"):
        assert f"== {stack}: " in text
    assert text.splitlines()[-1].startswith("review: ")
    assert before and after == before


# A stand-in project's main.py: `waits` returns 0 once the other project's main has written
# its marker (within 60 s), `fails` writes the marker and exits 3 with a line on stderr.
STAND_IN_MAIN = """
import os, sys, time
from pathlib import Path

def main(verify_output=True):
    marker = Path(os.environ["CDKTF_OUTDIR"]).parent / "marker"
    if Path.cwd().name == "waits":
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return 0 if marker.exists() else 1
    marker.write_text("written")
    print("synth stopped by guards: a stand-in failure", file=sys.stderr)
    return 3
"""


def test_both_sides_are_synthesized_at_once_and_a_failure_names_its_project(
    tmp_path: Path,
) -> None:
    """Issue 13: `--base REF` synthesizes the base and the working tree side by side. The
    first project here finishes only once the second has started; the second fails, and the
    error names it with its output."""
    projects = []
    for name in ("waits", "fails"):
        project = tmp_path / name
        project.mkdir()
        (project / "main.py").write_text(STAND_IN_MAIN)
        projects.append((project, tmp_path / f"{name}.out"))
    with pytest.raises(review.ReviewError) as caught:
        review._synthesize(projects)
    assert str(caught.value) == (
        f"synthesis of {tmp_path / 'fails'} failed (3):\n"
        "synth stopped by guards: a stand-in failure\n"
    )


def test_a_provider_or_backend_change_is_reviewed_though_no_resource_changed(
    tmp_path: Path,
) -> None:
    """A cost-center edit changes only the AWS provider's default_tags, which Terraform then
    writes to every resource (the newcomer review saw "0 change(s)"); a new backend moves
    the state."""
    base = {
        **json.loads(json.dumps(BASE)),
        "provider": {"aws": [{"region": "eu-west-1", "default_tags": [{"tags": {"cc": "1"}}]}]},
        "terraform": {"backend": {"local": {"path": "dev.tfstate"}}},
    }
    head = json.loads(json.dumps(base))
    head["provider"]["aws"][0]["default_tags"][0]["tags"]["cc"] = "2"
    head["terraform"]["backend"] = {"s3": {"bucket": "gw-tfstate"}}
    assert review.diff_stack(base, head) == [
        review.Change("provider.aws", "change", {"default_tags[0].tags.cc": ("1", "2")}),
        review.Change(
            "terraform",
            "change",
            {
                "backend.local.path": ("dev.tfstate", None),
                "backend.s3.bucket": (None, "gw-tfstate"),
            },
        ),
    ]
    assert review.diff_stack(base, base) == []
    assert review.diff_stack(None, head) == review.diff_stack(None, edited())  # resources only


def test_an_unknown_base_ref_is_bad_input() -> None:
    assert synth_main(["review", "--base", "no-such-ref-anywhere"]) == 2


def test_the_readme_shows_the_current_component_diagrams(matrix_dir: Path) -> None:
    """The README's diagrams are the shipped (AWS) environments' as synthesized now; refresh
    with `python -m synth diagrams cdktf.out --readme README.md`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert with_diagrams(readme, diagram_markdown(matrix_dir / "aws")) == readme


def test_replacing_a_network_counts_as_destroying_what_lives_in_it(tmp_path: Path) -> None:
    """A VPC whose CIDR changes is replaced, and with it every subnet, database and cache in it
    (the newcomer review changed dev's network.cidr and saw only an in-place change)."""
    base = edited(
        aws_vpc=("network_vpc_4E8F0223", body("dev/network/vpc", cidr_block="10.10.0.0/16"))
    )
    head = edited(
        aws_vpc=("network_vpc_4E8F0223", body("dev/network/vpc", cidr_block="10.11.0.0/16"))
    )
    base_dir = write(tmp_path / "base", {"dev": base})
    head_dir = write(tmp_path / "head", {"dev": head})
    out = tmp_path / "review.txt"
    status = synth_main(
        ["review", str(base_dir), str(head_dir), "--output", str(out), "--fail-on-destroy"]
    )
    assert status == 1
    assert "  ~ aws_vpc.network/vpc  <-- DESTROYS DATA" in out.read_text()


def test_a_resource_a_moved_block_carries_is_compared_at_its_new_address() -> None:
    """The ECS cluster moved from the first service's construct to the stack's (moved blocks):
    the review shows its attribute changes, not a removal and an addition."""
    from synth.review import diff_stack

    def cluster(path: str, name: str) -> dict[str, Any]:
        return {"//": {"metadata": {"path": f"dev/{path}"}}, "name": name}

    base = {
        "resource": {
            "aws_ecs_cluster": {"service_cluster_B81F1F5D": cluster("service/cluster", "a")}
        }
    }
    head = {
        "resource": {"aws_ecs_cluster": {"cluster": cluster("cluster", "b")}},
        "moved": [
            {"from": "aws_ecs_cluster.service_cluster_B81F1F5D", "to": "aws_ecs_cluster.cluster"}
        ],
    }
    [change] = diff_stack(base, head)
    assert (change.address, change.kind, change.changed) == (
        "aws_ecs_cluster.cluster",
        "change",
        {"name": ("a", "b")},
    )
    head.pop("moved")
    assert sorted(c.kind for c in diff_stack(base, head)) == ["add", "remove"]


def test_the_local_state_path_reads_the_same_from_a_worktree_or_another_output_folder(
    tmp_path: Path,
) -> None:
    """`--base REF` synthesizes the ref in a worktree, whose output lies at another depth from
    its project than the working tree's: every stack showed `backend.local.path` changed
    though nothing had (newcomer run). The path counts from each side's project root."""

    def output(folder: Path, path: str) -> Path:
        stack = folder / "stacks" / "dev"
        stack.mkdir(parents=True)
        document = {**BASE, "terraform": {"backend": {"local": {"path": path}}}}
        (stack / "cdk.tf.json").write_text(json.dumps(document))
        return folder

    worktree, project = tmp_path / "review" / "base", tmp_path / "checkouts" / "project"
    base = output(tmp_path / "review" / "base.out", "../../../base/terraform.dev.tfstate")
    head = output(tmp_path / "head.out", "../../../checkouts/project/terraform.dev.tfstate")
    same = review.review(base, head, base_root=worktree, head_root=project)
    assert [r.changes for r in same] == [[]]
    moved = output(tmp_path / "moved.out", "../../../checkouts/project/state/dev.tfstate")
    [changed] = review.review(base, moved, base_root=worktree, head_root=project)
    assert changed.changes == [
        review.Change(
            "terraform",
            "change",
            {
                "backend.local.path": (
                    "<project>/terraform.dev.tfstate",
                    "<project>/state/dev.tfstate",
                )
            },
        )
    ]
