"""Builds the app runtime: a VNet-integrated Container Apps environment and one Container App per
described service (APP-7, synth/app.py).

Satisfies: APP-1, APP-2, APP-3, APP-4, APP-5, APP-7, SEC-5, EDGE-4, IAM-1, NET-2, DEPLOY-2,
DEPLOY-4, DEPLOY-5, DEPLOY-6

- Services (APP-7): every `config.services` entry is one Container App tagged
  `groundwork-service: <name>` (CKV_GW_APP_76 maps apps to the description by it) with its
  own port, health probes, size, replica bounds, scale triggers, non-secret `environment`,
  the secrets it lists and the platform wiring of what it uses, exactly
  `PLATFORM_ENVIRONMENT["azure"]` (asserted here, tests/constructs/azure/test_app_wiring.py).
  The default service `app` keeps today's construct IDs and names (`ca-<prefix>`,
  `id-<prefix>-app`); the others live in a child construct named after the service, named
  `ca-<service>-<prefix>-<hash>` (Container Apps allow 32 characters) and
  `id-<prefix>-app-<service>`. No application's variable or secret is named here.
- The environment runs in the app subnet behind an internal load balancer (no public
  ingress; the Application Gateway is the only way in). A routed service's ingress admits the
  gateway's subnet only; an internal one (`route: null`) has ingress reachable only from the
  environment's other apps (`external_enabled` false). A private DNS zone for the
  environment's default domain lets the gateway resolve the apps.
- Logs (DEPLOY-6): the workspace has local authentication off, and the `log-analytics`
  destination ships with the workspace's shared key, so nothing would arrive
  (MicrosoftDocs/azure-docs #100353). The environment uses the `azure-monitor`
  destination and a diagnostic setting sends its console and system logs to the
  workspace's resource-specific tables (`ContainerAppConsoleLogs`, `ContainerAppSystemLogs`),
  which the failed-logins alerts read
  (https://learn.microsoft.com/azure/container-apps/log-options).
- First revision (DEPLOY-5): the registry is created by this same apply and is empty
  until the release pipeline pushes, so each service's first revision runs `BOOTSTRAP_IMAGE`,
  a public image whose `httpd` answers 200 on the service's health path at its port (the AWS
  stack's placeholder too), and Terraform then ignores the image and its arguments: the
  release pipeline deploys each immutable tag with `az containerapp update --image
  <registry>/<repository>:<tag> --replace-args` (README). Each app waits for its role
  assignments and for the vault and registry private endpoints with their DNS links, because
  the revision resolves its Key Vault references and pulls from inside the VNet, and, where
  the service uses them, for the cache's and the blob storage's (`private_path`), because it
  connects to them as it starts (DEPLOY-2, CKV_GW_DEPLOY_83);
  every reference is to a secret the apply writes a value to, or to an external secret whose
  entry says `value_set: true` (the operator has set it; DEPLOY-6, CKV_GW_DEPLOY_91): until
  then the service runs without that variable. The flag is the operator's word, not Azure's:
  the app also waits for a step that checks each such secret's latest version is not empty
  and otherwise fails the apply before the app is touched, saying how to set it
  (constructs/azure/steps.py `SecretHasValue`; CKV_GW_DEPLOY_94).
- APP-1: each service's `min_replicas`/`max_replicas`, scaling on CPU (`scale_cpu_percent`)
  and memory (`scale_memory_percent`) utilization. No HTTP scale rule: next to CPU or memory
  rules Container Apps ignores it (microsoft/azure-container-apps #468; CKV_GW_DEPLOY_92).
- APP-2: Container Apps has no request/limit split and allows fixed CPU/memory pairs
  (0.25/0.5Gi, 0.5/1Gi, ... 2/4Gi); the smallest pair at or above the service's limits
  is used (dev: 0.5 vCPU/1Gi, staging and production: 1 vCPU/2Gi).
- APP-3: single revision mode; a new revision takes traffic only once its replicas are
  ready, then the old one drains, so deployments have no downtime.
- EDGE-4: readiness probe every `health.interval_seconds` (10 s by default; a longer one is
  refused on Azure, since EDGE-4 asks for 10 s) and liveness every 30 s on the service's
  `health.path`, each timing out after `health.timeout_seconds`; 30 s termination grace
  period.
- APP-4, SEC-5: the service's catalog secrets are Key Vault references resolved with its
  identity; no secret value is in an app's definition. The database accepts no password:
  `DATABASE_AUTH=entra-token` tells a service to use a token of `AZURE_CLIENT_ID` for
  `https://ossrdbms-aad.database.windows.net` as its password, signing in as the role
  `PGUSER` names (its identity's name; the `database-role` job creates it), and the cache
  likewise takes a token for `https://redis.azure.com` with the identity's object ID as user
  name (`REDIS_USERNAME`) over TLS on 10000 (Azure Managed Redis), verified against the public
  CAs; the `cache-access` job (constructs/azure/jobs.py) gives the identity the cache's
  `default` access policy.
- APP-5, IAM-1: each service runs as its own identity, allowed to read exactly the secrets it
  lists (not the vault), read/write the container if it uses object storage, use the cache if
  it uses it, and pull from its registry, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from constructs.azure.keys import global_name
from constructs.azure.network import Network
from constructs.azure.propagation import propagated
from constructs.azure.registry import Registry
from constructs.azure.secrets import Secrets, app_identity_name, set_command, vault_name
from constructs.azure.steps import SecretHasValue
from constructs.azure.storage import Storage

from synth.app import (
    DEFAULT_SERVICE_NAME,
    PLATFORM_ENVIRONMENT,
    ExternalSecret,
    secret_variables,
    unset_external_secrets,
)
from synth.app import Service as AppService
from synth.config import EnvironmentConfig

# Container Apps' allowed (vCPU, GiB) pairs on the Consumption profile.
CPU_MEMORY_PAIRS = tuple((0.25 * n, 0.5 * n) for n in range(1, 17))
# EDGE-4: liveness every 30 s; readiness every `health.interval_seconds` (10 s by default),
# which synth/app.py `azure_app_problems` keeps at 10 s or less, as EDGE-4 asks.
LIVENESS_SECONDS = 30
GRACE_SECONDS = 30
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
# Which described service a Container App runs (policies map apps to config by it).
SERVICE_TAG = "groundwork-service"


def container_size(cpu: float, memory_mib: int) -> tuple[float, str]:
    """The smallest allowed (vCPU, memory) pair at or above `cpu` and `memory_mib`."""
    for vcpu, gib in CPU_MEMORY_PAIRS:
        if vcpu >= cpu and gib * 1024 >= memory_mib:
            return vcpu, f"{gib:g}Gi"
    raise ValueError(f"no Container Apps size holds {cpu} vCPU and {memory_mib} MiB")


@dataclass(frozen=True)
class ServiceApp:
    """One described service as built: its Container App, identity and first-release image."""

    service: AppService
    app: ContainerApp
    identity: UserAssignedIdentity
    release_image: str
    # The gateway's backend address (routed services only).
    fqdn: str | None


def app_name(config: EnvironmentConfig, service: str) -> str:
    """`ca-<prefix>` for the default service (today's name); `ca-<service>-<prefix>-<hash>`,
    cut to Container Apps' 32 characters, for the others (synth/names.py)."""
    if service == DEFAULT_SERVICE_NAME:
        return f"ca-{config.prefix}"
    return global_name(config, f"ca-{service}", max_length=32)


def placeholder_args(port: int, health_path: str) -> list[str]:
    """DEPLOY-5: busybox httpd answering 200 on the service's health path at its port."""
    parent, _, leaf = health_path.rpartition("/")
    target = f"/tmp/www{health_path}" + ("index.html" if not leaf else "")
    return [
        "sh",
        "-c",
        f"mkdir -p /tmp/www{parent} && echo ok > {target} && exec httpd -f -p {port} -h /tmp/www",
    ]


class Service(Construct):
    """Environment `cae-<prefix>` and one Container App per described service (APP-7), each
    running as its own identity (`id-<prefix>-app` for the default service)."""

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
        storage: Storage | None,
        cache: Cache | None,
        waits_for: list[ITerraformDependable],
    ) -> None:
        super().__init__(scope, id_)
        rg = resource_group
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
        # The default service's resources keep today's construct IDs (directly in this
        # construct); every other service's live in a child construct named after it.
        self.apps: dict[str, ServiceApp] = {}
        for service in config.services:
            home = self if service.name == DEFAULT_SERVICE_NAME else Construct(self, service.name)
            self.apps[service.name] = self._service(
                home,
                config=config,
                service=service,
                resource_group=rg,
                network=network,
                registry=registry,
                secrets=secrets,
                storage=storage,
                cache=cache,
                waits_for=waits_for,
            )

    def _service(
        self,
        home: Construct,
        *,
        config: EnvironmentConfig,
        service: AppService,
        resource_group: ResourceGroup,
        network: Network,
        registry: Registry,
        secrets: Secrets,
        storage: Storage | None,
        cache: Cache | None,
        waits_for: list[ITerraformDependable],
    ) -> ServiceApp:
        rg = resource_group
        uses = config.service_uses(service)
        identity = UserAssignedIdentity(
            home,
            "identity",
            name=app_identity_name(config, service.name),
            location=rg.location,
            resource_group_name=rg.name,
        )
        principal = identity.principal_id
        # IAM-1: the service reads exactly the catalog secrets it lists (and their rotation
        # slots), each granted on the one secret. An external secret the operator has not set
        # yet (`value_set: false`) is neither referenced nor granted: a revision cannot start
        # on its empty version (DEPLOY-6, constructs/azure/secrets.py); once it is set, the
        # next apply adds the grant, whose new propagation wait the revision waits for.
        catalog = config.secrets.catalog
        unset = unset_external_secrets(config)
        variables = {
            variable: secrets.all[variable]
            for name in service.secrets
            if name not in unset
            for variable in secret_variables(name, catalog[name])
        }
        grants: list[ITerraformDependable] = [
            RoleAssignment(
                home,
                f"reads-{vault_name(variable)}",
                scope=secret.resource_versionless_id,
                role_definition_name="Key Vault Secrets User",
                principal_id=principal,
            )
            for variable, secret in variables.items()
        ]
        # DEPLOY-6: an external secret the entry marks set may still be empty here (a fresh
        # subscription, a secret created again, a copied environment file), and a revision
        # cannot start on it; each one this service reads is checked by a step of the apply
        # (constructs/azure/steps.py `SecretHasValue`) that the app waits for, so the apply
        # fails with what to do before the app is touched (CKV_GW_DEPLOY_94).
        checks: list[ITerraformDependable] = [
            SecretHasValue(
                home,
                f"checks-{vault_name(name)}",
                secret=secrets.external[name],
                vault_name=secrets.vault_name,
                entry=name,
                set_command=set_command(config, secrets.vault_name, name),
                triggers={
                    "reference": secrets.external[name].versionless_id,
                    "app": app_name(config, service.name),
                    "identity": identity.id,
                },
            )
            for name in service.secrets
            if isinstance(catalog[name], ExternalSecret) and name not in unset
        ]
        grants.append(
            RoleAssignment(
                home,
                "pulls-images",
                scope=registry.registry.id,
                role_definition_name="AcrPull",
                principal_id=principal,
            )
        )
        repository = service.image.repository or (
            config.app if service.name == DEFAULT_SERVICE_NAME else service.name
        )
        release_image = f"{registry.login_server}/{repository}:{service.image.tag}"
        platform = PLATFORM_ENVIRONMENT["azure"]
        wiring: dict[str, str] = {"PORT": str(service.port), "AZURE_CLIENT_ID": identity.client_id}
        if "database" in uses:
            wiring.update(DATABASE_AUTH="entra-token", PGUSER=identity.name)
        # DEPLOY-2: the first revision connects at once to what the service uses, so its app
        # waits for each one's private endpoint and DNS link as well as for `waits_for`.
        paths: list[ITerraformDependable] = []
        if "cache" in uses:
            assert cache is not None  # config.uses_cache
            paths.extend(cache.private_path)
            wiring.update(
                REDIS_USERNAME=identity.principal_id,
                REDIS_HOST=cache.host,
                REDIS_PORT=str(cache.port),
            )
        if "object_storage" in uses:
            assert storage is not None  # config.uses_object_storage
            paths.extend(storage.private_path)
            grants.append(
                RoleAssignment(
                    home,
                    "uses-container",
                    scope=storage.container.resource_manager_id,
                    role_definition_name="Storage Blob Data Contributor",
                    principal_id=principal,
                )
            )
            wiring.update(
                STORAGE_BLOB_ENDPOINT=storage.account.primary_blob_endpoint,
                STORAGE_CONTAINER=storage.container.name,
            )
        expected = {
            name for key, names in platform.items() if key == "always" or key in uses
            for name in names
        }  # fmt: skip
        assert set(wiring) == expected, (sorted(wiring), sorted(expected))  # PLATFORM_ENVIRONMENT

        cpu, memory = container_size(service.cpu_limit, service.memory_limit_mib)
        port, health = service.port, service.health
        routed = service.route is not None
        app = ContainerApp(
            home,
            "app",
            name=app_name(config, service.name),
            resource_group_name=rg.name,
            container_app_environment_id=self.environment.id,
            workload_profile_name="Consumption",
            revision_mode="Single",  # APP-3
            identity=ContainerAppIdentity(type="UserAssigned", identity_ids=[identity.id]),
            registry=[ContainerAppRegistry(server=registry.login_server, identity=identity.id)],
            secret=[
                ContainerAppSecret(
                    name=vault_name(variable),
                    key_vault_secret_id=secret.versionless_id,
                    identity=identity.id,
                )
                for variable, secret in variables.items()
            ],
            # A routed service admits the gateway's subnet only (NET-3); an internal one
            # (`route: null`) is reachable only from apps of this environment.
            ingress=ContainerAppIngress(
                external_enabled=routed,  # in an internal environment: reachable from the VNet
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
                ]
                if routed
                else None,
            ),
            template=ContainerAppTemplate(
                min_replicas=service.min_replicas,
                max_replicas=service.max_replicas,
                termination_grace_period_seconds=GRACE_SECONDS,
                # APP-1's triggers, CPU and memory, and no HTTP rule: an HTTP rule next to KEDA
                # scalers (cpu, memory) stops scaling on concurrent requests while the others
                # keep working (microsoft/azure-container-apps #468, open since 2022-10), so it
                # would only look like a trigger; CKV_GW_DEPLOY_92.
                custom_scale_rule=[
                    ContainerAppTemplateCustomScaleRule(
                        name="cpu",
                        custom_rule_type="cpu",
                        metadata={"type": "Utilization", "value": str(service.scale_cpu_percent)},
                    ),
                    ContainerAppTemplateCustomScaleRule(
                        name="memory",
                        custom_rule_type="memory",
                        metadata={
                            "type": "Utilization",
                            "value": str(service.scale_memory_percent),
                        },
                    ),
                ],
                container=[
                    ContainerAppTemplateContainer(
                        name=service.name,
                        image=BOOTSTRAP_IMAGE,
                        args=placeholder_args(port, health.path),
                        cpu=cpu,
                        memory=memory,
                        env=[
                            *(
                                ContainerAppTemplateContainerEnv(
                                    name=variable, secret_name=vault_name(variable)
                                )
                                for variable in variables
                            ),
                            *(
                                ContainerAppTemplateContainerEnv(name=name, value=value)
                                for name, value in wiring.items()
                            ),
                            *(
                                ContainerAppTemplateContainerEnv(name=name, value=value)
                                for name, value in sorted(service.environment.items())
                            ),
                        ],
                        readiness_probe=[
                            ContainerAppTemplateContainerReadinessProbe(
                                transport="HTTP",
                                port=port,
                                path=health.path,
                                interval_seconds=health.interval_seconds,
                                timeout=health.timeout_seconds,
                                failure_count_threshold=3,
                            )
                        ],
                        liveness_probe=[
                            ContainerAppTemplateContainerLivenessProbe(
                                transport="HTTP",
                                port=port,
                                path=health.path,
                                interval_seconds=LIVENESS_SECONDS,
                                timeout=health.timeout_seconds,
                                failure_count_threshold=3,
                            )
                        ],
                    )
                ],
            ),
            tags={SERVICE_TAG: service.name},
            lifecycle=TerraformResourceLifecycle(ignore_changes=RELEASE_OWNED),
            depends_on=[
                propagated(home, "grants-propagated", grants),
                *checks,
                self.logs,
                *waits_for,
                *paths,
            ],
        )
        return ServiceApp(
            service=service,
            app=app,
            identity=identity,
            release_image=release_image,
            fqdn=app.ingress.fqdn if routed else None,
        )
