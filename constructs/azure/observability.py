"""Builds central logging and monitoring: Log Analytics, alerts, uptime test, dashboard.

Satisfies: OBS-1, OBS-2, OBS-3, OBS-4, OBS-5, NET-4, APP-7, DEPLOY-6

Per service (APP-7): the failed-logins, CPU and memory alerts exist once per Container App
(the default service's keep today's names, the others carry the service name); the gateway's
5xx and latency alerts and the database's are the environment's. OBS-4: every routed service
gets an availability test of its health path through the gateway (its route's host, its
health path, which synth/app.py requires the gateway to send to it) and an alert on it; an
internal service (`route: null`) has none, since nothing outside the VNet reaches it.

`Logs` is created first, because the network's flow logs and every diagnostic setting
write into it; `Observability` is created last, once the resources it watches exist.

OBS-2 alerts are the rows of `ALERTS`, each with its Azure severity (0 critical,
2 warning). Failed logins, the 5xx ratio and p95 latency are log alerts: the first reads
the app's structured console logs, and Azure metric alerts compute neither ratios nor
percentiles, so the other two read the gateway's access log table (`AGWAccessLogs`).
Every table an alert reads is one the stack's log path fills (DEPLOY-6,
CKV_GW_DEPLOY_76): the workspace has local (shared-key) authentication off, so the
Container Apps environment ships to Azure Monitor and a diagnostic setting writes its
console logs to the resource-specific `ContainerAppConsoleLogs` table (columns
`ContainerAppName`, `Log`; the `_CL` table and its `_s` columns belong to the shared-key
destination, MicrosoftDocs/azure-docs #100353). Both tables are Azure tables, defined in
every workspace, so the rules validate their queries before any row arrives and need no
`skip_query_validation`.
Database connection failures, CPU and memory are metric alerts. OBS-3: every alert
notifies the action group that e-mails `config.alert_email`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdktf_cdktf_provider_azurerm.application_insights import ApplicationInsights
from cdktf_cdktf_provider_azurerm.application_insights_standard_web_test import (
    ApplicationInsightsStandardWebTest,
    ApplicationInsightsStandardWebTestRequest,
    ApplicationInsightsStandardWebTestValidationRules,
)
from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktf_cdktf_provider_azurerm.monitor_action_group import (
    MonitorActionGroup,
    MonitorActionGroupEmailReceiver,
)
from cdktf_cdktf_provider_azurerm.monitor_metric_alert import (
    MonitorMetricAlert,
    MonitorMetricAlertAction,
    MonitorMetricAlertApplicationInsightsWebTestLocationAvailabilityCriteria,
    MonitorMetricAlertCriteria,
)
from cdktf_cdktf_provider_azurerm.monitor_scheduled_query_rules_alert_v2 import (
    MonitorScheduledQueryRulesAlertV2,
    MonitorScheduledQueryRulesAlertV2Action,
    MonitorScheduledQueryRulesAlertV2Criteria,
    MonitorScheduledQueryRulesAlertV2CriteriaDimension,
    MonitorScheduledQueryRulesAlertV2CriteriaFailingPeriods,
)
from cdktf_cdktf_provider_azurerm.portal_dashboard import PortalDashboard
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct
from constructs.azure import waivers
from constructs.azure.keys import ManagedKey, global_name
from constructs.azure.storage import hardened_account, service_diagnostics

from synth.app import azure_health_url, service_suffix
from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

if TYPE_CHECKING:
    from constructs.azure.service import ServiceApp

CRITICAL, ERROR, WARNING = 0, 1, 2  # Azure Monitor severities
# Availability test locations (Europe and North America, five as Azure recommends).
TEST_LOCATIONS = (
    "emea-nl-ams-azr",
    "emea-gb-db3-azr",
    "emea-fr-pra-edge",
    "emea-se-sto-edge",
    "us-va-ash-azr",
)


@dataclass(frozen=True)
class LogAlert:
    """An OBS-2 row as a scheduled query; `measure` None counts result rows."""

    name: str
    summary: str
    severity: int
    query: str
    threshold: float
    measure: str | None = None
    per: str | None = None  # dimension: one alert per value (e.g. per client IP)
    per_service: bool = False  # one per service (reads its logs), else one per environment


@dataclass(frozen=True)
class MetricAlert:
    """An OBS-2 row as a metric alert on `target` (`database` or `app`)."""

    name: str
    summary: str
    severity: int
    target: str
    namespace: str
    metric: str
    aggregation: str
    threshold: float


def log_alerts(app_name: str) -> tuple[LogAlert, ...]:
    return (
        LogAlert(
            "failed-logins",
            "More than 10 failed logins per minute from one client IP",
            WARNING,
            f"""ContainerAppConsoleLogs
