"""Builds CKV_GW_DEPLOY_13: every resource encrypted with a customer-managed key uses a key of
this stack, so Terraform creates the key (and its policy, the grant) first, and that policy
admits the service that encrypts (DEPLOY-2).

A key policy is the grant on AWS: a service that is not admitted fails the create
(CloudWatch Logs: "The specified KMS key does not exist or is not allowed to be used",
"Encrypt log data in CloudWatch Logs using AWS KMS",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html; the other
services through `kms:ViaService`, https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
A key that is not a resource of this stack cannot be ordered or read offline: UNKNOWN.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

# type -> (service whose endpoint the key policy names, where the key ARN sits)
USES = {
    "aws_cloudwatch_log_group": ("logs", ("kms_key_id",)),
    "aws_secretsmanager_secret": ("secretsmanager", ("kms_key_id",)),
    "aws_sns_topic": ("sns", ("kms_master_key_id",)),
    "aws_db_instance": ("rds", ("kms_key_id",)),
    "aws_elasticache_replication_group": ("elasticache", ("kms_key_id",)),
    "aws_ecr_repository": ("ecr", ("encryption_configuration", "kms_key")),
    "aws_s3_bucket_server_side_encryption_configuration": (
        "s3",
        ("rule", "apply_server_side_encryption_by_default", "kms_master_key_id"),
    ),
}


def _key(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    values: list[Any] = [body]
    for part in path[:-1]:
        values = [block for value in values for block in blocks(value, part)]
    found = [v.get(path[-1]) for v in values if v.get(path[-1])]
    return found[0] if found else None


class KeysFirst(GroundworkCheck):
    id = "CKV_GW_DEPLOY_13"
    name = "Encrypted resources use a key of the stack whose policy admits their service"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = tuple(sorted(USES))

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        service, path = USES[self._address[0]]
        key = _key(body, path)
        if key is None:
            return Verdict.passed("encrypted with an AWS-owned key: nothing to order")
        target = address_of(key)
        if target is None or not target.startswith("aws_kms_key."):
            return Verdict.unknown(f"key {key} is not a key of this stack")
        if not stack.graph.needs(self.address, target):
            return Verdict.failed(f"does not wait for {target}")
        policy = str(stack.graph.bodies.get(target, {}).get("policy", ""))
        region = stack.config.aws.region
        # Keys in another region come through an aliased provider; judge by any region's name.
        if f"{service}.{region}.amazonaws.com" not in policy and f"{service}." not in policy:
            return Verdict.failed(f"{target}'s policy does not admit {service}")
        return Verdict.passed(f"{target} exists first and admits {service}")


check = KeysFirst()
