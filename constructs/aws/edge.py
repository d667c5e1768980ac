"""The edge: ALB with HTTPS only, a WAFv2 web ACL, a certificate, and the access-log bucket.

The ALB sits in the public subnets and drops invalid headers; HTTP only redirects to
HTTPS; the target group checks `/health` every 10 s and drains for 30 s. The web ACL runs
AWS's common and known-bad-inputs rule sets and a per-IP rate limit (behind CloudFront,
CDN-1, that limit is on CloudFront's web ACL instead: `web_acl_rules`), and logs to an
encrypted log group; behind CloudFront its first rule blocks every request that lacks the
distribution's secret origin header (`OriginHeader`). The log bucket receives ALB access
logs (`alb/`) and S3 server access logs of the environment's other buckets (`s3/`).

Satisfies: EDGE-1, EDGE-2, EDGE-3, EDGE-4, DNS-1, OBJ-1, OBJ-5, OBJ-6, OBS-1, DEPLOY-4, DEPLOY-5

First apply (DEPLOY-5): the certificate is either an issued one (`edge.certificate_arn`) or
requested here and validated by a record this stack writes into a zone that already answers
for the domain (`edge.hosted_zone_id`; with `features.dns_enabled` the stack's own zone,
delegated from that parent zone by an NS record the validation waits for). The config loader
refuses a config with neither, because `aws_acm_certificate_validation` would otherwise wait
75 minutes for records nobody creates.

ALB access logs are granted to the service principal
`logdelivery.elasticloadbalancing.amazonaws.com`, which works in every region: AWS's current
text gives only that policy and says of the regional ELB account, "Previously, for Regions
available before August 2022, we required a policy that granted permissions to an ELB
account that was specific to the Region. This legacy policy is still supported, but we
recommend that you replace it with the newer policy above" ("Enable access logs for your
Application Load Balancer", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html;
the same in the Classic and connection-log pages). The regional account
(`data.aws_elb_service_account`) does not exist in newer regions such as ca-west-1 or
il-central-1, so it is not granted as well (DEPLOY-4, CKV_GW_DEPLOY_16).

The target group is replaced whenever `service.port` changes; its name carries the port and
`create_before_destroy` creates the new one before the listener and the service move off the
old, so the change rolls instead of failing with ResourceInUse (terraform-provider-aws
#16889; DEPLOY-2).

The common rule set's SizeRestrictions_BODY blocks bodies over 8 KB, the most an ALB's web
ACL inspects. For `edge.large_body_paths` it counts instead, and a rule after it blocks the
label it adds everywhere else, so the rule group stays on ("AWS Managed Rules rule groups
list", https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html;
labels are visible only to rules evaluated later, hence the priority order, DEPLOY-6).
"""

from __future__ import annotations

