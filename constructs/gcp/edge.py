"""Global external Application Load Balancer in front of Cloud Run, with Cloud Armor and TLS ≥ 1.2.

- EDGE-1: HTTPS on 443 with a Google-managed certificate for `config.domain` and a MODERN
  SSL policy at TLS 1.2 minimum; port 80 has a URL map that only redirects to HTTPS. The
  certificate is a Certificate Manager one, served through a certificate map (below).
- EDGE-2: a Cloud Armor policy: Google's preconfigured WAF rules (SQLi, XSS, LFI, RFI, RCE,
  method enforcement, scanner detection, protocol attack, session fixation, Log4j) as the
  managed common rule set, evaluated first, then a rate-based ban of
  `edge.rate_limit_per_minute` requests per 60 s per client IP (banned for 5 minutes);
  Layer-7 DDoS adaptive protection on.
- EDGE-3: backend request logging on at 100 % sampling. The Google Front End already
  rejects malformed HTTP; there is no separate "drop invalid headers" switch on GCP.
- EDGE-4: serverless NEGs take no load-balancer health check; the health check is each
  service's Cloud Run startup/liveness probe on its described path (constructs/gcp/service.py).
- APP-7: each routed service has its serverless NEG and backend (`<prefix>-run` for the
  default service, `<prefix>-<service>-run` for others); the URL map routes by host and path
  prefix (`url_routes`), the `/` service on the domain being the default; the certificate
  covers the domain and every route host (`route_hosts`). Internal services get no backend.

CDN-1 (`features.cdn_enabled`): Cloud CDN for the static paths only, `edge.cdn_static_paths`
(default `/static/*`, `/assets/*`, as on Azure). Cloud CDN caches per backend service,
whatever path reaches it, and it caches error responses "even in the absence of valid cache
directives" (https://cloud.google.com/cdn/docs/caching), so a CDN on the backend that serves
the API would cache JSON errors and static-typed per-user responses for everyone. So each
service that serves a cached path (`cached_routes`: the one the path would reach without the
CDN) gets a second backend service `<prefix>[-<service>]-cdn` with Cloud CDN on, behind a
serverless NEG of its own for the same Cloud Run service (serverless NEGs are supported
origins of the global external Application Load Balancer's Cloud CDN:
https://cloud.google.com/cdn/docs/setting-up-cdn-with-serverless); the URL map sends the
cached paths, on every routed host, to it, and every other path, the defaults included, to
the service's `-run` backend with Cloud CDN off, unchanged from a stack without the switch.
`cdn_policy` (`cdn_policy` below) caches static content only within those paths:
CACHE_ALL_STATIC caches responses whose Content-Type is a static one or that the origin marks
cacheable, never one marked `private`, `no-store` or `no-cache` or carrying `Set-Cookie`
(https://cloud.google.com/cdn/docs/caching#non-cacheable); a request carrying
`Authorization` bypasses the cache; FORCE_CACHE_ALL would cache private responses and
USE_ORIGIN_HEADERS takes no TTL bounds (hashicorp/terraform-provider-google#18860), both
refused by CKV_GW_CDN_40. TTLs are bounded (an hour by default, a day at most), negative
caching only for 404 and 410, for a minute. The cache key is protocol, host and full query
string (a `?v=` cache-buster gets its own entry); no signed URLs: the cached content is public.
The WAF stays on the backend service: Cloud Armor backend policies (the preconfigured WAF
rules, the rate-based ban) are evaluated for every request that goes to the origin, i.e.
every cache miss and every dynamic request; a cache hit is answered at the edge before the
backend policy (https://cloud.google.com/armor/docs/security-policy-overview, "Edge security
policies"). So EDGE-2 does not hold for cache hits of the cached paths: CKV_GW_EDGE_41 fails
the CDN backend and the backend declares the waiver (below; README, "GCP: EDGE-2 and cache
hits"). An edge security policy (CLOUD_ARMOR_EDGE) would see hits too; it is not added:
its documented use is IP and region filtering of cached content, and this stack's EDGE-2
rules (the preconfigured WAF, the rate-based ban) are backend-policy rules.
The origin is reachable only through the load balancer: each routed Cloud Run service admits
`INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER` only (constructs/gcp/service.py).

DNS-1 (`features.dns_enabled`): the stack's own public Cloud DNS zone for `domain`
(`<prefix>`), DNSSEC on (RSASHA256 keys, NSEC3; https://cloud.google.com/dns/docs/dnssec-config),
delegated from `gcp.dns_zone`, then the PARENT zone, by an NS record of `domain` there whose
data are the new zone's name servers; the A records and the DNS authorizations' CNAMEs go
into the new zone, and the certificate waits for both the delegation and the CNAMEs (a record
in an undelegated zone resolves for nobody, and issuance would wait or fail). The parent
must be a strict parent (its postcondition says so), and `gcp.ssl_certificate` is refused with
the switch (synth/config.py, `gcp_edge_problems`). The DS record that makes DNSSEC validate
from the parent is the `dns_ds_record` output: it is not written into the parent, which may be
unsigned (the operator adds it where the parent is signed: README, "GCP: DNS").

First apply (DEPLOY-5) and host changes (DEPLOY-2): a Compute Engine managed certificate
provisions only once `domain` resolves to the load balancer that serves it ("The provisioning
process can complete only when the domain name for which the certificate is created points
to a target pool which, itself, points at the certificate": the provider's
google_compute_managed_ssl_certificate page), so each host change (which replaces it) served
a PROVISIONING certificate for up to an hour. The stack uses Certificate Manager instead: one
DNS authorization per name, whose CNAME the stack writes, lets Google issue the certificate
"in advance, before the target proxy is ready to serve network traffic"
(https://cloud.google.com/certificate-manager/docs/domain-authorization); a `gcloud` step
waits until it is ACTIVE; only then does the certificate map's PRIMARY entry (and, on the
first apply, the HTTPS proxy) use it; the old certificate is deleted after. The records go
into `gcp.dns_zone`, an existing public Cloud DNS zone of `gcp.dns_project` (default: the
environment's project; the data source and every record written into the zone name it:
CKV_GW_DEPLOY_58), read as a data source whose postcondition refuses a private zone or one
that does not answer for the domain; the zone also gets each name's A record to the load
balancer. Or the proxy serves `gcp.ssl_certificate`, a certificate the operator already has.
A config with neither is refused (synth/config.py, `gcp_edge_problems`).

Satisfies: EDGE-1, EDGE-2, EDGE-3, EDGE-4, APP-7, NET-3, CDN-1, DNS-1, DEPLOY-2, DEPLOY-5, DEPLOY-6
"""

