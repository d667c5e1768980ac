"""Builds the CDN (`features.cdn_enabled`): Azure Front Door Premium in front of the gateway,
serving `domain` with a Front Door managed certificate.

Satisfies: CDN-1, EDGE-1, EDGE-2, EDGE-3, OBS-2, DEPLOY-2, DEPLOY-4, DEPLOY-5, DEPLOY-6

- CDN-1: profile `afd-<prefix>` (Premium_AzureFrontDoor, the SKU whose WAF runs managed rule
  sets: https://learn.microsoft.com/azure/frontdoor/standard-premium/tier-comparison), one
  endpoint, an origin group probing the domain's `/` service health path with HEAD over HTTPS,
  and one origin: the Application Gateway at the host name `origin.<domain>` (synth.config
  `azure_origin_host`), sent as SNI and host header with the certificate name check on. Front
  Door checks the gateway's certificate against the origin's host name, so an IP origin would
  fail every request (https://learn.microsoft.com/azure/frontdoor/troubleshoot-issues,
  MicrosoftDocs/azure-docs #65432; CKV_GW_DEPLOY_96); the gateway's HTTPS listener answers
  that name (constructs/azure/edge.py `domain_host`), the operator's CA-issued certificate
  names it (a self-signed one is refused with the CDN: synth.config `azure_edge_problems`),
  and an A record in the operator's zone points it at the gateway's public IP (the
  `gateway_public_ip` output names the record). Two routes on the domain:
  `edge.cdn_static_paths` cached at the edge (query strings in the key, compressed), and
  `/*` forwarded uncached; both HTTPS-only to the origin, HTTP redirected to HTTPS.
  The origin is reachable only through this profile where Azure allows it
  ("Secure traffic to Azure Front Door origins",
  https://learn.microsoft.com/azure/frontdoor/origin-security): the gateway subnet's NSG
  admits the `AzureFrontDoor.Backend` service tag on 443 and no Internet
  (constructs/azure/network.py), and the gateway's WAF blocks any request whose
  `X-Azure-FDID` header is not this profile's resource GUID (constructs/azure/edge.py), since
  the service tag covers every customer's Front Door.
- EDGE-2 at the edge: a Front Door WAF policy (Prevention) with Microsoft's Default Rule Set
  2.1 and the Bot Manager rule set 1.0, both Block (DRS 2.x scores anomalies and blocks on
  the score; hashicorp/terraform-provider-azurerm #18480, #19095), and a per-client-IP rate
  limit of `edge.rate_limit_per_minute` per socket address over one minute (Front Door counts
  per edge server, so below about 200 a minute some requests above it get through:
  https://learn.microsoft.com/azure/web-application-firewall/afds/waf-front-door-rate-limit),
  attached to the custom domain by a security policy. The gateway behind it, which sees Front
  Door's addresses, no longer rate-limits by IP.
- DEPLOY-2: the origin depends on the gateway it names by host name, so the origin and the
  routes that use it go live only once the gateway (and its listener for `origin.<domain>`)
  exists.
- EDGE-1 at the edge: the custom domain takes TLS 1.2 minimum. EDGE-3 at the edge: Front
  Door's access, health-probe and WAF logs go to the environment's Log Analytics workspace.
- OBS-2 at the edge: a critical alert to the environment's action group when more than 1 % of
  the requests Front Door answers are 5xx, including those it returns itself (origin
  unreachable, certificate refused), which the gateway's access log never sees.
- The custom domain `domain` takes a Front Door managed certificate, which Front Door issues
  and rotates once `domain` is a CNAME to the endpoint and `_dnsauth.<domain>` carries the
  validation token ("Configure a custom domain on Azure Front Door",
  https://learn.microsoft.com/azure/frontdoor/standard-premium/how-to-add-custom-domain). The
  operator writes both records in their own zone from the `front_door_host` and
  `front_door_validation_token` outputs (CKV_GW_DEPLOY_99; README, "Azure: CDN and DNS"). DNS-1
  (the stack's own zone) is refused on Azure: a managed certificate on the apex of that zone
  does not rotate by itself (synth.config NOT_EXPRESSIBLE).
"""

from __future__ import annotations

import re

