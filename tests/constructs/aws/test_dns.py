"""DNS-1 on AWS, the zone's protection (constructs/aws/dns.py): DNSSEC signing with its chain
of trust in AWS's order, and query logging, both in us-east-1; nothing of it without
`features.dns_enabled`."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_time.provider import TimeProvider
from constructs.aws.dns import DS_DELAY, ZoneProtection
from constructs.aws.edge import Edge
from constructs.aws.network import Network
from matrix import resources_of

from synth.config import EnvironmentConfig, load_environment

ROOT = Path(__file__).resolve().parents[3]
LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/logs"
TOPIC = "arn:aws:sns:us-east-1:111122223333:uptime"


def load(**features: bool) -> EnvironmentConfig:
    config = load_environment(ROOT / "environments" / "dev.yaml")
    return config.model_copy(update={"features": config.features.model_copy(update=features)})


def synth(config: EnvironmentConfig) -> dict[str, Any]:
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    east = AwsProvider(stack, "aws-uptime", alias="uptime", region="us-east-1")
    network = Network(stack, "network", config=config, log_kms_key_arn=LOG_KEY)
    edge = Edge(
        stack,
        "edge",
        config=config,
        network=network,
        log_kms_key_arn=LOG_KEY,
        global_provider=east,
    )
    if edge.zone is not None:
        TimeProvider(stack, "time")
        ZoneProtection(stack, "dns", config=config, edge=edge, provider=east, alarm_topic_arn=TOPIC)
    return dict(json.loads(CdktfTesting.synth(stack)))


def named(stack: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return dict(stack["resource"].get(rtype, {}))


@pytest.fixture(scope="module")
def on() -> dict[str, Any]:
    return synth(load(dns_enabled=True))


def test_dnssec_key_is_an_ecc_signing_key_in_us_east_1_route53_may_use(
    on: dict[str, Any],
) -> None:
    [key] = [k for k in resources_of(on, "aws_kms_key") if k.get("key_usage") == "SIGN_VERIFY"]
    assert key["customer_master_key_spec"] == "ECC_NIST_P256"
    assert key["provider"] == "aws.uptime"
    statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    signs = statements["Route53DnssecSigns"]
    assert signs["Principal"] == {"Service": "dnssec-route53.amazonaws.com"}
    assert sorted(signs["Action"]) == ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"]
    assert "aws:SourceAccount" in signs["Condition"]["StringEquals"]
    assert signs["Condition"]["ArnLike"]["aws:SourceArn"].startswith(
        "arn:aws:route53:::hostedzone/${aws_route53_zone."
    )
    grants = statements["Route53DnssecCreatesGrants"]
    assert grants["Action"] == "kms:CreateGrant"
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_chain_of_trust_signing_after_ksk_delegation_after_signing_ds_after_the_wait(
    on: dict[str, Any],
) -> None:
    [(ksk_name, ksk)] = named(on, "aws_route53_key_signing_key").items()
    assert ksk["status"] == "ACTIVE"
    assert ksk["key_management_service_arn"].startswith("${aws_kms_key.dns_dnssec-key_")
    [(signing_name, signing)] = named(on, "aws_route53_hosted_zone_dnssec").items()
    assert signing["signing_status"] == "SIGNING"
    assert signing["depends_on"] == [f"aws_route53_key_signing_key.{ksk_name}"]
    [(sleep_name, sleep)] = named(on, "time_sleep").items()
    assert sleep["create_duration"] == DS_DELAY == "15m"
    assert f"aws_route53_hosted_zone_dnssec.{signing_name}" in sleep["triggers"]["signing"]
    records = named(on, "aws_route53_record")
    [(delegation_name, delegation)] = [(n, r) for n, r in records.items() if r["type"] == "NS"]
    assert delegation["depends_on"] == [f"aws_route53_hosted_zone_dnssec.{signing_name}"]
    [ds] = [r for r in records.values() if r["type"] == "DS"]
    assert ds["zone_id"] == "Z00000000000000000000001"  # the parent zone (environments/dev.yaml)
    assert ds["name"] == "dev.groundwork.example.com"
    assert ds["records"] == [f"${{aws_route53_key_signing_key.{ksk_name}.ds_record}}"]
    assert set(ds["depends_on"]) == {
        f"time_sleep.{sleep_name}",
        f"aws_route53_hosted_zone_dnssec.{signing_name}",
        f"aws_route53_record.{delegation_name}",
    }


def test_dnssec_failures_alarm_on_the_us_east_1_topic(on: dict[str, Any]) -> None:
    alarms = {a["metric_name"]: a for a in resources_of(on, "aws_cloudwatch_metric_alarm")}
    for metric in ("DNSSECInternalFailure", "DNSSECKeySigningKeysNeedingAction"):
        alarm = alarms[metric]
        assert alarm["namespace"] == "AWS/Route53"
        assert alarm["provider"] == "aws.uptime"
        assert alarm["alarm_actions"] == [TOPIC]
        assert alarm["dimensions"]["HostedZoneId"].startswith("${aws_route53_zone.edge_zone_")


def test_query_logs_go_to_an_encrypted_us_east_1_group_route53_may_write(
    on: dict[str, Any],
) -> None:
    groups = {
        n: g for n, g in named(on, "aws_cloudwatch_log_group").items() if "route53" in g["name"]
    }
    [(group_name, group)] = groups.items()
    assert group["name"] == "/aws/route53/groundwork-dev/dev.groundwork.example.com"
    assert group["provider"] == "aws.uptime"
    assert group["kms_key_id"].startswith("${aws_kms_key.dns_query-logs-key_")
    # The app's shared us-east-1 log-delivery policy (constructs/aws/log_delivery.py) covers it.
    [(policy_name, policy)] = [
        (n, p)
        for n, p in named(on, "aws_cloudwatch_log_resource_policy").items()
        if n.startswith("edge_log-delivery-us-east-1_")
    ]
    assert policy["policy_name"] == "groundwork-log-delivery"
    assert policy["provider"] == "aws.uptime"
    statements = {s["Sid"]: s for s in json.loads(policy["policy_document"])["Statement"]}
    route53 = statements["Route53QueryLogs"]
    assert route53["Principal"] == {"Service": "route53.amazonaws.com"}
    pattern = re.sub(r"\$\{[^}]*\}", "111122223333", route53["Resource"])  # the account ID
    arn = f"arn:aws:logs:us-east-1:111122223333:log-group:{group['name']}:*"
    assert fnmatch.fnmatchcase(arn, pattern), (arn, pattern)
    [query_log] = resources_of(on, "aws_route53_query_log")
    assert query_log["zone_id"].startswith("${aws_route53_zone.edge_zone_")
    assert (
        query_log["cloudwatch_log_group_arn"] == f"${{aws_cloudwatch_log_group.{group_name}.arn}}"
    )
    assert query_log["depends_on"] == [f"aws_cloudwatch_log_resource_policy.{policy_name}"]


def test_without_a_parent_zone_the_ds_record_is_an_output() -> None:
    config = load(dns_enabled=True)
    config = config.model_copy(
        update={
            "edge": config.edge.model_copy(
                update={
                    "hosted_zone_id": None,
                    "certificate_arn": "arn:aws:acm:eu-west-1:111122223333:certificate/1",
                }
            )
        }
    )
    stack = synth(config)
    assert not [r for r in resources_of(stack, "aws_route53_record") if r["type"] == "DS"]
    [output] = [o for n, o in stack["output"].items() if n.startswith("dns_ds_record")]
    assert output["value"].endswith(".ds_record}")


def test_dns_disabled_builds_no_zone_protection() -> None:
    stack = synth(load(dns_enabled=False))
    for rtype in (
        "aws_route53_key_signing_key",
        "aws_route53_hosted_zone_dnssec",
        "aws_route53_query_log",
        "time_sleep",
    ):
        assert not resources_of(stack, rtype), rtype
