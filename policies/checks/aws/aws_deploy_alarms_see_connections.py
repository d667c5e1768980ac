"""Builds CKV_GW_DEPLOY_24: the database-connection alarm sees the app's connections
(DEPLOY-6, OBS-2).

The app connects through RDS Proxy; its failed sign-ins end at the proxy and never reach the
instance's PostgreSQL log. So every `aws_db_proxy` needs an alarm on its own connection
failures: a metric alarm on `AWS/RDS` with the `ProxyName` dimension of this proxy and a
`...SetupFailed...` metric ("Monitoring RDS Proxy metrics with Amazon CloudWatch",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.monitoring.html).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks


class AlarmsSeeConnections(GroundworkCheck):
    id = "CKV_GW_DEPLOY_24"
    name = "Database connection errors at RDS Proxy raise an alarm"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("aws_db_proxy",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        names = {str(body.get("name")), "${" + self.address + ".name}"}
        for address, alarm in stack.graph.of_type("aws_cloudwatch_metric_alarm").items():
            metrics = [alarm] + [
                m for q in blocks(alarm, "metric_query") for m in blocks(q, "metric")
            ]
            for metric in metrics:
                dimensions = metric.get("dimensions") or {}
                if (
                    metric.get("namespace") == "AWS/RDS"
                    and dimensions.get("ProxyName") in names
                    and "SetupFailed" in str(metric.get("metric_name"))
                ):
                    return Verdict.passed(f"{address} alarms on its failed connections")
        return Verdict.failed("no alarm watches this proxy's failed connections")


check = AlarmsSeeConnections()
