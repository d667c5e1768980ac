"""CDN-1 on AWS: CloudFront in front of the ALB, with its own WAF web ACL and certificate.

Satisfies: CDN-1, EDGE-1, EDGE-2, OBS-1, DEPLOY-2, DEPLOY-4, DEPLOY-5

- Viewers reach `domain` (and every routed host under it) at CloudFront only: the Route 53
  alias records point there, HTTP is redirected to HTTPS, TLS 1.2+ (TLSv1.2_2021).
- Paths matching `edge.cdn_static_paths` (default `/static/*`, `/assets/*`) are cached with
  the managed CachingOptimized policy, or, when services are routed by host (more than one
  name), with this stack's copy of it that adds Host to the cache key (`HOST_KEYED`):
  CachingOptimized's key has no Host, so `/static/app.js` of two hosts routed to different
  services would share one cache entry ("Understand the cache key",
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-the-cache-key.html;
  adding Host is AWS's documented way to cache per virtual host, "How do I configure
  CloudFront to forward the Host header",
  https://aws.amazon.com/premiumsupport/knowledge-center/configure-cloudfront-to-forward-headers).
  Everything else uses CachingDisabled, so the app's
  responses are never cached, and every behavior forwards all viewer headers (Host
  included), cookies and query strings with the managed AllViewer origin request policy.
- The origin is the ALB, over HTTPS only. CloudFront sends the viewer's Host, so the ALB's
  certificate for `domain` and its hosts matches and its host rules keep routing: AWS's
  guidance for HTTPS from CloudFront to an ALB is exactly that ("Use HTTPS for origin
  requests ... You must configure CloudFront to forward the host header to the origin with
  the managed origin request policy", AllViewer,
  https://docs.aws.amazon.com/solutions/latest/prebid-server-deployment-on-aws/tune-the-solution.html).
- The origin is reachable only through this distribution: the ALB admits HTTPS only from
  the AWS-managed prefix list of CloudFront's origin-facing servers
  (constructs/aws/network.py), which covers every distribution, other accounts' too, so the
  origin also sends the header `x-origin-verify` with a random value (hashicorp/random, in
  state only) that the first rule of the ALB's regional web ACL requires exactly; any other
  request is blocked there ("Restrict access to Application Load Balancers",
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/restrict-access-to-load-balancer.html;
  CKV_GW_CDN_2). The distribution is created (and updated) only after that web ACL and its
  association, and the web ACL accepts the previous, current and next value, so neither the
  first apply nor a rotation (`aws.cdn_origin_header_generation`) refuses a request
  CloudFront sends (constructs/aws/edge.py, `OriginHeader`).
- CloudFront takes a web ACL of scope CLOUDFRONT and an ACM certificate only from us-east-1
  ("you must create ... in the US East (N. Virginia) Region", "Requirements for using
  SSL/TLS certificates with CloudFront",
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html;
  WAF: "For CLOUDFRONT, you must create your WAFv2 resources in the US East (N. Virginia)
  Region", https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/wafv2_web_acl):
  both, and the web ACL's log group and its key, are created with the us-east-1 provider
  (CKV_GW_DEPLOY_18). The certificate is validated by records in `edge.hosted_zone_id` (or
  the stack's own zone), and the distribution waits for the validation (DEPLOY-5).
"""

from __future__ import annotations

from cdktf import (
    TerraformProvider,
    TerraformResource,
    TerraformResourceLifecycle,
    TerraformStack,
)
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.cloudfront_cache_policy import (
    CloudfrontCachePolicy,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOrigin,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfig,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfig,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeaders,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfig,
)
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomHeader,
    CloudfrontDistributionOriginCustomOriginConfig,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_cloudfront_cache_policy import (
    DataAwsCloudfrontCachePolicy,
)
from cdktf_cdktf_provider_aws.data_aws_cloudfront_origin_request_policy import (
    DataAwsCloudfrontOriginRequestPolicy,
)
from cdktf_cdktf_provider_aws.data_aws_cloudfront_response_headers_policy import (
    DataAwsCloudfrontResponseHeadersPolicy,
)
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclVisibilityConfig,
)
from constructs import Construct
from constructs.aws import waivers
from constructs.aws.edge import Edge, route_hosts, waf_logging, web_acl_rules
from constructs.aws.keys import us_east_1_log_group
from constructs.aws.log_delivery import waf_log_group_name
from constructs.aws.service import cdktf_logical_id

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

