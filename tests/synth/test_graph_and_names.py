"""The ordering graph (synth/graph.py) and the name limits table (synth/names.py) that the
DEPLOY policies stand on: references inside expressions and `depends_on` are edges, the
closure is transitive, and names are measured at their longest."""

from __future__ import annotations

import pytest

from synth.graph import Graph
from synth.names import NAME_RULES, NameRule, check_name, name_problems

DOCUMENT = {
    "data": {"aws_caller_identity": {"caller": {}}},
    "resource": {
        "aws_kms_key": {"data": {"description": "k"}},
        "aws_kms_grant": {"app": {"key_id": "${aws_kms_key.data.arn}"}},
        "aws_db_instance": {
            "primary": {
                "kms_key_id": "${element([aws_kms_key.data.arn], 0)}",
                "depends_on": ["aws_kms_grant.app"],
                "lifecycle": {"replace_triggered_by": ["aws_s3_bucket.logs"]},
            }
        },
        "aws_s3_bucket": {
            "logs": {"bucket": "gw-logs-${data.aws_caller_identity.caller.account_id}"}
        },
    },
}


def test_edges_come_from_expressions_and_depends_on_only() -> None:
    graph = Graph.of(DOCUMENT)
    assert graph.edges["aws_db_instance.primary"] == {"aws_kms_key.data", "aws_kms_grant.app"}
    assert graph.edges["aws_s3_bucket.logs"] == {"data.aws_caller_identity.caller"}
    assert not graph.needs("aws_db_instance.primary", "aws_s3_bucket.logs")  # lifecycle only


def test_prerequisites_are_transitive() -> None:
    graph = Graph.of(DOCUMENT)
    assert graph.prerequisites("aws_db_instance.primary") == {
        "aws_kms_key.data",
        "aws_kms_grant.app",
    }
    assert graph.dependents("aws_kms_key.data") == {
        "aws_kms_grant.app",
        "aws_db_instance.primary",
    }
    assert set(graph.of_type("aws_kms_key", "data.aws_caller_identity")) == {
        "aws_kms_key.data",
        "data.aws_caller_identity.caller",
    }


def test_names_with_an_account_id_are_measured_at_twelve_digits() -> None:
    assert list(name_problems(DOCUMENT)) == []
    long_prefix = "x" * 46 + "-logs-${data.aws_caller_identity.caller.account_id}"
    (problem,) = name_problems({"resource": {"aws_s3_bucket": {"b": {"bucket": long_prefix}}}})
    assert "64 characters; allowed 3-63" in problem.message
    assert "bucketnamingrules" in problem.message


def test_a_reference_of_unknown_length_is_unknown_not_a_pass() -> None:
    rule = NameRule("t", "name", 10, r"[a-z-]+", "doc")
    problem = check_name(rule, "t.a", "a-${random_id.x.hex}")
    assert problem is not None and problem.unknown


@pytest.mark.parametrize(
    ("value", "fits"),
    [("ab", True), ("a-b", True), ("a--b", False), ("a-", False), ("-a", False), ("A", False)],
)
def test_character_rules_are_whole_matches(value: str, fits: bool) -> None:
    rule = next(r for r in NAME_RULES if r.resource_type == "aws_db_instance")
    assert (check_name(rule, "aws_db_instance.x", value) is None) is fits


def test_every_rule_names_its_source_and_sane_bounds() -> None:
    seen = set()
    for rule in NAME_RULES:
        assert rule.source.startswith("https://"), rule
        assert 1 <= rule.min_length <= rule.max_length, rule
        assert (rule.resource_type, rule.attribute) not in seen, rule
        seen.add((rule.resource_type, rule.attribute))


def _aws_rule(resource_type: str, attribute: str) -> NameRule:
    return next(
        r for r in NAME_RULES if (r.resource_type, r.attribute) == (resource_type, attribute)
    )


@pytest.mark.parametrize(
    ("value", "fits"),
    [
        ("groundwork-production-logs", True),
        ("xn--groundwork", False),  # reserved prefixes (S3 bucket naming rules)
        ("sthree-groundwork", False),
        ("sthree-configurator-groundwork", False),
        ("amzn-s3-demo-groundwork", False),
        ("groundwork-s3alias", False),  # reserved suffixes
        ("groundwork--ol-s3", False),
        ("groundwork.mrap", False),
        ("groundwork--x-s3", False),
        ("groundwork-s3aliases", True),  # a suffix only where it ends the name
    ],
)
def test_s3_bucket_names_avoid_the_reserved_prefixes_and_suffixes(value: str, fits: bool) -> None:
    rule = _aws_rule("aws_s3_bucket", "bucket")
    assert (check_name(rule, "aws_s3_bucket.x", value) is None) is fits


@pytest.mark.parametrize("resource_type", ["aws_lb", "aws_lb_target_group"])
@pytest.mark.parametrize(
    ("value", "fits"), [("internal-app", False), ("internalapp", True), ("app-internal", True)]
)
def test_load_balancer_names_do_not_begin_with_internal(
    resource_type: str, value: str, fits: bool
) -> None:
    rule = _aws_rule(resource_type, "name")
    assert (check_name(rule, f"{resource_type}.x", value) is None) is fits


@pytest.mark.parametrize(
    ("resource_type", "attribute"),
    [
        ("aws_elasticache_user", "user_id"),
        ("aws_elasticache_user", "user_name"),
        ("aws_elasticache_user_group", "user_group_id"),
    ],
)
@pytest.mark.parametrize(
    ("value", "fits"),
    [
        ("groundwork-production-app", True),
        ("a" * 40, True),
        ("a" * 41, False),
        ("1app", False),  # starts with a letter
        ("app--x", False),
        ("app-", False),
        ("app_x", False),
    ],
)
def test_elasticache_user_and_group_ids(
    resource_type: str, attribute: str, value: str, fits: bool
) -> None:
    rule = _aws_rule(resource_type, attribute)
    assert (check_name(rule, f"{resource_type}.x", value) is None) is fits
