"""Builds CKV_GW_DEPLOY_35: every account that the environments say keeps its Terraform state
in the bootstrap's bucket can reach its state there (DEPLOY-3, STATE-1).

The AWS bootstrap (one per app) lives in the production environment's account; dev and
staging usually have accounts of their own (`aws.account_id`). Their S3 backend reads and
writes `<key>` and `<key>.tflock` and lists the bucket ("S3 Bucket Permissions",
https://developer.hashicorp.com/terraform/language/backend/s3#s3-bucket-permissions), with
the state bucket's SSE-KMS key. Across accounts both sides must allow it: the bucket policy
("Bucket owner granting cross-account bucket permissions",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html)
and the key policy ("Allowing users in other accounts to use a KMS key",
https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html).
Without them `terraform init` of that environment fails with AccessDenied.

The tenants are the bootstrap config's `aws_state_tenants` and, from the configs of this gate
run (the way CKV_GW_DEPLOY_30 looks across stacks), every AWS environment whose S3 backend
names this bucket or whose state is local, ready to follow the `state_backend` output
(`synth.config.aws_state_tenants`). For each one in another account the state bucket's
policy must allow that account's root s3:GetObject, s3:PutObject and s3:DeleteObject on its
key and lock file and s3:ListBucket on the bucket, and the bucket's key policy kms:Decrypt,
kms:Encrypt and kms:GenerateDataKey. A tenant or bootstrap without `aws.account_id` cannot be
told apart from the bucket's own account: UNKNOWN.

State buckets are the buckets named `<app>-tfstate-<account>` (not its `-logs-` or
`-replica-` companions); other buckets get no result.
"""

from fnmatch import fnmatchcase
from typing import Any

from aws_policy_documents import Statement, statements
from checkov.common.models.enums import CheckResult
from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    gate_configs,
    references_to,
    stack_for,
)

from synth.config import AwsStateTenant, EnvironmentConfig, aws_state_tenants

OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")


def _state_bucket(config: EnvironmentConfig | None, body: dict[str, Any]) -> bool:
    if config is None:
        return False
    stem = f"{config.app}-tfstate-"
    name = str(body.get("bucket", ""))
    return name.startswith(stem) and not name[len(stem) :].startswith(("logs-", "replica-"))


def _tenants(stack: Stack, config: EnvironmentConfig) -> list[AwsStateTenant]:
    workloads = [c for c in gate_configs(stack.name).values() if c.role == "workload"]
    found = {
        (t.environment, t.account_id, t.key): t
        for t in [*config.aws_state_tenants, *aws_state_tenants(config, workloads)]
    }
    return [found[k] for k in sorted(found, key=str)]


def _allows(
    found: list[Statement], principal: str, actions: tuple[str, ...], resource: str
) -> bool:
    """Whether Allow statements naming `principal` together cover `actions` on `resource`."""
    covered: set[str] = set()
    for statement in found:
        if statement.effect != "Allow" or principal not in statement.principals:
            continue
        if not any(fnmatchcase(resource, pattern) for pattern in statement.resources):
            continue
        covered |= {a for a in actions if any(fnmatchcase(a, p) for p in statement.actions)}
    return covered == set(actions)


class StateTenantsReach(GroundworkCheck):
    id = "CKV_GW_DEPLOY_35"
    name = "Every account whose environments keep state in the state bucket can reach it"
    requirement = "DEPLOY-3"
    severity = "HIGH"
    resource_types = ("aws_s3_bucket",)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        stack = stack_for(self._scanned_file)
        body = stack.resources("aws_s3_bucket").get(self._address[1], {}) if stack else {}
        if stack is None or not _state_bucket(stack.config, body):
            return CheckResult.UNKNOWN  # not state storage: no result
        return self._decide()

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        config = stack.config
        assert config is not None  # scan_resource_conf judges only state buckets of a config
        arn = "${" + self.address + ".arn}"
        bucket_statements: list[Statement] = []
        unresolved = []
        for name in references_to(stack, "aws_s3_bucket_policy", "bucket", self.address):
            found = statements(stack, stack.resources("aws_s3_bucket_policy")[name].get("policy"))
            if found is None:
                unresolved.append(f"aws_s3_bucket_policy.{name}")
            else:
                bucket_statements += found
        key_statements: list[Statement] = []
        for name in references_to(
            stack, "aws_s3_bucket_server_side_encryption_configuration", "bucket", self.address
        ):
            sse = stack.resources("aws_s3_bucket_server_side_encryption_configuration")[name]
            for rule in blocks(sse, "rule"):
                for default in blocks(rule, "apply_server_side_encryption_by_default"):
                    key = address_of(default.get("kms_master_key_id"))
                    if key is None or not key.startswith("aws_kms_key."):
                        unresolved.append(f"key {default.get('kms_master_key_id')}")
                        continue
                    policy = stack.resources("aws_kms_key").get(key.split(".", 1)[1], {})
                    found = statements(stack, policy.get("policy"))
                    if found is None:
                        unresolved.append(f"{key}'s policy")
                    else:
                        key_statements += found
        own = config.aws.account_id
        verdicts = []
        for tenant in _tenants(stack, config):
            if tenant.account_id is None or own is None:
                verdicts.append(
                    Verdict.unknown(
                        f"{tenant.environment}: aws.account_id unset here or there, so whether "
                        "it is another account (needing grants) is unknown"
                    )
                )
                continue
            if tenant.account_id == own:
                verdicts.append(Verdict.passed(f"{tenant.environment}: the bucket's own account"))
                continue
            if unresolved:
                verdicts.append(Verdict.unknown(f"cannot resolve {', '.join(unresolved)}"))
                continue
            root = f"arn:aws:iam::{tenant.account_id}:root"
            missing = []
            for resource in (f"{arn}/{tenant.key}", f"{arn}/{tenant.key}.tflock"):
                if not _allows(bucket_statements, root, OBJECT_ACTIONS, resource):
                    missing.append(f"{', '.join(OBJECT_ACTIONS)} on {resource}")
            if not _allows(bucket_statements, root, ("s3:ListBucket",), arn):
                missing.append("s3:ListBucket")
            if not _allows(key_statements, root, KEY_ACTIONS, "*"):
                missing.append(f"{', '.join(KEY_ACTIONS)} on the bucket's key")
            if missing:
                verdicts.append(
                    Verdict.failed(
                        f"{tenant.environment} (account {tenant.account_id}) keeps state here "
                        f"but is not granted {'; '.join(missing)}: terraform init gets "
                        "AccessDenied"
                    )
                )
            else:
                verdicts.append(
                    Verdict.passed(f"{tenant.environment}: its account reaches {tenant.key}")
                )
        return combine(verdicts) if verdicts else Verdict.passed("no environment keeps state here")


check = StateTenantsReach()