CDN_REGION = "us-east-1"  # CloudFront's certificates and web ACLs (module docstring)
ORIGIN_ID = "alb"
# AWS managed CloudFront policies, looked up by name ("Use managed cache policies",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html;
# "Use managed origin request policies", .../using-managed-origin-request-policies.html;
# "Use managed response headers policies", .../using-managed-response-headers-policies.html).
CACHED = "Managed-CachingOptimized"
UNCACHED = "Managed-CachingDisabled"
FORWARD_ALL = "Managed-AllViewer"
SECURITY_HEADERS = "Managed-SecurityHeadersPolicy"
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
CACHED_METHODS = ["GET", "HEAD"]
VIEWER_TLS = "TLSv1.2_2021"  # EDGE-1: TLS 1.2 and later, no weak ciphers
# CachingOptimized's settings ("Use managed cache policies", CachingOptimized: minimum TTL
# 1 s, default 86,400 s, maximum 31,536,000 s, no cookies or query strings, gzip and Brotli)
# plus Host in the key: the static paths' policy when several names share the distribution.
# One custom policy per environment counts against CloudFront's per-account quota on cache
# policies ("General quotas on policies", adjustable,
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html),
# so it is created only when it is needed.
HOST_KEYED = {"min_ttl": 1, "default_ttl": 86_400, "max_ttl": 31_536_000}


