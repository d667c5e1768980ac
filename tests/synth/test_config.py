"""The environment schema: every bad input gets one line naming file, field, value, rule."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.config import (
    SHARED_FIELDS,
    ConfigError,
    S3State,
    aws_state_tenants,
    bootstrap_configs,
    cloud_override,
    load_environment,
    load_environments,
    parse_environment,
    shared_config,
    shared_view,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "environments"


def modified_in_order(*paths: Path) -> None:
    """Give `paths` modification times one second apart, in this order (the last is newest):
    a problem two files share is reported on the one modified last."""
    for offset, path in enumerate(paths):
        stamp = 1_700_000_000_000_000_000 + offset * 1_000_000_000
        os.utime(path, ns=(stamp, stamp))


def shipped(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SHIPPED / f"{name}.yaml").read_text())
    return data


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def error_of(tmp_path: Path, name: str, data: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load_environment(write(tmp_path, name, data))
    return str(caught.value)


def with_changes(base: dict[str, Any], **sections: dict[str, Any]) -> dict[str, Any]:
    changed = dict(base)
    for section, values in sections.items():
        changed[section] = {**base.get(section, {}), **values}
    return changed


def test_shipped_environments_load_with_tier_sizing() -> None:
    environments = {env.name: env for env in load_environments(SHIPPED)}
    assert sorted(environments) == ["dev", "production", "staging"]
    production, dev = environments["production"], environments["dev"]
    # The sizing table of REQUIREMENTS.md, read through the tier defaults.
    assert (production.service.min_replicas, production.service.max_replicas) == (2, 10)
    assert (dev.service.min_replicas, dev.service.max_replicas) == (1, 2)
    assert (production.network.zones, production.network.nat_gateways) == (3, "per_zone")
    assert (dev.network.zones, dev.network.nat_gateways) == (2, "single")
    assert production.database.backup_retention_days == 7
    assert production.database.high_availability and production.database.read_replicas == 1
    assert production.logs.retention_days == 90 and dev.logs.retention_days == 30
    assert (dev.budget.monthly_usd, production.budget.monthly_usd) == (50, 600)
    assert environments["staging"].database.deletion_protection


def test_environment_file_overrides_only_what_it_states(tmp_path: Path) -> None:
    path = write(tmp_path, "dev", with_changes(shipped("dev"), service={"max_replicas": 4}))
    config = load_environment(path)
    assert config.service.max_replicas == 4
    assert config.service.min_replicas == 1  # still the dev tier default


def test_unknown_key_names_the_allowed_keys(tmp_path: Path) -> None:
    message = error_of(tmp_path, "dev", with_changes(shipped("dev"), service={"replicas": 3}))
    assert message.startswith(f"{tmp_path / 'dev.yaml'}: service.replicas: unknown key")
    assert "min_replicas" in message and "max_replicas" in message


def test_a_value_where_a_section_belongs_names_the_sections_keys(tmp_path: Path) -> None:
    """`database.instance` is one size per cloud; a single size says which keys it needs."""
    data = with_changes(shipped("dev"), database={"instance": "db.t4g.small"})
    expected = (
        "dev.yaml: database.instance: must be a mapping with the keys aws, azure, gcp "
        "(got 'db.t4g.small')"
    )
    assert expected in error_of(tmp_path, "dev", data)


def test_wrong_type_shows_value_and_expected_type(tmp_path: Path) -> None:
    data = with_changes(shipped("dev"), service={"max_replicas": "three"})
    message = error_of(tmp_path, "dev", data)
    expected = "dev.yaml: service.max_replicas: Input should be a valid integer (got 'three')"
    assert expected in message


def test_negative_replicas_are_rejected(tmp_path: Path) -> None:
    message = error_of(tmp_path, "dev", with_changes(shipped("dev"), service={"min_replicas": -1}))
    assert "service.min_replicas: Input should be greater than or equal to 1 (got -1)" in message


def test_inverted_replica_bounds_are_rejected(tmp_path: Path) -> None:
    data = with_changes(shipped("dev"), service={"min_replicas": 5, "max_replicas": 3})
    message = error_of(tmp_path, "dev", data)
    assert "service.max_replicas: is below min_replicas (5) (got 3)" in message


def test_production_min_replicas_of_one_needs_a_waiver(tmp_path: Path) -> None:
    data = with_changes(shipped("production"), service={"min_replicas": 1})
    message = error_of(tmp_path, "production", data)
    assert "production.yaml: service.min_replicas: 1 is below the production floor of 2" in message
    assert "(APP-1)" in message and "waiver" in message


def test_a_reasoned_waiver_lowers_the_floor(tmp_path: Path) -> None:
    data = with_changes(shipped("production"), service={"min_replicas": 1})
    data["waivers"] = [
        {
            "requirement": "APP-1",
            "reason": "Launch week runs one replica while load is measured.",
            "expires": "2026-12-15",
        }
    ]
    config = load_environment(write(tmp_path, "production", data))
    assert config.service.min_replicas == 1 and config.waived("APP-1")  # today: 2026-11-01


def test_an_expired_floor_waiver_lowers_nothing(tmp_path: Path) -> None:
    """Floor waivers expire like every other waiver (newcomer review: they never did)."""
    data = with_changes(shipped("production"), service={"min_replicas": 1})
    data["waivers"] = [
        {
            "requirement": "APP-1",
            "reason": "Launch week runs one replica while load is measured.",
            "expires": "2026-10-31",
            "owner": "launch-team",
        }
    ]
    message = error_of(tmp_path, "production", data)
    assert (
        "service.min_replicas: 1 is below the production floor of 2 (APP-1) "
        "(its waiver expired on 2026-10-31); fix it, or add a waiver: "
        "{requirement: APP-1, reason: ..., expires: YYYY-MM-DD}." in message
    )
    del data["waivers"][0]["expires"]
    assert "waivers[0].expires: required field is missing" in error_of(tmp_path, "production", data)


def test_a_waiver_must_name_a_known_requirement_and_a_reason(tmp_path: Path) -> None:
    data = shipped("production")
    data["waivers"] = [{"requirement": "APP-9", "reason": "short"}]
    message = error_of(tmp_path, "production", data)
    expected = (
        "waivers[0].requirement: is not a requirement ID (the catalog is synth/requirements.py"
    )
    assert expected in message
    assert (
        "waivers[0].reason: must be a full sentence (at least 5 words, starting with a capital "
        "letter and ending with a period)"
    ) in message
    # The rule every waiver's reason follows: long enough is not enough (newcomer run).
    data["waivers"] = [
        {"requirement": "APP-1", "reason": "launch week runs one replica for now",
         "expires": "2026-12-31"}
    ]  # fmt: skip
    assert "waivers[0].reason: must be a full sentence" in error_of(tmp_path, "production", data)


def test_staging_floors_apply_to_staging(tmp_path: Path) -> None:
    data = with_changes(shipped("staging"), database={"deletion_protection": False})
    message = error_of(tmp_path, "staging", data)
    assert "database.deletion_protection: false must be true in staging (DB-7)" in message


def test_dev_has_no_production_floors(tmp_path: Path) -> None:
    data = with_changes(shipped("dev"), database={"backup_retention_days": 1})
    assert load_environment(write(tmp_path, "dev", data)).database.backup_retention_days == 1


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("10.0.0.0/33", "network.cidr: not an IPv4 network in CIDR notation"),
        ("10.0.0.1/16", "network.cidr: not an IPv4 network in CIDR notation"),
        ("8.8.0.0/16", "network.cidr: must be a private (RFC 1918) range (got '8.8.0.0/16')"),
        ("10.0.0.0/24", "network.cidr: prefix length must be between /16 and /20"),
    ],
)
def test_invalid_cidr(tmp_path: Path, cidr: str, expected: str) -> None:
    message = error_of(tmp_path, "dev", with_changes(shipped("dev"), network={"cidr": cidr}))
    assert expected in message


def test_unknown_cloud(tmp_path: Path) -> None:
    message = error_of(tmp_path, "dev", {**shipped("dev"), "cloud": "oracle"})
    assert "dev.yaml: cloud: Input should be 'aws', 'gcp' or 'azure' (got 'oracle')" in message


@pytest.mark.parametrize(
    ("section", "field", "value", "hint"),
    [
        ("aws", "region", "eu-west-9", "unknown AWS region 'eu-west-9'"),
        ("gcp", "region", "europe-west99", "unknown GCP region 'europe-west99'"),
        ("azure", "location", "westeuropa", "did you mean 'westeurope'?"),
    ],
)
def test_unknown_region_per_cloud(
    tmp_path: Path, section: str, field: str, value: str, hint: str
) -> None:
    message = error_of(tmp_path, "dev", with_changes(shipped("dev"), **{section: {field: value}}))
    assert f"dev.yaml: {section}.{field}: " in message and hint in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"staging\.yaml: file not found"):
        load_environment(tmp_path / "staging.yaml")


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "dev", "tier: dev\nservice: {min_replicas: 1\n")
    assert message.startswith(f"{tmp_path / 'dev.yaml'}: malformed YAML at line 3")


def test_a_key_written_twice_is_refused_naming_both_lines(tmp_path: Path) -> None:
    """PyYAML keeps the last of two equal keys: a second `service:` block in production.yaml
    set min_replicas to 1 and passed, while a reviewer read the first (newcomer review)."""
    text = (ROOT / "environments" / "production.yaml").read_text()
    first = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("service:"))
    doubled = text + "service:\n  min_replicas: 1\n"
    message = error_of(tmp_path, "production", doubled)
    last = len(doubled.splitlines())
    assert message == (
        f"{tmp_path / 'production.yaml'}: malformed YAML at line {last - 1}, column 1: "
        f"found duplicate key 'service' (first at line {first})"
    )
    # Nested mappings too; a merge key (`<<`) may still be overridden.
    nested = "a: &base {x: 1}\nb:\n  <<: *base\n  x: 2\nc: {y: 1, y: 2}\n"
    assert "found duplicate key 'y' (first at line 5)" in error_of(tmp_path, "dev", nested)


def test_empty_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, "dev", "")
    expected = "the file is empty; it needs at least tier, cloud and app"
    assert message == f"{tmp_path / 'dev.yaml'}: {expected}"


def test_missing_required_field(tmp_path: Path) -> None:
    data = shipped("dev")
    del data["alert_email"]
    assert "dev.yaml: alert_email: required field is missing" in error_of(tmp_path, "dev", data)


def test_every_problem_of_every_file_is_reported_together(tmp_path: Path) -> None:
    write(tmp_path, "dev", {**shipped("dev"), "cloud": "oracle"})
    write(tmp_path, "production", with_changes(shipped("production"), service={"min_replicas": 1}))
    with pytest.raises(ConfigError) as caught:
        load_environments(tmp_path)
    lines = str(caught.value).splitlines()
    assert any(line.startswith(str(tmp_path / "dev.yaml")) for line in lines)
    assert any(line.startswith(str(tmp_path / "production.yaml")) for line in lines)


def test_cloud_override_replaces_every_cloud() -> None:
    assert {env.cloud for env in load_environments(SHIPPED, cloud="azure")} == {"azure"}


@pytest.mark.parametrize("value", ["oracle", "AWS"])
def test_cloud_override_must_be_known(value: str) -> None:
    with pytest.raises(ConfigError, match=rf"CLOUD={value}: expected one of aws, gcp, azure"):
        cloud_override({"CLOUD": value})


def test_tags_carry_tag_1_keys() -> None:
    config = load_environment(SHIPPED / "staging.yaml")
    assert set(config.tags) == {"app", "environment", "managed-by", "owner", "cost-center"}
    assert config.tags["environment"] == "staging"


# No per-example deadline: on a loaded 2-core runner one example took 672 ms (hypothesis's
# default deadline is 200 ms); the property is about values, not speed.
@settings(deadline=None)
@given(low=st.integers(-5, 110), high=st.integers(-5, 110))
def test_replica_bounds_property(low: int, high: int) -> None:
    """Dev accepts exactly 1 <= min <= max <= 100; production also needs min >= 2 (APP-1)."""
    for tier, floor in (("dev", 1), ("production", 2)):
        data = with_changes(shipped(tier), service={"min_replicas": low, "max_replicas": high})
        valid = floor <= low <= high <= 100
        try:
            config = parse_environment(tier, data, source=f"{tier}.yaml")
        except ConfigError:
            assert not valid, (tier, low, high)
        else:
            assert valid and config.service.min_replicas == low, (tier, low, high)


def test_two_environments_of_one_cloud_with_overlapping_networks_are_an_error(
    tmp_path: Path,
) -> None:
    """Overlapping `network.cidr` could never be peered; the error names both files."""
    directory = tmp_path / "environments"
    directory.mkdir()
    staging, production = shipped("staging"), shipped("production")
    staging["network"]["cidr"] = "10.30.0.0/20"  # inside production's 10.30.0.0/16
    for name, data in (("staging", staging), ("production", production)):
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    modified_in_order(directory / "staging.yaml", directory / "production.yaml")
    with pytest.raises(ConfigError) as caught:
        load_environments(directory)
    assert str(caught.value) == (
        f"{directory / 'production.yaml'}: network.cidr: 10.30.0.0/16 overlaps 10.30.0.0/20 of "
        f"{directory / 'staging.yaml'} (both on aws): they could never be peered; choose "
        "disjoint ranges, or say why in network.overlap_reason"
    )
    staging["network"]["overlap_reason"] = "Staging is a copy of production that is never peered."
    (directory / "staging.yaml").write_text(yaml.safe_dump(staging), encoding="utf-8")
    assert [c.name for c in load_environments(directory)] == ["production", "staging"]
    # Different clouds never peer, so the same range on two clouds is fine.
    staging["network"].pop("overlap_reason")
    staging["cloud"] = "gcp"
    (directory / "staging.yaml").write_text(yaml.safe_dump(staging), encoding="utf-8")
    assert len(load_environments(directory)) == 2


# AWS first apply (DEPLOY-5 and friends): AwsConfig and EdgeConfig settings.


def test_aws_certificate_needs_an_existing_certificate_or_a_zone(tmp_path: Path) -> None:
    data = shipped("staging")
    data.pop("edge")
    message = error_of(tmp_path, "staging", data)
    assert message == (
        f"{tmp_path / 'staging.yaml'}: edge.hosted_zone_id: None leaves the ACM certificate for "
        "staging.groundwork.example.com without validation records, and the apply would wait 75 "
        "minutes for them (DEPLOY-5); set edge.hosted_zone_id to the public Route 53 zone of "
        "staging.groundwork.example.com, or edge.certificate_arn to an issued certificate"
    )


def test_aws_an_issued_certificate_needs_no_zone() -> None:
    data = shipped("staging")
    data["edge"] = {
        "certificate_arn": "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-1111"
    }
    config = parse_environment("staging", data, source="staging.yaml")
    assert config.edge.hosted_zone_id is None


def test_the_certificate_prerequisite_is_aws_only() -> None:
    data = shipped("staging")
    data.pop("edge")
    assert parse_environment("staging", data, source="staging.yaml", cloud="gcp").cloud == "gcp"


@pytest.mark.parametrize(
    ("section", "values", "field"),
    [
        ("edge", {"hosted_zone_id": "not-a-zone"}, "edge.hosted_zone_id"),
        ("edge", {"large_body_paths": ["uploads"]}, "edge.large_body_paths[0]"),
        ("aws", {"placeholder_image": "docker.io/library/busybox:1.37"}, "aws.placeholder_image"),
        ("aws", {"reserved_concurrency": -1}, "aws.reserved_concurrency"),
        ("aws", {"master_password_version": 0}, "aws.master_password_version"),
        ("aws", {"rds_os_metrics_log_group": "maybe"}, "aws.rds_os_metrics_log_group"),
    ],
)
def test_aws_first_apply_settings_are_validated(
    tmp_path: Path, section: str, values: dict[str, Any], field: str
) -> None:
    message = error_of(tmp_path, "dev", with_changes(shipped("dev"), **{section: values}))
    assert f": {field}: " in message


def test_aws_first_apply_defaults_are_the_safe_ones() -> None:
    aws = load_environment(SHIPPED / "production.yaml").aws
    assert aws.release_image is False  # the first apply runs the public placeholder
    assert aws.placeholder_image == "public.ecr.aws/docker/library/busybox:1.37"
    assert aws.reserved_concurrency == 0  # fresh accounts cannot spare a reservation
    assert aws.rds_os_metrics_log_group == "create"


def test_gcp_first_revision_and_rotator_images_default_to_public_images() -> None:
    """DEPLOY-5: the first revision's image exists before the stack's registry has any."""
    gcp = load_environment(SHIPPED / "dev.yaml", cloud="gcp").gcp
    assert gcp.initial_image == "us-docker.pkg.dev/cloudrun/container/hello"
    assert gcp.cli_image == "gcr.io/google.com/cloudsdktool/google-cloud-cli:573.0.0-slim"


def test_gcp_initial_image_must_be_an_image_reference(tmp_path: Path) -> None:
    data = shipped("dev")
    data["gcp"] = {**data["gcp"], "initial_image": "hello world"}
    message = error_of(tmp_path, "dev", data)
    assert "gcp.initial_image" in message and "hello world" in message


# --- Azure deploy runner ranges (DEPLOY-3, issue 9) -------------------------------------------


def azure_ranges(ranges: Any) -> dict[str, Any]:
    data = shipped("dev")
    data["azure"] = {**data["azure"], "deployer_ip_ranges": ranges}
    return data


def test_azure_runner_ranges_are_required() -> None:
    data = shipped("dev")
    data["azure"] = {k: v for k, v in data["azure"].items() if k != "deployer_ip_ranges"}
    with pytest.raises(ConfigError, match=r"dev.yaml: azure.deployer_ip_ranges"):
        parse_environment("dev", data, source="dev.yaml")


def test_azure_runner_ranges_refuse_an_empty_list() -> None:
    with pytest.raises(ConfigError, match=r"azure.deployer_ip_ranges"):
        parse_environment("dev", azure_ranges([]), source="dev.yaml")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.0.0.0/8", "must be a public range"),
        ("100.64.1.0/24", "must be a public range"),
        ("127.0.0.1/32", "must be a public range"),
        ("0.0.0.0/0", "must be a public range"),
        ("20.0.0.0/31", "a /31 is not accepted"),
        ("not-an-ip", "not an IPv4 network"),
    ],
)
def test_azure_runner_ranges_must_be_public_cidrs(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_environment("dev", azure_ranges([value]), source="dev.yaml")
    assert f"dev.yaml: azure.deployer_ip_ranges[0]: {message}" in str(caught.value)


@pytest.mark.parametrize("value", ["20.1.2.3/32", "52.10.0.0/16", "203.0.113.0/24"])
def test_azure_runner_ranges_accept_public_and_documentation_ranges(value: str) -> None:
    config = parse_environment("dev", azure_ranges([value]), source="dev.yaml")
    assert config.azure.deployer_ip_ranges == [value]


def test_shipped_environments_use_a_documentation_range_to_replace() -> None:
    for name in ("dev", "staging", "production"):
        config = load_environment(SHIPPED / f"{name}.yaml", cloud="azure")
        assert config.azure.deployer_ip_ranges == ["198.51.100.0/24"]  # RFC 5737 example


@pytest.mark.parametrize(
    ("app", "reserved"),
    [("internal", "internal-"), ("sthree", "sthree-"), ("amzn-s3-demo", "amzn-s3-demo-")],
)
def test_aws_refuses_an_app_whose_names_begin_with_a_reserved_prefix(
    app: str, reserved: str
) -> None:
    data = {**shipped("dev"), "app": app, "cloud": "aws"}
    with pytest.raises(ConfigError, match=rf"dev.yaml: app: '{app}'.*'{reserved}'"):
        parse_environment("dev", data, source="dev.yaml")


@pytest.mark.parametrize("app", ["internals", "sthreeapp", "amzn-s3"])
def test_aws_accepts_an_app_that_only_resembles_a_reserved_prefix(app: str) -> None:
    data = {**shipped("dev"), "app": app, "cloud": "aws"}
    assert parse_environment("dev", data, source="dev.yaml").app == app


def test_the_reserved_aws_prefixes_do_not_bind_other_clouds() -> None:
    data = {**shipped("dev"), "app": "internal", "cloud": "gcp"}
    assert parse_environment("dev", data, source="dev.yaml").app == "internal"


def test_a_copied_environment_must_not_keep_its_sources_identity(tmp_path: Path) -> None:
    """The README's recipe (copy staging.yaml to qa.yaml) left qa with staging's domain and,
    on GCP, staging's project; each is an error on the copy, the file modified last, naming
    the other (the newcomer review read them on staging.yaml, the file that was right)."""
    directory = tmp_path / "environments"
    directory.mkdir()
    staging = shipped("staging")
    qa = copy.deepcopy(staging)
    qa["network"]["cidr"] = "10.40.0.0/16"
    for name, data in (("staging", staging), ("qa", qa)):
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    modified_in_order(directory / "staging.yaml", directory / "qa.yaml")
    with pytest.raises(ConfigError) as caught:
        load_environments(directory, cloud="gcp")
    assert str(caught.value).splitlines() == [
        f"{directory / 'qa.yaml'}: domain: 'staging.groundwork.example.com' is also "
        f"{directory / 'staging.yaml'}'s; every environment needs its own",
        f"{directory / 'qa.yaml'}: gcp.project: 'groundwork-staging' is also "
        f"{directory / 'staging.yaml'}'s; every environment needs its own",
    ]
    # Modified at the same moment (a fresh checkout): the later name leads.
    modified_in_order(directory / "staging.yaml")
    modified_in_order(directory / "qa.yaml")
    with pytest.raises(ConfigError) as caught:
        load_environments(directory, cloud="gcp")
    assert str(caught.value).splitlines()[0].startswith(f"{directory / 'staging.yaml'}: domain:")
    qa["domain"] = "qa.groundwork.example.com"
    # On AWS the copy shares staging's account and region: only one of them creates
    # RDSOSMetrics (test_two_aws_environments_of_one_account_and_region_...).
    qa["aws"]["rds_os_metrics_log_group"] = "exists"
    qa["aws"]["log_delivery_policy_regions"] = []  # staging creates the shared policy
    # ... and both budgets count their own environment tag (test_aws_environments_sharing_...).
    for name, data in (("staging", staging), ("qa", qa)):
        data["aws"]["account_shared"] = True
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    assert [c.name for c in load_environments(directory, cloud="aws")] == ["qa", "staging"]


def _aws_environments(directory: Path, **accounts: str | None) -> dict[str, dict[str, Any]]:
    """The shipped dev and staging files in `directory`, each with the given account (None:
    unset), both in the shipped region and both creating RDSOSMetrics (the default); only
    dev creates the app's shared log-delivery policy (its own test is below). Both say
    `aws.account_shared: true`, which environments of one account need (their own test)."""
    directory.mkdir(exist_ok=True)
    files = {}
    for name, account in accounts.items():
        data = shipped(name)
        data["aws"].pop("account_id", None)
        data["aws"]["account_shared"] = True
        if account is not None:
            data["aws"]["account_id"] = account
        if name != "dev":
            data["aws"]["log_delivery_policy_regions"] = []
        files[name] = data
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return files


@pytest.mark.parametrize(
    ("dev_account", "staging_account", "where"),
    [
        ("111122223333", "111122223333", "account 111122223333"),
        (None, "111122223333", "possibly the same account (aws.account_id is not set in both)"),
        (None, None, "possibly the same account (aws.account_id is not set in both)"),
    ],
)
def test_two_aws_environments_of_one_account_and_region_cannot_both_create_rdsosmetrics(
    tmp_path: Path, dev_account: str | None, staging_account: str | None, where: str
) -> None:
    """RDS enhanced monitoring has one RDSOSMetrics log group per account and region: the
    second environment creating it would fail its apply, so the load refuses it, naming
    both files, the field and the value."""
    directory = tmp_path / "environments"
    _aws_environments(directory, dev=dev_account, staging=staging_account)
    with pytest.raises(ConfigError) as caught:
        load_environments(directory, cloud="aws")
    assert str(caught.value).splitlines() == [
        f"{directory / 'staging.yaml'}: aws.rds_os_metrics_log_group: 'create' is also "
        f"{directory / 'dev.yaml'}'s, in eu-west-1, {where}: AWS keeps one RDSOSMetrics per "
        "account and region, so the second apply fails with ResourceAlreadyExistsException; "
        "set 'exists' in all but one of them, or set aws.account_id in both if they deploy "
        "to different accounts"
    ]


def test_one_owner_of_rdsosmetrics_per_account_and_region_loads(tmp_path: Path) -> None:
    """`exists` in all but one; different accounts or regions each have their own."""
    directory = tmp_path / "environments"
    files = _aws_environments(directory, dev="111122223333", staging="111122223333")
    files["staging"]["aws"]["rds_os_metrics_log_group"] = "exists"
    (directory / "staging.yaml").write_text(yaml.safe_dump(files["staging"]), encoding="utf-8")
    assert [c.name for c in load_environments(directory, cloud="aws")] == ["dev", "staging"]

    _aws_environments(directory, dev="111122223333", staging="444455556666")
    assert [c.aws.rds_os_metrics_log_group for c in load_environments(directory)] == [
        "create",
        "create",
    ]

    files = _aws_environments(directory, dev=None, staging=None)
    files["staging"]["aws"]["region"] = "eu-central-1"
    files["staging"]["aws"]["replica_region"] = "eu-west-1"
    (directory / "staging.yaml").write_text(yaml.safe_dump(files["staging"]), encoding="utf-8")
    assert len(load_environments(directory, cloud="aws")) == 2


def test_the_shipped_aws_environments_name_their_own_accounts() -> None:
    """Each shipped file deploys into its own (example) account, so each may create its
    RDSOSMetrics; the provider refuses credentials of another account."""
    configs = load_environments(ROOT / "environments", cloud="aws")
    accounts = [config.aws.account_id for config in configs]
    assert None not in accounts and len(set(accounts)) == len(accounts)
    # Alone in their accounts: each budget counts its whole account (COST-1).
    assert not any(config.aws.account_shared for config in configs)


@pytest.mark.parametrize(
    ("dev_account", "staging_account", "where"),
    [
        ("111122223333", "111122223333", "account 111122223333"),
        (None, "111122223333", "possibly the same account (aws.account_id is not set in both)"),
        (None, None, "possibly the same account (aws.account_id is not set in both)"),
    ],
)
def test_aws_environments_sharing_an_account_must_both_say_so(
    tmp_path: Path, dev_account: str | None, staging_account: str | None, where: str
) -> None:
    """COST-1: an AWS budget counts its whole account, so of two environments that are (or may
    be) in one account, each must set `aws.account_shared: true` (its budget then counts its
    environment tag), or each budget would count the other's costs too. Region plays no
    part: the account's costs are every region's."""
    directory = tmp_path / "environments"
    files = _aws_environments(directory, dev=dev_account, staging=staging_account)
    files["staging"]["aws"].update(
        rds_os_metrics_log_group="exists",
        region="eu-central-1",
        replica_region="eu-west-1",
        account_shared=False,
    )
    (directory / "staging.yaml").write_text(yaml.safe_dump(files["staging"]), encoding="utf-8")
    modified_in_order(directory / "dev.yaml", directory / "staging.yaml")
    with pytest.raises(ConfigError) as caught:
        load_environments(directory, cloud="aws")
    assert str(caught.value).splitlines() == [
        f"{directory / 'staging.yaml'}: aws.account_shared: {directory / 'dev.yaml'} deploys "
        f"into {where} too, and a budget counts its whole account's costs, so each would "
        f"count the other's; set 'account_shared: true' under aws: in "
        f"{directory / 'staging.yaml'} (the budgets then count their own environment tag, "
        "which must be activated from the management account: README, 'A fresh AWS "
        "account', step 8), or set aws.account_id in both if they deploy to different "
        "accounts"
    ]
    files["staging"]["aws"]["account_shared"] = True
    (directory / "staging.yaml").write_text(yaml.safe_dump(files["staging"]), encoding="utf-8")
    assert [c.aws.account_shared for c in load_environments(directory, cloud="aws")] == [
        True,
        True,
    ]
    # Different accounts: each budget is its own account's, whatever account_shared says.
    files = _aws_environments(directory, dev="111122223333", staging="444455556666")
    for name, data in files.items():
        data["aws"]["account_shared"] = False
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    assert len(load_environments(directory, cloud="aws")) == 2


@pytest.mark.parametrize("account", ["12345678901", "1234567890123", "abcdefghijkl"])
def test_aws_account_id_is_twelve_digits(account: str) -> None:
    data = shipped("dev")
    data["aws"]["account_id"] = account
    with pytest.raises(ConfigError, match=r"aws\.account_id"):
        parse_environment("dev", data, source="dev.yaml")


@pytest.mark.parametrize(
    ("patterns", "problem"),
    [
        (["0.*"], "aws.disposable_image_tags[0]: '0.*' matches the image tag '0.1.0'"),
        (["pr-*", "*.*"], "aws.disposable_image_tags[1]: '*.*' matches the image tag '0.1.0'"),
        (["*a*b*c*d*e"], "aws.disposable_image_tags[0]: '*a*b*c*d*e' has more than 4 wildcards"),
    ],
)
def test_aws_refuses_a_disposable_tag_pattern_that_would_expire_the_release(
    patterns: list[str], problem: str
) -> None:
    """ECR would expire the image the service runs (DEPLOY-6, CKV_GW_DEPLOY_32)."""
    data = shipped("dev")
    data["aws"]["disposable_image_tags"] = patterns
    with pytest.raises(ConfigError) as caught:
        parse_environment("dev", data, source="dev.yaml")
    assert f"dev.yaml: {problem}" in str(caught.value)


def test_aws_accepts_disposable_tags_the_release_does_not_match() -> None:
    data = shipped("dev")
    data["aws"]["disposable_image_tags"] = ["pr-*", "0.1.0-rc*"]
    config = parse_environment("dev", data, source="dev.yaml")
    assert config.aws.disposable_image_tags == ["pr-*", "0.1.0-rc*"]


def test_azure_production_refuses_a_self_signed_gateway_certificate() -> None:
    data = {**shipped("production"), "cloud": "azure"}
    data["azure"] = {
        **data["azure"],
        "certificate": {"source": "self_signed", "self_signed_reason": "x" * 30},
    }
    with pytest.raises(ConfigError) as caught:
        parse_environment("production", data, source="production.yaml")
    assert str(caught.value) == (
        "production.yaml: azure.certificate.source: 'self_signed' is refused for the production "
        "tier: clients and the uptime test (OBS-4) do not trust it (EDGE-1); use source: "
        "key_vault with the vault and name of a CA-issued certificate"
    )


def test_azure_certificate_source_is_explicit_and_complete() -> None:
    data = {**shipped("staging"), "cloud": "azure"}
    data["azure"] = {k: v for k, v in data["azure"].items() if k != "certificate"}
    with pytest.raises(ConfigError, match=r"azure\.certificate: missing"):
        parse_environment("staging", data, source="staging.yaml")
    data["azure"]["certificate"] = {"source": "key_vault", "certificate_name": "tls"}
    with pytest.raises(ConfigError) as caught:
        parse_environment("staging", data, source="staging.yaml")
    assert str(caught.value) == (
        "staging.yaml: azure.certificate.key_vault_id: None; source key_vault needs it"
    )
    data["azure"]["certificate"] = {"source": "self_signed"}
    with pytest.raises(ConfigError, match=r"self_signed_reason: None"):
        parse_environment("staging", data, source="staging.yaml")


def test_azure_key_vault_certificate_gives_a_versionless_secret_id() -> None:
    config = parse_environment(
        "production", {**shipped("production"), "cloud": "azure"}, source="production.yaml"
    )
    certificate = config.azure.certificate
    assert certificate is not None and certificate.source == "key_vault"
    assert certificate.versionless_secret_id == (
        "https://kv-groundwork-certs.vault.azure.net/secrets/groundwork-production-tls"
    )


def test_the_azure_certificate_does_not_bind_other_clouds() -> None:
    data = {**shipped("production"), "cloud": "gcp"}
    data["azure"] = {k: v for k, v in data["azure"].items() if k != "certificate"}
    assert parse_environment("production", data, source="production.yaml").cloud == "gcp"


@pytest.mark.parametrize(
    ("env", "trusted"), [("dev", False), ("staging", False), ("production", True)]
)
def test_azure_certificate_is_trusted_only_from_a_key_vault(env: str, trusted: bool) -> None:
    # OBS-4: the uptime test verifies TLS exactly when clients can (CKV_GW_OBS_73).
    config = parse_environment(env, {**shipped(env), "cloud": "azure"}, source=f"{env}.yaml")
    assert config.azure.certificate is not None
    assert config.azure.certificate.trusted is trusted


# --- AWS state tenants (STATE-1, DEPLOY-3) ---------------------------------------------


def test_environment_files_cannot_set_aws_state_tenants() -> None:
    data = {**shipped("dev"), "aws_state_tenants": []}
    with pytest.raises(ConfigError, match=r"^dev\.yaml: aws_state_tenants: unknown key; "):
        parse_environment("dev", data, source="dev.yaml")


def test_aws_state_tenants_are_the_environments_that_keep_or_may_keep_state_there() -> None:
    """An S3 backend naming the bootstrap's bucket (its own key) or local state (the default
    key) makes an environment a tenant; a backend elsewhere does not."""
    configs = {
        name: parse_environment(name, {**shipped(name), "cloud": "aws"}, source=f"{name}.yaml")
        for name in ("dev", "staging", "production")
    }
    dev = configs["dev"].model_copy(
        update={
            "state": S3State(
                backend="s3",
                bucket="groundwork-tfstate-777788889999",
                region="eu-west-1",
                key="team/dev.tfstate",
            )
        }
    )
    staging = configs["staging"].model_copy(
        update={"state": S3State(backend="s3", bucket="someone-elses-bucket", region="eu-west-1")}
    )
    (bootstrap,) = bootstrap_configs([dev, staging, configs["production"]])
    assert [(t.environment, t.account_id, t.key) for t in bootstrap.aws_state_tenants] == [
        ("dev", "111122223333", "team/dev.tfstate"),
        ("production", "777788889999", "groundwork/production/terraform.tfstate"),
    ]
    assert bootstrap.aws_state_tenants == aws_state_tenants(
        bootstrap, [dev, staging, configs["production"]]
    )
    # Another account's bucket of the same app is not this bootstrap's.
    other = dev.model_copy(
        update={
            "state": S3State(
                backend="s3", bucket="groundwork-tfstate-111122223333", region="eu-west-1"
            )
        }
    )
    assert [t.environment for t in aws_state_tenants(bootstrap, [other])] == []


def test_a_gcp_workload_names_where_its_certificate_comes_from_deploy_5() -> None:
    data = {**shipped("staging"), "cloud": "gcp"}
    data["gcp"] = {k: v for k, v in data["gcp"].items() if k not in ("dns_zone", "dns_project")}
    with pytest.raises(ConfigError) as caught:
        parse_environment("staging", data, source="staging.yaml")
    assert str(caught.value) == (
        "staging.yaml: gcp.dns_zone: None leaves the Google-managed certificate for "
        "staging.groundwork.example.com without the DNS record that points the domain at the "
        "load balancer, so it never provisions and HTTPS never serves (DEPLOY-5); set "
        "gcp.dns_zone to the public Cloud DNS managed zone (in gcp.dns_project, default "
        "groundwork-staging) of "
        "staging.groundwork.example.com or its parent, or gcp.ssl_certificate to an existing "
        "self-managed certificate's name"
    )
    data["gcp"]["ssl_certificate"] = "groundwork-staging-tls"
    config = parse_environment("staging", data, source="staging.yaml")
    assert (config.gcp.dns_zone, config.gcp.ssl_certificate) == (None, "groundwork-staging-tls")
    data["gcp"]["dns_zone"] = "Not_A_Zone"
    with pytest.raises(ConfigError, match=r"gcp\.dns_zone"):
        parse_environment("staging", data, source="staging.yaml")


def test_the_gcp_certificate_source_does_not_bind_other_clouds() -> None:
    data = {**shipped("staging"), "cloud": "aws"}
    data["gcp"] = {k: v for k, v in data["gcp"].items() if k not in ("dns_zone", "dns_project")}
    assert parse_environment("staging", data, source="staging.yaml").cloud == "aws"


@pytest.mark.parametrize(
    "image",
    [
        "gcr.io/google.com/cloudsdktool/google-cloud-cli:slim",
        "gcr.io/google.com/cloudsdktool/google-cloud-cli:latest",
        "gcr.io/google.com/cloudsdktool/google-cloud-cli",
    ],
)
def test_the_gcp_rotator_image_must_be_pinned(tmp_path: Path, image: str) -> None:
    """SEC-2: a floating tag changes the rotator under its running schedule."""
    data = shipped("dev")
    data["gcp"] = {**data["gcp"], "cli_image": image}
    message = error_of(tmp_path, "dev", data)
    assert "gcp.cli_image" in message and "is not pinned" in message


def test_a_gcp_rotator_image_pinned_by_version_or_digest_is_accepted() -> None:
    for image in (
        "gcr.io/google.com/cloudsdktool/google-cloud-cli:573.0.0-stable",
        "gcr.io/google.com/cloudsdktool/google-cloud-cli@sha256:" + "0" * 64,
    ):
        data = {**shipped("dev"), "cloud": "gcp"}
        data["gcp"] = {**data["gcp"], "cli_image": image}
        assert parse_environment("dev", data, source="dev.yaml").gcp.cli_image == image


def test_a_bad_inherited_value_is_reported_once_under_service(tmp_path: Path) -> None:
    """Every service inherits `service:`'s values; a bad one there is one error, not one more
    per `services[i]` (newcomer review: the file has no `services[0]` to look for)."""
    data = shipped("production")
    data["service"]["min_replicas"] = "two"
    assert error_of(tmp_path, "production", data).splitlines() == [
        f"{tmp_path / 'production.yaml'}: service.min_replicas: Input should be a valid "
        "integer (got 'two')"
    ]
    # A service's own bad value is still its own error.
    data = shipped("production")
    data["services"] = [{"name": "api", "route": {"path_prefix": "/"}, "min_replicas": "three"}]
    assert "services[0].min_replicas: Input should be a valid integer (got 'three')" in (
        error_of(tmp_path, "production", data)
    )


def test_gcp_dns_needs_a_parent_zone_and_a_managed_certificate(tmp_path: Path) -> None:
    """DNS-1 on GCP: the stack's zone is delegated from gcp.dns_zone and serves a
    Google-managed certificate, so the switch without a parent zone, or with an operator's
    certificate, is refused with the field and why."""
    data = {**shipped("dev"), "cloud": "gcp", "features": {"dns_enabled": True}}
    assert parse_environment("dev", data, source="dev.yaml").features.dns_enabled
    data["gcp"] = {**data["gcp"], "dns_zone": None, "dns_project": None, "ssl_certificate": "mine"}
    message = error_of(tmp_path, "dev", data)
    assert "gcp.dns_zone: None, but features.dns_enabled creates the zone of" in message
    assert "gcp.ssl_certificate: mine, but features.dns_enabled serves a Google-managed" in message


@pytest.mark.parametrize(
    "image",
    [
        "gcr.io/distroless/static-debian12:nonroot",  # no shell or wget for the probe
        "public.ecr.aws/docker/library/alpine:3.20",  # not the image CKV_GW_DEPLOY_39 knows
        "public.ecr.aws/docker/library/busybox:latest",  # floating: the probe must not move
    ],
)
def test_the_aws_liveness_probe_image_is_pinned_busybox(tmp_path: Path, image: str) -> None:
    """EDGE-4 / DEPLOY-6: the liveness sidecar runs busybox's sh and wget."""
    message = error_of(
        tmp_path, "dev", with_changes(shipped("dev"), aws={"liveness_probe_image": image})
    )
    assert ": aws.liveness_probe_image: " in message