import hashlib

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionHostHeader,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import (
    Wafv2WebAclAssociation,
    Wafv2WebAclAssociationTimeouts,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct
from constructs.aws import waivers
from constructs.aws.log_delivery import shared_log_delivery_policies, waf_log_group_name
from constructs.aws.network import Network
from constructs.aws.storage import access_log_bucket

from synth.aws_app import default_route_service, is_default
from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"  # EDGE-1: TLS 1.3 and 1.2 only
DRAINING_SECONDS = 30  # EDGE-4
# How long the provider retries AssociateWebACL (Edge, `waf-association`).
WAF_ASSOCIATION_CREATE_TIMEOUT = "15m"
ALB_LOG_PREFIX = "alb"
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
COMMON_RULE_SET = MANAGED_RULE_GROUPS[0]
BODY_SIZE_RULE = "SizeRestrictions_BODY"
BODY_SIZE_LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
TARGET_GROUP_NAME_MAX = 32  # CreateTargetGroup: at most 32 characters
# CDN-1: the header CloudFront adds to every origin request and the ALB's web ACL requires
# ("Restrict access to Application Load Balancers",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/restrict-access-to-load-balancer.html).
# Lower case: WAF's `single_header.name` "must be provided as lower case characters"
# (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/wafv2_web_acl#single-header);
# not an X-Amz-/X-Edge- name, which CloudFront refuses as a custom header ("Custom headers
# that CloudFront can't add to origin requests",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html).
ORIGIN_HEADER = "x-origin-verify"
# 64 letters and digits (about 380 random bits): nothing a header value or WAF's byte match
# would transform, quote or mangle (no special characters).
ORIGIN_HEADER_LENGTH = 64
ORIGIN_HEADER_RULE = "origin-header-of-this-cloudfront"


def target_group_name(prefix: str, port: int) -> str:
    """`<prefix>-<port>`: a new port is a new name, so the replacement can coexist with the old
    group (create_before_destroy). Too long for 32, the prefix is shortened and a hash of it
    keeps the name unique per environment; deterministic, no random suffix."""
    name = f"{prefix}-{port}"
    if len(name) <= TARGET_GROUP_NAME_MAX:
        return name
    digest = hashlib.sha256(prefix.encode()).hexdigest()[:4]
    tail = f"-{digest}-{port}"
    return prefix[: TARGET_GROUP_NAME_MAX - len(tail)].rstrip("-") + tail


def waf_logging(
    scope: Construct,
    acl: Wafv2WebAcl,
    log_group: CloudwatchLogGroup,
    delivery: CloudwatchLogResourcePolicy | None,
    provider: TerraformProvider | None = None,
    secret_headers: tuple[str, ...] = (),
) -> Wafv2WebAclLoggingConfiguration:
    """`waf-logging`: every request `acl` judges, logged to `log_group` with credentials
    (Authorization, Cookie, and `secret_headers`: the origin header behind CloudFront)
    redacted; after `delivery`, the shared resource policy WAF delivers through, when this
    stack creates it (constructs/aws/log_delivery.py)."""
    return Wafv2WebAclLoggingConfiguration(
        scope,
        "waf-logging",
        resource_arn=acl.arn,
        log_destination_configs=[log_group.arn],
        redacted_fields=[
            Wafv2WebAclLoggingConfigurationRedactedFields(
                single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
            )
            for header in ("authorization", "cookie", *secret_headers)
        ],
        depends_on=[delivery] if delivery is not None else None,
        provider=provider,
    )


class OriginHeader(Construct):
    """CDN-1: the secret origin header value that proves a request came through this
    environment's CloudFront distribution, as three `random_password`s (hashicorp/random,
    loaded by the stack only with `features.cdn_enabled`).

    Rotation follows the rotated-secret contract of the app's own keys (previous, current,
    next): for generation N (`aws.cdn_origin_header_generation`) the ALB's web ACL accepts the
    values of N-1, N and N+1 and CloudFront sends N's (`current`). Each value lives in slot
    `generation % 3`, kept (`keepers`) by its generation, so raising N by one replaces only
    the slot of N-2, which nobody sends any more, with N+2's, and CloudFront switches to N+1's,
    which the web ACL has accepted since the previous apply: whichever of the two updates WAF
    or CloudFront's edges apply first, and however long either takes to propagate, every
    request carries an accepted value (AWS's guide accepts two values while a header
    rotates, "Restrict access to Application Load Balancers", as above). The distribution's
    apply waits until it is deployed (`wait_for_deployment`), so by the next raise no edge
    sends N-1 any more. Raising it by more than one per apply would drop the value the edges
    still send until they redeploy (README, AWS: CloudFront)."""

    def __init__(self, scope: Construct, id_: str, *, generation: int) -> None:
        super().__init__(scope, id_)
        # Imported here: only CDN stacks load hashicorp/random (synth/providers.py).
        from cdktf_cdktf_provider_random.password import Password

        values: dict[int, str] = {}
        for number in (generation - 1, generation, generation + 1):
            values[number] = Password(
                self,
                f"value-{number % 3}",
                length=ORIGIN_HEADER_LENGTH,
                special=False,
                # A new generation in this slot replaces its value (and only then).
                keepers={"generation": str(number)},
            ).result
        self.name = ORIGIN_HEADER
        self.current = values[generation]
        # In slot order, so a rotation changes one byte match of the rule, not all three.
        self.accepted = [values[n] for n in sorted(values, key=lambda n: n % 3)]


def origin_header_rule(header: OriginHeader, metric: str) -> Wafv2WebAclRule:
    """CDN-1: block every request that does not carry one of `header`'s accepted values,
    exactly, first (priority 0), so nothing that bypassed this distribution reaches the
    managed rules or the app."""
    matches = [
        {
            "byte_match_statement": {
                "search_string": value,
                "positional_constraint": "EXACTLY",
                "field_to_match": {"single_header": {"name": header.name}},
                "text_transformation": [{"priority": 0, "type": "NONE"}],
            }
        }
        for value in header.accepted
    ]
    return Wafv2WebAclRule(
        name=ORIGIN_HEADER_RULE,
        priority=0,
        action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
        statement={"not_statement": {"statement": [{"or_statement": {"statement": matches}}]}},
        # Metrics, but no sampled requests: a sample shows the request's headers, unredacted
        # (`_firewall` turns sampling off on the whole web ACL for the same reason).
        visibility_config=_visibility(f"{metric}OriginHeader", sampled=False),
    )


def route_hosts(config: EnvironmentConfig) -> tuple[str, ...]:
    """The routed hosts other than the domain, sorted: the certificate's extra names."""
    hosts = {
        service.route.host
        for service in config.services
        if service.route is not None and service.route.host not in (None, config.domain)
    }
    return tuple(sorted(h for h in hosts if h is not None))


def path_patterns(prefix: str) -> tuple[str, ...]:
    """ALB path patterns matching `prefix` as whole segments: `/api` and `/api/...`, not
    `/apiv2`."""
    return (prefix, f"{prefix}/*")


def _visibility(metric: str, *, sampled: bool = True) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=sampled
    )


