"""Edge: HTTPS-only ALB, WAF with rate limit, health check, access-log bucket (EDGE-1..4, DNS-1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs.aws.edge import Edge, target_group_name
from constructs.aws.network import Network
from matrix import resources_of

from synth.config import EnvironmentConfig, load_environment

ROOT = Path(__file__).resolve().parents[3]
LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/logs"
CERTIFICATE = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666"


def load(env: str, **updates: Any) -> EnvironmentConfig:
    config = load_environment(ROOT / "environments" / f"{env}.yaml")
    return config.model_copy(update=updates)


def synth(config: EnvironmentConfig) -> str:
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    east = AwsProvider(stack, "aws-uptime", alias="uptime", region="us-east-1")
    network = Network(stack, "network", config=config, log_kms_key_arn=LOG_KEY)
    Edge(
        stack,
        "edge",
        config=config,
        network=network,
        log_kms_key_arn=LOG_KEY,
        global_provider=east,
    )
    return CdktfTesting.synth(stack)


@pytest.fixture(scope="module")
def dev() -> str:
    return synth(load("dev"))


@pytest.fixture(scope="module")
def dev_stack(dev: str) -> dict[str, Any]:
    return json.loads(dev)


def test_https_listener_uses_a_tls_1_2_plus_policy_edge_1(dev: str) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        dev,
        LbListener.TF_RESOURCE_TYPE,
        {"port": 443, "protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
    )


def test_http_listener_only_redirects_to_https_edge_1(dev_stack: dict[str, Any]) -> None:
    [http] = [lst for lst in resources_of(dev_stack, "aws_lb_listener") if lst["port"] == 80]
    assert http["default_action"] == [
        {
            "type": "redirect",
            "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"},
        }
    ]
    assert len(resources_of(dev_stack, "aws_lb_listener")) == 2


def test_waf_runs_managed_rules_and_a_per_ip_rate_limit_edge_2(dev_stack: dict[str, Any]) -> None:
    [acl] = resources_of(dev_stack, "aws_wafv2_web_acl")
    assert acl["scope"] == "REGIONAL"
    statements = {rule["name"]: rule["statement"] for rule in acl["rule"]}
    assert statements["AWSManagedRulesCommonRuleSet"] == {
        "managed_rule_group_statement": {
            "name": "AWSManagedRulesCommonRuleSet",
            "vendor_name": "AWS",
        }
    }
    assert "AWSManagedRulesKnownBadInputsRuleSet" in statements
    assert statements["rate-limit-per-ip"] == {
        "rate_based_statement": {
            "limit": 100,
            "aggregate_key_type": "IP",
            "evaluation_window_sec": 60,
        }
    }
    [association] = resources_of(dev_stack, "aws_wafv2_web_acl_association")
    assert association["resource_arn"].startswith("${aws_lb.")
    # The provider retries WAFUnavailableEntityException for the create timeout (#29080).
    assert association["timeouts"] == {"create": "15m"}
    # The managed rules keep their samples (only the origin header's rule drops them).
    assert all(r["visibility_config"]["sampled_requests_enabled"] for r in acl["rule"])


def test_rate_limit_comes_from_the_config_edge_2() -> None:
    config = load("dev")
    config = config.model_copy(
        update={"edge": config.edge.model_copy(update={"rate_limit_per_minute": 250})}
    )
    [acl] = resources_of(json.loads(synth(config)), "aws_wafv2_web_acl")
    [rate] = [rule for rule in acl["rule"] if "rate_based_statement" in rule["statement"]]
    assert rate["statement"]["rate_based_statement"]["limit"] == 250


def test_waf_logs_to_an_encrypted_group_with_the_retention_edge_2_obs_1(
    dev_stack: dict[str, Any],
) -> None:
    groups = dev_stack["resource"]["aws_cloudwatch_log_group"]
    [(key, waf)] = [
        (key, group)
        for key, group in groups.items()
        if group["name"] == "aws-waf-logs-groundwork-dev"
    ]
    assert waf["kms_key_id"] == LOG_KEY and waf["retention_in_days"] == 30
    [logging] = resources_of(dev_stack, "aws_wafv2_web_acl_logging_configuration")
    assert logging["log_destination_configs"] == [f"${{aws_cloudwatch_log_group.{key}.arn}}"]
    redacted = [field["single_header"]["name"] for field in logging["redacted_fields"]]
    assert redacted == ["authorization", "cookie"]


def test_alb_drops_invalid_headers_and_logs_access_edge_3(dev: str) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        dev,
        Lb.TF_RESOURCE_TYPE,
        {
            "internal": False,
            "drop_invalid_header_fields": True,
            "access_logs": {"enabled": True, "prefix": "alb"},
        },
    )


def test_log_bucket_is_private_tls_only_and_admits_the_log_writers_edge_3_obj_6(
    dev_stack: dict[str, Any],
) -> None:
    [block] = resources_of(dev_stack, "aws_s3_bucket_public_access_block")
    assert all(
        block[key] is True
        for key in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    [encryption] = resources_of(dev_stack, "aws_s3_bucket_server_side_encryption_configuration")
    assert (
        encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"]
        == "AES256"
    )
    [ownership] = resources_of(dev_stack, "aws_s3_bucket_ownership_controls")
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"
    [policy] = resources_of(dev_stack, "aws_s3_bucket_policy")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    # DEPLOY-4: the log-delivery service principal works in every region; the regional ELB
    # account (data.aws_elb_service_account) does not exist in the newer ones.
    assert set(statements) == {
        "AlbAccessLogsService",
        "S3ServerAccessLogs",
        "DenyInsecureTransport",
    }
    alb = statements["AlbAccessLogsService"]
    assert alb["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert "/alb/AWSLogs/" in alb["Resource"]
    assert "aws_elb_service_account" not in dev_stack.get("data", {})
    assert statements["S3ServerAccessLogs"]["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert statements["S3ServerAccessLogs"]["Resource"].endswith("/s3/*")
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    [lifecycle] = resources_of(dev_stack, "aws_s3_bucket_lifecycle_configuration")
    assert lifecycle["rule"][0]["expiration"] == [{"days": 30}]


def test_health_check_and_draining_edge_4(dev: str) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        dev,
        LbTargetGroup.TF_RESOURCE_TYPE,
        {
            "target_type": "ip",
            "port": 3001,
            "deregistration_delay": "30",
            "health_check": {"path": "/health", "interval": 10, "matcher": "200"},
        },
    )


def test_requests_a_dns_validated_certificate_for_the_domain_edge_1(
    dev_stack: dict[str, Any],
) -> None:
    [certificate] = resources_of(dev_stack, "aws_acm_certificate")
    assert certificate["domain_name"] == "dev.groundwork.example.com"
    assert certificate["validation_method"] == "DNS"
    assert resources_of(dev_stack, "aws_acm_certificate_validation")
    assert not resources_of(dev_stack, "aws_route53_zone")


def test_uses_the_configured_certificate_when_given_edge_1() -> None:
    config = load("dev")
    config = config.model_copy(
        update={"edge": config.edge.model_copy(update={"certificate_arn": CERTIFICATE})}
    )
    stack = json.loads(synth(config))
    assert not resources_of(stack, "aws_acm_certificate")
    https = [lst for lst in resources_of(stack, "aws_lb_listener") if lst["port"] == 443]
    assert https[0]["certificate_arn"] == CERTIFICATE


def test_dns_enabled_adds_zone_validation_records_and_alias_dns_1() -> None:
    config = load("dev")
    config = config.model_copy(
        update={"features": config.features.model_copy(update={"dns_enabled": True})}
    )
    stack = json.loads(synth(config))
    [zone] = resources_of(stack, "aws_route53_zone")
    assert zone["name"] == "dev.groundwork.example.com"
    records = resources_of(stack, "aws_route53_record")
    assert {record.get("type") for record in records} >= {"A"}
    [validation] = resources_of(stack, "aws_acm_certificate_validation")
    assert validation["validation_record_fqdns"]


def test_production_alb_has_deletion_protection(matrix: dict[tuple[str, str], Any]) -> None:
    [alb] = resources_of(matrix["aws", "production"], "aws_lb")
    assert alb["enable_deletion_protection"] is True


def test_deploy_5_validation_waits_only_for_the_record_the_stack_writes(
    dev_stack: dict[str, Any],
) -> None:
    [validation] = resources_of(dev_stack, "aws_acm_certificate_validation")
    [record] = [
        (name, body)
        for name, body in dev_stack["resource"]["aws_route53_record"].items()
        if "domain_validation_options" in json.dumps(body)
    ]
    assert record[1]["zone_id"] == "Z00000000000000000000001"  # environments/dev.yaml
    assert validation["validation_record_fqdns"] == [f"${{aws_route53_record.{record[0]}.fqdn}}"]


def test_deploy_5_dns_enabled_zone_is_delegated_before_validation_waits() -> None:
    config = load("dev")
    config = config.model_copy(
        update={"features": config.features.model_copy(update={"dns_enabled": True})}
    )
    stack = json.loads(synth(config))
    records = stack["resource"]["aws_route53_record"]
    [(delegation, ns)] = [(n, r) for n, r in records.items() if r["type"] == "NS"]
    assert ns["zone_id"] == "Z00000000000000000000001"  # the given parent zone
    assert ns["records"].startswith("${aws_route53_zone.")  # the new zone's name servers
    [validation] = resources_of(stack, "aws_acm_certificate_validation")
    assert validation["depends_on"] == [f"aws_route53_record.{delegation}"]


def test_deploy_5_a_config_without_certificate_or_zone_is_refused() -> None:
    from synth.config import ConfigError, parse_environment

    data = yaml.safe_load((ROOT / "environments" / "dev.yaml").read_text())
    data.pop("edge")
    with pytest.raises(ConfigError) as error:
        parse_environment("dev", data, source="environments/dev.yaml", cloud="aws")
    message = str(error.value)
    assert message.startswith("environments/dev.yaml: edge.hosted_zone_id: None")
    assert "75 minutes" in message and "edge.certificate_arn" in message


def test_deploy_2_target_group_name_carries_the_port_and_rolls(dev_stack: dict[str, Any]) -> None:
    [group] = resources_of(dev_stack, "aws_lb_target_group")
    assert group["name"] == "groundwork-dev-3001"
    assert group["lifecycle"] == {"create_before_destroy": True}


def test_deploy_1_target_group_names_fit_32_characters_and_stay_unique() -> None:
    long_a, long_b = "abcdefghijkl-environment-name1", "abcdefghijkl-environment-name2"
    names = {target_group_name(prefix, 65535) for prefix in (long_a, long_b)}
    assert len(names) == 2
    assert all(len(name) <= 32 and name.endswith("-65535") for name in names)


def test_edge_2_deploy_6_large_body_paths_count_the_8kb_rule_and_block_it_elsewhere() -> None:
    config = load("dev")
    config = config.model_copy(
        update={"edge": config.edge.model_copy(update={"large_body_paths": ["/uploads"]})}
    )
    stack = json.loads(synth(config))
    [acl] = resources_of(stack, "aws_wafv2_web_acl")
    rules = {rule["name"]: rule for rule in acl["rule"]}
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"]["managed_rule_group_statement"]
    assert common["rule_action_override"] == [
        {"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}}
    ]
    body = rules["body-over-8kb-outside-large-body-paths"]
    assert body["priority"] > rules["AWSManagedRulesCommonRuleSet"]["priority"]
    assert "block" in body["action"]
    text = json.dumps(body["statement"])
    assert "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body" in text
    assert '"search_string": "/uploads"' in text


def test_edge_2_without_large_body_paths_the_8kb_rule_blocks(dev_stack: dict[str, Any]) -> None:
    [acl] = resources_of(dev_stack, "aws_wafv2_web_acl")
    assert "rule_action_override" not in json.dumps(acl["rule"])


def test_deploy_4_waf_delivers_through_the_apps_one_shared_log_policy(
    dev_stack: dict[str, Any],
) -> None:
    """CloudWatch Logs keeps 10 account-scoped resource policies per account and region: the
    stack creates the app's one shared policy, not one per environment or log group."""
    policies = dev_stack["resource"]["aws_cloudwatch_log_resource_policy"]
    [(name, policy)] = policies.items()
    assert policy["policy_name"] == "groundwork-log-delivery"  # no environment in the name
    assert "provider" not in policy  # the stack's region (eu-west-1)
    [statement] = json.loads(policy["policy_document"])["Statement"]
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert statement["Resource"].startswith("arn:aws:logs:eu-west-1:")
    assert statement["Resource"].endswith(":log-group:aws-waf-logs-groundwork-*:*")
    [logging] = resources_of(dev_stack, "aws_wafv2_web_acl_logging_configuration")
    assert logging["depends_on"] == [f"aws_cloudwatch_log_resource_policy.{name}"]