def test_the_aws_liveness_probe_image_defaults_to_busybox_from_ecr_public() -> None:
    aws = load_environment(SHIPPED / "production.yaml").aws
    assert aws.liveness_probe_image == "public.ecr.aws/docker/library/busybox:1.37"


def test_aws_cdn_needs_a_zone_for_its_certificate_and_records(tmp_path: Path) -> None:
    """CDN-1: CloudFront's us-east-1 certificate is validated, and the domain's alias
    written, in edge.hosted_zone_id, so an issued regional certificate is not enough."""
    arn = "arn:aws:acm:eu-west-1:111122223333:certificate/0123abcd-0000-0000-0000-000000000000"
    data = with_changes(shipped("dev"), edge={"certificate_arn": arn})
    data["edge"].pop("hosted_zone_id")
    data["features"] = {"cdn_enabled": True}
    message = error_of(tmp_path, "dev", data)
    assert "edge.hosted_zone_id: None, but features.cdn_enabled puts CloudFront" in message


@pytest.mark.parametrize(
    ("paths", "problem"),
    [
        (["/*"], "must be a path of one or more segments ending in `/*`"),  # every path
        (["/static"], "must be a path of one or more segments ending in `/*`"),
        (["static/*"], "must be a path of one or more segments ending in `/*`"),
        (["/a*/b/*"], "must be a path of one or more segments ending in `/*`"),
        (["/a/*", "/a/*"], "lists /a/* more than once"),
        ([], "at least 1 item"),
        ([f"/p{i}/*" for i in range(21)], "at most 20 items"),  # CloudFront's 25 behaviors
    ],
)
def test_cdn_static_paths_are_validated_once_for_every_cloud(
    tmp_path: Path, paths: list[str], problem: str
) -> None:
    """CDN-1: one list, `edge.cdn_static_paths`, in the one form CloudFront, Cloud CDN's URL
    map and Front Door routes all take."""
    for cloud in ("aws", "gcp", "azure"):
        data = with_changes(shipped("dev"), edge={"cdn_static_paths": paths})
        data["cloud"] = cloud
        message = error_of(tmp_path, "dev", data)
        assert ": edge.cdn_static_paths" in message and problem in message, message