from __future__ import annotations

import shlex
from typing import Any

from cdktf import Fn, Postcondition, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_google.certificate_manager_certificate import (
    CertificateManagerCertificate,
    CertificateManagerCertificateManaged,
)
from cdktf_cdktf_provider_google.certificate_manager_certificate_map import (
    CertificateManagerCertificateMap,
)
from cdktf_cdktf_provider_google.certificate_manager_certificate_map_entry import (
    CertificateManagerCertificateMapEntry,
)
from cdktf_cdktf_provider_google.certificate_manager_dns_authorization import (
    CertificateManagerDnsAuthorization,
)
from cdktf_cdktf_provider_google.compute_backend_service import (
    ComputeBackendService,
    ComputeBackendServiceBackend,
    ComputeBackendServiceCdnPolicy,
    ComputeBackendServiceCdnPolicyBypassCacheOnRequestHeaders,
    ComputeBackendServiceCdnPolicyCacheKeyPolicy,
    ComputeBackendServiceCdnPolicyNegativeCachingPolicy,
    ComputeBackendServiceLogConfig,
)
from cdktf_cdktf_provider_google.compute_global_address import ComputeGlobalAddress
from cdktf_cdktf_provider_google.compute_global_forwarding_rule import (
    ComputeGlobalForwardingRule,
)
from cdktf_cdktf_provider_google.compute_region_network_endpoint_group import (
    ComputeRegionNetworkEndpointGroup,
    ComputeRegionNetworkEndpointGroupCloudRun,
)
from cdktf_cdktf_provider_google.compute_security_policy import (
    ComputeSecurityPolicy,
    ComputeSecurityPolicyAdaptiveProtectionConfig,
    ComputeSecurityPolicyAdaptiveProtectionConfigLayer7DdosDefenseConfig,
    ComputeSecurityPolicyAdvancedOptionsConfig,
    ComputeSecurityPolicyRule,
    ComputeSecurityPolicyRuleMatch,
    ComputeSecurityPolicyRuleMatchConfig,
    ComputeSecurityPolicyRuleMatchExpr,
    ComputeSecurityPolicyRuleRateLimitOptions,
    ComputeSecurityPolicyRuleRateLimitOptionsRateLimitThreshold,
)
from cdktf_cdktf_provider_google.compute_ssl_policy import ComputeSslPolicy
from cdktf_cdktf_provider_google.compute_target_http_proxy import ComputeTargetHttpProxy
from cdktf_cdktf_provider_google.compute_target_https_proxy import ComputeTargetHttpsProxy
from cdktf_cdktf_provider_google.compute_url_map import (
    ComputeUrlMap,
    ComputeUrlMapDefaultUrlRedirect,
    ComputeUrlMapHostRule,
    ComputeUrlMapPathMatcher,
    ComputeUrlMapPathMatcherPathRule,
)
from cdktf_cdktf_provider_google.data_google_dns_keys import DataGoogleDnsKeys
from cdktf_cdktf_provider_google.data_google_dns_managed_zone import DataGoogleDnsManagedZone
from cdktf_cdktf_provider_google.dns_managed_zone import (
    DnsManagedZone,
    DnsManagedZoneDnssecConfig,
    DnsManagedZoneDnssecConfigDefaultKeySpecs,
)
from cdktf_cdktf_provider_google.dns_record_set import DnsRecordSet
from constructs import Construct
from constructs.gcp import waivers
from constructs.gcp.service import Service
from constructs.gcp.steps import GcloudStep

from synth.app import service_suffix
from synth.config import EnvironmentConfig
from synth.construct_waivers import waive
from synth.gcp_replacement import replacement_suffix

