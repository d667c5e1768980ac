"""Edge: HTTPS-only global load balancer, TLS 1.2 policy, Cloud Armor WAF and rate limit, logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_google.provider import GoogleProvider
from conftest import resources_of
from constructs.gcp.edge import WAF_RULES, Edge

from synth.config import load_environment
from synth.gcp_replacement import replacement_suffix

ROOT = Path(__file__).resolve().parents[3]


class FakeService:
    """What Edge reads from a service component: its name and its description."""

    def __init__(self, name: str, spec: Any) -> None:
        self.name = name
        self.spec = spec


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    config = load_environment(ROOT / "environments" / "dev.yaml", cloud="gcp")
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    Edge(stack, "edge", config=config, services=[FakeService("groundwork-dev", config.services[0])])  # type: ignore[list-item]
    return json.loads(CdktfTesting.synth(stack))


def test_https_with_a_tls_1_2_policy_and_http_only_redirects_edge_1(
    stack: dict[str, Any],
) -> None:
    [policy] = resources_of(stack, "google_compute_ssl_policy")
    assert (policy["profile"], policy["min_tls_version"]) == ("MODERN", "TLS_1_2")
    [proxy] = resources_of(stack, "google_compute_target_https_proxy")
    assert "google_compute_ssl_policy" in proxy["ssl_policy"]
    [cert] = resources_of(stack, "google_certificate_manager_certificate")
    assert cert["managed"]["domains"] == ["dev.groundwork.example.com"]
    assert resources_of(stack, "google_compute_managed_ssl_certificate") == []
    maps = {m["name"]: m for m in resources_of(stack, "google_compute_url_map")}
    assert maps["groundwork-dev-redirect"]["default_url_redirect"]["https_redirect"] is True
    assert "default_service" not in maps["groundwork-dev-redirect"]
    ports = {r["port_range"] for r in resources_of(stack, "google_compute_global_forwarding_rule")}
    assert ports == {"443", "80"}


def test_cloud_armor_has_the_waf_rule_set_and_a_per_ip_rate_ban_edge_2(
    stack: dict[str, Any],
) -> None:
    [policy] = resources_of(stack, "google_compute_security_policy")
    rules = policy["rule"]
    [ban] = [r for r in rules if r["action"] == "rate_based_ban"]
    options = ban["rate_limit_options"]
    assert options["enforce_on_key"] == "IP"
    assert options["rate_limit_threshold"] == {"count": 100, "interval_sec": 60}
    waf = [r["match"]["expr"]["expression"] for r in rules if r["action"] == "deny(403)"]
    assert len(waf) == len(WAF_RULES)
    for name in ("sqli", "xss", "lfi", "rce", "cve-canary"):
        assert any(f"'{name}" in expression for expression in waf)
    [backend] = resources_of(stack, "google_compute_backend_service")
    assert "google_compute_security_policy" in backend["security_policy"]


def test_backend_logs_every_request_edge_3(stack: dict[str, Any]) -> None:
    [backend] = resources_of(stack, "google_compute_backend_service")
    assert backend["log_config"] == {"enable": True, "sample_rate": 1}
    assert backend["load_balancing_scheme"] == "EXTERNAL_MANAGED"
    [neg] = resources_of(stack, "google_compute_region_network_endpoint_group")
    assert neg["network_endpoint_type"] == "SERVERLESS"
    assert neg["cloud_run"]["service"] == "groundwork-dev"


def test_the_domain_resolves_to_the_load_balancer_in_the_operators_zone_deploy_5(
    stack: dict[str, Any],
) -> None:
    [record] = [r for r in resources_of(stack, "google_dns_record_set") if r["type"] == "A"]
    assert record["name"] == "dev.groundwork.example.com."
    [address] = record["rrdatas"]
    assert address.startswith("${google_compute_global_address.edge_address")
    assert address.endswith(".address}")
    [zone] = stack["data"]["google_dns_managed_zone"].values()
    assert zone["name"] == "groundwork-example-com"
    assert record["managed_zone"].startswith("${data.google_dns_managed_zone.")
    [condition] = zone["lifecycle"]["postcondition"]
    assert 'self.visibility == "public"' in condition["condition"]
    assert '"dev.groundwork.example.com."' in condition["condition"]


def _single(stack: dict[str, Any], rtype: str) -> tuple[str, dict[str, Any]]:
    """(`type.logical id`, body) of the one resource of `rtype`."""
    [(name, body)] = stack["resource"][rtype].items()
    return f"{rtype}.{name}", body


def test_the_certificate_is_dns_authorized_awaited_active_then_mapped_then_served_deploy_2(
    stack: dict[str, Any],
) -> None:
    """Certificate -> wait step -> map entry -> proxy: the proxy never serves a certificate
    that is still PROVISIONING, on the first apply or after a host change."""
    authorization, auth = _single(stack, "google_certificate_manager_dns_authorization")
    assert auth["domain"] == "dev.groundwork.example.com"
    suffix = replacement_suffix("google_certificate_manager_dns_authorization", auth)
    assert auth["name"] == f"groundwork-dev-dnsauth-{suffix}"
    # Its CNAME goes into the operator's zone, in the zone's project.
    [cname] = [r for r in resources_of(stack, "google_dns_record_set") if r["type"] == "CNAME"]
    assert cname["name"] == f"${{{authorization}.dns_resource_record[0].name}}"
    assert cname["rrdatas"] == [f"${{{authorization}.dns_resource_record[0].data}}"]
    assert cname["managed_zone"].startswith("${data.google_dns_managed_zone.")
    assert cname["project"] == "groundwork-dns"
    certificate, cert = _single(stack, "google_certificate_manager_certificate")
    assert cert["managed"]["dns_authorizations"] == [f"${{{authorization}.id}}"]
    assert cert["lifecycle"]["create_before_destroy"] is True
    suffix = replacement_suffix("google_certificate_manager_certificate", cert)
    assert cert["name"] == f"groundwork-dev-cert-{suffix}"
    assert any(
        d.startswith("google_dns_record_set.edge_dns-authorization-record")
        for d in cert["depends_on"]
    )
    [(step, wait)] = [
        (f"terraform_data.{n}", b)
        for n, b in stack["resource"]["terraform_data"].items()
        if b["input"]["gcloud"][:2] == ["certificate-manager", "certificates"]
    ]
    assert wait["depends_on"] == [certificate]
    assert wait["triggers_replace"] == {"certificate": f"${{{certificate}.id}}"}
    assert wait["input"]["gcloud"][:4] == [
        "certificate-manager", "certificates", "describe", f"${{{certificate}.name}}"
    ]  # fmt: skip
    command = wait["provisioner"][0]["local-exec"]["command"]
    assert "ACTIVE) exit 0" in command and "FAILED)" in command and "3600" in command
    entry, map_entry = _single(stack, "google_certificate_manager_certificate_map_entry")
    assert map_entry["depends_on"] == [step]
    assert map_entry["certificates"] == [f"${{{certificate}.id}}"]
    assert map_entry["matcher"] == "PRIMARY"
    certificate_map, _ = _single(stack, "google_certificate_manager_certificate_map")
    assert map_entry["map"] == f"${{{certificate_map}.name}}"
    _, proxy = _single(stack, "google_compute_target_https_proxy")
    assert (
        proxy["certificate_map"] == f"//certificatemanager.googleapis.com/${{{certificate_map}.id}}"
    )
    assert entry in proxy["depends_on"]
    assert "ssl_certificates" not in proxy


def test_an_existing_proxy_gets_the_map_before_it_drops_its_certificate_deploy_2(
    stack: dict[str, Any],
) -> None:
    """The provider sets ssl_certificates before certificate_map, and the API refuses a proxy
    with neither: a step attaches the map to a proxy that exists already (the map wins over
    its old certificate), and the proxy's own update waits for that step."""
    steps = {
        tuple(b["input"]["gcloud"][:3]): (f"terraform_data.{n}", b)
        for n, b in stack["resource"]["terraform_data"].items()
    }
    step, attach = steps[("compute", "target-https-proxies", "update")]
    certificate_map, _ = _single(stack, "google_certificate_manager_certificate_map")
    entry, _ = _single(stack, "google_certificate_manager_certificate_map_entry")
    assert attach["input"]["gcloud"][3:] == [
        "groundwork-dev-https", "--global", f"--certificate-map=${{{certificate_map}.name}}"
    ]  # fmt: skip
    assert attach["depends_on"] == [entry]
    command = attach["provisioner"][0]["local-exec"]["command"]
    # Only where the proxy exists: a first apply creates it with the map.
    assert command.startswith(
        'if [ -n "$(gcloud compute target-https-proxies list --filter=name=groundwork-dev-https'
    )
    assert "gcloud compute target-https-proxies update groundwork-dev-https --global" in command
    _, proxy = _single(stack, "google_compute_target_https_proxy")
    assert step in proxy["depends_on"]
    assert "lifecycle" not in proxy and "removed" not in stack