def web_acl_rules(
    config: EnvironmentConfig, metric: str, *, per_ip_limit: bool = True, sampled: bool = True
) -> list[Wafv2WebAclRule]:
    """EDGE-2: the managed rule sets (with the large-body exception) and the per-IP rate
    limit, in the order that lets every managed rule run (DEPLOY-6); shared by the ALB's
    regional web ACL and the CloudFront one (constructs/aws/cdn.py).

    `per_ip_limit=False` for a web ACL whose requests all come from CloudFront (the ALB's,
    with `features.cdn_enabled`): there the client IP WAF sees is an edge server's, shared by
    every viewer behind it ("the web request origin ... is the IP address of the last proxy",
    https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-forwarded-ip-address.html),
    so a per-IP limit would throttle whole edge locations; the viewer's limit is on the
    CloudFront web ACL, where the IP is the viewer's. `sampled=False` keeps every rule's
    metrics but no sampled requests (the ALB's behind CloudFront, `_firewall`)."""
    large_bodies = config.edge.large_body_paths

    def managed(group: str) -> dict[str, object]:
        statement: dict[str, object] = {"name": group, "vendor_name": "AWS"}
        if group == COMMON_RULE_SET and large_bodies:
            # Count, not block: the rule after this group decides by path (fault 8).
            statement["rule_action_override"] = [
                {"name": BODY_SIZE_RULE, "action_to_use": {"count": {}}}
            ]
        return {"managed_rule_group_statement": statement}

    rules = [
        Wafv2WebAclRule(
            name=group,
            priority=index,
            override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
            statement=managed(group),
            visibility_config=_visibility(f"{metric}{group}", sampled=sampled),
        )
        for index, group in enumerate(MANAGED_RULE_GROUPS, start=1)
    ]
    if large_bodies:
        # Blocks what SizeRestrictions_BODY counted, except under the configured paths.
        # It must come after the group that adds the label (labels flow forward only).
        allowed = [
            {
                "byte_match_statement": {
                    "search_string": path,
                    "positional_constraint": "STARTS_WITH",
                    "field_to_match": {"uri_path": {}},
                    "text_transformation": [{"priority": 0, "type": "NONE"}],
                }
            }
            for path in large_bodies
        ]
        outside = allowed[0] if len(allowed) == 1 else {"or_statement": {"statement": allowed}}
        rules.append(
            Wafv2WebAclRule(
                name="body-over-8kb-outside-large-body-paths",
                priority=len(rules) + 1,
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={
                    "and_statement": {
                        "statement": [
                            {
                                "label_match_statement": {
                                    "scope": "LABEL",
                                    "key": BODY_SIZE_LABEL,
                                }
                            },
                            {"not_statement": {"statement": [outside]}},
                        ]
                    }
                },
                visibility_config=_visibility(f"{metric}BodySize", sampled=sampled),
            )
        )
    if not per_ip_limit:
        return rules
    rules.append(
        Wafv2WebAclRule(
            name="rate-limit-per-ip",
            priority=len(rules) + 1,
            action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
            statement={
                "rate_based_statement": {
                    "limit": config.edge.rate_limit_per_minute,
                    "aggregate_key_type": "IP",
                    "evaluation_window_sec": 60,  # the limit is per minute
                }
            },
            visibility_config=_visibility(f"{metric}RateLimitPerIp", sampled=sampled),
        )
    )
    return rules