def test_cdn_static_paths_default_to_static_and_assets() -> None:
    edge = load_environment(SHIPPED / "production.yaml").edge
    assert edge.cdn_static_paths == ["/static/*", "/assets/*"]


def test_azure_cdn_refuses_a_budget_below_front_door_premiums_base_fee(tmp_path: Path) -> None:
    """F10: Front Door Premium bills USD 330 a month before any traffic; a smaller monthly
    budget with features.cdn_enabled is refused naming both numbers and the source."""
    data = {**shipped("production"), "cloud": "azure", "features": {"cdn_enabled": True}}
    data["budget"] = {"monthly_usd": 329}
    message = error_of(tmp_path, "production", data)
    assert (
        "budget.monthly_usd: 329 is below Azure Front Door Premium's base fee of USD 330 a "
        "month (https://azure.microsoft.com/pricing/details/frontdoor/)"
    ) in message, message
    data["budget"] = {"monthly_usd": 330}
    assert parse_environment("production", data, source="production.yaml").features.cdn_enabled
    data["features"] = {"cdn_enabled": False}
    data["budget"] = {"monthly_usd": 50}
    assert parse_environment("production", data, source="production.yaml").budget.monthly_usd == 50


# DNS-1, DEPLOY-5 on GCP: the project that holds gcp.dns_zone (gcp.dns_project).
def test_gcp_dns_project_defaults_to_the_environments_project(tmp_path: Path) -> None:
    data = {**shipped("staging"), "cloud": "gcp"}
    data["gcp"] = {k: v for k, v in data["gcp"].items() if k != "dns_project"}
    config = parse_environment("staging", data, source="staging.yaml")
    assert (config.gcp.dns_project, config.gcp.zone_project) == (None, "groundwork-staging")
    data["gcp"] = {**data["gcp"], "dns_project": "groundwork-dns"}
    config = parse_environment("staging", data, source="staging.yaml")
    assert config.gcp.zone_project == "groundwork-dns"
    data["gcp"]["dns_project"] = "Not_A_Project"
    message = error_of(tmp_path, "staging", data)
    assert "gcp.dns_project" in message and "String should match pattern" in message, message