# EDGE-2: Google's preconfigured WAF rule sets (ModSecurity CRS 3.3), sensitivity 1.
WAF_RULES = (
    "sqli-v33-stable",
    "xss-v33-stable",
    "lfi-v33-stable",
    "rfi-v33-stable",
    "rce-v33-stable",
    "methodenforcement-v33-stable",
    "scannerdetection-v33-stable",
    "protocolattack-v33-stable",
    "sessionfixation-v33-stable",
    "cve-canary",  # Log4j (CVE-2021-44228)
)
# DEPLOY-6: Cloud Armor evaluates rules by ascending priority and stops at the first match;
# a rate-based rule's conform action `allow` is final, so a rate rule ahead of the WAF
# would let every request under the limit skip it (https://cloud.google.com/armor/docs/
# security-policy-overview#eval-order, https://cloud.google.com/armor/docs/rate-limiting-
# overview). The WAF rules come first; the rate rule judges what they let through.
WAF_PRIORITY = 1000
RATE_LIMIT_PRIORITY = 2000
DEFAULT_PRIORITY = 2147483647
BAN_SECONDS = 300


# CDN-1 (module docstring): seconds. The TTLs apply to static content the origin sends without
# its own max-age (default, and to browsers: client) and cap any it sends (max).
CDN_DEFAULT_TTL = 3600
CDN_CLIENT_TTL = 3600
CDN_MAX_TTL = 86400
# Negative caching: only "not found" and "gone", for a minute, and only on the cached paths
# (the CDN backend serves nothing else): a missing asset is asked of the origin once a minute
# per cache, not once per request, and one deployed later is served within a minute. Cloud
# CDN's own default caches 404 for 120 s and redirects for 10 minutes
# (https://cloud.google.com/cdn/docs/using-negative-caching); with a policy listed, it applies
# no default negative caching to other codes (the provider's google_compute_backend_service
# page, `negative_caching_policy`), so no other error, a 5xx or an API's 403, is ever cached.
CDN_NEGATIVE_TTLS = {404: 60, 410: 60}
# A request carrying credentials is never answered from the cache, even on a cached path
# ("The presence of such a header overrides the cache_mode setting": Compute API,
# BackendService.cdnPolicy.bypassCacheOnRequestHeaders,
# https://cloud.google.com/compute/docs/reference/rest/v1/backendServices).
CDN_BYPASS_HEADERS = ("Authorization",)


def cdn_policy() -> ComputeBackendServiceCdnPolicy:
    """Cloud CDN for the cached paths (CDN-1; the module docstring says why each value)."""
    return ComputeBackendServiceCdnPolicy(
        cache_mode="CACHE_ALL_STATIC",
        default_ttl=CDN_DEFAULT_TTL,
        client_ttl=CDN_CLIENT_TTL,
        max_ttl=CDN_MAX_TTL,
        negative_caching=True,
        negative_caching_policy=[
            ComputeBackendServiceCdnPolicyNegativeCachingPolicy(code=code, ttl=ttl)
            for code, ttl in CDN_NEGATIVE_TTLS.items()
        ],
        bypass_cache_on_request_headers=[
            ComputeBackendServiceCdnPolicyBypassCacheOnRequestHeaders(header_name=header)
            for header in CDN_BYPASS_HEADERS
        ],
        cache_key_policy=ComputeBackendServiceCdnPolicyCacheKeyPolicy(
            include_protocol=True, include_host=True, include_query_string=True
        ),
        # Concurrent misses for one object make one origin request, not one each.
        request_coalescing=True,
    )


def route_hosts(config: EnvironmentConfig) -> list[str]:
    """The names the certificate covers: the domain, then every other route host (EDGE-1)."""
    hosts = {s.route.host for s in config.services if s.route is not None and s.route.host}
    return [config.domain, *sorted(hosts - {config.domain})]


def _owner(path: str, paths: dict[str, str], fallback: str) -> str:
    """The service a request for `path` reaches: the longest route prefix that is a whole-
    segment prefix of it (a path matcher serves "the longest-matched rule": PathMatcher,
    https://cloud.google.com/compute/docs/reference/rest/v1/urlMaps), else `fallback`."""
    matching = [p for p in paths if p == "/" or path == p or path.startswith(f"{p}/")]
    return paths[max(matching, key=len)] if matching else fallback


def cached_routes(config: EnvironmentConfig) -> dict[str, dict[str, str]]:
    """CDN-1: for each routed host, each of `edge.cdn_static_paths` and the service that
    serves it there (the one the path would reach without the CDN). Empty with the switch off."""
    if not config.features.cdn_enabled:
        return {}
    by_host = _services_by_host(config)
    default = by_host[config.domain]["/"]
    return {
        host: {
            pattern: _owner(pattern.removesuffix("/*"), paths, paths.get("/", default))
            for pattern in config.edge.cdn_static_paths
        }
        for host, paths in by_host.items()
    }


def _services_by_host(config: EnvironmentConfig) -> dict[str, dict[str, str]]:
    """host -> {path prefix: service name} for every routed service."""
    by_host: dict[str, dict[str, str]] = {}
    for spec in config.services:
        if spec.route is not None:
            host = spec.route.host or config.domain
            by_host.setdefault(host, {})[spec.route.path_prefix] = spec.name
    return by_host


