"""Builds CKV_GW_DEPLOY_37: every resource whose creation needs an AWS service-linked role
depends on that role, created in the stack; otherwise the stack assumes the account has it
(DEPLOY-2: "service agents are created explicitly, not assumed").

These services create their service-linked role on first use, and only if the caller may
`iam:CreateServiceLinkedRole`; otherwise the first create fails:
- ECS (`aws_ecs_cluster`): AWSServiceRoleForECS, ecs.amazonaws.com ("if the user that makes
  the call doesn't have permissions to create the service-linked role, it isn't created",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html);
- Application Auto Scaling (`aws_appautoscaling_target`): one role per namespace, e.g.
  AWSServiceRoleForApplicationAutoScaling_ECSService, ecs.application-autoscaling.amazonaws.com,
  created "the first time any user in your AWS account calls RegisterScalableTarget for a
  given service" (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html);
- RDS (`aws_db_instance`): AWSServiceRoleForRDS, rds.amazonaws.com
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAM.ServiceLinkedRoles.html);
- ElastiCache (`aws_elasticache_replication_group`, `aws_elasticache_cluster`):
  AWSServiceRoleForElastiCache, elasticache.amazonaws.com
  (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/using-service-linked-roles.html);
- Elastic Load Balancing (`aws_lb`): AWSServiceRoleForElasticLoadBalancing,
  elasticloadbalancing.amazonaws.com
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html).
A resource passes only when it depends on an `aws_iam_service_linked_role` of its service.
A stack that creates one collides with any other stack of the account that does (one role per
account, "has been taken"), so the shipped stacks do not: they FAIL here and each such
resource declares a waiver pointing at README "A fresh AWS account", step 5.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

SERVICES = {
    "aws_ecs_cluster": "ecs.amazonaws.com",
    "aws_db_instance": "rds.amazonaws.com",
    "aws_elasticache_replication_group": "elasticache.amazonaws.com",
    "aws_elasticache_cluster": "elasticache.amazonaws.com",
    "aws_lb": "elasticloadbalancing.amazonaws.com",
}
# Application Auto Scaling: the role follows the scalable target's namespace.
AUTOSCALING = {
    "ecs": "ecs.application-autoscaling.amazonaws.com",
    "dynamodb": "dynamodb.application-autoscaling.amazonaws.com",
    "rds": "rds.application-autoscaling.amazonaws.com",
    "lambda": "lambda.application-autoscaling.amazonaws.com",
    "elasticache": "elasticache.application-autoscaling.amazonaws.com",
}


class ServiceLinkedRoles(GroundworkCheck):
    id = "CKV_GW_DEPLOY_37"
    name = "Resources that need a service-linked role depend on it instead of assuming it"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = (*SERVICES, "aws_appautoscaling_target")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        kind = self._address[0]
        if kind == "aws_appautoscaling_target":
            namespace = body.get("service_namespace")
            service = AUTOSCALING.get(str(namespace))
            if service is None:
                return Verdict.unknown(f"service_namespace {namespace}: role not in the table")
        else:
            service = SERVICES[kind]
        graph = stack.graph
        roles = [
            address
            for address, role in graph.of_type("aws_iam_service_linked_role").items()
            if role.get("aws_service_name") == service
        ]
        if any(graph.needs(self.address, role) for role in roles):
            return Verdict.passed(f"depends on the service-linked role of {service}")
        return Verdict.failed(
            f"assumes the account has the service-linked role of {service} (created on first "
            "use only if the deployer may iam:CreateServiceLinkedRole); depend on an "
            "aws_iam_service_linked_role, or see README 'A fresh AWS account' step 5"
        )


check = ServiceLinkedRoles()