from cdktf_cdktf_provider_azurerm.application_gateway import ApplicationGateway
from cdktf_cdktf_provider_azurerm.cdn_frontdoor_custom_domain import (
    CdnFrontdoorCustomDomain,
    CdnFrontdoorCustomDomainTls,
)
from cdktf_cdktf_provider_azurerm.cdn_frontdoor_custom_domain_association import (
    CdnFrontdoorCustomDomainAssociation,
)
from cdktf_cdktf_provider_azurerm.cdn_frontdoor_endpoint import CdnFrontdoorEndpoint
from cdktf_cdktf_provider_azurerm.cdn_frontdoor_firewall_policy import (
    CdnFrontdoorFirewallPolicy,
    CdnFrontdoorFirewallPolicyCustomRule,
    CdnFrontdoorFirewallPolicyCustomRuleMatchCondition,
    CdnFrontdoorFirewallPolicyManagedRule,
)
from cdktf_cdktf_provider_azurerm.cdn_frontdoor_origin import CdnFrontdoorOrigin
from cdktf_cdktf_provider_azurerm.cdn_frontdoor_origin_group import (
    CdnFrontdoorOriginGroup,
    CdnFrontdoorOriginGroupHealthProbe,
    CdnFrontdoorOriginGroupLoadBalancing,
)
from cdktf_cdktf_provider_azurerm.cdn_frontdoor_profile import CdnFrontdoorProfile
from cdktf_cdktf_provider_azurerm.cdn_frontdoor_route import (
    CdnFrontdoorRoute,
    CdnFrontdoorRouteCache,
)
from cdktf_cdktf_provider_azurerm.cdn_frontdoor_security_policy import (
    CdnFrontdoorSecurityPolicy,
    CdnFrontdoorSecurityPolicySecurityPolicies,
    CdnFrontdoorSecurityPolicySecurityPoliciesFirewall,
    CdnFrontdoorSecurityPolicySecurityPoliciesFirewallAssociation,
    CdnFrontdoorSecurityPolicySecurityPoliciesFirewallAssociationDomain,
)
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktf_cdktf_provider_azurerm.monitor_metric_alert import (
    MonitorMetricAlert,
    MonitorMetricAlertAction,
    MonitorMetricAlertCriteria,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct
from constructs.azure.observability import CRITICAL

from synth.config import EnvironmentConfig, azure_origin_host

SKU = "Premium_AzureFrontDoor"
FRONT_DOOR_PROBE_SECONDS = 100  # the origin group's health probe (FrontDoor.serve)
MANAGED_RULE_SETS = (("Microsoft_DefaultRuleSet", "2.1"), ("Microsoft_BotManagerRuleSet", "1.0"))
# Front Door compresses only the MIME types it is told to
# (https://learn.microsoft.com/azure/frontdoor/standard-premium/how-to-compression).
COMPRESSED_TYPES = [
    "text/css",
    "text/html",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
]
# EDGE-3 at the edge: Front Door's access, health-probe and WAF logs
# (https://learn.microsoft.com/azure/frontdoor/front-door-diagnostics).
LOG_CATEGORIES = (
    "FrontDoorAccessLog",
    "FrontDoorHealthProbeLog",
    "FrontDoorWebApplicationFirewallLog",
)


# EDGE-2 at the edge: the requirement's limit as written, per client socket address over one
# minute. Front Door counts each client per edge server, so "some requests above the threshold
# get through" below about 200 a minute (https://learn.microsoft.com/azure/
# web-application-firewall/afds/waf-front-door-rate-limit, "Rate limits and Azure Front Door
# servers"); that page's more accurate form, five minutes at five times the rate, would let one
# client send 500 requests in the window's first minute (Azure first-apply review), which
# loosens EDGE-2 by design rather than by the platform's counting. `SocketAddr` is the address
# of the TCP connection; `RemoteAddr` is taken from X-Forwarded-For, which the client writes.
RATE_LIMIT_WINDOW_MINUTES = 1


def front_door_rate_limit(per_minute: int) -> int:
    """The Front Door threshold for `edge.rate_limit_per_minute` over its 1-minute window."""
    return per_minute * RATE_LIMIT_WINDOW_MINUTES


# OBS-2 at the edge: the 5xx ratio of every request Front Door answers, including the errors
# it returns itself (origin unreachable, origin certificate refused), which never reach the
# gateway's AGWAccessLogs. A platform metric of the profile, `Percentage5XX` ("the percentage of
# all the client requests for which the response status code is 5XX", Average;
# https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/
# microsoft-cdn-profiles-metrics), exists from the profile's creation, unlike a log query on
# AzureDiagnostics, whose table exists only once a row has arrived and whose workaround (a
# `union`) log search alerts do not support ("Optimize log search alert queries",
# MicrosoftDocs/azure-monitor-docs alerts-log-query.md; Azure first-apply review).
FRONT_DOOR_5XX_METRIC = ("Microsoft.Cdn/profiles", "Percentage5XX")
FRONT_DOOR_5XX_ALERT = "front-door-5xx-rate"


def firewall_policy_name(prefix: str) -> str:
    """Front Door WAF policy names take letters and digits only, starting with a letter
    (azurerm `validate.FrontDoorWAFName`; synth/names.py)."""
    return "waf" + re.sub(r"[^A-Za-z0-9]", "", prefix)


class FrontDoor(Construct):
    """Front Door profile `afd-<prefix>`; `serve` puts it in front of the gateway."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
    ) -> None:
        super().__init__(scope, id_)
        self._config = config
        self._resource_group = resource_group
        origin_host = azure_origin_host(config)
        assert origin_host is not None  # built only with features.cdn_enabled
        self.origin_host = origin_host
        # Created before the gateway: its WAF admits only this profile's GUID (X-Azure-FDID).
        self.profile = CdnFrontdoorProfile(
            self,
            "profile",
            name=f"afd-{config.prefix}",
            resource_group_name=resource_group.name,
            sku_name=SKU,
            response_timeout_seconds=60,
        )

    def serve(self, *, gateway: ApplicationGateway, workspace: LogAnalyticsWorkspace) -> None:
        """Endpoint, WAF, origin (`gateway` at `origin.<domain>`), routes and the custom
        domain, whose records the operator writes in their zone (stacks/azure.py outputs)."""
        config = self._config
        rg = self._resource_group
        self.firewall_policy = CdnFrontdoorFirewallPolicy(
            self,
            "waf",
            name=firewall_policy_name(config.prefix),
            resource_group_name=rg.name,
            sku_name=self.profile.sku_name,
            enabled=True,
            mode="Prevention",
            request_body_check_enabled=True,
            managed_rule=[
                CdnFrontdoorFirewallPolicyManagedRule(
                    type=rule_set, version=version, action="Block"
                )
                for rule_set, version in MANAGED_RULE_SETS
            ],
            custom_rule=[
                CdnFrontdoorFirewallPolicyCustomRule(
                    name="RateLimitPerClientIp",
                    priority=10,
                    type="RateLimitRule",
                    action="Block",
                    enabled=True,
                    rate_limit_duration_in_minutes=RATE_LIMIT_WINDOW_MINUTES,
                    rate_limit_threshold=front_door_rate_limit(config.edge.rate_limit_per_minute),
                    match_condition=[
                        CdnFrontdoorFirewallPolicyCustomRuleMatchCondition(
                            match_variable="SocketAddr",
                            operator="IPMatch",
                            negation_condition=False,
                            # every client; Front Door counts per client IP
                            match_values=["0.0.0.0/0", "::/0"],
                        )
                    ],
                )
            ],
        )
        self.endpoint = CdnFrontdoorEndpoint(
            self,
            "endpoint",
            name=f"fde-{config.prefix}",
            cdn_frontdoor_profile_id=self.profile.id,
            enabled=True,
        )
        root = next(
            s
            for s in config.services
            if s.route is not None and s.route.path_prefix == "/" and s.route.host is None
        )
        # One origin: should its probes fail, Front Door still sends requests to every enabled
        # origin of a group whose origins are all unhealthy (https://learn.microsoft.com/azure/
        # frontdoor/health-probes; PSRule Azure.FrontDoor.Probe), so the probe informs the
        # health metric and never takes the only origin out of service.
        self.origin_group = CdnFrontdoorOriginGroup(
            self,
            "origin-group",
            name="gateway",
            cdn_frontdoor_profile_id=self.profile.id,
            session_affinity_enabled=False,
            load_balancing=CdnFrontdoorOriginGroupLoadBalancing(
                sample_size=4, successful_samples_required=3
            ),
            health_probe=CdnFrontdoorOriginGroupHealthProbe(
                protocol="Https",
                # "For lower load and cost on your backends, Front Door recommends using HEAD
                # requests for health probes" (https://learn.microsoft.com/azure/frontdoor/
                # health-probes; PSRule Azure.FrontDoor.ProbeMethod). A server that answers GET
                # answers HEAD the same way (RFC 9110 9.3.2), and the gateway's own probe of the
                # app stays EDGE-4's GET (constructs/azure/edge.py).
                request_type="HEAD",
                path=root.health.path,
                # Every Front Door edge location probes each origin on its own, so a short
                # interval multiplies into a steady load of WAF-inspected, logged requests on
                # the gateway and app ("Health probes", same page); with the one origin here the
                # probe only reports health (a sole unhealthy origin still gets traffic), and
                # the gateway's own probe keeps EDGE-4's 10 s. 100 s keeps that report useful.
                interval_in_seconds=FRONT_DOOR_PROBE_SECONDS,
            ),
        )
        # Front Door sends the origin's host name as SNI and checks the gateway's certificate
        # against it (an IP origin fails every request: "My origin is configured as an IP
        # address", https://learn.microsoft.com/azure/frontdoor/troubleshoot-issues;
        # MicrosoftDocs/azure-docs #65432), so the origin is `origin.<domain>`, which the
        # gateway's HTTPS listener answers (constructs/azure/edge.py `domain_host`) and the
        # operator's certificate names. The host header is the same name, so SNI and Host
        # both select that listener.
        self.origin = CdnFrontdoorOrigin(
            self,
            "origin",
            name="gateway",
            cdn_frontdoor_origin_group_id=self.origin_group.id,
            enabled=True,
            host_name=self.origin_host,
            origin_host_header=self.origin_host,
            certificate_name_check_enabled=True,
            http_port=80,
            https_port=443,
            priority=1,
            weight=1000,
            # DEPLOY-2: the origin names the gateway only by host name, which Terraform cannot
            # see; without this, the origin and the routes that use it would go live, and
            # probes and requests reach a gateway still being built (CKV_GW_DEPLOY_98).
            depends_on=[gateway],
        )
        self.custom_domain = CdnFrontdoorCustomDomain(
            self,
            "domain",
            name="domain",
            cdn_frontdoor_profile_id=self.profile.id,
            host_name=config.domain,
            tls=CdnFrontdoorCustomDomainTls(
                certificate_type="ManagedCertificate", minimum_tls_version="TLS12"
            ),
        )
        routing = {
            "cdn_frontdoor_endpoint_id": self.endpoint.id,
            "cdn_frontdoor_origin_group_id": self.origin_group.id,
            "cdn_frontdoor_origin_ids": [self.origin.id],
            "cdn_frontdoor_custom_domain_ids": [self.custom_domain.id],
            "forwarding_protocol": "HttpsOnly",
            "https_redirect_enabled": True,
            "supported_protocols": ["Http", "Https"],
            # Only the domain serves: the default azurefd.net host is not linked.
            "link_to_default_domain": False,
            "enabled": True,
        }
        self.static_route = CdnFrontdoorRoute(
            self,
            "static-route",
            name="static",
            patterns_to_match=list(config.edge.cdn_static_paths),
            cache=CdnFrontdoorRouteCache(
                query_string_caching_behavior="UseQueryString",
                compression_enabled=True,
                content_types_to_compress=COMPRESSED_TYPES,
            ),
            **routing,
        )
        # No cache block: Front Door forwards every request of this route to the origin.
        self.app_route = CdnFrontdoorRoute(
            self, "app-route", name="app", patterns_to_match=["/*"], **routing
        )
        routes = [self.static_route, self.app_route]
        self.association = CdnFrontdoorCustomDomainAssociation(
            self,
            "domain-association",
            cdn_frontdoor_custom_domain_id=self.custom_domain.id,
            cdn_frontdoor_route_ids=[route.id for route in routes],
        )
        self.security_policy = CdnFrontdoorSecurityPolicy(
            self,
            "security-policy",
            name="waf",
            cdn_frontdoor_profile_id=self.profile.id,
            security_policies=CdnFrontdoorSecurityPolicySecurityPolicies(
                firewall=CdnFrontdoorSecurityPolicySecurityPoliciesFirewall(
                    cdn_frontdoor_firewall_policy_id=self.firewall_policy.id,
                    association=CdnFrontdoorSecurityPolicySecurityPoliciesFirewallAssociation(
                        patterns_to_match=["/*"],
                        domain=[
                            CdnFrontdoorSecurityPolicySecurityPoliciesFirewallAssociationDomain(
                                cdn_frontdoor_domain_id=self.custom_domain.id
                            )
                        ],
                    ),
                )
            ),
        )
        MonitorDiagnosticSetting(
            self,
            "logs",
            name="front-door-to-log-analytics",
            target_resource_id=self.profile.id,
            log_analytics_workspace_id=workspace.id,
            enabled_log=[MonitorDiagnosticSettingEnabledLog(category=c) for c in LOG_CATEGORIES],
            enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category="AllMetrics")],
        )

    def alert_on_errors(self, *, action_group_id: str) -> None:
        """OBS-2: the 5xx alert on Front Door's own metric, with the gateway's severity,
        threshold (1 %) and action group (constructs/azure/observability.py `http-5xx-rate`)."""
        config = self._config
        namespace, metric = FRONT_DOOR_5XX_METRIC
        MonitorMetricAlert(
            self,
            FRONT_DOOR_5XX_ALERT,
            name=f"{config.prefix}-{FRONT_DOOR_5XX_ALERT}",
            description="More than 1 % of requests answered with 5xx at Front Door",
            resource_group_name=self._resource_group.name,
            scopes=[self.profile.id],
            severity=CRITICAL,
            frequency="PT1M",
            window_size="PT5M",
            criteria=[
                MonitorMetricAlertCriteria(
                    metric_namespace=namespace,
                    metric_name=metric,
                    aggregation="Average",
                    operator="GreaterThan",
                    threshold=1,
                )
            ],
            action=[MonitorMetricAlertAction(action_group_id=action_group_id)],
        )