def test_an_existing_certificate_replaces_the_managed_one_deploy_5() -> None:
    config = load_environment(ROOT / "environments" / "dev.yaml", cloud="gcp")
    config = config.model_copy(
        update={"gcp": config.gcp.model_copy(update={"dns_zone": None, "ssl_certificate": "app"})}
    )
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    Edge(stack, "edge", config=config, services=[FakeService("groundwork-dev", config.services[0])])  # type: ignore[list-item]
    synthesized = json.loads(CdktfTesting.synth(stack))
    assert resources_of(synthesized, "google_compute_managed_ssl_certificate") == []
    assert resources_of(synthesized, "google_certificate_manager_certificate") == []
    assert resources_of(synthesized, "google_dns_record_set") == []
    [proxy] = resources_of(synthesized, "google_compute_target_https_proxy")
    assert proxy["ssl_certificates"] == ["projects/groundwork-dev/global/sslCertificates/app"]
    assert "certificate_map" not in proxy
    assert "terraform_data" not in synthesized["resource"]


def edge_with(**features: bool) -> dict[str, Any]:
    config = load_environment(ROOT / "environments" / "dev.yaml", cloud="gcp")
    config = config.model_copy(update={"features": config.features.model_copy(update=features)})
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    Edge(stack, "edge", config=config, services=[FakeService("groundwork-dev", config.services[0])])  # type: ignore[list-item]
    return json.loads(CdktfTesting.synth(stack))


