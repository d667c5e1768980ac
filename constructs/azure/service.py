"""Builds the app runtime: a VNet-integrated Container Apps environment and the app's Container App.

Satisfies: APP-1, APP-2, APP-3, APP-4, APP-5, EDGE-4, IAM-1, NET-2, DEPLOY-2, DEPLOY-5, DEPLOY-6

- The environment runs in the app subnet behind an internal load balancer (no public
  ingress; the Application Gateway is the only way in, and the app's ingress admits the
  gateway's subnet only). A private DNS zone for the environment's default domain lets
  the gateway resolve the app.
- Logs (DEPLOY-6): the workspace has local authentication off, and the `log-analytics`
  destination ships with the workspace's shared key, so nothing would arrive
  (MicrosoftDocs/azure-docs #100353). The environment uses the `azure-monitor`
  destination and a diagnostic setting sends its console and system logs to the
  workspace's resource-specific tables (`ContainerAppConsoleLogs`, `ContainerAppSystemLogs`),
  which the failed-logins alert reads
  (https://learn.microsoft.com/azure/container-apps/log-options).
- First revision (DEPLOY-5): the registry is created by this same apply and is empty
  until the release pipeline pushes, so the first revision runs `BOOTSTRAP_IMAGE`, a
  public image whose `httpd` answers 200 on `/health` at the app's port (the AWS stack's
  placeholder too), and Terraform then ignores
  the image and its arguments: the release pipeline deploys each immutable tag with
  `az containerapp update --image <registry>/<app>:<tag> --replace-args` (README). The app
  waits for its role assignments and for the vault and registry private endpoints with
  their DNS links, because the revision resolves its Key Vault references and pulls from
  inside the VNet (DEPLOY-2).
- APP-1: `min_replicas`/`max_replicas`, scaling on concurrent HTTP requests and on CPU
  (`scale_cpu_percent`) and memory (`scale_memory_percent`) utilization.
- APP-2: Container Apps has no request/limit split and allows fixed CPU/memory pairs
  (0.25/0.5Gi, 0.5/1Gi, ... 2/4Gi); the smallest pair at or above the configured limits
  is used (dev: 0.5 vCPU/1Gi, staging and production: 1 vCPU/2Gi).
- APP-3: single revision mode; a new revision takes traffic only once its replicas are
  ready, then the old one drains, so deployments have no downtime.
- EDGE-4: readiness probe every 10 s and liveness every 30 s on `GET /health`; 30 s
  termination grace period.
- APP-4: JWT_SECRET and DATABASE_URL are Key Vault references resolved with the app's
  identity; no secret value is in the app's definition. The database accepts no password:
  `DATABASE_AUTH=entra-token` tells the app to use a token of `AZURE_CLIENT_ID` for
  `https://ossrdbms-aad.database.windows.net` as its password, and the cache likewise
  takes a token for `https://redis.azure.com` with the identity's object ID as user name
  (`REDIS_USERNAME`) over TLS on 10000 (Azure Managed Redis), verified against the public
  CAs; the `cache-access` job (constructs/azure/jobs.py) gives the identity the cache's
  `default` access policy.
- APP-5: the app runs as `id-<prefix>-app`, allowed to read its three secrets (not the
  vault), read/write its own container, use its cache (the `default` policy) and pull
  from its registry, nothing else.
"""

from __future__ import annotations

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.container_app import (
    ContainerApp,
    ContainerAppIdentity,
    ContainerAppIngress,
    ContainerAppIngressIpSecurityRestriction,
    ContainerAppIngressTrafficWeight,
    ContainerAppRegistry,
    ContainerAppSecret,
    ContainerAppTemplate,
    ContainerAppTemplateContainer,
    ContainerAppTemplateContainerEnv,
    ContainerAppTemplateContainerLivenessProbe,
    ContainerAppTemplateContainerReadinessProbe,
    ContainerAppTemplateCustomScaleRule,
    ContainerAppTemplateHttpScaleRule,
)
from cdktf_cdktf_provider_azurerm.container_app_environment import (
    ContainerAppEnvironment,
    ContainerAppEnvironmentWorkloadProfile,
)
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
)
from cdktf_cdktf_provider_azurerm.private_dns_a_record import PrivateDnsARecord
from cdktf_cdktf_provider_azurerm.private_dns_zone import PrivateDnsZone
from cdktf_cdktf_provider_azurerm.private_dns_zone_virtual_network_link import (
    PrivateDnsZoneVirtualNetworkLink,
)
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct
from constructs.azure.cache import Cache
from constructs.azure.network import Network
from constructs.azure.propagation import propagated
from constructs.azure.registry import Registry
from constructs.azure.secrets import Secrets, app_identity_name
from constructs.azure.storage import Storage

from synth.config import EnvironmentConfig

