"""Builds CKV_GW_CDN_40: with `features.cdn_enabled`, Cloud CDN is in front of the load
balancer for static content only, the WAF still judges what reaches the origin, and the origin
is reachable only through the load balancer (CDN-1).

Each backend service of the external load balancer must:
- have Cloud CDN on (`enable_cdn`), caching static content only: cache mode CACHE_ALL_STATIC
  (static Content-Types, and what the origin marks cacheable) or USE_ORIGIN_HEADERS (only
  what the origin marks cacheable); FORCE_CACHE_ALL caches every successful response,
  private ones included (https://cloud.google.com/cdn/docs/using-cache-modes);
- bound its TTLs (at most a day) and its negative caching: an explicit policy whose TTLs are
  at most 5 minutes (without a policy Cloud CDN caches redirects for 10 minutes:
  https://cloud.google.com/cdn/docs/using-negative-caching);
- keep the host in the cache key (several route hosts share a backend);
- keep its Cloud Armor backend policy (the WAF), which judges every request that goes to
  the origin (https://cloud.google.com/armor/docs/security-policy-overview);
- reach only Cloud Run services whose ingress admits the load balancer and internal traffic
  only (https://cloud.google.com/run/docs/securing/ingress), so the CDN cannot be bypassed
  through the service's own URL.
With the switch off (and no backend with Cloud CDN on) the check gives no result, so CDN-1
shows n/a, never pass.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

STATIC_MODES = frozenset({"CACHE_ALL_STATIC", "USE_ORIGIN_HEADERS"})
MAX_TTL = 86400
MAX_NEGATIVE_TTL = 300
PRIVATE_INGRESS = frozenset(
    {"INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "INGRESS_TRAFFIC_INTERNAL_ONLY"}
)


def _ttl_verdicts(policy: dict[str, Any]) -> list[Verdict]:
    verdicts = []
    for name in ("default_ttl", "client_ttl", "max_ttl"):
        value = policy.get(name)
        if isinstance(value, int) and value > MAX_TTL:
            verdicts.append(Verdict.failed(f"cdn_policy.{name} {value} s is over a day"))
    if policy.get("cache_mode") == "CACHE_ALL_STATIC" and not isinstance(
        policy.get("max_ttl"), int
    ):
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
            if not isinstance(ttl, int) or ttl > MAX_NEGATIVE_TTL:
                verdicts.append(
                    Verdict.failed(
                        f"negative caching of {code.get('code')} for {ttl} s (at most "
                        f"{MAX_NEGATIVE_TTL})"
                    )
                )
    return verdicts


class CdnInFrontOfTheLoadBalancer(GroundworkCheck):
    id = "CKV_GW_CDN_40"
    name = (
        "Cloud CDN caches static content only in front of the load balancer, the WAF stays "
        "on the backend, and the origin admits the load balancer only"
    )
    requirement = "CDN-1"
    severity = "MEDIUM"
    resource_types = ("google_compute_backend_service",)

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        # The external load balancer's backends, where a CDN is meant to be: the switch is on,
        # or some backend of the stack has Cloud CDN on (then every one is judged).
        if body.get("load_balancing_scheme") not in ("EXTERNAL", "EXTERNAL_MANAGED"):
            return False
        switched_on = stack.config is not None and stack.config.features.cdn_enabled
        return switched_on or any(
            b.get("enable_cdn") is True
            for b in stack.graph.of_type("google_compute_backend_service").values()
        )

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        if body.get("enable_cdn") is not True:
            verdicts.append(Verdict.failed("enable_cdn is not true: no CDN in front"))
        policy = (blocks(body, "cdn_policy") or [{}])[0]
        mode = policy.get("cache_mode")
        if mode not in STATIC_MODES:
            verdicts.append(Verdict.failed(f"cache_mode {mode!r} caches more than static content"))
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
        verdicts.extend(self._origins(body, stack))
        return combine(verdicts or [Verdict.passed("CDN for static content, behind the WAF")])

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