def test_cdn_switch_caches_the_static_paths_only_on_a_cdn_backend_cdn_1(
    stack: dict[str, Any],
) -> None:
    [off] = resources_of(stack, "google_compute_backend_service")
    assert "enable_cdn" not in off and "cdn_policy" not in off  # the switch is off in dev
    on = edge_with(cdn_enabled=True)
    backends = {b["name"]: b for b in resources_of(on, "google_compute_backend_service")}
    assert set(backends) == {"groundwork-dev-run", "groundwork-dev-cdn"}
    # The backend every non-static path reaches is unchanged: Cloud CDN stays off there.
    assert backends["groundwork-dev-run"] == off
    cdn = backends["groundwork-dev-cdn"]
    assert cdn["enable_cdn"] is True
    policy = cdn["cdn_policy"]
    assert policy["cache_mode"] == "CACHE_ALL_STATIC"  # static Content-Types only
    assert (policy["default_ttl"], policy["client_ttl"], policy["max_ttl"]) == (3600, 3600, 86400)
    assert policy["negative_caching"] is True
    assert policy["negative_caching_policy"] == [{"code": 404, "ttl": 60}, {"code": 410, "ttl": 60}]
    assert policy["bypass_cache_on_request_headers"] == [{"header_name": "Authorization"}]
    assert policy["cache_key_policy"] == {
        "include_host": True,
        "include_protocol": True,
        "include_query_string": True,
    }
    # The WAF stays on the CDN backend: it judges every request that reaches the origin.
    assert "google_compute_security_policy.edge_waf" in cdn["security_policy"]
    # Its own serverless NEG, for the same Cloud Run service.
    negs = {n["name"]: n for n in resources_of(on, "google_compute_region_network_endpoint_group")}
    assert set(negs) == {"groundwork-dev-run", "groundwork-dev-cdn"}
    assert negs["groundwork-dev-cdn"]["cloud_run"] == negs["groundwork-dev-run"]["cloud_run"]
    assert "edge_cdn-neg" in cdn["backend"][0]["group"]
    # The URL map: the cached paths go to the CDN backend, everything else (the default of
    # the map and of the domain's path matcher) to the uncached one.
    url_map = next(m for m in resources_of(on, "google_compute_url_map") if "default_service" in m)
    assert "google_compute_backend_service.edge_backend_" in url_map["default_service"]
    assert url_map["host_rule"] == [
        {"hosts": ["dev.groundwork.example.com"], "path_matcher": "routes-0"}
    ]
    [matcher] = url_map["path_matcher"]
    assert matcher["default_service"] == url_map["default_service"]
    [rule] = matcher["path_rule"]
    assert rule["paths"] == ["/assets/*", "/static/*"]
    assert "google_compute_backend_service.edge_cdn-backend_" in rule["service"]


