"""Cloud Logging retention, alert policies with severities, an uptime check and a dashboard.

- OBS-1: the `_Default` log bucket (app, load balancer, flow and audit logs) keeps logs for
  `logs.retention_days`, encrypted at rest by Cloud Logging (Google-managed keys; a CMEK
  for `_Default` is an organization-level Cloud Logging setting outside this project stack).
- OBS-2: one alert policy per row of the requirement, each with its severity. Failed
  logins and database connection errors are log-based metrics: the app logs JSON with
  `event` (`login_failed`, `db_connection_error`) and `client_ip`; Cloud SQL's own FATAL
  connection lines count too.
- OBS-3: every policy notifies the e-mail channel from `alert_email`.
- OBS-4: an HTTPS uptime check on `https://<domain><health path>` (the health path of the
  service routed at `/` on the domain) from several regions.
- OBS-5: a dashboard of request rate, 5xx ratio and p95 latency.
- TAG-1: alert policies, the uptime check and the notification channel take their labels
  as `user_labels`, which the provider's `default_labels` do not reach (they fill only
  `labels` fields; terraform-provider-google#16375), so the tags are set on each resource.
  (The channel's `labels` is its e-mail address, not tags.)

Satisfies: OBS-1, OBS-2, OBS-3, OBS-4, OBS-5, NET-4, TAG-1, DEPLOY-2
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_google.logging_metric import (
    LoggingMetric,
    LoggingMetricMetricDescriptor,
    LoggingMetricMetricDescriptorLabels,
)
from cdktf_cdktf_provider_google.logging_project_bucket_config import LoggingProjectBucketConfig
from cdktf_cdktf_provider_google.monitoring_alert_policy import (
    MonitoringAlertPolicy,
    MonitoringAlertPolicyConditions,
    MonitoringAlertPolicyConditionsConditionThreshold,
    MonitoringAlertPolicyConditionsConditionThresholdAggregations,
    MonitoringAlertPolicyConditionsConditionThresholdDenominatorAggregations,
    MonitoringAlertPolicyDocumentation,
)
from cdktf_cdktf_provider_google.monitoring_dashboard import MonitoringDashboard
from cdktf_cdktf_provider_google.monitoring_notification_channel import (
    MonitoringNotificationChannel,
)
from cdktf_cdktf_provider_google.monitoring_uptime_check_config import (
    MonitoringUptimeCheckConfig,
    MonitoringUptimeCheckConfigHttpCheck,
    MonitoringUptimeCheckConfigMonitoredResource,
)
from constructs import Construct
from constructs.gcp.database import Database
from constructs.gcp.edge import Edge
from constructs.gcp.service import APP_CONTAINER, Service
from constructs.gcp.steps import GcloudStep

from synth.app import DEFAULT_SERVICE_NAME
from synth.config import EnvironmentConfig

LB = 'resource.type = "https_lb_rule" AND resource.label.url_map_name = "{url_map}"'
RUN = 'resource.type = "cloud_run_revision" AND resource.label.service_name = "{service}"'
# Log filters are the Logging query language, which has no `one_of` (a Monitoring filter
# function): several values are a parenthesised OR, as in its `resource.type = ("k8s_cluster"
# OR "gce_instance")` (https://cloud.google.com/logging/docs/view/logging-query-language).
RUN_LOGS_ANY = 'resource.type = "cloud_run_revision" AND resource.label.service_name = ({services})'

# OBS-2 "any database connection error (critical)": the alert counts errors over a 5-minute
# rolling window and pages on more than this many, i.e. on the first one. A new instance
# waiting for Direct VPC egress may log a few failed attempts at startup
# (https://cloud.google.com/run/docs/configuring/vpc-direct-vpc, Limitations); the
# requirement says any error pages (critical), so such a start pages too.
DB_ERRORS_PER_WINDOW = 0


class Observability(Construct):
    """`notification_channel` (for the budget) and the alert policies of OBS-2."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        services: list[Service],
        database: Database,
        edge: Edge,
    ) -> None:
        super().__init__(scope, id_)
        project = config.gcp.project
        LoggingProjectBucketConfig(  # OBS-1, NET-4
            self,
            "default-logs",
            project=project,
            location="global",
            bucket_id="_Default",
            retention_days=config.logs.retention_days,
        )
        self.notification_channel = MonitoringNotificationChannel(  # OBS-3
            self,
            "email",
            display_name=f"{config.prefix} alerts",
            type="email",
            labels={"email_address": config.alert_email},  # the channel's address, not tags
            user_labels=config.tags,  # TAG-1: default_labels reach only `labels` (#16375)
        )

        # Logs of every service, for the log-based metrics (Logging query language).
        names = [svc.name for svc in services]
        run_logs = (
            RUN.format(service=names[0])
            if len(names) == 1
            else RUN_LOGS_ANY.format(services=" OR ".join(f'"{n}"' for n in names))
        )
        failed_logins = LoggingMetric(
            self,
            "failed-logins",
            name=f"{config.prefix}/failed_logins",
            filter=f'{run_logs} AND jsonPayload.event = "login_failed"',
            metric_descriptor=LoggingMetricMetricDescriptor(
                metric_kind="DELTA",
                value_type="INT64",
                labels=[LoggingMetricMetricDescriptorLabels(key="client_ip", value_type="STRING")],
            ),
            label_extractors={"client_ip": "EXTRACT(jsonPayload.client_ip)"},
        )
        sql_logs = (
            'resource.type = "cloudsql_database" AND resource.label.database_id = '
            f'"{project}:{database.instance_name}"'
        )
        db_errors = LoggingMetric(
            self,
            "database-connection-errors",
            name=f"{config.prefix}/database_connection_errors",
            filter=(
                f'({run_logs} AND jsonPayload.event = "db_connection_error") OR '
                f'({sql_logs} AND textPayload:"FATAL")'
            ),
            metric_descriptor=LoggingMetricMetricDescriptor(
                metric_kind="DELTA", value_type="INT64"
            ),
        )
        # Alert policies on a log-based metric 404 until Monitoring has the new metric
        # (terraform-provider-google#11102): wait for both descriptors, at most 10 minutes.
        # The descriptor's name keeps its slashes, as Google's reference writes it
        # (`GET https://monitoring.googleapis.com/v3/{name}`, name `projects/[PROJECT_ID]/
        # metricDescriptors/[METRIC_ID]`, METRIC_ID e.g. `compute.googleapis.com/instance/
        # disk/read_bytes_count`: https://cloud.google.com/monitoring/api/ref_v3/rest/v3/
        # projects.metricDescriptors/get). Percent-encoded, they would not match: a multi-
        # segment path variable is decoded "except %2F and %2f are left unchanged"
        # (google/api/http.proto, path template syntax), so the poll would 404 until it gave
        # up. The metric names are [a-z0-9-_/] only (config.prefix), so nothing needs escaping.
        descriptors = "https://monitoring.googleapis.com/v3/projects/{p}/metricDescriptors/"
        polls = " && ".join(
            f'i=0; until curl -sf -o /dev/null -H "Authorization: Bearer $token" '
            f"{descriptors.format(p=project)}logging.googleapis.com/user/"
            f"{config.prefix}/{metric}; "
            "do i=$((i+1)); [ $i -ge 60 ] && exit 1; sleep 10; done"
            for metric in ("failed_logins", "database_connection_errors")
        )
        metrics_known = GcloudStep(
            self,
            "metrics-known",
            project=project,
            does="wait until Cloud Monitoring knows the log-based metrics",
            args=["auth", "print-access-token"],
            apis=("monitoring.googleapis.com",),
            role="roles/monitoring.admin",
            triggers={"metrics": f"{failed_logins.id},{db_errors.id}"},
            depends_on=[failed_logins, db_errors],
            script=f"token=$(gcloud auth print-access-token) && {polls}",
        )
        lb = LB.format(url_map=edge.url_map_name)
        requests = f'metric.type = "loadbalancing.googleapis.com/https/request_count" AND {lb}'
        latency = f'metric.type = "loadbalancing.googleapis.com/https/total_latencies" AND {lb}'

        def run_metric(m: str, service: str) -> str:
            # The app container only: Cloud Run reports CPU and memory per container
            # (`container_name`, https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-run),
            # and the Cloud SQL Auth Proxy sidecar's own utilization is not the app's.
            return (
                f'metric.type = "run.googleapis.com/container/{m}/utilizations" AND '
                f"{RUN.format(service=service)}"
                f' AND metric.label.container_name = "{APP_CONTAINER}"'
            )

        # OBS-2's CPU and memory alerts exist per service (APP-7); the default service's
        # keep their IDs and titles.
        per_service = []
        for svc in services:
            default = svc.spec.name == DEFAULT_SERVICE_NAME
            key = "" if default else f"-{svc.spec.name}"
            who = "" if default else f"{svc.spec.name}: "
            per_service += [
                (f"cpu{key}", f"{who}CPU > 80 % for 5 minutes", "WARNING",
                 run_metric("cpu", svc.name), "ALIGN_PERCENTILE_95", "60s", [], 0.8, "300s",
                 None),
                (f"memory{key}", f"{who}Memory > 85 % for 5 minutes", "WARNING",
                 run_metric("memory", svc.name), "ALIGN_PERCENTILE_95", "60s", [], 0.85,
                 "300s", None),
            ]  # fmt: skip

        log_metric = 'metric.type = "logging.googleapis.com/user/{name}" AND resource.type = "{r}"'

        db_error_series = (
            'metric.type = "logging.googleapis.com/user/'
            f'{config.prefix}/database_connection_errors"'
            ' AND resource.type = one_of("cloud_run_revision", "cloudsql_database")'
        )
        # OBS-2 as data: (id, title, severity, filter, aligner, rolling window, group by,
        # threshold, duration, denominator filter for ratios).
        alerts = [
            ("failed-logins", "Failed logins > 10/min from one IP", "WARNING",
             log_metric.format(name=f"{config.prefix}/failed_logins", r="cloud_run_revision"),
             "ALIGN_SUM", "60s", ["metric.label.client_ip"], 10, "0s", None),
            ("5xx-ratio", "5xx responses > 1 % of requests", "CRITICAL",
             f"{requests} AND metric.label.response_code_class = 500",
             "ALIGN_RATE", "60s", [], 0.01, "300s", requests),
            # Any database connection error in the last 5 minutes, at once (duration 0 s).
            # A log-based metric writes no point in a minute without a matching entry, so a
            # 60 s window held for 5 minutes ("300s" duration) fired only if every minute had
            # errors: one error, or a 4-minute burst, never paged. The alignment period is a
            # look-back window that slides every minute (https://cloud.google.com/monitoring/
            # alerts/concepts-indepth, "Alignment period"), so a 300 s ALIGN_SUM counts the
            # last 5 minutes at each evaluation and crosses 0 with the first error.
            ("database-connection-errors",
             "Any database connection error (in the last 5 minutes)",
             "CRITICAL", db_error_series,
             "ALIGN_SUM", "300s", [], DB_ERRORS_PER_WINDOW, "0s", None),
            ("latency-p95", "API latency p95 > 2 s", "WARNING", latency,
             "ALIGN_PERCENTILE_95", "60s", [], 2000, "300s", None),
            *per_service,
        ]  # fmt: skip
        self.alert_policies = {}
        for (
            key,
            title,
            severity,
            flt,
            aligner,
            window,
            group_by,
            threshold,
            duration,
            denom,
        ) in alerts:
            reducer = "REDUCE_SUM" if aligner in ("ALIGN_SUM", "ALIGN_RATE") else "REDUCE_MAX"
            aggregation = MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                alignment_period=window,
                per_series_aligner=aligner,
                cross_series_reducer=reducer,
                group_by_fields=group_by or None,
            )
            self.alert_policies[key] = MonitoringAlertPolicy(
                self,
                f"alert-{key}",
                display_name=f"{config.prefix}: {title}",
                user_labels=config.tags,  # TAG-1 (#16375)
                severity=severity,
                combiner="OR",
                notification_channels=[self.notification_channel.id],
                documentation=MonitoringAlertPolicyDocumentation(
                    content=f"{title} in {config.name} (OBS-2, {severity.lower()}).",
                    mime_type="text/markdown",
                ),
                conditions=[
                    MonitoringAlertPolicyConditions(
                        display_name=title,
                        condition_threshold=MonitoringAlertPolicyConditionsConditionThreshold(
                            filter=flt,
                            comparison="COMPARISON_GT",
                            threshold_value=threshold,
                            duration=duration,
                            aggregations=[aggregation],
                            denominator_filter=denom,
                            denominator_aggregations=(
                                [
                                    MonitoringAlertPolicyConditionsConditionThresholdDenominatorAggregations(
                                        alignment_period=window,
                                        per_series_aligner=aligner,
                                        cross_series_reducer=reducer,
                                    )
                                ]
                                if denom
                                else None
                            ),
                        ),
                    )
                ],
                depends_on=[failed_logins, db_errors, metrics_known],
            )

        # OBS-4: the uptime check probes the default route's service (`/` on the domain) at
        # its health path.
        front = next(
            svc.spec
            for svc in services
            if svc.spec.route is not None
            and svc.spec.route.path_prefix == "/"
            and svc.spec.route.host in (None, config.domain)
        )
        health = front.health.path
        uptime = MonitoringUptimeCheckConfig(  # OBS-4
            self,
            "uptime",
            display_name=f"{config.prefix} {health}",
            user_labels=config.tags,  # TAG-1 (#16375)
            timeout="10s",
            period="60s",
            monitored_resource=MonitoringUptimeCheckConfigMonitoredResource(
                type="uptime_url", labels={"host": config.domain, "project_id": project}
            ),
            http_check=MonitoringUptimeCheckConfigHttpCheck(
                path=health, port=443, use_ssl=True, validate_ssl=True
            ),
            # Not before HTTPS is served: the certificate takes up to an hour to become
            # ACTIVE on a first apply, and a check probing meanwhile pages on-call (below).
            depends_on=[edge.https_rule],
        )

        # OBS-4: the uptime check alerts: the health path failing from more than one checker region
        # for 5 minutes (https://cloud.google.com/monitoring/uptime-checks/uptime-alerting).
        MonitoringAlertPolicy(
            self,
            "alert-uptime",
            display_name=f"{config.prefix}: {health} unreachable",
            user_labels=config.tags,  # TAG-1 (#16375)
            severity="CRITICAL",
            combiner="OR",
            notification_channels=[self.notification_channel.id],
            documentation=MonitoringAlertPolicyDocumentation(
                content=f"https://{config.domain}{health} fails its uptime check (OBS-4).",
                mime_type="text/markdown",
            ),
            conditions=[
                MonitoringAlertPolicyConditions(
                    display_name="Uptime check failing",
                    condition_threshold=MonitoringAlertPolicyConditionsConditionThreshold(
                        filter=(
                            'metric.type = "monitoring.googleapis.com/uptime_check/check_passed"'
                            ' AND resource.type = "uptime_url" AND metric.label.check_id = '
                            f'"{uptime.uptime_check_id}"'
                        ),
                        comparison="COMPARISON_GT",
                        threshold_value=1,
                        duration="300s",
                        aggregations=[
                            MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                                alignment_period="300s",
                                per_series_aligner="ALIGN_NEXT_OLDER",
                                cross_series_reducer="REDUCE_COUNT_FALSE",
                                group_by_fields=["resource.label.host"],
                            )
                        ],
                    ),
                )
            ],
        )

        def chart(title: str, flt: str, aligner: str, reducer: str) -> dict[str, object]:
            return {
                "title": title,
                "xyChart": {
                    "dataSets": [
                        {
                            "timeSeriesQuery": {
                                "timeSeriesFilter": {
                                    "filter": flt,
                                    "aggregation": {
                                        "alignmentPeriod": "60s",
                                        "perSeriesAligner": aligner,
                                        "crossSeriesReducer": reducer,
                                    },
                                }
                            },
                            "plotType": "LINE",
                        }
                    ]
                },
            }

        tiles = [
            chart("Requests per second", requests, "ALIGN_RATE", "REDUCE_SUM"),
            chart("5xx per second", f"{requests} AND metric.label.response_code_class = 500",
                  "ALIGN_RATE", "REDUCE_SUM"),
            chart("Latency p95 (ms)", latency, "ALIGN_PERCENTILE_95", "REDUCE_MAX"),
            chart("CPU utilization", run_metric("cpu", services[0].name),
                  "ALIGN_PERCENTILE_95", "REDUCE_MAX"),
            *(chart(f"CPU utilization {svc.spec.name}", run_metric("cpu", svc.name),
                    "ALIGN_PERCENTILE_95", "REDUCE_MAX") for svc in services[1:]),
        ]  # fmt: skip
        MonitoringDashboard(  # OBS-5
            self,
            "dashboard",
            dashboard_json=json.dumps(
                {
                    "displayName": f"{config.prefix} service",
                    "gridLayout": {"columns": "2", "widgets": tiles},
                },
                sort_keys=True,
            ),
        )