def test_deploy_4_an_environment_that_does_not_own_the_shared_policy_creates_none() -> None:
    config = load("dev")
    config = config.model_copy(
        update={"aws": config.aws.model_copy(update={"log_delivery_policy_regions": []})}
    )
    stack = json.loads(synth(config))
    assert not resources_of(stack, "aws_cloudwatch_log_resource_policy")
    [logging] = resources_of(stack, "aws_wafv2_web_acl_logging_configuration")
    assert "depends_on" not in logging  # the owner's policy exists before this stack


def test_deploy_4_with_dns_the_shared_policy_of_us_east_1_lets_route53_write() -> None:
    config = load("dev")
    config = config.model_copy(
        update={"features": config.features.model_copy(update={"dns_enabled": True})}
    )
    stack = json.loads(synth(config))
    policies = resources_of(stack, "aws_cloudwatch_log_resource_policy")
    assert {p["policy_name"] for p in policies} == {"groundwork-log-delivery"}
    by_provider = {p.get("provider"): p for p in policies}
    assert set(by_provider) == {None, "aws.uptime"}  # eu-west-1 and us-east-1
    sids = {s["Sid"] for s in json.loads(by_provider["aws.uptime"]["policy_document"])["Statement"]}
    assert sids == {"WafLogDelivery", "Route53QueryLogs"}
