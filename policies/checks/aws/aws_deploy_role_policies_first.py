"""Builds CKV_GW_DEPLOY_28: every resource that hands AWS an IAM role depends on that role's
policies, so the role can do its job the moment AWS first uses it (DEPLOY-2).

Terraform creates a role, its inline policies and its attachments in parallel with whatever
names the role's ARN. Services check or use the role at once:
- RDS refuses a monitoring role that lacks AmazonRDSEnhancedMonitoringRole ("IAM role ARN
  value is invalid or does not include the required permissions for: ENHANCED_MONITORING",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html);
- Lambda checks the ENI permissions of a VPC function's role at create time
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions);
- RDS Proxy, VPC flow logs, S3 replication and ECS (pulling the image and secrets with the
  execution role for the first tasks) fail or retry until the policy exists.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

ROLE_ATTRIBUTES = {
    "aws_db_instance": "monitoring_role_arn",
    "aws_db_proxy": "role_arn",
    "aws_flow_log": "iam_role_arn",
    "aws_lambda_function": "role",
    "aws_ecs_task_definition": "execution_role_arn",
    "aws_s3_bucket_replication_configuration": "role",
}
POLICY_TYPES = ("aws_iam_role_policy", "aws_iam_role_policy_attachment")


class RolePoliciesFirst(GroundworkCheck):
    id = "CKV_GW_DEPLOY_28"
    name = "Resources that hand AWS a role wait for that role's policies"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = tuple(sorted(ROLE_ATTRIBUTES))
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        value = body.get(ROLE_ATTRIBUTES[self._address[0]])
        if value is None:
            return Verdict.passed("hands AWS no role")
        role = address_of(value)
        if role is None or not role.startswith("aws_iam_role."):
            return Verdict.unknown(f"role {value} is not a role of this stack")
        graph = stack.graph
        policies = [
            a for a, b in graph.of_type(*POLICY_TYPES).items() if address_of(b.get("role")) == role
        ]
        if not policies:
            return Verdict.failed(f"{role} has no policy in this stack")
        missing = [p for p in policies if not graph.needs(self.address, p)]
        verdicts = [Verdict.failed(f"does not wait for {p}") for p in missing]
        return (
            combine(verdicts)
            if verdicts
            else Verdict.passed(f"waits for the {len(policies)} policies of {role}")
        )


check = RolePoliciesFirst()
