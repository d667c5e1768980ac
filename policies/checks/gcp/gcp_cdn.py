"""Builds CKV_GW_CDN_40: with `features.cdn_enabled`, Cloud CDN is in front of the load
balancer for the static paths only (`edge.cdn_static_paths`), the WAF still judges what reaches
the origin, and the origin is reachable only through the load balancer (CDN-1).

Cloud CDN caches per backend service, whatever path reaches it, and it caches error responses
without cache directives ("Error responses may be cached even in the absence of valid cache
directives": https://cloud.google.com/cdn/docs/caching) and static Content-Types whatever
credentials the request carried. So CDN-1's "static paths cached" is judged through the URL
map, as on Azure:
- the HTTPS URL map (`google_compute_url_map` with a default service) routes every cached
  path, in every path matcher, to a backend with Cloud CDN on, and has at least one path
  matcher doing so;
- a backend service with Cloud CDN on is never a URL map's or a path matcher's default service
  and is named only in path rules whose paths are all cached paths; it caches in mode
  CACHE_ALL_STATIC only (FORCE_CACHE_ALL caches private responses:
  https://cloud.google.com/cdn/docs/using-cache-modes; USE_ORIGIN_HEADERS refuses the TTLs
  that bound the cache: hashicorp/terraform-provider-google#18860), with TTLs of at most a day,
  negative caching either off or limited to 404 and 410 for at most 5 minutes (without a policy
  Cloud CDN caches redirects for 10 minutes: https://cloud.google.com/cdn/docs/using-negative-
  caching; any other code is an error of the app, not a missing asset), `Authorization` in
  `bypass_cache_on_request_headers` (a credentialed request is never answered from the cache:
  Compute API BackendService.cdnPolicy.bypassCacheOnRequestHeaders), and the host in the cache
  key (several route hosts share a backend);
- it keeps its Cloud Armor backend policy (the WAF), which judges every request that goes to
  the origin (https://cloud.google.com/armor/docs/security-policy-overview);
- it reaches only Cloud Run services whose ingress admits the load balancer and internal
  traffic only (https://cloud.google.com/run/docs/securing/ingress), so the CDN cannot be
  bypassed through the service's own URL.
With the switch off (and no backend with Cloud CDN on) the check gives no result, so CDN-1
shows n/a, never pass.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

STATIC_MODES = frozenset({"CACHE_ALL_STATIC"})
MAX_TTL = 86400
MAX_NEGATIVE_TTL = 300
NEGATIVE_CODES = frozenset({404, 410})
BYPASS_HEADERS = frozenset({"authorization"})
PRIVATE_INGRESS = frozenset(
    {"INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "INGRESS_TRAFFIC_INTERNAL_ONLY"}
)
BACKEND = "google_compute_backend_service"
URL_MAP = "google_compute_url_map"


def _ttl_verdicts(policy: dict[str, Any]) -> list[Verdict]:
    verdicts = []
    for name in ("default_ttl", "client_ttl", "max_ttl"):
        value = policy.get(name)
        if isinstance(value, int) and value > MAX_TTL:
            verdicts.append(Verdict.failed(f"cdn_policy.{name} {value} s is over a day"))
    if not isinstance(policy.get("max_ttl"), int):
        verdicts.append(Verdict.failed("cdn_policy.max_ttl is not set: the cap is unbounded"))
    if policy.get("negative_caching") is not False:
        codes = blocks(policy, "negative_caching_policy")
        if not codes:
            verdicts.append(
                Verdict.failed(
                    "negative caching without a policy: Cloud CDN's defaults cache redirects "
                    "for 10 minutes"
                )
            )
        for code in codes:
            ttl = code.get("ttl")
            if code.get("code") not in NEGATIVE_CODES:
                verdicts.append(
                    Verdict.failed(
                        f"negative caching of {code.get('code')}: an error of the app, cached "
                        "and served to everyone (only 404 and 410 are missing assets)"
                    )
                )
            if not isinstance(ttl, int) or ttl > MAX_NEGATIVE_TTL:
                verdicts.append(
                    Verdict.failed(
                        f"negative caching of {code.get('code')} for {ttl} s (at most "
                        f"{MAX_NEGATIVE_TTL})"
                    )
                )
    bypass = {
        str(h.get("header_name", "")).lower()
        for h in blocks(policy, "bypass_cache_on_request_headers")
    }
    if not BYPASS_HEADERS.issubset(bypass):
        verdicts.append(
            Verdict.failed(
                "Authorization is not in bypass_cache_on_request_headers: a credentialed "
                "request may be answered from the cache"
            )
        )
    return verdicts


def _cdn_backends(stack: Stack) -> set[str]:
    return {a for a, b in stack.graph.of_type(BACKEND).items() if b.get("enable_cdn") is True}


def _cached_paths(stack: Stack) -> frozenset[str] | None:
    return frozenset(stack.config.edge.cdn_static_paths) if stack.config is not None else None


class CdnInFrontOfTheLoadBalancer(GroundworkCheck):
    id = "CKV_GW_CDN_40"
    name = (
        "Cloud CDN caches the static paths only in front of the load balancer, the WAF stays "
        "on the backend, and the origin admits the load balancer only"
    )
    requirement = "CDN-1"
    severity = "MEDIUM"
    resource_types = (BACKEND, URL_MAP)

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        # A backend with Cloud CDN on, and the HTTPS URL map (the one with a default service,
        # not the port-80 redirect) where the switch is on or some backend has Cloud CDN on.
        if self.address.startswith(f"{BACKEND}."):
            return body.get("load_balancing_scheme") in (
                "EXTERNAL",
                "EXTERNAL_MANAGED",
            ) and (body.get("enable_cdn") is True)
        if body.get("default_service") is None:
            return False
        switched_on = stack.config is not None and stack.config.features.cdn_enabled
        return switched_on or bool(_cdn_backends(stack))

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self.address.startswith(f"{URL_MAP}."):
            return self._url_map(body, stack)
        verdicts = []
        policy = (blocks(body, "cdn_policy") or [{}])[0]
        mode = policy.get("cache_mode")
        if mode not in STATIC_MODES:
            verdicts.append(
                Verdict.failed(
                    f"cache_mode {mode!r}: only CACHE_ALL_STATIC caches static content with "
                    "bounded TTLs"
                )
            )
        verdicts.extend(_ttl_verdicts(policy))
        key = (blocks(policy, "cache_key_policy") or [{}])[0]
        if key.get("include_host") is False:
            verdicts.append(Verdict.failed("the cache key leaves out the host"))
        armor = address_of(body.get("security_policy"))
        armor_body = stack.graph.bodies.get(armor or "")
        if armor_body is None or not armor.startswith("google_compute_security_policy."):  # type: ignore[union-attr]
            verdicts.append(Verdict.failed("no Cloud Armor policy (the WAF) on the backend"))
        elif armor_body.get("type", "CLOUD_ARMOR") != "CLOUD_ARMOR":
            verdicts.append(
                Verdict.failed(f"{armor} is {armor_body.get('type')}, not the backend WAF")
            )
        verdicts.extend(self._served_paths(stack))
        verdicts.extend(self._origins(body, stack))
        return combine(verdicts or [Verdict.passed("CDN for the static paths, behind the WAF")])

    def _served_paths(self, stack: Stack) -> list[Verdict]:
        """What the URL maps send to this backend: cached paths only."""
        me, cached = self.address, _cached_paths(stack)
        verdicts, routed = [], False
        for address, url_map in stack.graph.of_type(URL_MAP).items():
            if address_of(url_map.get("default_service")) == me:
                verdicts.append(
                    Verdict.failed(f"{address} sends every unmatched path here: all are cached")
                )
            for matcher in blocks(url_map, "path_matcher"):
                where = f"{address} path matcher {matcher.get('name')}"
                if address_of(matcher.get("default_service")) == me:
                    verdicts.append(Verdict.failed(f"{where} sends its unmatched paths here"))
                for rule in blocks(matcher, "route_rules"):
                    if address_of(rule.get("service")) == me:
                        verdicts.append(Verdict.failed(f"{where} has a route rule to here"))
                for rule in blocks(matcher, "path_rule"):
                    if address_of(rule.get("service")) != me:
                        continue
                    routed = True
                    paths = rule.get("paths") or []
                    other = sorted(
                        str(p)
                        for p in paths
                        if (cached is not None and p not in cached)
                        or not str(p).endswith("/*")
                        or p == "/*"
                    )
                    if other:
                        verdicts.append(
                            Verdict.failed(
                                f"{where} sends {', '.join(other)} here, not a cached path "
                                "(edge.cdn_static_paths): dynamic responses would be cached"
                            )
                        )
        if not routed:
            verdicts.append(Verdict.failed("no URL map path rule sends a cached path here"))
        return verdicts

    def _url_map(self, body: dict[str, Any], stack: Stack) -> Verdict:
        """Every cached path, in every path matcher, goes to a backend with Cloud CDN on."""
        cdn = _cdn_backends(stack)
        cached = _cached_paths(stack)
        verdicts = []
        if address_of(body.get("default_service")) in cdn:
            verdicts.append(Verdict.failed("the default service has Cloud CDN on"))
        matchers = blocks(body, "path_matcher")
        if not matchers:
            verdicts.append(Verdict.failed("no path matcher routes the cached paths to a CDN"))
        for matcher in matchers:
            name = matcher.get("name")
            if address_of(matcher.get("default_service")) in cdn:
                verdicts.append(Verdict.failed(f"path matcher {name}'s default has Cloud CDN on"))
            to: dict[str, str | None] = {}
            for rule in blocks(matcher, "path_rule"):
                for path in rule.get("paths") or []:
                    to[str(path)] = address_of(rule.get("service"))
            uncached = sorted(
                p for p, target in to.items() if target in cdn and p not in (cached or {p})
            )
            if uncached:
                verdicts.append(
                    Verdict.failed(
                        f"path matcher {name} sends {', '.join(uncached)} to Cloud CDN: not "
                        "a cached path (edge.cdn_static_paths)"
                    )
                )
            for path in sorted(cached if cached is not None else []):
                if to.get(path) not in cdn:
                    verdicts.append(
                        Verdict.failed(
                            f"path matcher {matcher.get('name')} does not send {path} to a "
                            "backend with Cloud CDN on"
                        )
                    )
        return combine(verdicts or [Verdict.passed("the cached paths go to Cloud CDN")])

    def _origins(self, body: dict[str, Any], stack: Stack) -> list[Verdict]:
        verdicts = []
        for backend in blocks(body, "backend"):
            neg = stack.graph.bodies.get(address_of(backend.get("group")) or "")
            for run in blocks(neg or {}, "cloud_run"):
                service = address_of(run.get("service"))
                target = stack.graph.bodies.get(service or "")
                if target is None:
                    verdicts.append(
                        Verdict.failed(f"the origin {run.get('service')} is not this stack's")
                    )
                elif target.get("ingress") not in PRIVATE_INGRESS:
                    verdicts.append(
                        Verdict.failed(
                            f"{service} admits {target.get('ingress') or 'all traffic'}: the "
                            "origin can be reached without the CDN"
                        )
                    )
                else:
                    verdicts.append(Verdict.passed(f"{service} admits the load balancer only"))
        if not verdicts:
            verdicts.append(Verdict.failed("no Cloud Run origin of this stack behind the CDN"))
        return verdicts


check = CdnInFrontOfTheLoadBalancer()