def test_gcp_dns_project_without_a_zone_is_refused() -> None:
    data = {**shipped("staging"), "cloud": "gcp"}
    data["gcp"] = {
        **{k: v for k, v in data["gcp"].items() if k != "dns_zone"},
        "dns_project": "groundwork-dns",
        "ssl_certificate": "groundwork-staging-tls",
    }
    with pytest.raises(ConfigError) as caught:
        parse_environment("staging", data, source="staging.yaml")
    assert str(caught.value) == (
        "staging.yaml: gcp.dns_project: groundwork-dns, but gcp.dns_zone is not set; name the "
        "zone in groundwork-dns that answers for staging.groundwork.example.com (or its "
        "parent), or remove gcp.dns_project"
    )


@pytest.mark.parametrize(
    ("dev_account", "staging_account"),
    [("111122223333", "111122223333"), (None, "111122223333"), (None, None)],
)
def test_two_aws_environments_of_one_account_cannot_both_create_the_shared_log_policy(
    tmp_path: Path, dev_account: str | None, staging_account: str | None
) -> None:
    """CloudWatch Logs resource policies are a quota of 10 per account and region, so the app
    shares one, `<app>-log-delivery`; two creators in one account and region would collide."""
    directory = tmp_path / "environments"
    files = _aws_environments(directory, dev=dev_account, staging=staging_account)
    files["staging"]["aws"]["rds_os_metrics_log_group"] = "exists"
    files["staging"]["aws"].pop("log_delivery_policy_regions")  # the default: eu-west-1
    (directory / "staging.yaml").write_text(yaml.safe_dump(files["staging"]), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_environments(directory, cloud="aws")
    [line] = str(caught.value).splitlines()
    assert line.startswith(
        f"{directory / 'staging.yaml'}: aws.log_delivery_policy_regions: ['eu-west-1'] creates "
        f"the shared groundwork-log-delivery CloudWatch Logs resource policy in eu-west-1, as "
        f"{directory / 'dev.yaml'} does"
    )


def test_the_shared_log_policy_regions_default_and_load(tmp_path: Path) -> None:
    """Default: the environment's region, and us-east-1 with CDN-1 or DNS-1 (where
    CloudFront's web ACL and Route 53 deliver logs); one creator per region loads."""
    from synth.config import aws_log_delivery_owned

    directory = tmp_path / "environments"
    files = _aws_environments(directory, dev="111122223333", staging="111122223333")
    files["staging"]["aws"]["rds_os_metrics_log_group"] = "exists"
    files["staging"]["aws"]["log_delivery_policy_regions"] = ["us-east-1"]
    files["staging"]["features"] = {"dns_enabled": True}
    (directory / "staging.yaml").write_text(yaml.safe_dump(files["staging"]), encoding="utf-8")
    dev, staging = load_environments(directory, cloud="aws")
    assert aws_log_delivery_owned(dev) == ("eu-west-1",)
    assert aws_log_delivery_owned(staging) == ("us-east-1",)
    files["staging"]["aws"].pop("log_delivery_policy_regions")
    assert aws_log_delivery_owned(
        parse_environment("staging", files["staging"], source="staging.yaml")
    ) == ("eu-west-1", "us-east-1")


def test_the_shared_log_policy_regions_are_the_stacks_own_or_us_east_1(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        "dev",
        with_changes(shipped("dev"), aws={"log_delivery_policy_regions": ["eu-central-1"]}),
    )
    assert ": aws.log_delivery_policy_regions" in message
    assert "eu-central-1 is neither aws.region nor us-east-1" in message


def test_gcp_environments_read_one_parent_zone_in_one_project(tmp_path: Path) -> None:
    """DEPLOY-5: one `gcp.dns_zone` name read in several projects is several public zones for
    one domain, of which the registrar delegates one (GCP re-review: the shipped files read it
    in each environment's own project, where nothing creates it)."""
    folder = tmp_path / "environments"
    folder.mkdir()
    for name in ("dev", "staging"):
        data = {**shipped(name), "cloud": "gcp"}
        data["gcp"] = {k: v for k, v in data["gcp"].items() if k != "dns_project"}
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as refused:
        load_environments(folder)
    assert (
        "gcp.dns_zone: 'groundwork-example-com' is read in several projects (groundwork-dev "
        "(dev), groundwork-staging (staging))"
    ) in str(refused.value)
    # The shipped files name the one project that holds it.
    shared = {c.gcp.zone_project for c in load_environments(SHIPPED, cloud="gcp")}
    assert shared == {"groundwork-dns"}


def test_aws_environments_in_different_accounts_do_not_share_a_hosted_zone(
    tmp_path: Path,
) -> None:
    """DEPLOY-5: a hosted zone belongs to one account, and each stack writes its records with
    its own account's credentials (AWS first-apply review)."""
    folder = tmp_path / "environments"
    folder.mkdir()
    for name in ("dev", "staging"):
        data = shipped(name)
        data["edge"] = {**data["edge"], "hosted_zone_id": "Z00000000000000000000002"}
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as refused:
        load_environments(folder)
    assert (
        "edge.hosted_zone_id: Z00000000000000000000002 is named by environments in different "
        "accounts (111122223333 (dev), 444455556666 (staging))"
    ) in str(refused.value)


def test_an_azure_external_secret_loads_with_value_set_false_by_default(tmp_path: Path) -> None:
    """SEC-5 on Azure: a shipped environment on azure with an external secret loads;
    `value_set` defaults to false and is read."""
    data = {**shipped("dev"), "cloud": "azure"}
    data["secrets"] = {
        "catalog": {
            "JWT_SECRET": {"kind": "generated"},
            "DATABASE_URL": {"kind": "derived", "source": "database_url"},
            "STRIPE_API_KEY": {"kind": "external", "description": "Stripe live key, dashboard"},
            "MAPS_KEY": {"kind": "external", "description": "Maps key, console", "value_set": True},
        }
    }
    data["services"] = [
        {
            "name": "app",
            "image": {"repository": "app"},
            "secrets": ["JWT_SECRET", "DATABASE_URL", "STRIPE_API_KEY", "MAPS_KEY"],
            "uses": ["database"],
            "route": {"path_prefix": "/"},
        }
    ]
    config = load_environment(write(tmp_path, "dev", data))
    assert config.cloud == "azure"
    stripe, maps = config.secrets.catalog["STRIPE_API_KEY"], config.secrets.catalog["MAPS_KEY"]
    assert (stripe.kind, stripe.value_set, maps.value_set) == ("external", False, True)


def test_an_external_secret_loads_on_gcp_and_stays_unread_until_its_value_is_set(
    tmp_path: Path,
) -> None:
    """SEC-5 on GCP: an external secret is no longer refused when the file is loaded; no
    service reads it until its entry says `value_set: true` (DEPLOY-5, synth/app.py)."""
    from synth.app import unset_external_secrets

    data = shipped("production")
    data["cloud"] = "gcp"
    data["secrets"] = {
        **data.get("secrets", {}),
        "catalog": {
            "JWT_SECRET": {"kind": "generated"},
            "DATABASE_URL": {"kind": "derived", "source": "database_url"},
            "STRIPE_API_KEY": {"kind": "external", "description": "Stripe live key, dashboard"},
        },
    }
    data["services"] = [
        {
            "name": "app",
            "secrets": ["JWT_SECRET", "DATABASE_URL", "STRIPE_API_KEY"],
            "uses": ["database"],
            "route": {"path_prefix": "/"},
        }
    ]
    config = load_environment(write(tmp_path, "production", data))
    assert config.cloud == "gcp"
    assert config.secrets.catalog["STRIPE_API_KEY"].kind == "external"
    assert unset_external_secrets(config) == {"STRIPE_API_KEY"}
    data["secrets"]["catalog"]["STRIPE_API_KEY"]["value_set"] = True
    assert unset_external_secrets(load_environment(write(tmp_path, "production", data))) == set()


def test_aws_cdn_origin_header_generation_starts_at_one(tmp_path: Path) -> None:
    """CDN-1: generation N accepts the values of N-1, N and N+1 (constructs/aws/edge.py);
    the loader refuses a generation below 1 with the field and the value."""
    data = shipped("dev")
    assert load_environment(write(tmp_path, "dev", data)).aws.cdn_origin_header_generation == 1
    data["aws"] = {**data["aws"], "cdn_origin_header_generation": 0}
    message = error_of(tmp_path, "dev", data)
    assert "aws.cdn_origin_header_generation" in message and "0" in message


def test_aws_ca_bundle_image_is_amazon_linux_2023_from_ecr_public(tmp_path: Path) -> None:
    """DEPLOY-6: the RDS CA fetch needs a curl that verifies TLS (CKV_GW_DEPLOY_101); busybox's
    wget does not, so the loader refuses any other image."""
    data = shipped("dev")
    config = load_environment(write(tmp_path, "dev", data))
    assert config.aws.ca_bundle_image == "public.ecr.aws/amazonlinux/amazonlinux:2023"
    data["aws"] = {**data["aws"], "ca_bundle_image": "public.ecr.aws/docker/library/busybox:1.37"}
    message = error_of(tmp_path, "dev", data)
    assert "aws.ca_bundle_image" in message and "busybox:1.37" in message


DIGEST = "@sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("field", "image"),
    [
        ("placeholder_image", f"public.ecr.aws/docker/library/busybox:1.37{DIGEST}"),
        ("placeholder_image", f"public.ecr.aws/docker/library/busybox{DIGEST}"),
        ("liveness_probe_image", f"public.ecr.aws/docker/library/busybox:1.37{DIGEST}"),
        ("liveness_probe_image", f"public.ecr.aws/docker/library/busybox{DIGEST}"),
        ("ca_bundle_image", f"public.ecr.aws/amazonlinux/amazonlinux:2023{DIGEST}"),
    ],
)
def test_aws_public_images_may_be_pinned_by_digest(tmp_path: Path, field: str, image: str) -> None:
    """A tag can be moved to another image; a digest cannot (README, AWS: pin by digest)."""
    data = shipped("dev")
    data["aws"] = {**data["aws"], field: image}
    assert getattr(load_environment(write(tmp_path, "dev", data)).aws, field) == image


