"""Builds CKV_GW_CDN_1: CloudFront is in front of the load balancer for the environment's
names, caches the static paths the config lists and nothing else, carries a web ACL, speaks
HTTPS to viewers and to the origin, and the origin admits CloudFront only (CDN-1).

Judged on `aws_cloudfront_distribution`, the stack's config giving the names
(`domain` and the routed hosts) and the static path patterns (`edge.cdn_static_paths`):
- its one origin is the stack's ALB (`aws_lb.<x>.dns_name`), `https-only`;
- every behavior redirects viewers to HTTPS (or allows HTTPS only) and forwards all viewer
  headers, Host included, with the managed AllViewer origin request policy (the ALB's
  certificate and host rules need the viewer's Host, constructs/aws/cdn.py);
- each static pattern has its own behavior that caches: with the managed CachingOptimized
  policy when the distribution serves one name, and, when it serves several (services routed
  by host), with a cache policy of this stack whose key includes Host and no cookies or
  query strings: CachingOptimized's key has no Host, so two hosts' `/static/x` would share
  one entry ("Understand the cache key",
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-the-cache-key.html);
  the default behavior uses CachingDisabled: the app's own responses are never cached;
- `web_acl_id` is a `aws_wafv2_web_acl` of this stack with scope CLOUDFRONT;
- `aliases` are exactly the environment's names, and each has an alias record to the
  distribution;
- the ALB's security groups admit nothing from the internet, only the CloudFront
  origin-facing prefix list (AWS-managed, "Restrict access to Application Load Balancers",
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/restrict-access-to-load-balancer.html).
"""

import re
from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
)

CACHED = "Managed-CachingOptimized"
UNCACHED = "Managed-CachingDisabled"
FORWARD_ALL = "Managed-AllViewer"
CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
HTTPS_VIEWER = ("redirect-to-https", "https-only")


DATA_REFERENCE = re.compile(r"\$\{(data\.[A-Za-z0-9_]+\.[A-Za-z0-9_-]+)\.[^}]*\}")


def data_address(reference: Any) -> str | None:
    """`data.<type>.<name>` from `${data.<type>.<name>.<attribute>}`."""
    match = DATA_REFERENCE.fullmatch(str(reference))
    return match.group(1) if match else None


def _named(stack: Stack, reference: Any, data_type: str) -> str | None:
    """The `name` of the data source `reference` points at (a managed policy's name)."""
    address = data_address(reference)
    if not address or not address.startswith(f"data.{data_type}."):
        return None
    body = stack.graph.bodies.get(address) or {}
    name = body.get("name")
    return str(name) if name is not None else None


def _static_cache_problem(
    stack: Stack, behavior: dict[str, Any] | None, *, per_host: bool
) -> str | None:
    """Why a static path's behavior does not cache it right, or None: CachingOptimized, or
    a cache policy of this stack that caches (non-zero TTL) without cookies or query strings
    in its key. `per_host`: the distribution serves several names, so only the latter, with
    Host in its key."""
    if behavior is None:
        return "no behavior"
    reference = behavior.get("cache_policy_id")
    if not per_host and _named(stack, reference, "aws_cloudfront_cache_policy") == CACHED:
        return None
    address = address_of(reference) or ""
    if not address.startswith("aws_cloudfront_cache_policy."):
        return (
            f"not cached with a cache policy of this stack keyed on Host ({CACHED}'s key has "
            "no Host, and this distribution serves several hosts)"
            if per_host
            else f"not cached with {CACHED}"
        )
    policy = stack.graph.bodies.get(address) or {}
    key = (blocks(policy, "parameters_in_cache_key_and_forwarded_to_origin") or [{}])[0]
    headers = (blocks(key, "headers_config") or [{}])[0]
    listed = [
        str(item).lower()
        for block in blocks(headers, "headers")
        for item in block.get("items") or []
    ]
    if per_host and (headers.get("header_behavior") != "whitelist" or "host" not in listed):
        return f"{address}: Host is not in the cache key, and several hosts share the paths"
    cookies = (blocks(key, "cookies_config") or [{}])[0].get("cookie_behavior")
    queries = (blocks(key, "query_strings_config") or [{}])[0].get("query_string_behavior")
    if cookies != "none" or queries != "none":
        return f"{address}: cookies or query strings in the cache key of a static path"
    if not policy.get("default_ttl", 86_400) or not policy.get("max_ttl", 31_536_000):
        return f"{address}: caches nothing (zero TTL)"
    return None