class Edge(Construct):
    """The environment's public entry point and its access-log bucket."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        network: Network,
        log_kms_key_arn: str,
        global_provider: TerraformProvider | None = None,
    ) -> None:
        """`global_provider`: an AWS provider in us-east-1, where CloudFront's web ACL and
        Route 53 deliver logs (the app's shared policy there, constructs/aws/log_delivery.py)."""
        super().__init__(scope, id_)
        self._config = config
        self._account_id = DataAwsCallerIdentity(self, "account").account_id
        # The app's shared log-delivery policies this environment creates, by region.
        providers: dict[str, TerraformProvider | None] = {config.aws.region: None}
        if global_provider is not None:
            providers.setdefault("us-east-1", global_provider)
        self.log_delivery = shared_log_delivery_policies(self, config, self._account_id, providers)
        self._log_bucket(config)

        self.load_balancer = Lb(
            self,
            "alb",
            name=config.prefix,
            load_balancer_type="application",
            internal=False,
            subnets=network.public_subnet_ids,
            security_groups=[network.security_groups.alb.id],
            drop_invalid_header_fields=True,  # EDGE-3
            desync_mitigation_mode="defensive",
            # The entry point is protected from teardown when the data is (DB-7).
            enable_deletion_protection=config.database.deletion_protection,
            access_logs=LbAccessLogs(
                bucket=self.log_bucket_name, prefix=ALB_LOG_PREFIX, enabled=True
            ),
            # ELB checks that it may write to the bucket when the ALB is created.
            depends_on=[self._log_bucket_policy],
        )
        waivers.service_linked_role(self.load_balancer, "elasticloadbalancing.amazonaws.com")
        waive(
            self.load_balancer,
            "CKV2_AWS_76",
            reason="The WAF attaches the Log4j known-bad-inputs rule group; the anonymous-IP "
            "list this check also wants would block VPN and cloud-hosted users, a product "
            "decision not yet taken.",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        if not config.database.deletion_protection:
            waive(
                self.load_balancer,
                "CKV_AWS_150",
                reason="The load balancer is protected when the data is (DB-7); this "
                "environment turns database.deletion_protection off, so it is disposable.",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        self.dns_name = self.load_balancer.dns_name

        # APP-7: one target group per routed service, checking that service's health path.
        # The service at `/` on the domain takes every request no rule matches (synth/app.py
        # refuses a description without one): the listener forwards to its group by default.
        self.default_service = default_route_service(config)
        self.target_groups: dict[str, LbTargetGroup] = {}
        for service in config.services:
            if service.route is None:  # internal: no load-balancer path (APP-7)
                continue
            default = is_default(service.name)
            self.target_groups[service.name] = LbTargetGroup(
                self,
                "app" if default else f"tg-{service.name}",
                name=target_group_name(
                    config.prefix if default else f"{config.prefix}-{service.name}", service.port
                ),
                target_type="ip",
                protocol="HTTP",  # TLS ends at the ALB; targets are private (app subnets)
                port=service.port,
                vpc_id=network.vpc_id,
                deregistration_delay=str(DRAINING_SECONDS),
                health_check=LbTargetGroupHealthCheck(
                    enabled=True,
                    path=service.health.path,  # EDGE-4
                    protocol="HTTP",
                    matcher="200",
                    interval=service.health.interval_seconds,
                    timeout=service.health.timeout_seconds,
                    healthy_threshold=2,
                    unhealthy_threshold=3,
                ),
                # A new port replaces the group: the new one first, then listener and service
                # move.
                lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            )
            # Only a group reached through a listener rule: CKV_AWS_378 passes the default
            # action's group, and a waiver there would be reported unused.
            if service.name != self.default_service.name:
                waive(
                    self.target_groups[service.name],
                    "CKV_AWS_378",
                    reason="TLS ends at the ALB's HTTPS listener, which forwards to this group "
                    "through a listener rule; Checkov's check accepts plain HTTP targets only "
                    "when a listener is attached directly, and the targets are private tasks.",
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
        target_group = self.target_groups[self.default_service.name]
        self.target_group = target_group
        self.target_group_arn = target_group.arn

        # DNS-1: the environment's own hosted zone, when the config asks for one, delegated
        # from the given parent zone so that public resolvers (and ACM) find its records.
        # The validation records of the ALB's certificate, by name in `validated_names` order;
        # none with an issued `edge.certificate_arn`.
        self.validation_records: list[Route53Record] = []
        self.validated_names: tuple[str, ...] = ()
        self.zone_id: str | None = config.edge.hosted_zone_id
        self.zone: Route53Zone | None = None  # signed and logged by constructs/aws/dns.py
        self._delegation: list[Route53Record] = []
        if config.features.dns_enabled:
            zone = Route53Zone(self, "zone", name=config.domain, force_destroy=False)
            self.zone = zone
            if config.edge.hosted_zone_id is not None:
                self._delegation.append(
                    Route53Record(
                        self,
                        "delegation",
                        zone_id=config.edge.hosted_zone_id,
                        name=config.domain,
                        type="NS",
                        ttl=300,
                        records=zone.name_servers,
                    )
                )
            self.zone_id = zone.zone_id
        certificate_arn = self._certificate(config)
        https = LbListener(
            self,
            "https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=certificate_arn,
            default_action=[
                LbListenerDefaultAction(type="forward", target_group_arn=target_group.arn)
            ],
        )
        self.listener = https
        self.listener_rules = self._routes(config, https)
        self.listener_arn = https.arn
        LbListener(
            self,
            "http",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(
                        protocol="HTTPS", port="443", status_code="HTTP_301"
                    ),
                )
            ],
        )
        # CDN-1: the value CloudFront sends and this ALB's web ACL requires.
        self.origin_header = (
            OriginHeader(self, "origin-header", generation=config.aws.cdn_origin_header_generation)
            if config.features.cdn_enabled
            else None
        )
        self.web_acl_arn = self._firewall(config, log_kms_key_arn)
        self.delegation = list(self._delegation)
        # With CDN-1 the domain and its hosts point at CloudFront (constructs/aws/cdn.py).
        if self.zone_id is not None and not config.features.cdn_enabled:
            Route53Record(
                self,
                "domain",
                zone_id=self.zone_id,
                name=config.domain,
                type="A",
                alias=Route53RecordAlias(
                    name=self.load_balancer.dns_name,
                    zone_id=self.load_balancer.zone_id,
                    evaluate_target_health=True,
                ),
            )
            for host in route_hosts(config):  # the other routed hosts, in the same zone
                Route53Record(
                    self,
                    f"host-{host.replace('.', '-')}",
                    zone_id=self.zone_id,
                    name=host,
                    type="A",
                    alias=Route53RecordAlias(
                        name=self.load_balancer.dns_name,
                        zone_id=self.load_balancer.zone_id,
                        evaluate_target_health=True,
                    ),
                )

    def _routes(self, config: EnvironmentConfig, https: LbListener) -> dict[str, LbListenerRule]:
        """APP-7: a listener rule per routed service other than the default: its path prefix
        as whole segments (`/api` and `/api/*`; ALB path patterns are case-sensitive globs)
        and its host when given. Rules are evaluated lowest priority first, so hosts and
        longer prefixes come first ("Listener rules for your Application Load Balancer",
        https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html:
        at most five match evaluations per rule; this uses three)."""
        rules: dict[str, LbListenerRule] = {}
        routed = [
            service
            for service in config.services
            if service.route is not None and service is not self.default_service
        ]
        routed.sort(key=lambda s: (s.route.host is None, -len(s.route.path_prefix), s.name))  # type: ignore[union-attr]
        for index, service in enumerate(routed, start=1):
            route = service.route
            assert route is not None
            conditions = []
            if route.host is not None:
                conditions.append(
                    LbListenerRuleCondition(
                        host_header=LbListenerRuleConditionHostHeader(values=[route.host])
                    )
                )
            if route.path_prefix != "/":
                conditions.append(
                    LbListenerRuleCondition(
                        path_pattern=LbListenerRuleConditionPathPattern(
                            values=list(path_patterns(route.path_prefix))
                        )
                    )
                )
            rules[service.name] = LbListenerRule(
                self,
                f"route-{service.name}",
                listener_arn=https.arn,
                priority=10 * index,
                action=[
                    LbListenerRuleAction(
                        type="forward", target_group_arn=self.target_groups[service.name].arn
                    )
                ],
                condition=conditions,
            )
        return rules

    def _log_bucket(self, config: EnvironmentConfig) -> None:
        """EDGE-3, OBJ-6: where the ALB and the other buckets write their access logs."""

        def alb_statements(bucket_arn: str) -> list[dict[str, object]]:
            return [
                {
                    # The log-delivery service principal works in every region (DEPLOY-4).
                    "Sid": "AlbAccessLogsService",
                    "Effect": "Allow",
                    "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/{ALB_LOG_PREFIX}/AWSLogs/{self._account_id}/*",
                }
            ]

        # Bucket names are global: prefix, account and region make this one unique and stable.
        logs = access_log_bucket(
            self,
            "logs",
            name=f"{config.prefix}-logs-{self._account_id}-{config.aws.region}",
            account_id=self._account_id,
            retention_days=config.logs.retention_days,
            writers="ALB access logs and S3 server access logs",
            statements=alb_statements,
        )
        self.log_bucket_name = logs.bucket.bucket
        self.log_bucket_arn = logs.bucket.arn
        self._log_bucket_policy = logs.policy
        self.log_bucket_policy = logs.policy  # log writers wait for it (DEPLOY-2)
        if not config.uses_object_storage:
            # Checkov's CKV_AWS_18 passes a bucket when an aws_s3_bucket_logging is connected to
            # it, which the app bucket's logging (targeting this one) is; without an app bucket
            # nothing is (checkov graph check S3BucketLogging). Server access logs delivered into
            # the bucket they log would loop ("Logging requests with server access logging",
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html).
            waive(
                logs.bucket,
                "CKV_AWS_18",
                reason="This is the access-log bucket: logging its own access into itself would "
                "loop, so it would need yet another bucket, and no service uses object storage, "
                "so no app bucket logs into it (the connection Checkov otherwise accepts).",
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )

    def _certificate(self, config: EnvironmentConfig) -> str:
        """The configured ACM certificate, else one requested for `domain` (DNS-1 if enabled)."""
        if config.edge.certificate_arn:
            return config.edge.certificate_arn
        certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=config.domain,
            # Every routed host under the domain (APP-7): the listener serves them all.
            subject_alternative_names=list(route_hosts(config)) or None,
            validation_method="DNS",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # The loader refuses a config without a zone here (synth.config.aws_edge_problems):
        # validation must never wait for a record nobody writes (DEPLOY-5).
        if self.zone_id is None:
            raise ValueError(f"{config.prefix}: no zone for the certificate's validation record")
        # One record per name the certificate covers. ACM asks every certificate of a name in
        # the account (CloudFront's us-east-1 one too) for the same CNAME record
        # (terraform-provider-aws #13653: a second region's certificate for the same domain
        # gets the record that already exists), so these records are the ONLY ones of their
        # names: CDN-1's certificate is validated by them too (constructs/aws/cdn.py), and
        # switching the CDN off deletes none a renewal of this certificate needs.
        # allow_overwrite adopts a record an earlier version wrote ("DNS validation",
        # https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html).
        records = []
        for index in range(1 + len(route_hosts(config))):
            option = certificate.domain_validation_options.get(index)
            records.append(
                Route53Record(
                    self,
                    "certificate-validation" if index == 0 else f"certificate-validation-{index}",
                    zone_id=self.zone_id,
                    name=option.resource_record_name,
                    type=option.resource_record_type,
                    records=[option.resource_record_value],
                    ttl=300,
                    allow_overwrite=True,
                )
            )
        self.validation_records = list(records)
        self.validated_names = (config.domain, *route_hosts(config))
        # The HTTPS listener needs an issued certificate: wait for validation, which resolves
        # only once the stack's own zone is delegated from its parent.
        validation = AcmCertificateValidation(
            self,
            "certificate-issued",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn for record in records],
            depends_on=list(self._delegation) or None,
        )
        return validation.certificate_arn

    def _firewall(self, config: EnvironmentConfig, log_kms_key_arn: str) -> str:
        """EDGE-2: managed rule sets and a per-IP rate limit, logged to CloudWatch Logs.
        Behind CloudFront (CDN-1) the per-IP limit is CloudFront's web ACL's alone
        (`web_acl_rules`), and a first rule blocks every request without this distribution's
        origin header (`origin_header_rule`)."""
        metric = config.prefix.replace("-", "")
        behind_cdn = config.features.cdn_enabled
        # Behind CloudFront every request the ALB allows carries the secret origin header, and
        # a sampled request shows its headers unredacted: the logging configuration's
        # redaction "doesn't affect sampling" ("You can only exclude fields from request
        # sampling by disabling sampling in the web ACL visibility configuration",
        # https://docs.aws.amazon.com/waf/latest/APIReference/API_VisibilityConfig.html). So
        # this web ACL keeps its metrics and samples nothing; the CloudFront web ACL samples
        # the viewers' requests, which do not carry the header yet (AWS re-review).
        sampled = not behind_cdn
        rules = web_acl_rules(config, metric, per_ip_limit=not behind_cdn, sampled=sampled)
        if self.origin_header is not None:  # CDN-1: only this distribution's requests
            rules.insert(0, origin_header_rule(self.origin_header, metric))
        acl = Wafv2WebAcl(
            self,
            "waf",
            name=config.prefix,
            # No parentheses or quotes: CreateWebACL's Description pattern is
            # ^[\w+=:#@/\-,\.][\w+=:#@/\-,\.\s]+[\w+=:#@/\-,\.]$
            # (https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html).
            description=(
                f"{config.prefix}: managed rules, the per-IP rate limit is on the CloudFront one"
                if behind_cdn
                else f"{config.prefix}: managed rules and a per-IP rate limit"
            ),
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True,
                metric_name=metric,
                sampled_requests_enabled=sampled,
            ),
        )
        # The distribution starts sending only after this (constructs/aws/cdn.py).
        # Created right after the ALB and the ACL, AssociateWebACL keeps answering
        # WAFUnavailableEntityException until WAF sees both; the provider retries it only for
        # the create timeout (`RetryWhenIsA[*WAFUnavailableEntityException]` for
        # `d.Timeout(schema.TimeoutCreate)`, internal/service/wafv2/web_acl_association.go;
        # 10 minutes by default there), which first applies have outlasted
        # (hashicorp/terraform-provider-aws#29080, open; #17527). 15 minutes lets the retry
        # ride that out instead of failing the apply.
        self.web_acl_association = Wafv2WebAclAssociation(
            self,
            "waf-association",
            resource_arn=self.load_balancer.arn,
            web_acl_arn=acl.arn,
            timeouts=Wafv2WebAclAssociationTimeouts(create=WAF_ASSOCIATION_CREATE_TIMEOUT),
        )

        # WAF requires the log group's name to start with `aws-waf-logs-`.
        log_group = CloudwatchLogGroup(
            self,
            "waf-logs",
            name=waf_log_group_name(config),
            retention_in_days=config.logs.retention_days,
            kms_key_id=log_kms_key_arn,
        )
        waivers.log_retention(log_group, config)
        # WAF delivers through the app's shared policy of this account and region: created
        # here when this environment owns it, else by another environment before this one.
        delivery = self.log_delivery.get(config.aws.region)
        # WAF logs every header it sees: the origin header's value stays out of the logs.
        secret = (self.origin_header.name,) if self.origin_header is not None else ()
        waf_logging(self, acl, log_group, delivery, secret_headers=secret)
        return acl.arn
