"""Alerting, uptime and the dashboard: encrypted SNS topic, OBS-2 alarms, Route 53 check.

Every alarm is named `<prefix>-<severity>-<what>`, tagged `severity`, and notifies the
topic on ALARM and OK. Route 53 publishes health-check metrics only in us-east-1, so the
uptime alarm, its topic and that topic's key live there, through the provider passed in.

With CloudFront (CDN-1) the distribution's own 5xx rate is alarmed there as well
(`cdn_errors`).

Satisfies: APP-7, OBS-2, OBS-3, OBS-4, OBS-5, SEC-4, DEPLOY-2, DEPLOY-6

"Any database connection error" watches every way in: the PostgreSQL log of the primary and
of every read replica (direct sessions, READER_URL's included, and the proxy's own connections
to the primary) and RDS Proxy's metrics for the app's connections, which end at the proxy and
never reach those logs: failed client authentications and failed connections from the
proxy to the database (AWS/RDS, dimension ProxyName; "Monitoring RDS Proxy metrics with
Amazon CloudWatch", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.monitoring.html).

E-mail subscriptions deliver nothing until the address owner clicks the link SNS mails
after the apply ("Confirmation tokens are valid for three days", SNS API Subscribe,
https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html); Terraform cannot confirm
them. Each subscription's `pending_confirmation` (the provider reads the subscription's
PendingConfirmation attribute on every refresh) is therefore a stack output,
`alert_email_pending_confirmation`, so the apply's own output says whether alerts can be
seen yet, and every later plan or `apply -refresh-only` updates it (CKV_GW_DEPLOY_33).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_contributor_insight_rule import (
    CloudwatchContributorInsightRule,
)
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct
from constructs.aws.edge import Edge
from constructs.aws.keys import account_administers
from constructs.aws.service import Service, of_task_memory

from synth.aws_app import is_default
from synth.config import EnvironmentConfig

CRITICAL = "critical"
WARNING = "warning"
UPTIME_REGION = "us-east-1"  # the only region with Route 53 health-check metrics
FAILED_LOGIN_EVENT = "login_failed"  # the app's structured log: {"event": ..., "ip": ...}
# PostgreSQL messages of a refused connection. Connection logging is on, so plain
# "connection" would match every successful one; client resets during a deploy are not errors.
# The app signs in with IAM tokens, which RDS checks through PAM: a bad or expired token logs
# "PAM authentication failed for user" (https://repost.aws/knowledge-center/aurora-postgresql-connect-iam).
DATABASE_CONNECTION_ERRORS = (
    "password authentication failed",
    "PAM authentication failed",
    "no pg_hba.conf entry",
    "too many clients",
    "remaining connection slots are reserved",
)


def _alb_metric(name: str, stat: str, load_balancer: str) -> CloudwatchMetricAlarmMetricQueryMetric:
    return CloudwatchMetricAlarmMetricQueryMetric(
        namespace="AWS/ApplicationELB",
        metric_name=name,
        stat=stat,
        period=60,
        dimensions={"LoadBalancer": load_balancer},
    )


class Observability(Construct):
    """`topic_arn`: where every alert goes; alarms per OBS-2; uptime; dashboard."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvironmentConfig,
        kms_key_arn: str,
        edge: Edge,
        services: Sequence[Service],
        uptime_provider: TerraformProvider,
        database_log_group_names: Mapping[str, str] | None = None,
        database_proxy_name: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self._config = config
        # {topic name: its e-mail subscription}, for the confirmation output.
        self.email_subscriptions: dict[str, SnsTopicSubscription] = {}
        account_id = DataAwsCallerIdentity(self, "account").account_id
        self._account_id = account_id

        topic = self._topic("alerts", kms_key_arn)  # OBS-3
        self.topic_arn = topic.arn
        load_balancer = edge.load_balancer.arn_suffix
        target_group = edge.target_group.arn_suffix
        # APP-7: every per-service alarm exists for every service; the default service's
        # keep their names (`<prefix>-warning-cpu`), the others carry the service's name.
        ecs = [
            {"ClusterName": service.cluster_name, "ServiceName": service.service_name}
            for service in services
        ]

        # 5xx rate > 1 % of requests, from the targets and the ALB itself (critical).
        self._alarm(
            CRITICAL,
            "5xx-rate",
            "More than 1 % of requests failed with a 5xx over 5 minutes",
            [topic.arn],
            threshold=1,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            metric_query=[
                CloudwatchMetricAlarmMetricQuery(
                    id="target5xx",
                    metric=_alb_metric("HTTPCode_Target_5XX_Count", "Sum", load_balancer),
                ),
                CloudwatchMetricAlarmMetricQuery(
                    id="elb5xx", metric=_alb_metric("HTTPCode_ELB_5XX_Count", "Sum", load_balancer)
                ),
                CloudwatchMetricAlarmMetricQuery(
                    id="requests", metric=_alb_metric("RequestCount", "Sum", load_balancer)
                ),
                CloudwatchMetricAlarmMetricQuery(
                    id="rate",
                    label="5xx per 100 requests",
                    expression="100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests",
                    return_data=True,
                ),
            ],
        )
        for name, group in edge.target_groups.items():
            # p95 latency > 2 s (warning), per routed service.
            self._alarm(
                WARNING,
                "latency-p95" if is_default(name) else f"{name}-latency-p95",
                "p95 target response time above 2 s over 5 minutes"
                + ("" if is_default(name) else f" (service {name})"),
                [topic.arn],
                threshold=2,
                evaluation_periods=5,
                datapoints_to_alarm=5,
                namespace="AWS/ApplicationELB",
                metric_name="TargetResponseTime",
                extended_statistic="p95",
                period=60,
                dimensions={"LoadBalancer": load_balancer, "TargetGroup": group.arn_suffix},
            )
        # CPU > 80 % and memory > 85 % of the container's limit for 5 minutes (warning). ECS
        # reports memory against the task's size, so the threshold is scaled by limit/task
        # (constructs/aws/service.py, `memory_share`).
        for service in services:
            dimensions = {"ClusterName": service.cluster_name, "ServiceName": service.service_name}
            for what, metric, threshold, description in (
                ("cpu", "CPUUtilization", 80, "above 80 %"),
                (
                    "memory",
                    "MemoryUtilization",
                    of_task_memory(85, service.memory_share),
                    "above 85 % of the container's memory limit",
                ),
            ):
                self._alarm(
                    WARNING,
                    what if is_default(service.name) else f"{service.name}-{what}",
                    f"Service {metric} {description} for 5 minutes"
                    + ("" if is_default(service.name) else f" ({service.name})"),
                    [topic.arn],
                    threshold=threshold,
                    evaluation_periods=5,
                    datapoints_to_alarm=5,
                    namespace="AWS/ECS",
                    metric_name=metric,
                    statistic="Average",
                    period=60,
                    dimensions=dimensions,
                )
        self._failed_logins([service.log_group_name for service in services], [topic.arn])
        if database_log_group_names:
            self._database_connection_errors(database_log_group_names, [topic.arn])
        if database_proxy_name is not None:
            self._proxy_connection_errors(database_proxy_name, [topic.arn])
        self._uptime(uptime_provider, edge.default_service.health.path)
        self._dashboard(load_balancer, target_group, ecs)

    def _topic(
        self, name: str, kms_key_arn: str, provider: TerraformProvider | None = None
    ) -> SnsTopic:
        topic = SnsTopic(
            self,
            f"{name}-topic",
            name=f"{self._config.prefix}-{name}",
            kms_master_key_id=kms_key_arn,
            provider=provider,
        )
        self.email_subscriptions[name] = SnsTopicSubscription(
            self,
            f"{name}-email",
            topic_arn=topic.arn,
            protocol="email",
            endpoint=self._config.alert_email,  # OBS-3: the address comes from the config
            provider=provider,
        )
        return topic

    def _alarm(
        self,
        severity: str,
        what: str,
        description: str,
        actions: Sequence[str],
        *,
        provider: TerraformProvider | None = None,
        **metric: Any,
    ) -> CloudwatchMetricAlarm:
        name = f"{self._config.prefix}-{severity}-{what}"
        return CloudwatchMetricAlarm(
            self,
            f"alarm-{what}",
            alarm_name=name,
            alarm_description=f"[{severity}] {description}",
            comparison_operator=metric.pop("comparison_operator", "GreaterThanThreshold"),
            treat_missing_data=metric.pop("treat_missing_data", "notBreaching"),
            actions_enabled=True,
            alarm_actions=list(actions),
            ok_actions=list(actions),
            tags={"severity": severity},
            provider=provider,
            **metric,
        )

    def _failed_logins(self, app_log_group_names: Sequence[str], actions: Sequence[str]) -> None:
        """More than 10 failed logins a minute from one IP (warning), per contributor."""
        rule_name = f"{self._config.prefix}-failed-logins-per-ip"
        rule = CloudwatchContributorInsightRule(
            self,
            "failed-logins",
            rule_name=rule_name,
            rule_state="ENABLED",
            rule_definition=json.dumps(
                {
                    "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
                    "LogGroupNames": list(app_log_group_names),
                    "LogFormat": "JSON",
                    "Contribution": {
                        "Keys": ["$.ip"],
                        "Filters": [{"Match": "$.event", "In": [FAILED_LOGIN_EVENT]}],
                    },
                    "AggregateOn": "Count",
                }
            ),
        )
        self._alarm(
            WARNING,
            "failed-logins",
            "More than 10 failed logins in a minute from one IP",
            actions,
            threshold=10,
            evaluation_periods=1,
            metric_query=[
                CloudwatchMetricAlarmMetricQuery(
                    id="topip",
                    label="Failed logins of the busiest IP",
                    expression=f'INSIGHT_RULE_METRIC("{rule_name}", "MaxContributorValue")',
                    period=60,
                    return_data=True,
                )
            ],
            # The expression names the rule by its literal name, which Terraform cannot see:
            # node.add_dependency writes nothing for a resource, so the dependency is explicit.
            depends_on=[rule],
        )

    def _database_connection_errors(
        self, log_group_names: Mapping[str, str], actions: Sequence[str]
    ) -> None:
        """Any failed or refused database connection (critical), from the PostgreSQL log of
        every instance (`log_group_names`: construct ID -> log group, primary first). The app
        reaches the replicas directly (READER_URL), so a refusal there is logged only in that
        replica's log. Every filter adds to the one metric the one alarm sums."""
        namespace = f"Groundwork/{self._config.prefix}"
        for n, (role, log_group_name) in enumerate(log_group_names.items()):
            CloudwatchLogMetricFilter(
                self,
                # The primary's keeps its construct ID (and state address).
                "database-connection-errors" if n == 0 else f"database-connection-errors-{role}",
                name=f"{self._config.prefix}-database-connection-errors",
                log_group_name=log_group_name,
                pattern=" ".join(f'?"{message}"' for message in DATABASE_CONNECTION_ERRORS),
                metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                    name="DatabaseConnectionErrors",
                    namespace=namespace,
                    value="1",
                    default_value="0",
                ),
            )
        self._alarm(
            CRITICAL,
            "database-connection-errors",
            "A database connection failed or was refused",
            actions,
            threshold=0,
            evaluation_periods=1,
            namespace=namespace,
            metric_name="DatabaseConnectionErrors",
            statistic="Sum",
            period=60,
        )

    def _proxy_connection_errors(self, proxy_name: str, actions: Sequence[str]) -> None:
        """Any failed connection at RDS Proxy (critical): the app's path to the database."""

        def proxy_metric(name: str) -> CloudwatchMetricAlarmMetricQueryMetric:
            return CloudwatchMetricAlarmMetricQueryMetric(
                namespace="AWS/RDS",
                metric_name=name,
                stat="Sum",
                period=60,
                dimensions={"ProxyName": proxy_name},
            )

        self._alarm(
            CRITICAL,
            "database-proxy-connection-errors",
            "A connection to or through RDS Proxy failed",
            actions,
            threshold=0,
            evaluation_periods=1,
            metric_query=[
                CloudwatchMetricAlarmMetricQuery(
                    id="clientauth", metric=proxy_metric("ClientConnectionsSetupFailedAuth")
                ),
                CloudwatchMetricAlarmMetricQuery(
                    id="database", metric=proxy_metric("DatabaseConnectionsSetupFailed")
                ),
                CloudwatchMetricAlarmMetricQuery(
                    id="failed",
                    label="Failed proxy connections",
                    expression="FILL(clientauth, 0) + FILL(database, 0)",
                    return_data=True,
                ),
            ],
        )

    def _uptime(self, provider: TerraformProvider, health_path: str) -> None:
        """OBS-4: Route 53 probes https://<domain><health path of the service at `/`> from
        several regions."""
        config = self._config
        check = Route53HealthCheck(
            self,
            "uptime",
            type="HTTPS",
            fqdn=config.domain,
            port=443,
            resource_path=health_path,
            enable_sni=True,
            request_interval=30,
            failure_threshold=3,
            measure_latency=True,
            tags={"Name": f"{config.prefix}-uptime"},
        )
        # Alarm actions must be in the alarm's region: a us-east-1 topic with its own key.
        key = KmsKey(
            self,
            "uptime-key",
            description=f"{config.prefix}: uptime alert topic ({UPTIME_REGION})",
            enable_key_rotation=True,  # SEC-4
            deletion_window_in_days=30,
            policy=self._uptime_key_policy(),
            provider=provider,
        )
        KmsAlias(
            self,
            "uptime-key-alias",
            name=f"alias/{config.prefix}-uptime",
            target_key_id=key.key_id,
            provider=provider,
        )
        topic = self._topic("uptime", key.arn, provider)
        self.uptime_topic_arn = topic.arn
        self._uptime_provider = provider
        self._alarm(
            CRITICAL,
            "uptime",
            f"https://{config.domain}{health_path} is failing Route 53 health checks",
            [topic.arn],
            provider=provider,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            threshold=1,
            evaluation_periods=2,
            namespace="AWS/Route53",
            metric_name="HealthCheckStatus",
            statistic="Minimum",
            period=60,
            dimensions={"HealthCheckId": check.id},
        )

    def cdn_errors(self, distribution_id: str) -> None:
        """OBS-2 at the edge (CDN-1): more than 1 % of viewer requests answered with a 5xx by
        CloudFront (critical). The ALB's 5xx alarm never sees what CloudFront returns itself
        (502 when it cannot reach or handshake with the ALB, 504 when the origin times out).
        CloudFront publishes its metrics in us-east-1 only, with dimensions DistributionId and
        Region=Global ("Monitor CloudFront metrics with Amazon CloudWatch",
        https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html),
        so the alarm is there and notifies the uptime topic, the critical topic of that
        region (an alarm's SNS action must be in its region), mailed to `alert_email`."""
        self._alarm(
            CRITICAL,
            "cdn-5xx-rate",
            "More than 1 % of CloudFront's responses were a 5xx over 5 minutes",
            [self.uptime_topic_arn],
            provider=self._uptime_provider,
            threshold=1,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            namespace="AWS/CloudFront",
            metric_name="5xxErrorRate",  # a percentage of all requests
            statistic="Average",
            period=60,
            dimensions={"DistributionId": distribution_id, "Region": "Global"},
        )

    def _uptime_key_policy(self) -> str:
        account_id = self._account_id
        root = f"arn:aws:iam::{account_id}:root"
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    account_administers(account_id),
                    {
                        "Sid": "AccountUsesTheKeyThroughSns",
                        "Effect": "Allow",
                        "Principal": {"AWS": root},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {
                                "kms:CallerAccount": account_id,
                                "kms:ViaService": f"sns.{UPTIME_REGION}.amazonaws.com",
                            }
                        },
                    },
                    {
                        "Sid": "CloudWatchPublishesToTheTopic",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                    },
                ],
            },
            indent=2,
        )

    def _dashboard(
        self, load_balancer: str, target_group: str, ecs: Sequence[dict[str, str]]
    ) -> None:
        """OBS-5: response times, error rates and throughput, plus each service's load."""
        region = self._config.aws.region
        alb = "AWS/ApplicationELB"
        lb = ["LoadBalancer", load_balancer]

        def widget(title: str, metrics: list[list[Any]], x: int, y: int) -> dict[str, Any]:
            return {
                "type": "metric",
                "x": x,
                "y": y,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region,
                    "view": "timeSeries",
                    "period": 60,
                    "metrics": metrics,
                },
            }

        widgets = [
            widget(
                "Response time (s)",
                [
                    [alb, "TargetResponseTime", *lb, "TargetGroup", target_group, {"stat": "p50"}],
                    [alb, "TargetResponseTime", *lb, "TargetGroup", target_group, {"stat": "p95"}],
                ],
                0,
                0,
            ),
            widget(
                "Errors (4xx / 5xx)",
                [
                    [alb, "HTTPCode_Target_4XX_Count", *lb, {"stat": "Sum"}],
                    [alb, "HTTPCode_Target_5XX_Count", *lb, {"stat": "Sum"}],
                    [alb, "HTTPCode_ELB_4XX_Count", *lb, {"stat": "Sum"}],
                    [alb, "HTTPCode_ELB_5XX_Count", *lb, {"stat": "Sum"}],
                ],
                12,
                0,
            ),
            widget("Throughput (requests)", [[alb, "RequestCount", *lb, {"stat": "Sum"}]], 0, 6),
            widget(
                "Service CPU and memory (%)",
                [
                    ["AWS/ECS", metric, *[v for kv in dimensions.items() for v in kv]]
                    for dimensions in ecs
                    for metric in ("CPUUtilization", "MemoryUtilization")
                ],
                12,
                6,
            ),
        ]
        CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=self._config.prefix,
            dashboard_body=json.dumps({"widgets": widgets}, indent=2),
        )
