"""DNS-1 on AWS, the zone's protection: DNSSEC signing with the chain of trust from the parent
zone, and DNS query logging (the stack's own zone, `features.dns_enabled`).

Satisfies: DNS-1, OBS-1, DEPLOY-2, DEPLOY-4, DEPLOY-5, DEPLOY-6

DNSSEC ("Configuring DNSSEC signing in Amazon Route 53",
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-configuring-dnssec.html):
- Route 53 makes the key-signing key (KSK) from a customer managed KMS key that "must be in
  the US East (N. Virginia) Region", "an asymmetric customer managed key with an
  ECC_NIST_P256 key spec", used to sign and verify, whose key policy lets
  `dnssec-route53.amazonaws.com` DescribeKey, GetPublicKey and Sign (with the confused-deputy
  conditions aws:SourceAccount and aws:SourceArn) and CreateGrant for AWS resources
  ("Working with customer managed keys for DNSSEC",
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-configuring-dnssec-cmk-requirements.html).
  The policy is the key's own (inline), so the KSK, which names the key, is created after it.
- Signing is enabled after the KSK exists (`aws_route53_hosted_zone_dnssec` depends on it,
  as the provider's example does: "Resource: aws_route53_hosted_zone_dnssec",
  https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/route53_hosted_zone_dnssec).
- The chain of trust, in AWS's order ("Enabling DNSSEC signing and establishing a chain of
  trust", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-configuring-dnssec-enable-signing.html):
  sign first, wait until resolvers have dropped what they cached unsigned (the zone's
  maximum TTL), and only then add the DS record to the parent zone; a DS record that
  arrives first makes validating resolvers answer SERVFAIL for the whole domain. Here:
  * the zone is signed before the parent delegates to it (the NS record in
    `edge.hosted_zone_id` waits for signing), so on a first apply no resolver can have
    cached an unsigned answer: nobody could reach the zone unsigned;
  * for a zone that was already delegated and is signed now, `DS_DELAY` (a `time_sleep`,
    hashicorp/time) separates signing from the DS record: it covers every record the stack
    writes (TTL 300 s, alias records 60 s) and negative answers, which resolvers keep for at
    most the SOA record's TTL (RFC 2308 section 5; Route 53 creates the SOA with TTL 900 s,
    "NS and SOA records that Amazon Route 53 creates for a public hosted zone",
    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html);
  * the DS record (from the KSK's `ds_record`) goes into the parent zone after the wait and
    after the delegation it belongs to, with a 300 s TTL so a rollback takes minutes
    (the guide's step 3 recommends a short DS TTL at first). On destroy Terraform reverses
    the order: the DS record goes first, the wait holds for `DS_UNCACHE` (twice the DS TTL)
    so resolvers drop the DS, then signing is disabled ("Disabling DNSSEC signing",
    .../dns-configuring-dnssec-disable.html).
  Without `edge.hosted_zone_id` (the operator delegates by hand) the DS record is an output
  the operator adds to the parent after `DS_DELAY`.
- The KSK never rotates by itself (Route 53 KSK rollover is a manual procedure, and KMS
  rotates only symmetric keys: "Automatic key rotation is supported only on symmetric
  encryption KMS keys", https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html),
  hence the SEC-4 waiver on its key. AWS "strongly recommend[s]" alarms on
  DNSSECInternalFailure and DNSSECKeySigningKeysNeedingAction: both go to the uptime topic
  (us-east-1, where Route 53's metrics are).

Query logging ("Public DNS query logging",
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html): a log group in
us-east-1 ("You must create the log group in the us-east-1 region"), named
`/aws/route53/<prefix>/<zone>`, which the app's shared CloudWatch Logs resource policy in
us-east-1 lets `route53.amazonaws.com` write (constructs/aws/log_delivery.py: one per account
and region, the quota is 10); `aws_route53_query_log` waits for that policy when this stack
creates it (Route 53 checks it when logging is configured; terraform-provider-aws #12229).
The group is encrypted with a us-east-1 key of its own (a log group's key must be in its
region) and retained for `logs.retention_days` (OBS-1).
"""

