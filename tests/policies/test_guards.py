"""Tests the synth-time guards: each stops `cdktf synth` on a small stack that violates it,
naming stack, resource and requirement, and lets the matching clean stack through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import App, TerraformProvider, TerraformResource, TerraformStack
from matrix import CLOUDS

from synth.guards import REQUIRED_TAGS, attach_guards, guard_failures, violations

TAGS = {key: "x" for key in REQUIRED_TAGS}
SG = "${aws_security_group.alb.id}"


def resource(stack: TerraformStack, rtype: str, logical_id: str, **attributes: Any) -> None:
    """A resource of any type without loading its provider bindings."""
    node = TerraformResource(stack, f"{rtype}.{logical_id}", terraform_resource_type=rtype)
    node.override_logical_id(logical_id)
    for key, value in attributes.items():
        node.add_override(key, value)


def synth(tmp_path: Path, build: Any, *, default_tags: dict[str, str] = TAGS) -> None:
    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "guarded")
    provider = TerraformProvider(stack, "aws", terraform_resource_type="aws")
    provider.add_override("default_tags", [{"tags": default_tags}])
    resource(stack, "aws_lb", "alb", security_groups=[SG])
    resource(stack, "aws_security_group", "alb", name="alb")
    build(stack)
    attach_guards(stack)
    app.synth()


CASES = {
    "NET-2": (
        lambda s: resource(s, "aws_db_instance", "fail_db", publicly_accessible=True),
        lambda s: resource(s, "aws_db_instance", "pass_db", publicly_accessible=False),
        "aws_db_instance.fail_db",
    ),
    "SEC-3": (
        lambda s: resource(
            s, "aws_secretsmanager_secret_version", "fail_secret", secret_string="hunter2"
        ),
        lambda s: resource(
            s,
            "aws_secretsmanager_secret_version",
            "pass_secret",
            secret_string="postgresql://app@${aws_db_proxy.p.endpoint}/app",
        ),
        "aws_secretsmanager_secret_version.fail_secret",
    ),
    "NET-3": (
        lambda s: resource(
            s,
            "aws_vpc_security_group_ingress_rule",
            "fail_ssh",
            security_group_id=SG,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=22,
            to_port=22,
        ),
        lambda s: resource(
            s,
            "aws_vpc_security_group_ingress_rule",
            "pass_https",
            security_group_id=SG,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
        ),
        "aws_vpc_security_group_ingress_rule.fail_ssh",
    ),
    "TAG-1": (
        lambda s: resource(s, "google_storage_bucket", "fail_bucket", labels={"app": "x"}),
        lambda s: resource(s, "google_storage_bucket", "pass_bucket", labels=TAGS),
        "google_storage_bucket.fail_bucket",
    ),
}


@pytest.mark.parametrize("requirement", sorted(CASES))
def test_guard_stops_synth_naming_stack_resource_and_requirement(
    tmp_path: Path, requirement: str
) -> None:
    violate, _, address = CASES[requirement]
    with pytest.raises(Exception) as caught:  # jsii surfaces cdktf's error as a RuntimeError
        synth(tmp_path, violate)
    message = str(caught.value)
    assert f"stack guarded: {requirement}: {address}" in message
    assert not (tmp_path / "stacks" / "guarded" / "cdk.tf.json").exists()
    # What main.py prints: only our lines, not cdktf's advice to skip validation.
    failures = guard_failures(caught.value)
    assert failures and failures[0].startswith(f"stack guarded: {requirement}: {address}")
    assert not any("skipValidation" in line for line in failures)


@pytest.mark.parametrize("requirement", sorted(CASES))
def test_guard_lets_the_clean_stack_through(tmp_path: Path, requirement: str) -> None:
    _, clean, _ = CASES[requirement]
    synth(tmp_path, clean)
    assert (tmp_path / "stacks" / "guarded" / "cdk.tf.json").is_file()


def test_aws_default_tags_count_and_missing_ones_are_named(tmp_path: Path) -> None:
    partial = {key: "x" for key in REQUIRED_TAGS if key != "owner"}
    with pytest.raises(Exception) as caught:
        synth(tmp_path, lambda s: None, default_tags=partial)
    assert "stack guarded: TAG-1: provider.aws: default_tags lack owner" in str(caught.value)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_synthesized_stacks_pass_every_guard(matrix_dir: Path, cloud: str) -> None:
    for path in sorted((matrix_dir / cloud / "stacks").glob("*/cdk.tf.json")):
        assert [str(v) for v in violations(json.loads(path.read_text()))] == [], path


def test_other_errors_are_not_guard_failures() -> None:
    assert guard_failures(RuntimeError("Error: something else broke")) is None


def test_google_default_labels_count_like_aws_default_tags() -> None:
    """Google merges provider default_labels into every resource's labels (TAG-1)."""
    bucket = {"google_storage_bucket": {"assets": {"labels": {"tier": "data"}}}}
    labelled = {"provider": {"google": [{"default_labels": TAGS}]}, "resource": bucket}
    assert violations(labelled) == []
    partial = {"provider": {"google": [{"default_labels": {"app": "x"}}]}, "resource": bucket}
    assert [str(v) for v in violations(partial) if v.resource == "provider.google"] == [
        "TAG-1: provider.google: default_labels lack cost-center, environment, managed-by, owner"
    ]