| where ContainerAppName == "{app_name}"
| extend entry = parse_json(Log)
| where tostring(entry.event) == "login_failed"
| summarize failures = count() by client_ip = tostring(entry.ip), bin(TimeGenerated, 1m)
| where failures > 10""",
            threshold=0,
            per="client_ip",
            per_service=True,
        ),
        LogAlert(
            "http-5xx-rate",
            "More than 1 % of requests answered with 5xx",
            CRITICAL,
            """AGWAccessLogs
| summarize total = count(), errors = countif(HttpStatus >= 500)
| where total > 0
| extend error_percent = 100.0 * errors / total""",
            threshold=1,
            measure="error_percent",
        ),
        LogAlert(
            "latency-p95",
            "p95 response time above 2 seconds",
            WARNING,
            """AGWAccessLogs
| summarize p95_seconds = percentile(TimeTaken, 95)""",
            threshold=2,
            measure="p95_seconds",
        ),
    )


METRIC_ALERTS = (
    MetricAlert(
        "database-connection-errors",
        "Any failed database connection",
        CRITICAL,
        "database",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "connections_failed",
        "Total",
        0,
    ),
    MetricAlert(
        "app-cpu",
        "App CPU above 80 % for 5 minutes",
        WARNING,
        "app",
        "Microsoft.App/containerApps",
        "CpuPercentage",
        "Average",
        80,
    ),
    MetricAlert(
        "app-memory",
        "App memory above 85 % for 5 minutes",
        WARNING,
        "app",
        "Microsoft.App/containerApps",
        "MemoryPercentage",
        "Average",
        85,
    ),
)


class Logs(Construct):
    """Log Analytics workspace `log-<prefix>` and the flow-log storage account `stlog...`.

    OBS-1: the workspace keeps logs `config.logs.retention_days`, encrypted at rest by the
    platform (Log Analytics CMK needs a dedicated cluster, from 100 GB/day).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        key: ManagedKey,
    ) -> None:
        super().__init__(scope, id_)
        self.workspace = LogAnalyticsWorkspace(
            self,
            "workspace",
            name=f"log-{config.prefix}",
            location=resource_group.location,
            resource_group_name=resource_group.name,
            sku="PerGB2018",
            retention_in_days=config.logs.retention_days,
            local_authentication_enabled=False,  # Entra ID only, no shared workspace keys
        )
        # Flow logs (NET-4) need a storage account in the VNet's region.
        self.storage_account = hardened_account(
            self,
            "storage",
            name=global_name(config, "stlog", max_length=24, sep=""),
            resource_group=resource_group,
            key=key,
            replication="LRS",  # logs are also in the workspace; three local copies suffice
            # Network Watcher and Event Grid write as trusted services; the deploy runner
            # creates the rotation queue; the firewall (default Deny) blocks everyone else.
            runner_ranges=config.azure.deployer_ip_ranges,
        )
        for check, reason in (
            (
                "CKV_AZURE_206",
                "This account holds flow logs, which traffic analytics also sends to Log "
                "Analytics, and the rotation queue's transient messages, so locally redundant "
                "storage is a deliberate cost choice.",
            ),
            (
                "CKV_AZURE_33",
                "Classic queue logging needs shared-key access, which is disabled; the rotation "
                "queue's reads, writes and deletes are logged through a diagnostic setting to "
                "Log Analytics.",
            ),
            (
                "CKV_AZURE_59",
                "For DEPLOY-3 the deploy runner creates this account's rotation queue and the "
                "provider polls its data plane during the apply, before any private endpoint "
                "exists; public network access is on only behind a firewall that denies by default "
                "and admits azure.deployer_ip_ranges and trusted Azure services (CKV_GW_DEPLOY_70 "
                "checks it).",
            ),
        ):
            waive(
                self.storage_account,
                check,
                reason=reason,
                owner=waivers.OWNER,
                expires=waivers.EXPIRES,
            )
        # The secret-rotation queue lives here (SEC-2): log its reads, writes and deletes.
        service_diagnostics(
            self,
            "queue-logs",
            account=self.storage_account,
            service="queue",
            workspace=self.workspace,
        )


