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


def _net3(document: dict[str, Any]) -> list[str]:
    return [str(v) for v in violations(document) if v.requirement == "NET-3"]


@pytest.mark.parametrize(
    ("resources", "address"),
    [
        (
            {
                "aws_vpc_security_group_ingress_rule": {
                    name: {
                        "security_group_id": "${aws_security_group.app.id}",
                        "cidr_ipv4": cidr,
                        "ip_protocol": "tcp",
                        "from_port": 22,
                        "to_port": 22,
                    }
                    for name, cidr in (("low", "0.0.0.0/1"), ("high", "128.0.0.0/1"))
                }
            },
            "aws_vpc_security_group_ingress_rule.low",
        ),
        (
            {
                "aws_security_group": {
                    "app": {
                        "ingress": [
                            {"from_port": 22, "to_port": 22, "ipv6_cidr_blocks": ["::/1"]},
                            {"from_port": 22, "to_port": 22, "ipv6_cidr_blocks": ["8000::/1"]},
                        ]
                    }
                }
            },
            "aws_security_group.app",
        ),
        (
            {
                "google_compute_firewall": {
                    "ssh": {
                        "network": "${google_compute_network.vpc.id}",
                        "allow": [{"protocol": "tcp", "ports": ["22"]}],
                        "source_ranges": ["0.0.0.0/1", "128.0.0.0/1"],
                    }
                }
            },
            "google_compute_firewall.ssh",
        ),
        (
            {
                "azurerm_network_security_rule": {
                    "ssh": {
                        "network_security_group_name": "app",
                        "direction": "Inbound",
                        "access": "Allow",
                        "destination_port_range": "22",
                        "source_address_prefixes": ["0.0.0.0/1", "128.0.0.0/1"],
                    }
                }
            },
            "azurerm_network_security_rule.ssh",
        ),
    ],
    ids=["aws-two-rules", "aws-inline-ipv6", "gcp-firewall", "azure-nsg"],
)
def test_ranges_that_together_cover_the_internet_are_the_internet(
    resources: dict[str, Any], address: str
) -> None:
    found = _net3({"resource": resources})
    assert any(line.startswith(f"NET-3: {address}: internet ingress on port 22") for line in found)


def test_private_ranges_beside_split_internet_rules_are_not_blamed() -> None:
    rule = {"security_group_id": "${aws_security_group.app.id}", "ip_protocol": "tcp"}
    rules = {
        name: {**rule, "cidr_ipv4": cidr, "from_port": 22, "to_port": 22}
        for name, cidr in (("low", "0.0.0.0/1"), ("high", "128.0.0.0/1"), ("office", "10.0.0.0/8"))
    }
    found = _net3({"resource": {"aws_vpc_security_group_ingress_rule": rules}})
    assert len(found) == 2 and not any(".office" in line for line in found)


def test_every_provider_configuration_needs_the_tags_aliases_included() -> None:
    """An untagged log group on an aliased provider in another region passed before."""
    tagged = {"region": "eu-west-1", "default_tags": [{"tags": TAGS}]}
    document = {
        "provider": {"aws": [tagged, {"region": "us-east-1", "alias": "uptime"}]},
        "resource": {
            "aws_cloudwatch_log_group": {
                "uptime": {"name": "uptime", "provider": "aws.uptime", "tags": {"app": "x"}},
                "main": {"name": "main", "tags": {"app": "x"}},
            }
        },
    }
    found = [str(v) for v in violations(document) if v.requirement == "TAG-1"]
    assert found == [
        "TAG-1: provider.aws.uptime: default_tags lack app, cost-center, environment, "
        "managed-by, owner",
        "TAG-1: aws_cloudwatch_log_group.uptime: tags lack environment, managed-by, owner, "
        "cost-center",
    ]
    aliased = {**tagged, "alias": "uptime"}
    document["provider"] = {"aws": [tagged, aliased]}
    assert [str(v) for v in violations(document) if v.requirement == "TAG-1"] == []


@pytest.mark.parametrize(
    ("rtype", "body"),
    [
        ("google_storage_bucket_iam_member", {"member": "allUsers", "role": "roles/viewer"}),
        ("google_project_iam_binding", {"members": ["allAuthenticatedUsers"], "role": "r"}),
        (
            "aws_s3_bucket_policy",
            {
                "policy": json.dumps(
                    {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*"}]}
                )
            },
        ),
        ("aws_lambda_permission", {"principal": "*", "action": "lambda:InvokeFunction"}),
        ("azurerm_storage_container", {"container_access_type": "container"}),
        ("azurerm_storage_account", {"name": "x"}),
        (
            "azurerm_postgresql_flexible_server_firewall_rule",
            {"start_ip_address": "0.0.0.0", "end_ip_address": "255.255.255.255"},
        ),
    ],
)
def test_a_grant_to_the_public_stops_synth_on_any_cloud(rtype: str, body: dict[str, Any]) -> None:
    found = [str(v) for v in violations({"resource": {rtype: {"open": body}}})]
    assert any(line.startswith(f"IAM-1: {rtype}.open: ") for line in found), found


def test_a_deny_to_everyone_is_not_a_public_grant() -> None:
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:*"}
    policy = {"policy": json.dumps({"Statement": [statement]})}
    assert violations({"resource": {"aws_s3_bucket_policy": {"tls": policy}}}) == []