@pytest.mark.parametrize(
    ("field", "image"),
    [
        # a digest is 64 hex digits
        ("liveness_probe_image", "public.ecr.aws/docker/library/busybox:1.37@sha256:abc"),
        # a bare digest would not say the image is Amazon Linux 2023 (CKV_GW_DEPLOY_101)
        ("ca_bundle_image", f"public.ecr.aws/amazonlinux/amazonlinux{DIGEST}"),
        # neither a tag nor a digest
        ("placeholder_image", "public.ecr.aws/docker/library/busybox"),
    ],
)
def test_aws_public_images_refuse_a_malformed_or_unsaying_digest(
    tmp_path: Path, field: str, image: str
) -> None:
    data = shipped("dev")
    data["aws"] = {**data["aws"], field: image}
    message = error_of(tmp_path, "dev", data)
    assert f"aws.{field}" in message


def test_a_shared_config_holds_only_the_fields_policies_may_read_of_other_stacks() -> None:
    """groundwork_policy.gate_configs hands these out; a policy reading another field of
    another stack's config crashes (a failure), since the scan cache keys on these only."""
    config = load_environment(SHIPPED / "production.yaml", cloud="aws")
    shared = shared_config(config)
    assert shared.aws.account_id == config.aws.account_id
    assert shared.aws.rds_os_metrics_log_group == config.aws.rds_os_metrics_log_group
    assert shared.state == config.state and shared.features == config.features
    assert aws_state_tenants(config, [shared]) == aws_state_tenants(config, [config])
    for read in (
        lambda c: c.cost_center,
        lambda c: c.service,
        lambda c: c.aws.placeholder_image,
        lambda c: c.tags,
    ):
        with pytest.raises(AttributeError):
            read(shared)
    assert config.cost_center  # the original keeps every field
    view = shared_view(config)
    assert sorted(view) == sorted({path.split(".")[0] for path in SHARED_FIELDS})
    assert "cost_center" not in view and "placeholder_image" not in view["aws"]