from __future__ import annotations

import json

from cdktf import TerraformOutput, TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.route53_hosted_zone_dnssec import Route53HostedZoneDnssec
from cdktf_cdktf_provider_aws.route53_key_signing_key import Route53KeySigningKey
from cdktf_cdktf_provider_aws.route53_query_log import Route53QueryLog
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct
from constructs.aws import waivers
from constructs.aws.edge import Edge
from constructs.aws.keys import account_administers, us_east_1_log_group
from constructs.aws.log_delivery import query_log_group_name

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive
from synth.providers import load_companion

DNS_REGION = "us-east-1"  # DNSSEC's KMS key and the query-log group (module docstring)
DNSSEC_SERVICE = "dnssec-route53.amazonaws.com"
DS_DELAY = "15m"  # the SOA TTL (900 s) bounds what resolvers cached unsigned (docstring)
DS_UNCACHE = "10m"  # on destroy: twice the DS record's TTL (DS_TTL, 300 s) before unsigning
DS_TTL = 300
KSK_NAME = "primary"  # letters, digits, underscores; unique per zone (CreateKeySigningKey)
SIGNING_ACTIONS = ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"]


class ZoneProtection(Construct):
    """DNSSEC and query logging for `edge.zone` (the stack's own zone)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        edge: Edge,
        provider: TerraformProvider,
        alarm_topic_arn: str,
    ) -> None:
        """`provider`: an AWS provider in us-east-1 (`DNS_REGION`); `alarm_topic_arn`: an SNS
        topic there for the DNSSEC alarms."""
        super().__init__(scope, id_)
        zone = edge.zone
        if zone is None:
            raise ValueError(f"{config.prefix}: no zone of the stack's own to protect")
        self._config = config
        self._zone = zone
        account_id = DataAwsCallerIdentity(self, "account", provider=provider).account_id
        self._account_id = account_id
        self.signing = self._dnssec(config, edge, provider, alarm_topic_arn)
        self._query_logging(config, provider, edge)

    def _dnssec(
        self,
        config: EnvironmentConfig,
        edge: Edge,
        provider: TerraformProvider,
        alarm_topic_arn: str,
    ) -> Route53HostedZoneDnssec:
        zone = self._zone
        prefix, account_id = config.prefix, self._account_id
        key = KmsKey(
            self,
            "dnssec-key",
            description=f"{prefix}: DNSSEC key-signing key of {config.domain}",
            customer_master_key_spec="ECC_NIST_P256",
            key_usage="SIGN_VERIFY",
            deletion_window_in_days=30,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        account_administers(account_id),
                        {
                            "Sid": "Route53DnssecSigns",
                            "Effect": "Allow",
                            "Principal": {"Service": DNSSEC_SERVICE},
                            "Action": SIGNING_ACTIONS,
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": account_id},
                                "ArnLike": {
                                    "aws:SourceArn": f"arn:aws:route53:::hostedzone/{zone.zone_id}"
                                },
                            },
                        },
                        {
                            "Sid": "Route53DnssecCreatesGrants",
                            "Effect": "Allow",
                            "Principal": {"Service": DNSSEC_SERVICE},
                            "Action": "kms:CreateGrant",
                            "Resource": "*",
                            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                        },
                    ],
                }
            ),
            provider=provider,
        )
        waive(
            key,
            "CKV_GW_SEC_4",
            reason="An ECC_NIST_P256 signing key (Route 53 DNSSEC requires one): KMS rotates "
            "only symmetric encryption keys, and a KSK is rolled over by Route 53's manual "
            "procedure, which publishes the new DS record first.",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        KmsAlias(
            self,
            "dnssec-key-alias",
            name=f"alias/{prefix}-dnssec",
            target_key_id=key.key_id,
            provider=provider,
        )
        ksk = Route53KeySigningKey(
            self,
            "ksk",
            hosted_zone_id=zone.zone_id,
            key_management_service_arn=key.arn,
            name=KSK_NAME,
            status="ACTIVE",
        )
        signing = Route53HostedZoneDnssec(
            self,
            "signing",
            hosted_zone_id=ksk.hosted_zone_id,
            signing_status="SIGNING",
            depends_on=[ksk],
        )
        # Sign before delegating: the parent's NS record waits for signing.
        signed = f"{signing.terraform_resource_type}.{signing.friendly_unique_id}"
        for record in edge.delegation:
            record.depends_on = [*(record.depends_on or []), signed]

        load_companion("cdktf_cdktf_provider_time")
        from cdktf_cdktf_provider_time.sleep import Sleep  # loaded only by stacks with DNS-1

        settled = Sleep(
            self,
            "signing-settled",
            create_duration=DS_DELAY,
            # On destroy the DS record goes first, then this wait, then signing: disabling
            # signing while resolvers still hold the DS fails validation of the whole domain,
            # and Route 53 refuses it while it still sees the DS (KeySigningKeyInParentDSRecord;
            # "Disabling DNSSEC signing", .../dns-configuring-dnssec-disable.html: wait the DS
            # record's TTL first; hashicorp/terraform-provider-aws PR #19875).
            destroy_duration=DS_UNCACHE,
            # Waits again if signing is re-enabled or the key changes (a new DS record).
            triggers={"ksk": ksk.id, "signing": signing.id},
        )
        if config.edge.hosted_zone_id is not None:
            Route53Record(
                self,
                "ds",
                zone_id=config.edge.hosted_zone_id,
                name=config.domain,
                type="DS",
                ttl=DS_TTL,
                records=[ksk.ds_record],
                depends_on=[settled, signing, *edge.delegation],
            )
        else:
            TerraformOutput(
                self,
                "ds_record",
                value=ksk.ds_record,
                description=f"Add this DS record for {config.domain} to its parent zone, "
                f"at least {DS_DELAY} after this apply (DNSSEC chain of trust, README)",
            )
        for metric, what in (
            ("DNSSECInternalFailure", "Route 53 cannot sign the zone"),
            ("DNSSECKeySigningKeysNeedingAction", "a key-signing key needs action (its KMS key)"),
        ):
            CloudwatchMetricAlarm(
                self,
                f"alarm-{metric.lower()}",
                alarm_name=f"{prefix}-critical-{metric.lower()}",
                alarm_description=f"[critical] {config.domain}: {what}; validating resolvers "
                "will fail the domain once signatures expire",
                namespace="AWS/Route53",
                metric_name=metric,
                dimensions={"HostedZoneId": zone.zone_id},
                statistic="Maximum",
                period=300,
                evaluation_periods=1,
                threshold=0,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                actions_enabled=True,
                alarm_actions=[alarm_topic_arn],
                ok_actions=[alarm_topic_arn],
                tags={"severity": "critical"},
                provider=provider,
            )
        return signing

    def _query_logging(
        self, config: EnvironmentConfig, provider: TerraformProvider, edge: Edge
    ) -> None:
        prefix, account_id = config.prefix, self._account_id
        name = query_log_group_name(config)
        log_group = us_east_1_log_group(
            self,
            "query-logs",
            config=config,
            account_id=account_id,
            name=name,
            purpose=f"Route 53 query logs of {config.domain}",
            alias=f"{prefix}-dns-query-logs",
            provider=provider,
        )
        # Route 53 writes through the app's shared policy of us-east-1: created by this
        # stack when it owns it there, else by another environment before this one.
        delivery = edge.log_delivery.get(DNS_REGION)
        Route53QueryLog(
            self,
            "query-log",
            zone_id=self._zone.zone_id,
            cloudwatch_log_group_arn=log_group.arn,
            depends_on=[delivery] if delivery is not None else None,
        )