class CdnInFrontOfTheLoadBalancer(GroundworkCheck):
    id = "CKV_GW_CDN_1"
    name = "CloudFront fronts the ALB: static paths cached, the rest forwarded, WAF, HTTPS"
    requirement = "CDN-1"
    severity = "HIGH"
    resource_types = ("aws_cloudfront_distribution",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        config = stack.config
        assert config is not None
        hosts = sorted(
            {
                s.route.host
                for s in config.services
                if s.route is not None and s.route.host not in (None, config.domain)
            }
        )
        names = [config.domain, *hosts]
        verdicts: list[Verdict] = []
        origins = blocks(body, "origin")
        balancers = set(stack.resources("aws_lb"))
        origin_ok = (
            len(origins) == 1
            and (address_of(origins[0].get("domain_name")) or "").startswith("aws_lb.")
            and (address_of(origins[0].get("domain_name")) or "")[len("aws_lb.") :] in balancers
        )
        if not origin_ok:
            verdicts.append(Verdict.failed("the one origin is not this stack's load balancer"))
        for origin in origins:
            custom = (blocks(origin, "custom_origin_config") or [{}])[0]
            if custom.get("origin_protocol_policy") != "https-only":
                verdicts.append(Verdict.failed("the origin is not reached over HTTPS only"))
        default = (blocks(body, "default_cache_behavior") or [{}])[0]
        ordered = blocks(body, "ordered_cache_behavior")
        for where, behavior in [("default", default)] + [
            (str(b.get("path_pattern")), b) for b in ordered
        ]:
            if behavior.get("viewer_protocol_policy") not in HTTPS_VIEWER:
                verdicts.append(Verdict.failed(f"{where}: viewers may use plain HTTP"))
            forwarded = _named(
                stack,
                behavior.get("origin_request_policy_id"),
                "aws_cloudfront_origin_request_policy",
            )
            if forwarded != FORWARD_ALL:
                verdicts.append(
                    Verdict.failed(f"{where}: forwards {forwarded}, not {FORWARD_ALL} (Host)")
                )
        if _named(stack, default.get("cache_policy_id"), "aws_cloudfront_cache_policy") != (
            UNCACHED
        ):
            verdicts.append(Verdict.failed(f"the default behavior is not {UNCACHED}"))
        patterns = {str(b.get("path_pattern")): b for b in ordered}
        for path in config.edge.cdn_static_paths:
            behavior = patterns.pop(path, None)
            problem = _static_cache_problem(stack, behavior, per_host=len(names) > 1)
            if problem:
                verdicts.append(Verdict.failed(f"edge.cdn_static_paths {path}: {problem}"))
        for path in patterns:
            verdicts.append(Verdict.failed(f"{path}: a behavior edge.cdn_static_paths omits"))
        acl = address_of(body.get("web_acl_id"))
        acl_body = stack.graph.bodies.get(acl or "") or {}
        if not (acl or "").startswith("aws_wafv2_web_acl.") or acl_body.get("scope") != (
            "CLOUDFRONT"
        ):
            verdicts.append(Verdict.failed("no CLOUDFRONT web ACL of this stack is attached"))
        if sorted(body.get("aliases") or []) != sorted(names):
            verdicts.append(
                Verdict.failed(f"aliases {body.get('aliases')} are not the names {names}")
            )
        pointed = {
            str(r.get("name"))
            for r in stack.resources("aws_route53_record").values()
            for alias in blocks(r, "alias")
            if f"{self.address}." in str(alias.get("name"))
        }
        for name in names:
            if name not in pointed:
                verdicts.append(Verdict.failed(f"{name} has no alias record to the distribution"))
        verdicts += self._origin_only_through_cloudfront(stack)
        return (
            combine(verdicts)
            if verdicts
            else Verdict.passed(
                f"{', '.join(names)} through CloudFront; {len(config.edge.cdn_static_paths)} "
                "static patterns cached; the ALB admits CloudFront only"
            )
        )

    @staticmethod
    def _origin_only_through_cloudfront(stack: Stack) -> list[Verdict]:
        groups = {
            address_of(group)
            for lb in stack.resources("aws_lb").values()
            for group in lb.get("security_groups") or []
        }
        verdicts = []
        admitted = False
        for name, rule in stack.resources("aws_vpc_security_group_ingress_rule").items():
            if address_of(rule.get("security_group_id")) not in groups:
                continue
            sources = {rule.get("cidr_ipv4"), rule.get("cidr_ipv6")} - {None}
            if sources:
                verdicts.append(
                    Verdict.failed(f"{name} admits {sorted(sources)} to the ALB, not CloudFront")
                )
            prefix = data_address(rule.get("prefix_list_id")) or ""
            listed = stack.graph.bodies.get(prefix) or {}
            if listed.get("name") == CLOUDFRONT_PREFIX_LIST:
                admitted = True
        if not admitted:
            verdicts.append(Verdict.failed("the ALB does not admit CloudFront's prefix list"))
        return verdicts


check = CdnInFrontOfTheLoadBalancer()