def url_routes(
    config: EnvironmentConfig, backends: dict[str, str], cdn_backends: dict[str, str]
) -> tuple[str, list[ComputeUrlMapHostRule], list[ComputeUrlMapPathMatcher]]:
    """APP-7 routes as the URL map's (default service, host rules, path matchers).

    The service at `/` on the domain is the default for every request nothing else matches.
    Each host with a route other than that gets a host rule and a path matcher whose default
    is its own `/` service (else the domain's); a path prefix matches whole segments, as
    `<prefix>` and `<prefix>/*` (a URL map path rule's `*` is allowed only at the end after
    a `/`: https://cloud.google.com/load-balancing/docs/url-map-concepts#wildcards-regx-dynamic).
    Today's single service on `/` gives no host rule at all, as before.

    CDN-1 (`cdn_backends`, service name -> its backend with Cloud CDN on): every routed host
    gets a path matcher, in which each cached path goes to the CDN backend of the service
    that serves it (`cached_routes`); a longer route prefix under a cached path still wins
    (longest match), so only the cached paths themselves reach a CDN backend, and every
    other path, the defaults included, a backend with Cloud CDN off."""
    by_host = _services_by_host(config)
    cached = cached_routes(config) if cdn_backends else {}
    default = backends[by_host[config.domain]["/"]]
    host_rules, matchers = [], []
    for index, (host, paths) in enumerate(sorted(by_host.items())):
        if host == config.domain and set(paths) == {"/"} and not cached:
            continue
        matcher = f"routes-{index}"
        host_rules.append(ComputeUrlMapHostRule(hosts=[host], path_matcher=matcher))
        patterns = set(cached.get(host, {}))
        rules = [
            ComputeUrlMapPathMatcherPathRule(
                # A route prefix that is itself a cached path keeps its exact path here; its
                # `/*` is the cached rule's (one pattern may appear in one rule only).
                paths=[p for p in (prefix, f"{prefix}/*") if p not in patterns],
                service=backends[name],
            )
            for prefix, name in sorted(paths.items())
            if prefix != "/"
        ]
        owners: dict[str, list[str]] = {}
        for pattern, name in cached.get(host, {}).items():
            owners.setdefault(name, []).append(pattern)
        rules += [
            ComputeUrlMapPathMatcherPathRule(paths=sorted(owned), service=cdn_backends[name])
            for name, owned in sorted(owners.items())
        ]
        matchers.append(
            ComputeUrlMapPathMatcher(
                name=matcher,
                default_service=backends[paths["/"]] if "/" in paths else default,
                path_rule=rules or None,
            )
        )
    return default, host_rules, matchers


def _replaceable_name(stem: str, resource_type: str, arguments: dict[str, Any]) -> str:
    """`<stem>-<8 hex>`: a name that changes with the resource's replacing arguments, for a
    resource that is replaced while another holds it (synth/gcp_replacement.py)."""
    return f"{stem}-{replacement_suffix(resource_type, arguments)}"


def _match(expression: str) -> ComputeSecurityPolicyRuleMatch:
    return ComputeSecurityPolicyRuleMatch(
        expr=ComputeSecurityPolicyRuleMatchExpr(expression=expression)
    )


def _all_ips() -> ComputeSecurityPolicyRuleMatch:
    return ComputeSecurityPolicyRuleMatch(
        versioned_expr="SRC_IPS_V1",
        config=ComputeSecurityPolicyRuleMatchConfig(src_ip_ranges=["*"]),
    )


def await_active(project: str, certificate: str) -> str:
    """The shell that polls `certificate`'s `managed.state` every 30 s until ACTIVE, fails on
    FAILED with the provisioning issue and each domain's authorization attempt, and gives up
    after 60 minutes (ManagedCertificate.State PROVISIONING, FAILED, ACTIVE:
    https://cloud.google.com/certificate-manager/docs/reference/rest/v1/projects.locations.certificates)."""
    describe = shlex.join(
        [
            "gcloud",
            "certificate-manager",
            "certificates",
            "describe",
            certificate,
            "--location=global",
            f"--project={project}",
        ]
    )
    issue = (
        "--format=value(managed.provisioningIssue.reason,managed.provisioningIssue.details,"
        "managed.authorizationAttemptInfo)"
    )
    return (
        "deadline=$(($(date +%s) + 3600)); "
        "while :; do "
        f"state=$({describe} '--format=value(managed.state)'); "
        'case "$state" in '
        "ACTIVE) exit 0;; "
        f"FAILED) echo \"certificate {certificate} FAILED:\" >&2; {describe} '{issue}' >&2; "
        "exit 1;; "
        "esac; "
        'if [ "$(date +%s)" -ge "$deadline" ]; then '
        f'echo "certificate {certificate} is $state after 60 minutes: check its DNS '
        f"authorization CNAMEs (gcloud certificate-manager certificates describe {certificate} "
        '--location=global), then apply again" >&2; exit 1; fi; '
        "sleep 30; "
        "done"
    )