class Observability(Construct):
    """Action group, OBS-2 alerts, each routed service's availability test and the dashboard."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        resource_group: ResourceGroup,
        workspace: LogAnalyticsWorkspace,
        gateway_id: str,
        database_id: str,
        apps: dict[str, ServiceApp],
    ) -> None:
        super().__init__(scope, id_)
        rg = resource_group
        self.action_group = MonitorActionGroup(
            self,
            "action-group",
            name=f"ag-{config.prefix}",
            resource_group_name=rg.name,
            short_name=config.name[:12],
            location="global",
            email_receiver=[
                MonitorActionGroupEmailReceiver(
                    name="alert-email",
                    email_address=config.alert_email,
                    use_common_alert_schema=True,
                )
            ],
        )
        group = self.action_group.id
        # Every alert about a service exists once per service; the default service's keep
        # today's construct IDs and names, the others' carry the service name.
        for service, built in apps.items():
            suffix = service_suffix(service, "")
            for alert in log_alerts(built.app.name):
                if alert.per_service:
                    self._log_alert(config, rg, workspace, group, alert, suffix)
            for metric in METRIC_ALERTS:
                if metric.target == "app":
                    self._metric_alert(config, rg, group, metric, built.app.id, suffix)
        for alert in log_alerts(""):
            if not alert.per_service:
                self._log_alert(config, rg, workspace, group, alert, "")
        for metric in METRIC_ALERTS:
            if metric.target == "database":
                self._metric_alert(config, rg, group, metric, database_id, "")

        database = config.database
        if database.max_storage_gb > database.storage_gb:
            # Flexible Server's auto-grow has no ceiling (constructs/azure/database.py): warn
            # at 90 % of `database.max_storage_gb` instead.
            MonitorMetricAlert(
                self,
                "database-storage-ceiling",
                name=f"{config.prefix}-database-storage-ceiling",
                description=f"Database storage above 90 % of {database.max_storage_gb} GB",
                resource_group_name=rg.name,
                scopes=[database_id],
                severity=WARNING,
                frequency="PT15M",
                window_size="PT1H",
                criteria=[
                    MonitorMetricAlertCriteria(
                        metric_namespace="Microsoft.DBforPostgreSQL/flexibleServers",
                        metric_name="storage_used",
                        aggregation="Maximum",
                        operator="GreaterThan",
                        threshold=0.9 * database.max_storage_gb * 1000**3,
                    )
                ],
                action=[MonitorMetricAlertAction(action_group_id=group)],
            )

        # OBS-4: an external availability test of every routed service's health path through
        # the gateway (`azure_health_url`: its route's host and its health path, which
        # synth/app.py requires the gateway to send to that service), each with its alert.
        self.insights = ApplicationInsights(
            self,
            "insights",
            name=f"appi-{config.prefix}",
            location=rg.location,
            resource_group_name=rg.name,
            application_type="web",
            workspace_id=workspace.id,
            retention_in_days=config.logs.retention_days,
        )
        # The TLS check verifies the chain, which a self-signed certificate never passes: the
        # test would fail from every location and the alert below fire forever. So it checks
        # TLS exactly when the certificate is one clients trust (azure.certificate.source
        # key_vault); with `self_signed` it still GETs /health over HTTPS, unverified
        # (`SSLCheck`: "Checks to see if the SSL cert is still valid", WebTestValidationRules).
        certificate = config.azure.certificate
        tls_check = certificate is None or certificate.trusted
        self.health_tests: dict[str, ApplicationInsightsStandardWebTest] = {}
        for described in config.services:
            if described.route is None:
                continue  # internal: nothing outside the VNet can reach it (README)
            # The default service keeps today's IDs and names; the others carry their name.
            own = service_suffix(described.name, "")
            url = azure_health_url(config, described)
            test_id, _, _ = _alert_names(config, "health-test", own)
            test = ApplicationInsightsStandardWebTest(
                self,
                test_id,
                name=f"webtest-{config.prefix}-{own + '-' if own else ''}health",
                location=rg.location,
                resource_group_name=rg.name,
                application_insights_id=self.insights.id,
                geo_locations=list(TEST_LOCATIONS),
                # `enabled` has no default in azurerm: unset, the create request sends false and
                # the test never runs (application_insights_standard_webtests_resource.go,
                # `Enabled: pointer.To(model.Enabled)`; DFE-Digital/terraform-azurerm-
                # container-apps-hosting PR #83), so the alert below could never fire.
                enabled=True,
                frequency=300,
                timeout=30,
                retry_enabled=True,
                request=ApplicationInsightsStandardWebTestRequest(url=url, http_verb="GET"),
                validation_rules=ApplicationInsightsStandardWebTestValidationRules(
                    expected_status_code=200,
                    ssl_check_enabled=tls_check,
                    ssl_cert_remaining_lifetime=14 if tls_check else None,
                ),
            )
            self.health_tests[described.name] = test
            alert_id, alert_name, _ = _alert_names(config, "health-unavailable", own)
            MonitorMetricAlert(
                self,
                alert_id,
                name=alert_name,
                description=f"{url} fails from 2 or more test locations",
                resource_group_name=rg.name,
                scopes=[test.id, self.insights.id],
                severity=ERROR,
                application_insights_web_test_location_availability_criteria=(
                    MonitorMetricAlertApplicationInsightsWebTestLocationAvailabilityCriteria(
                        web_test_id=test.id, component_id=self.insights.id, failed_location_count=2
                    )
                ),
                action=[MonitorMetricAlertAction(action_group_id=group)],
            )

        # OBS-5: response times, error rates and throughput of the gateway.
        PortalDashboard(
            self,
            "dashboard",
            name=f"dash-{config.prefix}",
            location=rg.location,
            resource_group_name=rg.name,
            dashboard_properties=dashboard(config.prefix, gateway_id),
        )

    def _log_alert(
        self,
        config: EnvironmentConfig,
        rg: ResourceGroup,
        workspace: LogAnalyticsWorkspace,
        group: str,
        alert: LogAlert,
        service: str,
    ) -> None:
        construct_id, name, of_service = _alert_names(config, alert.name, service)
        MonitorScheduledQueryRulesAlertV2(
            self,
            construct_id,
            name=name,
            description=alert.summary + of_service,
            location=rg.location,
            resource_group_name=rg.name,
            scopes=[workspace.id],
            severity=alert.severity,
            evaluation_frequency="PT5M",
            window_duration="PT5M",
            criteria=[
                MonitorScheduledQueryRulesAlertV2Criteria(
                    query=alert.query,
                    operator="GreaterThan",
                    threshold=alert.threshold,
                    time_aggregation_method="Maximum" if alert.measure else "Count",
                    metric_measure_column=alert.measure,
                    dimension=[
                        MonitorScheduledQueryRulesAlertV2CriteriaDimension(
                            name=alert.per, operator="Include", values=["*"]
                        )
                    ]
                    if alert.per
                    else None,
                    failing_periods=MonitorScheduledQueryRulesAlertV2CriteriaFailingPeriods(
                        minimum_failing_periods_to_trigger_alert=1,
                        number_of_evaluation_periods=1,
                    ),
                )
            ],
            action=MonitorScheduledQueryRulesAlertV2Action(action_groups=[group]),
        )  # fmt: skip

    def _metric_alert(
        self,
        config: EnvironmentConfig,
        rg: ResourceGroup,
        group: str,
        metric: MetricAlert,
        target: str,
        service: str,
    ) -> None:
        construct_id, name, of_service = _alert_names(config, metric.name, service)
        MonitorMetricAlert(
            self,
            construct_id,
            name=name,
            description=metric.summary + of_service,
            resource_group_name=rg.name,
            scopes=[target],
            severity=metric.severity,
            frequency="PT1M",
            window_size="PT5M",
            criteria=[
                MonitorMetricAlertCriteria(
                    metric_namespace=metric.namespace,
                    metric_name=metric.metric,
                    aggregation=metric.aggregation,
                    operator="GreaterThan",
                    threshold=metric.threshold,
                )
            ],
            action=[MonitorMetricAlertAction(action_group_id=group)],
        )  # fmt: skip


# (title, metric, aggregation) of the gateway; aggregation codes: 1 sum, 4 average.
DASHBOARD_CHARTS = (
    ("Throughput (requests)", "TotalRequests", 1),
    ("Failed requests", "FailedRequests", 1),
    ("Response time (ms)", "ApplicationGatewayTotalTime", 4),
    ("Backend response time (ms)", "BackendLastByteResponseTime", 4),
)


def dashboard(prefix: str, gateway_id: str) -> str:
    """The portal dashboard JSON: one metric chart per `DASHBOARD_CHARTS` row."""
    parts: dict[str, Any] = {}
    for index, (title, metric, aggregation) in enumerate(DASHBOARD_CHARTS):
        parts[str(index)] = {
            "position": {"x": (index % 2) * 6, "y": (index // 2) * 4, "colSpan": 6, "rowSpan": 4},
            "metadata": {
                "type": "Extension/HubsExtension/PartType/MonitorChartPart",
                "inputs": [
                    {
                        "name": "options",
                        "value": {
                            "chart": {
                                "title": f"{prefix}: {title}",
                                "titleKind": 2,
                                "visualization": {"chartType": 2},
                                "metrics": [
                                    {
                                        "resourceMetadata": {"id": gateway_id},
                                        "name": metric,
                                        "aggregationType": aggregation,
                                        "namespace": "microsoft.network/applicationgateways",
                                        "metricVisualization": {"displayName": title},
                                    }
                                ],
                            }
                        },
                    }
                ],
            },
        }
    return json.dumps(
        {
            "lenses": {"0": {"order": 0, "parts": parts}},
            "metadata": {
                "model": {
                    "timeRange": {
                        "value": {"relative": {"duration": 24, "timeUnit": 1}},
                        "type": "MsPortalFx.Composition.Configuration.ValueTypes.TimeRange",
                    }
                }
            },
        },
        indent=2,
    )


def _alert_names(config: EnvironmentConfig, alert: str, service: str) -> tuple[str, str, str]:
    """(construct ID, Azure name, description suffix) of alert `alert`: per service when
    `service` is set, else the environment-wide one with today's ID and name."""
    if not service:
        return alert, f"{config.prefix}-{alert}", ""
    return f"{alert}-{service}", f"{config.prefix}-{service}-{alert}", f" (service {service})"