def test_cached_paths_follow_the_route_that_serves_them_cdn_1() -> None:
    from constructs.gcp.edge import cached_routes

    config = load_environment(
        ROOT / "tests" / "constructs" / "gcp" / "environments" / "described.yaml", cloud="gcp"
    )
    edge = config.edge.model_copy(update={"cdn_static_paths": ["/static/*", "/api/docs/*"]})
    config = config.model_copy(update={"edge": edge})
    # `/api/docs/*` is under the api service's `/api` route: its CDN backend serves it.
    assert cached_routes(config) == {
        "dev.groundwork.example.com": {"/static/*": "web", "/api/docs/*": "api"}
    }
    off = config.model_copy(
        update={"features": config.features.model_copy(update={"cdn_enabled": False})}
    )
    assert cached_routes(off) == {}


def test_dns_switch_creates_a_signed_zone_delegated_from_the_parent_dns_1(
    stack: dict[str, Any],
) -> None:
    assert resources_of(stack, "google_dns_managed_zone") == []  # the switch is off in dev
    on = edge_with(dns_enabled=True)
    [zone] = resources_of(on, "google_dns_managed_zone")
    assert (zone["dns_name"], zone["visibility"]) == ("dev.groundwork.example.com.", "public")
    # A new domain is a new zone beside the old one (create_before_destroy is forced on it by
    # the certificate that waits for its records): its name follows its replacing arguments.
    assert zone["name"] == "groundwork-dev-" + replacement_suffix(
        "google_dns_managed_zone", {"dns_name": zone["dns_name"], "visibility": "public"}
    )
    assert zone["lifecycle"]["create_before_destroy"] is True
    assert zone["dnssec_config"]["state"] == "on"
    assert {s["algorithm"] for s in zone["dnssec_config"]["default_key_specs"]} == {"rsasha256"}
    records = {r["type"]: r for r in resources_of(on, "google_dns_record_set")}
    # The parent (gcp.dns_zone, read as a data source) delegates to the zone's name servers.
    delegation = records["NS"]
    assert delegation["managed_zone"].startswith("${data.google_dns_managed_zone.edge_zone_")
    assert delegation["rrdatas"].endswith(".name_servers}")
    assert "google_dns_managed_zone.edge_own-zone_" in delegation["name"]
    # The A record and the authorization's CNAME are in the new zone, and the certificate
    # waits for the CNAME and the delegation that makes it resolve.
    for kind in ("A", "CNAME"):
        assert records[kind]["managed_zone"].startswith("${google_dns_managed_zone.edge_own-zone_")
        assert "project" not in records[kind]
    assert records["A"]["name"] == "dev.groundwork.example.com."
    [certificate] = resources_of(on, "google_certificate_manager_certificate")
    assert certificate["managed"]["domains"] == ["dev.groundwork.example.com"]
    waits = {d.rsplit("_", 1)[0] for d in certificate["depends_on"]}
    assert waits == {
        "google_dns_record_set.edge_delegation",
        "google_dns_record_set.edge_dns-authorization-record",
    }
    # The parent must be a strict parent: the postcondition no longer accepts the domain's zone.
    [parent] = on["data"]["google_dns_managed_zone"].values()
    condition = parent["lifecycle"]["postcondition"][0]["condition"]
    assert 'self.dns_name == "dev.groundwork.example.com."' not in condition
    assert "endswith" in condition