class Edge(Construct):
    """Load balancer `<prefix>-*`; `ip_address`, `url_map_name` for DNS and monitoring."""

    def __init__(
        self, scope: Construct, id_: str, *, config: EnvironmentConfig, services: list[Service]
    ) -> None:
        super().__init__(scope, id_)
        prefix = config.prefix
        rate = config.edge.rate_limit_per_minute
        rules = [
            *(
                ComputeSecurityPolicyRule(
                    priority=WAF_PRIORITY + index,
                    action="deny(403)",
                    description=f"EDGE-2: preconfigured WAF {rule}",
                    match=_match(f"evaluatePreconfiguredWaf('{rule}', {{'sensitivity': 1}})"),
                )
                for index, rule in enumerate(WAF_RULES)
            ),
            ComputeSecurityPolicyRule(
                priority=RATE_LIMIT_PRIORITY,
                action="rate_based_ban",
                description=f"EDGE-2: at most {rate} requests per minute per client IP",
                match=_all_ips(),
                rate_limit_options=ComputeSecurityPolicyRuleRateLimitOptions(
                    conform_action="allow",
                    exceed_action="deny(429)",
                    enforce_on_key="IP",
                    rate_limit_threshold=ComputeSecurityPolicyRuleRateLimitOptionsRateLimitThreshold(
                        count=rate, interval_sec=60
                    ),
                    ban_duration_sec=BAN_SECONDS,
                ),
            ),
            ComputeSecurityPolicyRule(
                priority=DEFAULT_PRIORITY,
                action="allow",
                description="Default: allow what no rule above denied",
                match=_all_ips(),
            ),
        ]
        # DEPLOY-2: held by every backend service, and replaced when `type` changes; the name
        # changes with it and the new policy is created before the old one is deleted
        # (synth/gcp_replacement.py says why).
        policy = ComputeSecurityPolicy(
            self,
            "waf",
            name=_replaceable_name(
                f"{prefix}-waf", "google_compute_security_policy", {"type": "CLOUD_ARMOR"}
            ),
            description=f"{prefix}: WAF and per-IP rate limit (EDGE-2)",
            type="CLOUD_ARMOR",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            rule=rules,
            adaptive_protection_config=ComputeSecurityPolicyAdaptiveProtectionConfig(
                layer7_ddos_defense_config=(
                    ComputeSecurityPolicyAdaptiveProtectionConfigLayer7DdosDefenseConfig(
                        enable=True
                    )
                )
            ),
            advanced_options_config=ComputeSecurityPolicyAdvancedOptionsConfig(
                json_parsing="STANDARD", log_level="VERBOSE"
            ),
        )
        waive(
            policy,
            "CKV_GCP_73",
            reason="Checkov 3.3.30 crashes on cdktf's Cloud Armor rule shape; CKV_GW_DEPLOY_46 "
            "judges the same property, a cve-canary (Log4j) deny rule that no earlier rule keeps "
            "from running.",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )

        # APP-7: one serverless NEG and backend per routed service; internal services (no
        # route) get none, so the load balancer cannot reach them (their ingress is
        # internal-and-load-balancer only, which from outside means this load balancer).
        backends: dict[str, str] = {}
        cdn_backends: dict[str, str] = {}
        # CDN-1: the services that serve a cached path get a second backend, Cloud CDN on.
        caching = {name for paths in cached_routes(config).values() for name in paths.values()}
        for svc in services:
            if svc.spec.route is None:
                continue
            suffix = service_suffix(svc.spec.name)
            common = {
                "load_balancing_scheme": "EXTERNAL_MANAGED",
                "protocol": "HTTPS",
                "security_policy": policy.id,  # EDGE-2: every request that reaches the origin
                "log_config": ComputeBackendServiceLogConfig(enable=True, sample_rate=1),  # EDGE-3
            }
            # Cloud CDN off: dynamic and per-user responses are never cached.
            backend = ComputeBackendService(
                self,
                f"backend{suffix}",
                name=f"{prefix}{suffix}-run",
                backend=[ComputeBackendServiceBackend(group=self._neg(config, svc, suffix, "run"))],
                **common,
            )
            backends[svc.spec.name] = backend.id
            if svc.spec.name in caching:
                # The CDN backend gets a serverless NEG of its own for the same service: the
                # serverless NEG docs describe one backend service per NEG, so the stack does
                # not rely on sharing one (a NEG is free, and each backend stays replaceable).
                cdn_backend = ComputeBackendService(
                    self,
                    f"cdn-backend{suffix}",
                    name=f"{prefix}{suffix}-cdn",
                    backend=[
                        ComputeBackendServiceBackend(group=self._neg(config, svc, suffix, "cdn"))
                    ],
                    enable_cdn=True,
                    cdn_policy=cdn_policy(),
                    **common,
                )
                cdn_backends[svc.spec.name] = cdn_backend.id
                waive(
                    cdn_backend,
                    "CKV_GW_EDGE_41",
                    reason="Cloud Armor backend policies do not judge Cloud CDN cache hits "
                    "(https://cloud.google.com/armor/docs/security-policy-overview), so the WAF "
                    "and the per-IP rate limit apply to the cached static paths on misses only; "
                    "edge policies take neither rule, and every other path stays uncached.",
                    owner=waivers.OWNER,
                    expires=waivers.EXPIRES,
                )
        address = ComputeGlobalAddress(
            self, "address", name=f"{prefix}-lb", address_type="EXTERNAL", ip_version="IPV4"
        )
        self.ip_address = address.address
        self.ds_record: str | None = None  # DNS-1: set by `_own_zone`

        default, host_rules, matchers = url_routes(config, backends, cdn_backends)
        https_map = ComputeUrlMap(
            self,
            "https-map",
            name=f"{prefix}-https",
            default_service=default,
            host_rule=host_rules or None,
            path_matcher=matchers or None,
        )
        self.url_map_name = https_map.name
        # EDGE-1. DEPLOY-2: held by the HTTPS proxy; replaced only if a description were added
        # (profile and TLS version update in place), so named and ordered for that.
        ssl_policy = ComputeSslPolicy(
            self,
            "tls",
            name=_replaceable_name(f"{prefix}-tls", "google_compute_ssl_policy", {}),
            profile="MODERN",
            min_tls_version="TLS_1_2",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        https_proxy = ComputeTargetHttpsProxy(
            self,
            "https-proxy",
            name=f"{prefix}-https",
            url_map=https_map.id,
            ssl_policy=ssl_policy.id,
            **self._certificate(config, address),
        )
        # EDGE-1: port 80 only redirects to HTTPS.
        redirect_map = ComputeUrlMap(
            self,
            "redirect-map",
            name=f"{prefix}-redirect",
            default_url_redirect=ComputeUrlMapDefaultUrlRedirect(
                https_redirect=True,
                strip_query=False,
                redirect_response_code="MOVED_PERMANENTLY_DEFAULT",
            ),
        )
        http_proxy = ComputeTargetHttpProxy(
            self, "http-proxy", name=f"{prefix}-http", url_map=redirect_map.id
        )
        rules = {
            port: ComputeGlobalForwardingRule(
                self,
                f"rule-{port}",
                name=f"{prefix}-{port}",
                target=target,
                ip_address=address.id,
                port_range=port,
                ip_protocol="TCP",
                load_balancing_scheme="EXTERNAL_MANAGED",
            )
            for port, target in (("443", https_proxy.id), ("80", http_proxy.id))
        }
        # What serves HTTPS on the domain: the 443 rule, after its proxy, which waits for an
        # ACTIVE certificate (up to an hour on a first apply). The uptime check waits for it.
        self.https_rule = rules["443"]

    def _neg(self, config: EnvironmentConfig, svc: Service, suffix: str, role: str) -> str:
        """A serverless NEG `<prefix><suffix>-<role>` for `svc` (construct `neg<suffix>` for
        the uncached backend, as before; `cdn-neg<suffix>` for the CDN one)."""
        neg = ComputeRegionNetworkEndpointGroup(
            self,
            f"neg{suffix}" if role == "run" else f"{role}-neg{suffix}",
            name=f"{config.prefix}{suffix}-{role}",
            region=config.gcp.region,
            network_endpoint_type="SERVERLESS",
            cloud_run=ComputeRegionNetworkEndpointGroupCloudRun(service=svc.name),
        )
        return neg.id

    def _certificate(
        self, config: EnvironmentConfig, address: ComputeGlobalAddress
    ) -> dict[str, Any]:
        """The HTTPS proxy's certificate arguments (DEPLOY-5: never a certificate that is not
        issued yet), and the A records of every name it covers."""
        own_zone = config.features.dns_enabled
        zone_name = ""
        delegation: list[DnsRecordSet] = []
        if config.gcp.dns_zone is not None:
            # A private zone, or one for another domain, would accept the record and still
            # leave the domain unresolvable from the internet. With DNS-1 the zone is the
            # parent that delegates `domain` to the stack's own zone: a strict parent.
            parent = f'endswith("{config.domain}.", format(".%s", self.dns_name))'
            condition = (
                f'${{self.visibility == "public" && {parent}}}'
                if own_zone
                else f'${{self.visibility == "public" && (self.dns_name == "{config.domain}." '
                f"|| {parent})}}"
            )
            # The zone lives in `gcp.dns_project` (default: the environment's project); read
            # it, and write into it, there (an unset `project` means the provider's, i.e. the
            # environment's, where a shared parent zone does not exist).
            zone = DataGoogleDnsManagedZone(
                self,
                "zone",
                name=config.gcp.dns_zone,
                project=config.gcp.zone_project,
                lifecycle=TerraformResourceLifecycle(
                    postcondition=[
                        Postcondition(
                            condition=condition,
                            error_message=(
                                f"gcp.dns_zone {config.gcp.dns_zone} must be a public zone of "
                                + (
                                    f"a parent domain of {config.domain} (features.dns_enabled "
                                    "creates the zone of the domain itself)."
                                    if own_zone
                                    else f"{config.domain} or of a parent domain of it."
                                )
                            ),
                        )
                    ]
                ),
            )
            zone_name = zone.name
            if own_zone:
                zone_name, delegation = self._own_zone(config, zone)
            # Every name the certificate covers resolves to the load balancer here.
            for host in route_hosts(config):
                DnsRecordSet(
                    self,
                    "record" if host == config.domain else f"record-{host.replace('.', '-')}",
                    managed_zone=zone_name,
                    # Into the parent zone's project, or with DNS-1 the stack's own zone.
                    project=None if own_zone else config.gcp.zone_project,
                    name=f"{host}.",
                    type="A",
                    ttl=300,
                    rrdatas=[address.address],
                )
        if config.gcp.ssl_certificate is not None:
            # An operator's self-managed certificate, referred to by its self link.
            project, name = config.gcp.project, config.gcp.ssl_certificate
            return {"ssl_certificates": [f"projects/{project}/global/sslCertificates/{name}"]}
        # `gcp_edge_problems` refuses a config with neither a zone nor a certificate.
        assert config.gcp.dns_zone is not None
        return self._certificate_map(config, zone_name, own_zone, delegation)

    def _certificate_map(
        self,
        config: EnvironmentConfig,
        zone_name: str,
        own_zone: bool,
        delegation: list[DnsRecordSet],
    ) -> dict[str, Any]:
        """EDGE-1, DEPLOY-2, DEPLOY-5: a Certificate Manager certificate, DNS-authorized, that is
        ACTIVE before the HTTPS proxy serves it (the module docstring says why); the proxy's
        arguments that serve it."""
        prefix = config.prefix
        domains = route_hosts(config)
        authorizations: list[str] = []
        challenges: list[DnsRecordSet] = []
        for host in domains:
            suffix = "" if host == config.domain else f"-{host.replace('.', '-')}"
            # One authorization per name: it covers "a single domain and its wildcard"
            # (the provider's google_certificate_manager_dns_authorization page, `domain`).
            # Global: FIXED_RECORD, a CNAME `_acme-challenge.<host>.` whose data Google gives
            # (https://cloud.google.com/certificate-manager/docs/dns-authorizations).
            authorization = CertificateManagerDnsAuthorization(
                self,
                f"dns-authorization{suffix}",
                name=_replaceable_name(
                    f"{prefix}-dnsauth",
                    "google_certificate_manager_dns_authorization",
                    {"domain": host},
                ),
                domain=host,
                description=f"{prefix}: lets Certificate Manager issue the certificate for {host}",
                lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            )
            challenge = authorization.dns_resource_record.get(0)
            challenges.append(
                DnsRecordSet(
                    self,
                    f"dns-authorization-record{suffix}",
                    # The zone the A records are written in (a name of `domain` or below).
                    managed_zone=zone_name,
                    project=None if own_zone else config.gcp.zone_project,
                    name=challenge.name,
                    type="CNAME",
                    ttl=300,
                    rrdatas=[challenge.data],
                )
            )
            # The reference as the synthesized JSON writes it, so the certificate's name hashes
            # what CKV_GW_DEPLOY_59 reads (a cdktf token would hash differently).
            authorizations.append(
                "${google_certificate_manager_dns_authorization."
                f"{authorization.friendly_unique_id}.id}}"
            )
        managed = {"domains": domains, "dns_authorizations": authorizations}
        # DEPLOY-2: `managed` replaces the certificate (synth/gcp_replacement.py) while the map
        # entry holds it: a hashed name, and the new one is created, awaited and put in the
        # entry before the old one is deleted.
        certificate = CertificateManagerCertificate(
            self,
            "managed-certificate",
            name=_replaceable_name(
                f"{prefix}-cert", "google_certificate_manager_certificate", {"managed": managed}
            ),
            description=f"{prefix}: the load balancer's certificate (EDGE-1)",
            managed=CertificateManagerCertificateManaged(**managed),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            # Authorization is checked once the certificate exists; its CNAMEs (and, with
            # DNS-1, the delegation that makes them resolve) exist by then.
            depends_on=[*delegation, *challenges],
        )
        # DEPLOY-5: issuance takes minutes to an hour; the entry (and so the proxy) moves to
        # the certificate only once it is ACTIVE, and the step runs again for each new one.
        active = GcloudStep(
            self,
            "certificate-active",
            project=config.gcp.project,
            does="wait until the Certificate Manager certificate is ACTIVE (at most 60 minutes)",
            args=[
                "certificate-manager",
                "certificates",
                "describe",
                certificate.name,
                "--location=global",
                "--format=value(managed.state)",
            ],
            apis=("certificatemanager.googleapis.com",),
            role="roles/certificatemanager.admin",
            triggers={"certificate": certificate.id},
            depends_on=[certificate],
            script=await_active(config.gcp.project, certificate.name),
        )
        certificate_map = CertificateManagerCertificateMap(
            self,
            "certificate-map",
            name=f"{prefix}-certificates",
            description=f"{prefix}: the certificates the HTTPS proxy serves (EDGE-1)",
        )
        # PRIMARY: served for every SNI name no hostname entry matches, and without SNI
        # (https://cloud.google.com/certificate-manager/docs/maps); the certificate names every
        # route host. `certificates` updates in place (not ForceNew in the provider's
        # resource_certificate_manager_certificate_map_entry.go), so a new certificate never
        # leaves the map without an entry.
        entry = CertificateManagerCertificateMapEntry(
            self,
            "certificate-map-entry",
            name=f"{prefix}-primary",
            description=f"{prefix}: {', '.join(domains)}",
            map=certificate_map.name,
            matcher="PRIMARY",
            certificates=[certificate.id],
            depends_on=[active],
        )
        # An environment created before this version has its proxy serve the Compute Engine
        # certificate `edge/certificate`. The provider sets `ssl_certificates`
        # (setSslCertificates) before `certificate_map` (setCertificateMap), so dropping one
        # while adding the other first asks for a proxy with neither, which the API refuses
        # ("Certificate Map or at least 1 SSL certificate must be specified for setting SSL
        # certificates in TargetHttpsProxy": GoogleCloudPlatform/k8s-config-connector#4602;
        # hashicorp/terraform-provider-google#12513, where attaching the map first is the
        # maintainers' answer). So this step attaches the map to a proxy that already exists
        # first: with both, the proxy "uses the certificates referenced in the certificate map
        # and ignores the directly attached certificates" (https://cloud.google.com/
        # certificate-manager/docs/maps, "Attach a certificate map to a proxy"), so HTTPS moves
        # to the ACTIVE certificate with no gap; the proxy's own update then drops the old
        # certificate, and Terraform deletes it once nothing holds it. Where the proxy does
        # not exist yet (a first apply) the step does nothing and the proxy is created with
        # the map. It runs again only if the map or the proxy is renamed.
        proxy = f"{prefix}-https"
        listed = shlex.join(
            [
                "gcloud", "compute", "target-https-proxies", "list",
                f"--filter=name={proxy}", "--format=value(name)",
                f"--project={config.gcp.project}",
            ]
        )  # fmt: skip
        update = [
            "compute", "target-https-proxies", "update", proxy, "--global",
            f"--certificate-map={certificate_map.name}",
        ]  # fmt: skip
        attach = GcloudStep(
            self,
            "certificate-map-attached",
            project=config.gcp.project,
            does="attach the certificate map to an existing HTTPS proxy before Terraform "
            "drops its Compute Engine certificate",
            args=update,
            apis=("compute.googleapis.com", "certificatemanager.googleapis.com"),
            role="roles/compute.admin",
            triggers={"map": certificate_map.id, "proxy": proxy},
            depends_on=[entry],
            script=f'if [ -n "$({listed})" ]; then '
            f"{GcloudStep.command(config.gcp.project, update, None)}; fi",
        )
        return {
            "certificate_map": f"//certificatemanager.googleapis.com/{certificate_map.id}",
            "depends_on": [entry, attach],
        }

    def _own_zone(
        self, config: EnvironmentConfig, parent: DataGoogleDnsManagedZone
    ) -> tuple[str, list[DnsRecordSet]]:
        """DNS-1: the environment's public zone for `domain`, DNSSEC-signed, delegated from
        `parent` by an NS record; (its name, [the delegation])."""
        dns_name = f"{config.domain}."
        zone = DnsManagedZone(
            self,
            "own-zone",
            # 1-63 lowercase letters, digits, dashes (synth/names.py); the hash of its
            # replacing arguments lets a new zone exist beside the old (synth/gcp_replacement.py)
            name=_replaceable_name(
                config.prefix,
                "google_dns_managed_zone",
                {"dns_name": dns_name, "visibility": "public"},
            ),
            dns_name=dns_name,
            description=f"{config.prefix}: the environment's domain (DNS-1)",
            visibility="public",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            # DNSSEC on, with Cloud DNS's default algorithms stated (never RSASHA1, CKV_GCP_17):
            # https://cloud.google.com/dns/docs/dnssec-advanced#advanced-signing-options.
            dnssec_config=DnsManagedZoneDnssecConfig(
                state="on",
                non_existence="nsec3",
                default_key_specs=[
                    DnsManagedZoneDnssecConfigDefaultKeySpecs(
                        algorithm="rsasha256", key_length=2048, key_type="keySigning"
                    ),
                    DnsManagedZoneDnssecConfigDefaultKeySpecs(
                        algorithm="rsasha256", key_length=1024, key_type="zoneSigning"
                    ),
                ],
            ),
            force_destroy=False,  # a destroy never deletes records someone else added
        )
        # Subdelegation: an NS record of the subdomain in the parent zone, whose data are the
        # child zone's name servers (https://cloud.google.com/dns/docs/dns-overview#delegation).
        delegation = DnsRecordSet(
            self,
            "delegation",
            managed_zone=parent.name,
            project=config.gcp.zone_project,  # the parent's project, not the environment's
            name=zone.dns_name,
            type="NS",
            ttl=300,
            rrdatas=zone.name_servers,
        )
        # The DS record a signed parent needs to vouch for this zone's keys (the provider's
        # google_dns_keys page; https://cloud.google.com/dns/docs/dnssec-advanced#subdelegation).
        keys = DataGoogleDnsKeys(self, "own-zone-keys", managed_zone=zone.id)
        # The stack's output. `try`: should the key list still be empty when the data source
        # is read right after the zone is created, the output says so until the next apply
        # rather than failing this one on an index.
        self.ds_record = Token.as_string(
            Fn.try_([keys.key_signing_keys.get(0).ds_record, "pending: apply again"])
        )
        return zone.name, [delegation]