# Container Apps' allowed (vCPU, GiB) pairs on the Consumption profile.
CPU_MEMORY_PAIRS = tuple((0.25 * n, 0.5 * n) for n in range(1, 17))
HEALTH_PATH = "/health"
READINESS_SECONDS, LIVENESS_SECONDS = 10, 30  # EDGE-4
GRACE_SECONDS = 30
CONCURRENT_REQUESTS = 50  # per replica before the HTTP rule adds one
# DEPLOY-5: the first revision's image, public and present before any release: the Docker
# official busybox image on ECR Public (no ENTRYPOINT, so `args` is the whole command line),
# whose httpd serves `/health` from a file. Not from Docker Hub: the app subnet egresses through
# one NAT address, and Docker Hub limits anonymous pulls per address
# (https://docs.docker.com/docker-hub/usage/pulls/; refused pulls from Azure: Azure/azure-cli
# #29300); ECR Public allows anonymous pulls of up to 500 GB a month
# (https://docs.aws.amazon.com/AmazonECR/latest/public/public-service-quotas.html).
BOOTSTRAP_IMAGE = "public.ecr.aws/docker/library/busybox:1.37"
# What the release pipeline owns after the first apply.
RELEASE_OWNED = ["template[0].container[0].image", "template[0].container[0].args"]


def container_size(cpu: float, memory_mib: int) -> tuple[float, str]:
    """The smallest allowed (vCPU, memory) pair at or above `cpu` and `memory_mib`."""
    for vcpu, gib in CPU_MEMORY_PAIRS:
        if vcpu >= cpu and gib * 1024 >= memory_mib:
            return vcpu, f"{gib:g}Gi"
    raise ValueError(f"no Container Apps size holds {cpu} vCPU and {memory_mib} MiB")