class Cdn(Construct):
    """The CloudFront distribution of one environment, `cdn.domain_name` its CloudFront name."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        edge: Edge,
        provider: TerraformProvider,
    ) -> None:
        """`provider`: an AWS provider in us-east-1 (`CDN_REGION`)."""
        super().__init__(scope, id_)
        if edge.zone_id is None:  # synth.config.aws_edge_problems refuses this config
            raise ValueError(f"{config.prefix}: CDN-1 needs edge.hosted_zone_id")
        zone_id = edge.zone_id
        origin_header = edge.origin_header
        if origin_header is None:  # Edge builds it whenever features.cdn_enabled is on
            raise ValueError(f"{config.prefix}: CDN-1 needs the ALB's origin header")
        names = [config.domain, *route_hosts(config)]
        account_id = DataAwsCallerIdentity(self, "account", provider=provider).account_id

        certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=config.domain,
            subject_alternative_names=names[1:] or None,
            validation_method="DNS",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            provider=provider,
        )
        # ACM asks this certificate for the same validation records as the ALB's, of the same
        # names (terraform-provider-aws #13653), so each record has ONE owner: the ALB's
        # (constructs/aws/edge.py) when the stack requests that certificate, and switching
        # the CDN off then deletes none of them; with an issued edge.certificate_arn there
        # are none, and the CDN writes its own.
        if edge.validation_records and edge.validated_names == tuple(names):
            records = list(edge.validation_records)
        else:
            records = [
                Route53Record(
                    self,
                    f"certificate-validation-{index}",
                    zone_id=zone_id,
                    name=certificate.domain_validation_options.get(index).resource_record_name,
                    type=certificate.domain_validation_options.get(index).resource_record_type,
                    records=[
                        certificate.domain_validation_options.get(index).resource_record_value
                    ],
                    ttl=300,
                    allow_overwrite=True,
                )
                for index in range(len(names))
            ]
        if records[0] in edge.validation_records:
            # The previous version wrote the same records here too: forget those addresses
            # instead of destroying them, which would delete the records the ALB's
            # certificate's renewal needs (a `removed` block, Terraform >= 1.7: "Removing
            # resources", https://developer.hashicorp.com/terraform/language/resources/syntax#removing-resources).
            below_stack = self.node.path.split("/")[1:]
            TerraformStack.of(self).add_override(
                "removed",
                [
                    {
                        "from": "aws_route53_record."
                        + cdktf_logical_id(*below_stack, f"certificate-validation-{index}"),
                        "lifecycle": {"destroy": False},
                    }
                    for index in range(len(names))
                ],
            )
        validation = AcmCertificateValidation(
            self,
            "certificate-issued",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn for record in records],
            depends_on=list(edge.delegation) or None,
            provider=provider,
        )

        acl = self._firewall(config, provider, account_id, edge.log_delivery.get(CDN_REGION))

        def policy(kind: type, name: str) -> str:
            return str(kind(self, name.lower(), name=name).id)

        cached = (
            self._host_keyed_cache_policy(config)
            if len(names) > 1
            else policy(DataAwsCloudfrontCachePolicy, CACHED)
        )
        uncached = policy(DataAwsCloudfrontCachePolicy, UNCACHED)
        forward_all = policy(DataAwsCloudfrontOriginRequestPolicy, FORWARD_ALL)
        headers = policy(DataAwsCloudfrontResponseHeadersPolicy, SECURITY_HEADERS)
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=f"{config.prefix}: CDN-1, static paths cached, the rest forwarded",
            aliases=names,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class="PriceClass_All",
            web_acl_id=acl.arn,
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=ORIGIN_ID,
                    domain_name=edge.dns_name,
                    # CDN-1: only requests with this value pass the ALB's web ACL.
                    custom_header=[
                        CloudfrontDistributionOriginCustomHeader(
                            name=origin_header.name, value=origin_header.current
                        )
                    ],
                    custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
                        origin_protocol_policy="https-only",
                        origin_ssl_protocols=["TLSv1.2"],
                        http_port=80,
                        https_port=443,
                    ),
                )
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=ALL_METHODS,
                cached_methods=CACHED_METHODS,
                cache_policy_id=uncached,
                origin_request_policy_id=forward_all,
                response_headers_policy_id=headers,
                compress=True,
            ),
            ordered_cache_behavior=[
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern=path,
                    target_origin_id=ORIGIN_ID,
                    viewer_protocol_policy="redirect-to-https",
                    allowed_methods=READ_METHODS,
                    cached_methods=CACHED_METHODS,
                    cache_policy_id=cached,
                    origin_request_policy_id=forward_all,
                    response_headers_policy_id=headers,
                    compress=True,
                )
                for path in config.edge.cdn_static_paths
            ],
            viewer_certificate=CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=validation.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version=VIEWER_TLS,
            ),
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(
                    restriction_type="none"
                )
            ),
            # The apply returns once every edge runs this configuration, so by the next
            # rotation no edge sends the value that rotation stops accepting (`OriginHeader`).
            wait_for_deployment=True,
            # The ALB's web ACL, its origin-header rule included, judges the ALB's requests
            # before CloudFront sends any (first apply) or switches value (rotation).
            depends_on=[edge.web_acl_association],
        )
        self.domain_name = self.distribution.domain_name
        # CKV_AWS_86 inspects `logging_config[0].bucket` only (checkov
        # CloudfrontDistributionLogging.py). v2 standard logging to CloudWatch Logs ("Standard
        # logging (v2)", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging.html)
        # would not satisfy it; "An account can have up to 10 resource policies per AWS
        # Region" (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html).
        for reason_check, reason in (
            (
                "CKV_AWS_86",
                "Checkov reads only the legacy logging_config block, standard logs to an S3 "
                "bucket with ACLs enabled, which this stack's log bucket refuses "
                "(bucket-owner-enforced). CloudFront's v2 standard logging delivers to "
                "CloudWatch Logs without ACLs, but Checkov does not read it and this stack "
                "does not enable it yet: it needs another log group and a CloudWatch Logs "
                "resource policy in us-east-1, where an account has at most 10 "
                "(PutResourcePolicy) and the web ACL's delivery uses one already. "
                "Meanwhile the distribution's web ACL logs every request it evaluates to an "
                "encrypted log group: the request and WAF's decision, not CloudFront's "
                "response status or cache result.",
            ),
            (
                "CKV_AWS_305",
                "The origin is the app behind the ALB, which answers / itself; a default root "
                "object only applies to S3-style origins.",
            ),
            (
                "CKV_AWS_310",
                "The only origin is the ALB, which already spans the environment's zones; a "
                "failover origin would be a second copy of the app the stack does not run.",
            ),
            (
                "CKV2_AWS_47",
                "The web ACL runs the Log4j known-bad-inputs rule group; the anonymous-IP list "
                "this check also wants would block VPN and cloud-hosted users, a product "
                "decision not yet taken (the ALB's web ACL is waived the same way).",
            ),
            (
                "CKV_AWS_374",
                "The app serves every country; a geo restriction is a product decision, and "
                "the web ACL's rate limit and managed rules apply to every request.",
            ),
        ):
            waive(
                self.distribution,
                reason_check,
                reason=reason,
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        for index, name in enumerate(names):
            for record_type in ("A", "AAAA"):
                Route53Record(
                    self,
                    f"alias-{index}-{record_type.lower()}",
                    zone_id=zone_id,
                    name=name,
                    type=record_type,
                    alias=Route53RecordAlias(
                        name=self.distribution.domain_name,
                        zone_id=self.distribution.hosted_zone_id,
                        evaluate_target_health=False,  # CloudFront aliases cannot
                    ),
                )

    def _host_keyed_cache_policy(self, config: EnvironmentConfig) -> str:
        """CachingOptimized with Host in the cache key (`HOST_KEYED`). Host is then also
        sent to the origin, as the AllViewer origin request policy sends it anyway."""
        params = CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOrigin
        return str(
            CloudfrontCachePolicy(
                self,
                "static-cache-policy",
                name=f"{config.prefix}-static-by-host",
                comment=f"{config.prefix}: static paths cached per host (CDN-1)",
                **HOST_KEYED,
                parameters_in_cache_key_and_forwarded_to_origin=params(
                    headers_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfig(
                        header_behavior="whitelist",
                        headers=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeaders(
                            items=["Host"]
                        ),
                    ),
                    cookies_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfig(
                        cookie_behavior="none"
                    ),
                    query_strings_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfig(
                        query_string_behavior="none"
                    ),
                    enable_accept_encoding_gzip=True,
                    enable_accept_encoding_brotli=True,
                ),
            ).id
        )

    def _firewall(
        self,
        config: EnvironmentConfig,
        provider: TerraformProvider,
        account_id: str,
        delivery: TerraformResource | None,
    ) -> Wafv2WebAcl:
        """EDGE-2 at the edge: the ALB's rules, in a CLOUDFRONT web ACL (us-east-1), logged to
        a log group there with its own key (a log group's key must be in its region), through
        the app's shared log-delivery policy of us-east-1 (`delivery` when this environment
        creates it; constructs/aws/log_delivery.py)."""
        prefix = config.prefix
        log_group_name = waf_log_group_name(config, "-cdn")
        metric = f"{prefix.replace('-', '')}Cdn"
        acl = Wafv2WebAcl(
            self,
            "waf",
            name=f"{prefix}-cdn",
            description=f"{prefix} CloudFront: managed rules and a per-IP rate limit",
            scope="CLOUDFRONT",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=web_acl_rules(config, metric),
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
            ),
            provider=provider,
        )
        log_group = us_east_1_log_group(
            self,
            "waf-logs",
            config=config,
            account_id=account_id,
            name=log_group_name,  # WAF requires the aws-waf-logs- prefix
            purpose="CloudFront web ACL logs",
            alias=f"{prefix}-cdn-waf-logs",
            provider=provider,
        )
        waf_logging(self, acl, log_group, delivery, provider)
        return acl
