"""Builds CKV_GW_DEPLOY_15: no RDS combination the RDS API refuses (DEPLOY-4).

- A read replica of a source whose master password RDS manages in Secrets Manager: "Creating
  read replicas when the source DB ... manages credentials with Secrets Manager" is not
  supported ("Limitations for Secrets Manager integration with Amazon RDS",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html;
  terraform-aws-rds #532, #512).
- `manage_master_user_password` together with a password (`password` or `password_wo`):
  "Can't manage the master user password with Amazon Web Services Secrets Manager if
  MasterUserPassword is specified" (CreateDBInstance).
- A read replica that names a DB subnet group while its source is named by identifier (a
  source in the same region): RDS answers DBSubnetGroupNotAllowedFault, "DbSubnetGroupName
  should not be specified for read replicas that are created in the same region as the
  master" (CreateDBInstanceReadReplica; hashicorp/terraform-provider-aws #528). The
  provider's `aws_db_instance` docs: "When working with read replicas, it should be specified
  only if the source database specifies an instance in another AWS Region"; since PR #40426
  a same-region replica may take another subnet group only when `replicate_source_db` is the
  source's ARN. A replica without one inherits its source's group.
- A read replica of a same-region source (named by identifier, or an instance of this stack
  on the same provider) that names `kms_key_id`: "If you create an encrypted read replica in
  the same Amazon Web Services Region as the source DB instance ..., don't specify a value
  for this parameter. A read replica in the same Amazon Web Services Region is always
  encrypted with the same KMS key as the source" (CreateDBInstanceReadReplica, KmsKeyId);
  RDS answers InvalidParameterCombination "Your request does not require the KMS key
  parameter" (cloudposse/terraform-aws-rds-replica #5).
- An RDS Proxy with end-to-end IAM (`default_auth_scheme = IAM_AUTH`) in front of an instance
  without IAM database authentication: the proxy cannot sign in.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine, is_reference


def _by_arn(source: object) -> bool:
    """Whether `replicate_source_db` names its source by ARN (a literal `arn:...` or a
    reference to an `.arn` attribute), the only form that may carry a subnet group."""
    text = str(source)
    if is_reference(text):
        return text.rstrip("}").endswith(".arn")
    return text.startswith("arn:")


class RdsCombinations(GroundworkCheck):
    id = "CKV_GW_DEPLOY_15"
    name = "RDS instances and proxies use only combinations the RDS API accepts"
    requirement = "DEPLOY-4"
    severity = "CRITICAL"
    resource_types = ("aws_db_instance", "aws_db_proxy")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph = stack.graph
        if self._address[0] == "aws_db_proxy":
            if body.get("default_auth_scheme") != "IAM_AUTH":
                return Verdict.passed("the proxy signs in with secrets")
            targets = [
                address_of(t.get("db_instance_identifier"))
                for t in graph.of_type("aws_db_proxy_target").values()
                if address_of(t.get("db_proxy_name")) == self.address
            ]
            bad = [
                t
                for t in targets
                if t
                and graph.bodies.get(t, {}).get("iam_database_authentication_enabled") is not True
            ]
            if bad:
                return Verdict.failed(f"IAM_AUTH proxy in front of {bad} without IAM auth")
            return Verdict.passed("IAM_AUTH proxy in front of IAM-enabled instances")
        verdicts = []
        managed = body.get("manage_master_user_password") is True
        if managed and (body.get("password") is not None or body.get("password_wo") is not None):
            verdicts.append(Verdict.failed("manage_master_user_password with a password"))
        replicate = body.get("replicate_source_db")
        if replicate and body.get("db_subnet_group_name") and not _by_arn(replicate):
            verdicts.append(
                Verdict.failed(
                    "db_subnet_group_name on a replica whose source is named by identifier "
                    "(same region): DBSubnetGroupNotAllowedFault; omit it to inherit the "
                    "source's group"
                )
            )
        source = address_of(replicate)
        if replicate and body.get("kms_key_id"):
            in_stack = graph.bodies.get(source or "")
            same_region = not _by_arn(replicate) or (
                in_stack is not None and in_stack.get("provider") == body.get("provider")
            )
            if same_region:
                verdicts.append(
                    Verdict.failed(
                        "kms_key_id on a same-region replica: InvalidParameterCombination "
                        "(the replica always uses its source's key); omit it"
                    )
                )
        if source is not None:
            source_body = graph.bodies.get(source)
            if source_body is None:
                verdicts.append(Verdict.unknown(f"replica of {source}, not in this stack"))
            elif source_body.get("manage_master_user_password") is True:
                verdicts.append(
                    Verdict.failed(f"replica of {source}, whose password RDS manages: refused")
                )
            else:
                verdicts.append(Verdict.passed(f"replica of {source}, a password RDS accepts"))
        elif body.get("replicate_source_db"):
            verdicts.append(Verdict.unknown("replica of a source outside this stack"))
        return combine(verdicts) if verdicts else Verdict.passed("no refused combination")


check = RdsCombinations()