@pytest.mark.parametrize(
    ("cloud", "value", "why"),
    [
        ("aws", "db.t4g.hugeish", "is not an RDS instance class, db.<family>.<size>"),
        ("gcp", "db-n1-standard-2", "is not a Cloud SQL for PostgreSQL tier"),
        ("gcp", "db-custom-3-7680", "has 3 vCPUs: a custom tier takes 1 or an even number"),
        ("gcp", "db-custom-2-4000", "has 4000 MB: a custom tier's memory is a multiple of 256"),
        ("azure", "GP_Standard_B2s", "names a B-series size; the General Purpose tier offers"),
    ],
)
def test_a_database_size_the_cloud_does_not_offer_is_refused_deploy_4(
    tmp_path: Path, cloud: str, value: str, why: str
) -> None:
    """The provider sends any size; only the apply would refuse it (newcomer run). Every
    cloud's value is judged, whichever cloud the file runs on (a CLOUD= switch uses it)."""
    data = shipped("dev")
    instance = {"aws": "db.t4g.micro", "gcp": "db-g1-small", "azure": "B_Standard_B1ms"}
    data["database"] = {**data.get("database", {}), "instance": {**instance, cloud: value}}
    message = error_of(tmp_path, "dev", data)
    assert f"dev.yaml: database.instance.{cloud}: {why}" in message
    assert f"(got '{value}')" in message
