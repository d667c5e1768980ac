"""Builds CKV_GW_DEPLOY_10: every resource that makes AWS write to a log group it would
otherwise create itself depends on that log group, created (or looked up) by the stack
(DEPLOY-2, OBS-1).

AWS creates these groups on first write, unencrypted and kept forever (or a day), and a
later `aws_cloudwatch_log_group` of the same name fails with ResourceAlreadyExistsException:
- RDS log exports: `/aws/rds/instance/<id>/<export>` ("Publishing database logs to Amazon
  CloudWatch Logs", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html);
- RDS enhanced monitoring: `RDSOSMetrics`, one per account and region, which another stack
  may own (then a `data.aws_cloudwatch_log_group` lookup counts);
- RDS Proxy: `/aws/rds/proxy/<name>`;
- ECS Container Insights: `/aws/ecs/containerinsights/<cluster>/performance`;
- Lambda: `/aws/lambda/<name>` unless `logging_config.log_group` names another group.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference


def _expected(rtype: str, body: dict[str, Any]) -> list[str]:
    if rtype == "aws_db_instance":
        names = [
            f"/aws/rds/instance/{body.get('identifier')}/{export}"
            for export in body.get("enabled_cloudwatch_logs_exports") or []
        ]
        if int(body.get("monitoring_interval") or 0) > 0:
            names.append("RDSOSMetrics")
        return names
    if rtype == "aws_db_proxy":
        return [f"/aws/rds/proxy/{body.get('name')}"]
    if rtype == "aws_ecs_cluster":
        insights = [s for s in blocks(body, "setting") if s.get("name") == "containerInsights"]
        if any(s.get("value") in ("enabled", "enhanced") for s in insights):
            return [f"/aws/ecs/containerinsights/{body.get('name')}/performance"]
        return []
    if rtype == "aws_lambda_function":
        configured = [c.get("log_group") for c in blocks(body, "logging_config")]
        return [
            str(configured[0])
            if configured and configured[0]
            else f"/aws/lambda/{body.get('function_name')}"
        ]
    return []


class LogGroupsFirst(GroundworkCheck):
    id = "CKV_GW_DEPLOY_10"
    name = "Log groups AWS would create itself exist first, encrypted and retained"
    requirement = "DEPLOY-2"
    severity = "MEDIUM"
    resource_types = ("aws_db_instance", "aws_db_proxy", "aws_ecs_cluster", "aws_lambda_function")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph = stack.graph
        groups = graph.of_type("aws_cloudwatch_log_group", "data.aws_cloudwatch_log_group")
        verdicts = []
        for wanted in _expected(self._address[0], body):
            if is_reference(wanted) and not wanted.startswith("${aws_cloudwatch_log_group."):
                verdicts.append(Verdict.unknown(f"log group name {wanted} is an expression"))
                continue
            matches = [
                a
                for a, g in groups.items()
                if g.get("name") == wanted or wanted == "${" + a + ".name}"
            ]
            if not matches:
                verdicts.append(Verdict.failed(f"AWS would create {wanted}: no log group for it"))
            elif not any(graph.needs(self.address, a) for a in matches):
                verdicts.append(Verdict.failed(f"does not depend on the log group {wanted}"))
            else:
                verdicts.append(Verdict.passed(f"{wanted} exists first"))
        return combine(verdicts) if verdicts else Verdict.passed("writes no AWS-created log group")


check = LogGroupsFirst()