def edge_in(dns_project: str | None, **features: bool) -> dict[str, Any]:
    config = load_environment(ROOT / "environments" / "dev.yaml", cloud="gcp")
    config = config.model_copy(
        update={
            "features": config.features.model_copy(update=features),
            "gcp": config.gcp.model_copy(update={"dns_project": dns_project}),
        }
    )
    stack = TerraformStack(CdktfTesting.app(), "test")
    GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    Edge(stack, "edge", config=config, services=[FakeService("groundwork-dev", config.services[0])])  # type: ignore[list-item]
    return json.loads(CdktfTesting.synth(stack))


@pytest.mark.parametrize(
    ("dns_project", "zone_project"), [(None, "groundwork-dev"), ("shared-dns", "shared-dns")]
)
def test_the_parent_zone_is_read_and_written_in_gcp_dns_project_deploy_5(
    dns_project: str | None, zone_project: str
) -> None:
    # Without DNS-1 the A record goes into gcp.dns_zone, in its project.
    off = edge_in(dns_project)
    [zone] = off["data"]["google_dns_managed_zone"].values()
    assert zone["project"] == zone_project
    records = {r["type"]: r for r in resources_of(off, "google_dns_record_set")}
    assert set(records) == {"A", "CNAME"}  # the domain, its DNS authorization
    assert {r["project"] for r in records.values()} == {zone_project}
    # With DNS-1 the delegation goes there; the A record goes into the stack's own zone, in the
    # environment's project (the provider's: no project on it).
    on = edge_in(dns_project, dns_enabled=True)
    [zone] = on["data"]["google_dns_managed_zone"].values()
    assert zone["project"] == zone_project
    records = {r["type"]: r for r in resources_of(on, "google_dns_record_set")}
    assert records["NS"]["project"] == zone_project
    assert "project" not in records["A"]
    assert "google_dns_managed_zone.edge_own-zone" in records["A"]["managed_zone"]


def test_held_immutable_resources_are_replaced_before_deleted_deploy_2(
    stack: dict[str, Any],
) -> None:
    """The certificate, SSL policy and Cloud Armor policy are created before the ones they
    replace are deleted, under a name that changes with what replaces them."""
    from synth.gcp_replacement import replacement_suffix

    [certificate] = resources_of(stack, "google_certificate_manager_certificate")
    assert certificate["lifecycle"]["create_before_destroy"] is True
    assert certificate["managed"]["domains"] == ["dev.groundwork.example.com"]
    suffix = replacement_suffix("google_certificate_manager_certificate", certificate)
    assert certificate["name"] == f"groundwork-dev-cert-{suffix}"
    # Another host gives another name: the new certificate can exist beside the old one.
    managed = certificate["managed"]
    other = replacement_suffix(
        "google_certificate_manager_certificate",
        {
            "managed": {
                **managed,
                "domains": [*managed["domains"], "api.dev.groundwork.example.com"],
            }
        },
    )
    assert other != suffix and len(other) == 8
    [waf] = resources_of(stack, "google_compute_security_policy")
    assert waf["lifecycle"]["create_before_destroy"] is True
    assert waf["name"] == "groundwork-dev-waf-" + replacement_suffix(
        "google_compute_security_policy", {"type": "CLOUD_ARMOR"}
    )
    [tls] = resources_of(stack, "google_compute_ssl_policy")
    assert tls["lifecycle"]["create_before_destroy"] is True
    assert tls["name"] == "groundwork-dev-tls-" + replacement_suffix(
        "google_compute_ssl_policy", {}
    )
