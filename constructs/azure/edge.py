"""Builds the edge: Application Gateway WAF_v2 with a WAF policy, TLS policy, HTTPS and redirect.

Satisfies: EDGE-1, EDGE-2, EDGE-3, EDGE-4, NET-3, APP-7, CDN-1, DEPLOY-2

Routes (APP-7, `gateway_routing`): one HTTPS listener per route host (the environment's
domain as `https`, other hosts as `https-<n>`, each with a redirect-only HTTP listener), a
backend pool, settings and probe per routed service (today's `app`, `app-https`, `health` for
the default service), and per host a Basic rule to its `/` service or a path-based rule whose
path rules match a prefix as whole segments (`/api`, `/api/*`). Internal services are no
backend.

The gateway reads its certificate from Key Vault through the vault's private endpoint
(Application Gateway is not one of Key Vault's trusted services;
https://learn.microsoft.com/azure/application-gateway/key-vault-certs#verify-firewall-permissions-to-key-vault),
so it waits for that endpoint and its DNS zone link as well as for its role (DEPLOY-2).

- EDGE-1: the HTTPS listener on 443 uses the predefined `AppGwSslPolicy20220101S` (TLS 1.2
  minimum, strong ciphers) and a certificate referenced from Key Vault (versionless, so
  the gateway picks up renewals). The listener on 80 only redirects to HTTPS (permanent,
  path and query kept). The certificate's source is explicit (`azure.certificate`): a
  CA-issued certificate the operator keeps in their own Key Vault (`key_vault`; the gateway's
  identity gets Key Vault Secrets User on that one secret), or, where the file says why and
  never for the production tier, a self-signed one the stack creates in its vault
  (`self_signed`), which no browser or uptime probe trusts (synth.config
  `azure_certificate_problems`; CKV_GW_EDGE_75).
- EDGE-2: a WAF policy in Prevention mode with Microsoft's Default Rule Set 2.1 (the
  OWASP core rules plus Microsoft's) and the bot manager rules, and a rate-limit custom
  rule blocking a client IP above `config.edge.rate_limit_per_minute` requests per minute.
- EDGE-3: access, performance and firewall logs go to Log Analytics (resource-specific
  tables). Invalid headers: the gateway rejects malformed requests itself and the DRS
  protocol-enforcement rules block invalid headers.
- EDGE-4: each backend is probed with `GET` of its service's health path at its interval;
  connection draining 30 s.

CDN-1 (`features.cdn_enabled`, constructs/azure/cdn.py): behind Azure Front Door the WAF
first blocks every request whose `X-Azure-FDID` header is not the profile's resource GUID
(https://learn.microsoft.com/azure/frontdoor/origin-security), and leaves EDGE-2's per-client
limit to Front Door's WAF: the gateway then sees Front Door's addresses, and a per-address
limit would throttle many clients together.

The gateway spans `config.network.zones` zones, autoscaling from `min_replicas`
instances, and reaches the app over HTTPS on the environment's internal ingress.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_azurerm.application_gateway import (
    ApplicationGateway,
    ApplicationGatewayAutoscaleConfiguration,
    ApplicationGatewayBackendAddressPool,
    ApplicationGatewayBackendHttpSettings,
    ApplicationGatewayBackendHttpSettingsConnectionDraining,
    ApplicationGatewayFrontendIpConfiguration,
    ApplicationGatewayFrontendPort,
    ApplicationGatewayGatewayIpConfiguration,
    ApplicationGatewayHttpListener,
    ApplicationGatewayIdentity,
    ApplicationGatewayProbe,
    ApplicationGatewayProbeMatch,
    ApplicationGatewayRedirectConfiguration,
    ApplicationGatewayRequestRoutingRule,
    ApplicationGatewaySku,
    ApplicationGatewaySslCertificate,
    ApplicationGatewaySslPolicy,
    ApplicationGatewayUrlPathMap,
    ApplicationGatewayUrlPathMapPathRule,
)
from cdktf_cdktf_provider_azurerm.key_vault_certificate import (
    KeyVaultCertificate,
    KeyVaultCertificateCertificatePolicy,
    KeyVaultCertificateCertificatePolicyIssuerParameters,
    KeyVaultCertificateCertificatePolicyKeyProperties,
    KeyVaultCertificateCertificatePolicyLifetimeAction,
    KeyVaultCertificateCertificatePolicyLifetimeActionAction,
    KeyVaultCertificateCertificatePolicyLifetimeActionTrigger,
    KeyVaultCertificateCertificatePolicySecretProperties,
    KeyVaultCertificateCertificatePolicyX509CertificateProperties,
    KeyVaultCertificateCertificatePolicyX509CertificatePropertiesSubjectAlternativeNames,
)
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from cdktf_cdktf_provider_azurerm.public_ip import PublicIp
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from cdktf_cdktf_provider_azurerm.web_application_firewall_policy import (
    WebApplicationFirewallPolicy,
    WebApplicationFirewallPolicyCustomRules,
    WebApplicationFirewallPolicyCustomRulesMatchConditions,
    WebApplicationFirewallPolicyCustomRulesMatchConditionsMatchVariables,
    WebApplicationFirewallPolicyManagedRules,
    WebApplicationFirewallPolicyManagedRulesManagedRuleSet,
    WebApplicationFirewallPolicyPolicySettings,
)
from constructs import Construct
from constructs.azure import waivers
from constructs.azure.cdn import FrontDoor
from constructs.azure.keys import Keys
from constructs.azure.network import Network
from constructs.azure.propagation import propagated
from constructs.azure.service import Service

from synth.app import DEFAULT_SERVICE_NAME
from synth.app import Service as AppService
from synth.config import EnvironmentConfig, azure_origin_host
from synth.construct_waivers import waive

SSL_POLICY = "AppGwSslPolicy20220101S"  # EDGE-1: TLS 1.2 minimum
DRAIN_SECONDS = 30  # EDGE-4
MAX_INSTANCES = 10
LOG_CATEGORIES = (
    "ApplicationGatewayAccessLog",
    "ApplicationGatewayPerformanceLog",
    "ApplicationGatewayFirewallLog",
)
MANAGED_RULE_SETS = (("Microsoft_DefaultRuleSet", "2.1"), ("Microsoft_BotManagerRuleSet", "1.1"))


def domain_host(config: EnvironmentConfig) -> str:
    """The host the gateway answers for the domain's routes: the domain itself, or behind
    Front Door the origin host Front Door reaches it at (`origin.<domain>`: Front Door sends
    the origin's host name as SNI and checks the certificate against it; synth.config
    `azure_origin_host`). Clients then reach the domain at Front Door only."""
    return azure_origin_host(config) or config.domain


def route_hosts(config: EnvironmentConfig) -> list[str]:
    """Every host a route names, the domain's (`domain_host`) first: the HTTPS listeners, and
    the names the certificate must cover (a key_vault certificate: the operator's, README)."""
    hosts = [domain_host(config)]
    for service in config.services:
        host = service.route.host if service.route is not None else None
        if host is not None and host not in hosts:
            hosts.append(host)
    return hosts


def backend_names(service: str) -> tuple[str, str, str]:
    """(pool, settings, probe) of a routed service; today's names for the default service."""
    if service == DEFAULT_SERVICE_NAME:
        return "app", "app-https", "health"
    return f"svc-{service}", f"svc-{service}-https", f"svc-{service}-health"


def path_patterns(prefix: str) -> list[str]:
    """Application Gateway path rules for a whole-segment prefix: `/api` and `/api/...`
    (https://learn.microsoft.com/azure/application-gateway/url-route-overview)."""
    return [prefix, f"{prefix}/*"]


@dataclass
class Routing:
    """The gateway blocks that route the described services (APP-7)."""

    listeners: list[ApplicationGatewayHttpListener] = field(default_factory=list)
    pools: list[ApplicationGatewayBackendAddressPool] = field(default_factory=list)
    probes: list[ApplicationGatewayProbe] = field(default_factory=list)
    settings: list[ApplicationGatewayBackendHttpSettings] = field(default_factory=list)
    path_maps: list[ApplicationGatewayUrlPathMap] = field(default_factory=list)
    rules: list[ApplicationGatewayRequestRoutingRule] = field(default_factory=list)
    # Hosts other than the domain: an HTTP listener each, redirecting to its own HTTPS
    # listener (the domain's plain-HTTP requests take the basic `http-redirect` listener).
    redirect_listeners: list[ApplicationGatewayHttpListener] = field(default_factory=list)
    redirects: list[ApplicationGatewayRedirectConfiguration] = field(default_factory=list)
    redirect_rules: list[ApplicationGatewayRequestRoutingRule] = field(default_factory=list)


def gateway_routing(config: EnvironmentConfig, service: Service) -> Routing:
    """One HTTPS listener per route host (`https` for the domain), one backend per routed
    service probed on its health path, and per host a Basic rule to its `/` service or a
    path-based rule whose default is that host's `/` service (else the domain's)."""
    routing = Routing()
    routed = [s for s in config.services if s.route is not None]
    for described in routed:
        pool, settings, probe = backend_names(described.name)
        fqdn = service.apps[described.name].fqdn
        assert fqdn is not None  # routed services have ingress
        routing.pools.append(ApplicationGatewayBackendAddressPool(name=pool, fqdns=[fqdn]))
        routing.probes.append(
            ApplicationGatewayProbe(
                name=probe,
                protocol="Https",
                path=described.health.path,
                interval=described.health.interval_seconds,
                timeout=described.health.timeout_seconds,
                unhealthy_threshold=3,
                pick_host_name_from_backend_http_settings=True,
                match=ApplicationGatewayProbeMatch(status_code=["200-399"]),
            )
        )
        routing.settings.append(
            ApplicationGatewayBackendHttpSettings(
                name=settings,
                port=443,
                protocol="Https",
                cookie_based_affinity="Disabled",
                pick_host_name_from_backend_address=True,
                request_timeout=30,
                probe_name=probe,
                connection_draining=ApplicationGatewayBackendHttpSettingsConnectionDraining(
                    enabled=True, drain_timeout_sec=DRAIN_SECONDS
                ),
            )
        )

    def host_of(described: AppService) -> str:
        assert described.route is not None
        return described.route.host or domain_host(config)

    domain_root = next(
        s
        for s in routed
        if host_of(s) == domain_host(config) and s.route.path_prefix == "/"  # type: ignore[union-attr]
    )
    for index, host in enumerate(route_hosts(config)):
        listener = "https" if index == 0 else f"https-{index}"
        routing.listeners.append(
            ApplicationGatewayHttpListener(
                name=listener,
                frontend_ip_configuration_name="public",
                frontend_port_name="https",
                protocol="Https",
                ssl_certificate_name="tls",
                host_name=host,
                require_sni=True,
            )
        )
        if index > 0:
            # A multi-site HTTP listener per extra host, before the basic one (v2 SKUs process
            # rules by priority; https://learn.microsoft.com/azure/application-gateway/multiple-site-overview),
            # redirecting to that host's HTTPS listener.
            routing.redirect_listeners.append(
                ApplicationGatewayHttpListener(
                    name=f"http-redirect-{index}",
                    frontend_ip_configuration_name="public",
                    frontend_port_name="http",
                    protocol="Http",
                    host_name=host,
                )
            )
            routing.redirects.append(
                ApplicationGatewayRedirectConfiguration(
                    name=f"to-https-{index}",
                    redirect_type="Permanent",
                    target_listener_name=listener,
                    include_path=True,
                    include_query_string=True,
                )
            )
            routing.redirect_rules.append(
                ApplicationGatewayRequestRoutingRule(
                    name=f"http-to-https-{index}",
                    priority=180 + index,
                    rule_type="Basic",
                    http_listener_name=f"http-redirect-{index}",
                    redirect_configuration_name=f"to-https-{index}",
                )
            )
        on_host = [s for s in routed if host_of(s) == host]
        root = next((s for s in on_host if s.route.path_prefix == "/"), domain_root)  # type: ignore[union-attr]
        pool, settings, _ = backend_names(root.name)
        rule = "https-to-app" if index == 0 else f"https-to-{index}"
        priority = 100 + 10 * index
        # Application Gateway takes the first path rule that matches, in list order ("URL
        # Path Based Routing overview", https://learn.microsoft.com/azure/application-gateway/
        # url-route-overview), so a longer prefix (/api/admin) goes before one it nests in.
        paths = sorted(
            (s for s in on_host if s.route.path_prefix != "/"),  # type: ignore[union-attr]
            key=lambda s: (-len(s.route.path_prefix), s.name),  # type: ignore[union-attr]
        )
        if not paths:
            routing.rules.append(
                ApplicationGatewayRequestRoutingRule(
                    name=rule,
                    priority=priority,
                    rule_type="Basic",
                    http_listener_name=listener,
                    backend_address_pool_name=pool,
                    backend_http_settings_name=settings,
                )
            )
            continue
        path_map = "paths" if index == 0 else f"paths-{index}"
        routing.path_maps.append(
            ApplicationGatewayUrlPathMap(
                name=path_map,
                default_backend_address_pool_name=pool,
                default_backend_http_settings_name=settings,
                path_rule=[
                    ApplicationGatewayUrlPathMapPathRule(
                        name=backend_names(s.name)[0],
                        paths=path_patterns(s.route.path_prefix),  # type: ignore[union-attr]
                        backend_address_pool_name=backend_names(s.name)[0],
                        backend_http_settings_name=backend_names(s.name)[1],
                    )
                    for s in paths
                ],
            )
        )
        routing.rules.append(
            ApplicationGatewayRequestRoutingRule(
                name=rule,
                priority=priority,
                rule_type="PathBasedRouting",
                http_listener_name=listener,
                url_path_map_name=path_map,
            )
        )
    return routing


class Edge(Construct):
    """Application Gateway `agw-<prefix>` with WAF policy `waf-<prefix>` on `public_ip`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        network: Network,
        keys: Keys,
        service: Service,
        workspace: LogAnalyticsWorkspace,
        vault_path: list[ITerraformDependable],
        front_door: FrontDoor | None = None,
    ) -> None:
        super().__init__(scope, id_)
        rg = resource_group
        zones = [str(zone) for zone in range(1, config.network.zones + 1)]
        self.waf_policy = WebApplicationFirewallPolicy(
            self,
            "waf",
            name=f"waf-{config.prefix}",
            location=rg.location,
            resource_group_name=rg.name,
            policy_settings=WebApplicationFirewallPolicyPolicySettings(
                enabled=True,
                mode="Prevention",
                request_body_check=True,
                max_request_body_size_in_kb=128,
                file_upload_limit_in_mb=100,
            ),
            managed_rules=WebApplicationFirewallPolicyManagedRules(
                managed_rule_set=[
                    WebApplicationFirewallPolicyManagedRulesManagedRuleSet(
                        type=rule_set, version=version
                    )
                    for rule_set, version in MANAGED_RULE_SETS
                ]
            ),
            custom_rules=[
                *self._front_door_only(front_door),
                *self._rate_limit(config, front_door),
            ],
        )
        waive(
            self.waf_policy,
            "CKV_AZURE_135",
            reason="The WAF runs Microsoft's Default Rule Set 2.1, which includes the Log4j rule "
            "944240; this check only recognises the older OWASP 3.1 and 3.2 sets.",
            owner=waivers.OWNER,
            expires=waivers.EXPIRES,
        )
        self._rest(config, rg, network, keys, service, workspace, vault_path, zones)

    @staticmethod
    def _front_door_only(
        front_door: FrontDoor | None,
    ) -> list[WebApplicationFirewallPolicyCustomRules]:
        """CDN-1: behind Front Door, block every request whose X-Azure-FDID is not this
        profile's GUID: the AzureFrontDoor.Backend tag the NSG admits is every customer's Front
        Door (https://learn.microsoft.com/azure/frontdoor/origin-security, "Front Door
        identifier").

        Health probes: Front Door documents that it adds X-Azure-FDID to the requests it sends
        to origins and marks its probes with `X-FD-HealthProbe: 1` (https://learn.microsoft.com/
        azure/frontdoor/front-door-http-headers-protocol); no Microsoft document says probes
        lack X-Azure-FDID. The reports we found of probes refused by an FDID lock-down
        (Azure/static-web-apps #1109) also required X-Forwarded-Host, which probes do not
        carry, so they do not show the FDID missing. The rule is therefore not relaxed for
        probes (an exemption keyed on X-FD-HealthProbe would admit any customer's Front Door,
        which sets it too). Should probes be refused after all, requests still flow: with its
        only origin unhealthy Front Door keeps sending to it (https://learn.microsoft.com/
        azure/frontdoor/health-probes), and the FrontDoorHealthProbeLog shows the 403s."""
        if front_door is None:
            return []
        return [
            WebApplicationFirewallPolicyCustomRules(
                name="OnlyThisFrontDoor",
                priority=5,
                rule_type="MatchRule",
                action="Block",
                match_conditions=[
                    WebApplicationFirewallPolicyCustomRulesMatchConditions(
                        match_variables=[
                            WebApplicationFirewallPolicyCustomRulesMatchConditionsMatchVariables(
                                variable_name="RequestHeaders", selector="X-Azure-FDID"
                            )
                        ],
                        operator="Equal",
                        negation_condition=True,
                        match_values=[front_door.profile.resource_guid],
                    )
                ],
            )
        ]

    @staticmethod
    def _rate_limit(
        config: EnvironmentConfig, front_door: FrontDoor | None
    ) -> list[WebApplicationFirewallPolicyCustomRules]:
        """EDGE-2's per-IP limit. Behind Front Door the gateway sees Front Door's addresses, so
        a per-address limit here would throttle many clients at once; Front Door's WAF limits
        each client instead (constructs/azure/cdn.py)."""
        if front_door is not None:
            return []
        return [
            WebApplicationFirewallPolicyCustomRules(
                name="RateLimitPerClientIp",
                priority=10,
                rule_type="RateLimitRule",
                action="Block",
                rate_limit_duration="OneMin",
                rate_limit_threshold=config.edge.rate_limit_per_minute,
                group_rate_limit_by="ClientAddr",
                match_conditions=[
                    WebApplicationFirewallPolicyCustomRulesMatchConditions(
                        match_variables=[
                            WebApplicationFirewallPolicyCustomRulesMatchConditionsMatchVariables(
                                variable_name="RemoteAddr"
                            )
                        ],
                        operator="IPMatch",
                        negation_condition=False,
                        match_values=["0.0.0.0/0"],  # every client; counted per address
                    )
                ],
            )
        ]

    def _rest(
        self,
        config: EnvironmentConfig,
        rg: ResourceGroup,
        network: Network,
        keys: Keys,
        service: Service,
        workspace: LogAnalyticsWorkspace,
        vault_path: list[ITerraformDependable],
        zones: list[str],
    ) -> None:
        self.identity = UserAssignedIdentity(
            self,
            "identity",
            name=f"id-{config.prefix}-gateway",
            location=rg.location,
            resource_group_name=rg.name,
        )
        certificate = config.azure.certificate
        assert certificate is not None  # synth.config.azure_certificate_problems
        self.certificate: KeyVaultCertificate | None = None
        if certificate.source == "self_signed":
            # Allowed by config (azure.certificate.self_signed_reason), never in production.
            self.certificate = KeyVaultCertificate(
                self,
                "certificate",
                name=f"{config.prefix}-tls",
                key_vault_id=keys.vault.id,
                certificate_policy=KeyVaultCertificateCertificatePolicy(
                    issuer_parameters=KeyVaultCertificateCertificatePolicyIssuerParameters(
                        name="Self"
                    ),
                    key_properties=KeyVaultCertificateCertificatePolicyKeyProperties(
                        exportable=True, key_type="RSA", key_size=2048, reuse_key=False
                    ),
                    secret_properties=KeyVaultCertificateCertificatePolicySecretProperties(
                        content_type="application/x-pkcs12"
                    ),
                    lifetime_action=[
                        KeyVaultCertificateCertificatePolicyLifetimeAction(
                            action=KeyVaultCertificateCertificatePolicyLifetimeActionAction(
                                action_type="AutoRenew"
                            ),
                            trigger=KeyVaultCertificateCertificatePolicyLifetimeActionTrigger(
                                days_before_expiry=30
                            ),
                        )
                    ],
                    x509_certificate_properties=(
                        KeyVaultCertificateCertificatePolicyX509CertificateProperties(
                            subject=f"CN={config.domain}",
                            subject_alternative_names=(
                                KeyVaultCertificateCertificatePolicyX509CertificatePropertiesSubjectAlternativeNames(
                                    dns_names=route_hosts(config)
                                )
                            ),
                            key_usage=["digitalSignature", "keyEncipherment"],
                            extended_key_usage=["1.3.6.1.5.5.7.3.1"],  # server authentication
                            validity_in_months=12,
                        )
                    ),
                ),
                depends_on=[keys.deployer_ready],
            )
            secret_id = self.certificate.versionless_secret_id
            # The certificate's secret only, not the vault (IAM-1).
            secret_scope = f"{keys.vault.id}/secrets/{self.certificate.name}"
        else:
            # The operator's CA-issued certificate, read by its versionless secret ID so the
            # gateway picks up each renewal (https://learn.microsoft.com/azure/application-gateway/key-vault-certs).
            secret_id = certificate.versionless_secret_id
            secret_scope = f"{certificate.key_vault_id}/secrets/{certificate.certificate_name}"
        reads_certificate = RoleAssignment(
            self,
            "reads-certificate",
            scope=secret_scope,
            role_definition_name="Key Vault Secrets User",
            principal_id=self.identity.principal_id,
        )

        self.public_ip = PublicIp(
            self,
            "ip",
            name=f"pip-{config.prefix}-agw",
            location=rg.location,
            resource_group_name=rg.name,
            allocation_method="Static",
            sku="Standard",
            zones=zones,
        )
        routing = gateway_routing(config, service)
        self.gateway = ApplicationGateway(
            self,
            "gateway",
            name=f"agw-{config.prefix}",
            location=rg.location,
            resource_group_name=rg.name,
            zones=zones,
            sku=ApplicationGatewaySku(name="WAF_v2", tier="WAF_v2"),
            autoscale_configuration=ApplicationGatewayAutoscaleConfiguration(
                min_capacity=config.service.min_replicas,
                max_capacity=max(MAX_INSTANCES, config.service.min_replicas),
            ),
            enable_http2=True,
            firewall_policy_id=self.waf_policy.id,
            force_firewall_policy_association=True,
            identity=ApplicationGatewayIdentity(
                type="UserAssigned", identity_ids=[self.identity.id]
            ),
            ssl_policy=ApplicationGatewaySslPolicy(
                policy_type="Predefined", policy_name=SSL_POLICY
            ),
            ssl_certificate=[
                ApplicationGatewaySslCertificate(name="tls", key_vault_secret_id=secret_id)
            ],
            gateway_ip_configuration=[
                ApplicationGatewayGatewayIpConfiguration(
                    name="gateway", subnet_id=network.public_subnet.id
                )
            ],
            frontend_ip_configuration=[
                ApplicationGatewayFrontendIpConfiguration(
                    name="public", public_ip_address_id=self.public_ip.id
                )
            ],
            frontend_port=[
                ApplicationGatewayFrontendPort(name="https", port=443),
                ApplicationGatewayFrontendPort(name="http", port=80),
            ],
            http_listener=[
                *routing.listeners,
                *routing.redirect_listeners,
                ApplicationGatewayHttpListener(
                    name="http-redirect",
                    frontend_ip_configuration_name="public",
                    frontend_port_name="http",
                    protocol="Http",
                ),
            ],
            redirect_configuration=[
                ApplicationGatewayRedirectConfiguration(
                    name="to-https",
                    redirect_type="Permanent",
                    target_listener_name="https",
                    include_path=True,
                    include_query_string=True,
                ),
                *routing.redirects,
            ],
            backend_address_pool=routing.pools,
            probe=routing.probes,
            backend_http_settings=routing.settings,
            url_path_map=routing.path_maps or None,
            request_routing_rule=[
                *routing.rules,
                *routing.redirect_rules,
                ApplicationGatewayRequestRoutingRule(
                    name="http-to-https",
                    priority=200,
                    rule_type="Basic",
                    http_listener_name="http-redirect",
                    redirect_configuration_name="to-https",
                ),
            ],
            depends_on=[
                propagated(self, "reads-certificate-propagated", [reads_certificate]),
                *vault_path,
                # DEPLOY-2: its subnet's associations and NSG rules (Network.placed_after).
                *network.placed_after("public"),
            ],
        )
        MonitorDiagnosticSetting(
            self,
            "logs",
            name="gateway-to-log-analytics",
            target_resource_id=self.gateway.id,
            log_analytics_workspace_id=workspace.id,
            log_analytics_destination_type="Dedicated",
            enabled_log=[MonitorDiagnosticSettingEnabledLog(category=c) for c in LOG_CATEGORIES],
            enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category="AllMetrics")],
        )