class Service(Construct):
    """Environment `cae-<prefix>` and Container App `ca-<prefix>` running as `id-<prefix>-app`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        network: Network,
        workspace: LogAnalyticsWorkspace,
        registry: Registry,
        secrets: Secrets,
        storage: Storage,
        cache: Cache,
        waits_for: list[ITerraformDependable],
    ) -> None:
        super().__init__(scope, id_)
        rg = resource_group
        self.identity = UserAssignedIdentity(
            self,
            "identity",
            name=app_identity_name(config),
            location=rg.location,
            resource_group_name=rg.name,
        )
        principal = self.identity.principal_id
        grants = [
            RoleAssignment(
                self,
                f"reads-{name.lower().replace('_', '-')}",
                scope=secret.resource_versionless_id,
                role_definition_name="Key Vault Secrets User",
                principal_id=principal,
            )
            for name, secret in secrets.all.items()
        ]
        grants.append(
            RoleAssignment(
                self,
                "pulls-images",
                scope=registry.registry.id,
                role_definition_name="AcrPull",
                principal_id=principal,
            )
        )
        self.release_image = f"{registry.login_server}/{config.app}:{config.service.image_tag}"
        uses_container = RoleAssignment(
            self,
            "uses-container",
            scope=storage.container.resource_manager_id,
            role_definition_name="Storage Blob Data Contributor",
            principal_id=principal,
        )

        self.environment = ContainerAppEnvironment(
            self,
            "environment",
            name=f"cae-{config.prefix}",
            location=rg.location,
            resource_group_name=rg.name,
            infrastructure_subnet_id=network.app_subnet.id,
            # DEPLOY-2: after the subnet's NSG and NAT associations (Network.placed_after).
            depends_on=network.placed_after("app"),
            infrastructure_resource_group_name=f"rg-{config.prefix}-cae",
            internal_load_balancer_enabled=True,
            zone_redundancy_enabled=config.network.zones > 1,
            mutual_tls_enabled=True,
            logs_destination="azure-monitor",  # DEPLOY-6: see the module docstring
            workload_profile=[
                ContainerAppEnvironmentWorkloadProfile(
                    name="Consumption", workload_profile_type="Consumption"
                )
            ],
        )
        self.logs = MonitorDiagnosticSetting(
            self,
            "environment-logs",
            name="environment-to-log-analytics",
            target_resource_id=self.environment.id,
            log_analytics_workspace_id=workspace.id,
            log_analytics_destination_type="Dedicated",
            enabled_log=[MonitorDiagnosticSettingEnabledLog(category_group="allLogs")],
        )
        zone = PrivateDnsZone(
            self,
            "environment-zone",
            name=self.environment.default_domain,
            resource_group_name=rg.name,
        )
        PrivateDnsZoneVirtualNetworkLink(
            self,
            "environment-zone-link",
            name=f"{config.prefix}-cae",
            private_dns_zone_name=zone.name,
            resource_group_name=rg.name,
            virtual_network_id=network.vnet.id,
        )
        PrivateDnsARecord(
            self,
            "environment-wildcard",
            name="*",
            zone_name=zone.name,
            resource_group_name=rg.name,
            ttl=300,
            records=[self.environment.static_ip_address],
        )

        cpu, memory = container_size(config.service.cpu_limit, config.service.memory_limit_mib)
        port = config.service.port
        secret_refs = {name: name.lower().replace("_", "-") for name in secrets.all}
        self.app = ContainerApp(
            self,
            "app",
            name=f"ca-{config.prefix}",
            resource_group_name=rg.name,
            container_app_environment_id=self.environment.id,
            workload_profile_name="Consumption",
            revision_mode="Single",  # APP-3
            identity=ContainerAppIdentity(type="UserAssigned", identity_ids=[self.identity.id]),
            registry=[
                ContainerAppRegistry(server=registry.login_server, identity=self.identity.id)
            ],
            secret=[
                ContainerAppSecret(
                    name=secret_refs[name],
                    key_vault_secret_id=secret.versionless_id,
                    identity=self.identity.id,
                )
                for name, secret in secrets.all.items()
            ],
            ingress=ContainerAppIngress(
                external_enabled=True,  # in an internal environment: reachable from the VNet
                target_port=port,
                transport="http",
                allow_insecure_connections=False,
                traffic_weight=[
                    ContainerAppIngressTrafficWeight(latest_revision=True, percentage=100)
                ],
                ip_security_restriction=[
                    ContainerAppIngressIpSecurityRestriction(
                        name="application-gateway",
                        action="Allow",
                        ip_address_range=network.cidrs["public"],
                        description="NET-3: only the Application Gateway's subnet",
                    )
                ],
            ),
            template=ContainerAppTemplate(
                min_replicas=config.service.min_replicas,
                max_replicas=config.service.max_replicas,
                termination_grace_period_seconds=GRACE_SECONDS,
                http_scale_rule=[
                    ContainerAppTemplateHttpScaleRule(
                        name="http", concurrent_requests=str(CONCURRENT_REQUESTS)
                    )
                ],
                custom_scale_rule=[
                    ContainerAppTemplateCustomScaleRule(
                        name="cpu",
                        custom_rule_type="cpu",
                        metadata={
                            "type": "Utilization",
                            "value": str(config.service.scale_cpu_percent),
                        },
                    ),
                    ContainerAppTemplateCustomScaleRule(
                        name="memory",
                        custom_rule_type="memory",
                        metadata={
                            "type": "Utilization",
                            "value": str(config.service.scale_memory_percent),
                        },
                    ),
                ],
                container=[
                    ContainerAppTemplateContainer(
                        name="app",
                        image=BOOTSTRAP_IMAGE,
                        args=[
                            "sh",
                            "-c",
                            f"mkdir -p /tmp/www && echo ok > /tmp/www{HEALTH_PATH}"
                            f" && exec httpd -f -p {port} -h /tmp/www",
                        ],
                        cpu=cpu,
                        memory=memory,
                        env=[
                            *(
                                ContainerAppTemplateContainerEnv(name=name, secret_name=ref)
                                for name, ref in secret_refs.items()
                            ),
                            ContainerAppTemplateContainerEnv(name="PORT", value=str(port)),
                            ContainerAppTemplateContainerEnv(
                                name="AZURE_CLIENT_ID", value=self.identity.client_id
                            ),
                            ContainerAppTemplateContainerEnv(
                                name="DATABASE_AUTH", value="entra-token"
                            ),
                            ContainerAppTemplateContainerEnv(
                                name="REDIS_USERNAME", value=self.identity.principal_id
                            ),
                            ContainerAppTemplateContainerEnv(name="REDIS_HOST", value=cache.host),
                            ContainerAppTemplateContainerEnv(
                                name="REDIS_PORT", value=str(cache.port)
                            ),
                            ContainerAppTemplateContainerEnv(
                                name="STORAGE_BLOB_ENDPOINT",
                                value=storage.account.primary_blob_endpoint,
                            ),
                            ContainerAppTemplateContainerEnv(
                                name="STORAGE_CONTAINER", value=storage.container.name
                            ),
                        ],
                        readiness_probe=[
                            ContainerAppTemplateContainerReadinessProbe(
                                transport="HTTP",
                                port=port,
                                path=HEALTH_PATH,
                                interval_seconds=READINESS_SECONDS,
                                timeout=5,
                                failure_count_threshold=3,
                            )
                        ],
                        liveness_probe=[
                            ContainerAppTemplateContainerLivenessProbe(
                                transport="HTTP",
                                port=port,
                                path=HEALTH_PATH,
                                interval_seconds=LIVENESS_SECONDS,
                                timeout=5,
                                failure_count_threshold=3,
                            )
                        ],
                    )
                ],
            ),
            lifecycle=TerraformResourceLifecycle(ignore_changes=RELEASE_OWNED),
            depends_on=[
                propagated(self, "grants-propagated", [*grants, uses_container]),
                self.logs,
                *waits_for,
            ],
        )
        self.fqdn = self.app.ingress.fqdn
