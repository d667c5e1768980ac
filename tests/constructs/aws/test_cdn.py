"""CDN-1 on AWS: CloudFront in front of the ALB when `features.cdn_enabled` is on, nothing of
it when off (constructs/aws/cdn.py, the ALB's ingress in constructs/aws/network.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdktf import Testing as CdktfTesting

from stacks.aws import AwsStack
from synth.config import load_environment

DESCRIBED = Path(__file__).parent / "environments" / "described.yaml"
DOMAIN = "described.groundwork.example.com"


API_HOST = f"api.{DOMAIN}"


def synth(tmp_path: Path, *, api_host: bool = False, **features: bool) -> dict[str, Any]:
    data = yaml.safe_load(DESCRIBED.read_text())
    data["features"] = features
    if api_host:  # the API on a host of its own: two names on one distribution
        [api] = [s for s in data["services"] if s["name"] == "api"]
        api["route"] = {"host": API_HOST, "path_prefix": "/"}
    path = tmp_path / "described.yaml"
    path.write_text(yaml.safe_dump(data))
    return json.loads(CdktfTesting.synth(AwsStack(CdktfTesting.app(), load_environment(path))))


@pytest.fixture(scope="module")
def on(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synth(tmp_path_factory.mktemp("cdn"), cdn_enabled=True)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synth(tmp_path_factory.mktemp("cdn-hosts"), api_host=True, cdn_enabled=True)


@pytest.fixture(scope="module")
def off(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synth(tmp_path_factory.mktemp("no-cdn"))


def one(stack: dict[str, Any], kind: str, prefix: str) -> tuple[str, dict[str, Any]]:
    [(name, body)] = [(n, b) for n, b in stack["resource"][kind].items() if n.startswith(prefix)]
    return name, body


def data_name(stack: dict[str, Any], reference: str) -> str:
    _, kind, name = reference.removeprefix("${").split(".")[:3]
    return str(stack["data"][kind][name]["name"])


def provider_region(stack: dict[str, Any], body: dict[str, Any]) -> str:
    alias = body.get("provider", "aws").partition(".")[2] or None
    [region] = [p["region"] for p in stack["provider"]["aws"] if p.get("alias") == alias]
    return str(region)


def test_cdn_1_cloudfront_fronts_the_alb_and_caches_only_the_static_paths(
    on: dict[str, Any],
) -> None:
    _, distribution = one(on, "aws_cloudfront_distribution", "cdn_distribution")
    assert distribution["aliases"] == [DOMAIN]
    (origin,) = distribution["origin"]
    lb, _ = one(on, "aws_lb", "edge_alb")
    assert origin["domain_name"] == f"${{aws_lb.{lb}.dns_name}}"
    assert origin["custom_origin_config"]["origin_protocol_policy"] == "https-only"
    assert origin["custom_origin_config"]["origin_ssl_protocols"] == ["TLSv1.2"]
    default = distribution["default_cache_behavior"]
    assert data_name(on, default["cache_policy_id"]) == "Managed-CachingDisabled"
    assert data_name(on, default["origin_request_policy_id"]) == "Managed-AllViewer"
    assert default["viewer_protocol_policy"] == "redirect-to-https"
    assert "POST" in default["allowed_methods"]
    static = {b["path_pattern"]: b for b in distribution["ordered_cache_behavior"]}
    assert list(static) == ["/static/*", "/assets/*"]  # edge.cdn_static_paths' default
    for behavior in static.values():
        assert data_name(on, behavior["cache_policy_id"]) == "Managed-CachingOptimized"
        assert data_name(on, behavior["origin_request_policy_id"]) == "Managed-AllViewer"
        assert behavior["viewer_protocol_policy"] == "redirect-to-https"
    assert distribution["viewer_certificate"]["minimum_protocol_version"] == "TLSv1.2_2021"


def test_cdn_1_the_web_acl_and_certificate_are_in_us_east_1(on: dict[str, Any]) -> None:
    _, distribution = one(on, "aws_cloudfront_distribution", "cdn_distribution")
    acl_name, acl = one(on, "aws_wafv2_web_acl", "cdn_waf")
    assert distribution["web_acl_id"] == f"${{aws_wafv2_web_acl.{acl_name}.arn}}"
    assert acl["scope"] == "CLOUDFRONT"
    assert [r["name"] for r in acl["rule"]][:2] == [
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    ]
    assert provider_region(on, acl) == "us-east-1"
    validation_name, validation = one(on, "aws_acm_certificate_validation", "cdn_")
    assert distribution["viewer_certificate"]["acm_certificate_arn"] == (
        f"${{aws_acm_certificate_validation.{validation_name}.certificate_arn}}"
    )
    _, certificate = one(on, "aws_acm_certificate", "cdn_")
    assert provider_region(on, certificate) == provider_region(on, validation) == "us-east-1"
    _, logs = one(on, "aws_cloudwatch_log_group", "cdn_waf-logs")
    assert logs["name"].startswith("aws-waf-logs-") and provider_region(on, logs) == "us-east-1"


def test_cdn_1_the_alb_admits_cloudfront_only_and_the_domain_points_at_cloudfront(
    on: dict[str, Any], off: dict[str, Any]
) -> None:
    alb_group, _ = one(on, "aws_security_group", "network_alb-sg")
    inbound = [
        r
        for r in on["resource"]["aws_vpc_security_group_ingress_rule"].values()
        if r["security_group_id"] == f"${{aws_security_group.{alb_group}.id}}"
    ]
    assert len(inbound) == 1 and inbound[0]["from_port"] == 443
    assert "cidr_ipv4" not in inbound[0]
    prefix = inbound[0]["prefix_list_id"]
    assert data_name(on, prefix) == "com.amazonaws.global.cloudfront.origin-facing"
    records = {
        (r["name"], r["type"]): r
        for r in on["resource"]["aws_route53_record"].values()
        if r["name"] == DOMAIN and "alias" in r
    }
    assert set(records) == {(DOMAIN, "A"), (DOMAIN, "AAAA")}
    assert all("aws_cloudfront_distribution." in r["alias"]["name"] for r in records.values())
    # Off: no CloudFront, the ALB takes HTTPS and HTTP from the internet, the domain points at it.
    assert "aws_cloudfront_distribution" not in off["resource"]
    alb_group, _ = one(off, "aws_security_group", "network_alb-sg")
    ports = sorted(
        r["from_port"]
        for r in off["resource"]["aws_vpc_security_group_ingress_rule"].values()
        if r["security_group_id"] == f"${{aws_security_group.{alb_group}.id}}"
        and r.get("cidr_ipv4") == "0.0.0.0/0"
    )
    assert ports == [80, 443]
    [record] = [
        r for r in off["resource"]["aws_route53_record"].values()
        if r["name"] == DOMAIN and "alias" in r
    ]  # fmt: skip
    assert "aws_lb." in record["alias"]["name"]


def rate_rules(acl: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["statement"]["rate_based_statement"]
        for r in acl["rule"]
        if "rate_based_statement" in r["statement"]
    ]


def test_edge_2_the_per_ip_limit_is_on_cloudfront_where_the_ip_is_the_viewers(
    on: dict[str, Any], off: dict[str, Any]
) -> None:
    # F1: behind CloudFront every request reaches the ALB from an edge server, so the ALB's
    # web ACL has no per-IP rule; CloudFront's web ACL carries the environment's limit.
    _, edge_acl = one(on, "aws_wafv2_web_acl", "cdn_waf")
    assert rate_rules(edge_acl) == [
        {"limit": 100, "aggregate_key_type": "IP", "evaluation_window_sec": 60}
    ]
    _, alb_acl = one(on, "aws_wafv2_web_acl", "edge_waf")
    assert alb_acl["scope"] == "REGIONAL" and rate_rules(alb_acl) == []
    assert "AWSManagedRulesCommonRuleSet" in [r["name"] for r in alb_acl["rule"]]
    # Without CloudFront the ALB's web ACL keeps it: the IP there is the viewer's.
    _, alone = one(off, "aws_wafv2_web_acl", "edge_waf")
    assert rate_rules(alone) == [
        {"limit": 100, "aggregate_key_type": "IP", "evaluation_window_sec": 60}
    ]


def test_cdn_1_host_routes_get_static_cache_entries_of_their_own(
    on: dict[str, Any], hosts: dict[str, Any]
) -> None:
    # F3: CachingOptimized's key has no Host; with two names the static paths use this
    # stack's copy of it keyed on Host, so one host's /static/app.js is not the other's.
    _, distribution = one(hosts, "aws_cloudfront_distribution", "cdn_distribution")
    assert sorted(distribution["aliases"]) == sorted([DOMAIN, API_HOST])
    policy_name, policy = one(hosts, "aws_cloudfront_cache_policy", "cdn_static-cache-policy")
    for behavior in distribution["ordered_cache_behavior"]:
        assert behavior["cache_policy_id"] == f"${{aws_cloudfront_cache_policy.{policy_name}.id}}"
        assert data_name(hosts, behavior["origin_request_policy_id"]) == "Managed-AllViewer"
    key = policy["parameters_in_cache_key_and_forwarded_to_origin"]
    assert key["headers_config"] == {"header_behavior": "whitelist", "headers": {"items": ["Host"]}}
    assert key["cookies_config"] == {"cookie_behavior": "none"}
    assert key["query_strings_config"] == {"query_string_behavior": "none"}
    assert key["enable_accept_encoding_gzip"] and key["enable_accept_encoding_brotli"]
    assert (policy["min_ttl"], policy["default_ttl"], policy["max_ttl"]) == (1, 86400, 31536000)
    # One name: the managed policy, and no custom one to count against the account's quota.
    assert "aws_cloudfront_cache_policy" not in on["resource"]


def test_obs_2_cloudfronts_own_5xx_rate_pages_from_us_east_1(
    on: dict[str, Any], off: dict[str, Any]
) -> None:
    # F4: the 502/504s CloudFront returns itself never reach the ALB's metrics.
    distribution, _ = one(on, "aws_cloudfront_distribution", "cdn_distribution")
    _, alarm = one(on, "aws_cloudwatch_metric_alarm", "observability_alarm-cdn-5xx-rate")
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/CloudFront", "5xxErrorRate")
    assert alarm["dimensions"] == {
        "DistributionId": f"${{aws_cloudfront_distribution.{distribution}.id}}",
        "Region": "Global",
    }
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 1)
    assert alarm["tags"] == {"severity": "critical"}
    assert provider_region(on, alarm) == "us-east-1"
    topic, body = one(on, "aws_sns_topic", "observability_uptime-topic")
    assert provider_region(on, body) == "us-east-1"
    assert alarm["alarm_actions"] == alarm["ok_actions"] == [f"${{aws_sns_topic.{topic}.arn}}"]
    assert not [
        a for a in off["resource"]["aws_cloudwatch_metric_alarm"].values()
        if a.get("namespace") == "AWS/CloudFront"
    ]  # fmt: skip


def test_deploy_2_each_validation_record_has_one_owner_the_albs_certificate(
    on: dict[str, Any], off: dict[str, Any]
) -> None:
    """Both certificates ask ACM for the same CNAME of each name (terraform-provider-aws
    #13653): the ALB's certificate owns the records, CloudFront's validation waits for the
    same ones, so switching the CDN off deletes no record the ALB's renewal needs."""
    records = {
        n: r
        for n, r in on["resource"]["aws_route53_record"].items()
        if "domain_validation_options" in json.dumps(r)
    }
    assert records and all(n.startswith("edge_certificate-validation") for n in records)
    assert {json.dumps(r, sort_keys=True) for r in records.values()} == {
        json.dumps(r, sort_keys=True)
        for n, r in off["resource"]["aws_route53_record"].items()
        if "domain_validation_options" in json.dumps(r)
    }  # the CDN switch leaves the records as they are
    fqdns = sorted(f"${{aws_route53_record.{name}.fqdn}}" for name in records)
    validations = {n: v for n, v in on["resource"]["aws_acm_certificate_validation"].items()}
    _, cdn = one(on, "aws_acm_certificate_validation", "cdn_certificate-issued")
    _, alb = one(on, "aws_acm_certificate_validation", "edge_certificate-issued")
    assert len(validations) == 2
    assert sorted(cdn["validation_record_fqdns"]) == sorted(alb["validation_record_fqdns"]) == fqdns
    # The records an earlier version wrote for the CDN are forgotten, not destroyed.
    assert [r["lifecycle"] for r in on["removed"]] == [{"destroy": False}]
    assert on["removed"][0]["from"].startswith("aws_route53_record.cdn_certificate-validation-0_")
    assert "removed" not in off


def test_deploy_2_with_an_issued_alb_certificate_the_cdn_writes_its_own_records(
    tmp_path: Path,
) -> None:
    data = yaml.safe_load(DESCRIBED.read_text())
    data["features"] = {"cdn_enabled": True}
    data["edge"]["certificate_arn"] = (
        "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666"
    )
    path = tmp_path / "described.yaml"
    path.write_text(yaml.safe_dump(data))
    stack = json.loads(CdktfTesting.synth(AwsStack(CdktfTesting.app(), load_environment(path))))
    records = [
        n
        for n, r in stack["resource"]["aws_route53_record"].items()
        if "domain_validation_options" in json.dumps(r)
    ]
    assert records and all(n.startswith("cdn_certificate-validation-") for n in records)
    assert "removed" not in stack


def header_rule(stack: dict[str, Any]) -> dict[str, Any]:
    _, acl = one(stack, "aws_wafv2_web_acl", "edge_waf")
    [rule] = [r for r in acl["rule"] if r["name"] == "origin-header-of-this-cloudfront"]
    return dict(rule)


def test_cdn_1_the_alb_blocks_every_request_without_this_distributions_header_value(
    on: dict[str, Any],
) -> None:
    """AWS's "Restrict access to Application Load Balancers": CloudFront adds a secret header,
    the ALB's regional web ACL blocks what lacks it; the value is a random_password (in state
    only), the same reference on both sides."""
    passwords = on["resource"]["random_password"]
    assert sorted(passwords) == sorted(n for n in passwords if n.startswith("edge_origin-header"))
    assert len(passwords) == 3
    for body in passwords.values():
        assert body["length"] >= 32 and body["special"] is False
    assert on["provider"]["random"] == [{}]
    _, distribution = one(on, "aws_cloudfront_distribution", "cdn_distribution")
    (origin,) = distribution["origin"]
    [header] = origin["custom_header"]
    assert header["name"] == "x-origin-verify"
    sent = header["value"]
    assert sent.startswith("${random_password.edge_origin-header_value-1_") and sent.endswith(
        ".result}"
    )
    rule = header_rule(on)
    assert rule["priority"] == 0 and rule["action"] == {"block": {}}
    [either] = rule["statement"]["not_statement"]["statement"]
    matches = [s["byte_match_statement"] for s in either["or_statement"]["statement"]]
    assert {m["field_to_match"]["single_header"]["name"] for m in matches} == {"x-origin-verify"}
    assert {m["positional_constraint"] for m in matches} == {"EXACTLY"}
    accepted = [m["search_string"] for m in matches]
    assert sorted(accepted) == sorted(f"${{random_password.{n}.result}}" for n in passwords)
    assert sent in accepted
    # Counted, never sampled: a sample shows the request's headers, unredacted, and every
    # request the ACL allows carries the header, so no rule and no default action samples.
    assert rule["visibility_config"]["cloudwatch_metrics_enabled"] is True
    _, acl = one(on, "aws_wafv2_web_acl", "edge_waf")
    assert acl["visibility_config"]["sampled_requests_enabled"] is False
    assert all(r["visibility_config"]["sampled_requests_enabled"] is False for r in acl["rule"])
    assert all(r["visibility_config"]["cloudwatch_metrics_enabled"] for r in acl["rule"])
    # The rule (and its ACL on the ALB) exists before CloudFront sends anything, and the
    # apply waits for every edge to run a new value.
    association, _ = one(on, "aws_wafv2_web_acl_association", "edge_waf-association")
    assert f"aws_wafv2_web_acl_association.{association}" in distribution["depends_on"]
    assert distribution["wait_for_deployment"] is True
    # WAF's logs of the ALB's requests redact the value.
    [logging] = [
        b
        for b in on["resource"]["aws_wafv2_web_acl_logging_configuration"].values()
        if "edge_waf_" in b["resource_arn"]
    ]
    redacted = {f["single_header"]["name"] for f in logging["redacted_fields"]}
    assert redacted == {"authorization", "cookie", "x-origin-verify"}
    # No waiver: CKV_GW_CDN_2 passes.
    assert "CKV_GW_CDN_2" not in json.dumps(distribution.get("//", {}))


def test_cdn_1_a_rotation_replaces_only_the_value_nobody_sends(tmp_path: Path) -> None:
    """Generation N accepts N-1, N, N+1 and sends N; N+1 then sends a value the web ACL has
    accepted since the apply before, and only N-1's slot gets a new value (N+2's)."""

    def stack(generation: int) -> dict[str, Any]:
        data = yaml.safe_load(DESCRIBED.read_text())
        data["features"] = {"cdn_enabled": True}
        data["aws"]["cdn_origin_header_generation"] = generation
        path = tmp_path / f"described-{generation}.yaml"
        path.write_text(yaml.safe_dump(data))
        environment = load_environment(path)
        return json.loads(CdktfTesting.synth(AwsStack(CdktfTesting.app(), environment)))

    before, after = stack(4), stack(5)
    keepers = {
        n: {k: b["keepers"]["generation"] for k, b in s["resource"]["random_password"].items()}
        for n, s in ((4, before), (5, after))
    }
    changed = {k for k in keepers[4] if keepers[4][k] != keepers[5][k]}
    assert sorted(keepers[4].values()) == ["3", "4", "5"]
    assert sorted(keepers[5].values()) == ["4", "5", "6"]
    [slot] = changed
    assert keepers[4][slot] == "3" and keepers[5][slot] == "6"

    def sent(s: dict[str, Any]) -> str:
        _, distribution = one(s, "aws_cloudfront_distribution", "cdn_distribution")
        return str(distribution["origin"][0]["custom_header"][0]["value"])

    sent_after = sent(after).removeprefix("${random_password.").removesuffix(".result}")
    assert keepers[4][sent_after] == "5"  # accepted by generation 4's web ACL already


def test_cdn_off_loads_no_random_provider(off: dict[str, Any]) -> None:
    assert "random_password" not in off["resource"]
    assert "random" not in off.get("provider", {})
    _, acl = one(off, "aws_wafv2_web_acl", "edge_waf")
    assert "origin-header-of-this-cloudfront" not in {r["name"] for r in acl["rule"]}
