"""Builds CKV_GW_STATE_1: the Terraform state bucket is versioned, KMS-encrypted with a
customer-managed key and blocks all public access (STATE-2).

The state bucket is every S3 bucket of a bootstrap stack (the stack's config has `role:
bootstrap`), and any bucket named like one (`<app>-tfstate-...`) wherever it is. Other
buckets are not state storage: the check reports nothing on them (Checkov drops an UNKNOWN
result), so a workload stack's STATE-2 coverage stays as it was.

The bootstrap stack also holds the state bucket's access-log buckets (OBJ-6). S3 delivers
server access logs only to a bucket with SSE-S3 default encryption ("Enabling Amazon S3
server access logging",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html),
so a bucket that receives another bucket's server access logs (the `target_bucket` of an
`aws_s3_bucket_logging` of a different bucket) and sends none of its own is judged as a log
bucket: versioned, private and SSE-S3. A bucket that logs elsewhere, as every state
bucket does, is judged as state storage even if it also receives logs, so pointing some
bucket's logs at the state bucket cannot relax its KMS rule.
"""

from typing import Any

from checkov.common.models.enums import CheckResult
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, stack_for

PUBLIC_ACCESS_BLOCK = (
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
)


class StateStorage(GroundworkCheck):
    id = "CKV_GW_STATE_1"
    name = "Terraform state bucket is versioned, encrypted with a KMS key and private"
    requirement = "STATE-2"
    severity = "HIGH"
    resource_types = ("aws_s3_bucket",)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        stack = stack_for(self._scanned_file)
        config = stack.config if stack else None
        if config is not None and config.role != "bootstrap":
            body = stack.resources("aws_s3_bucket").get(self._address[1], {}) if stack else {}
            if not str(body.get("bucket", "")).startswith(f"{config.app}-tfstate-"):
                return CheckResult.UNKNOWN  # not state storage: no result
        return self._decide()

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        target = self.address

        def companions(resource_type: str) -> list[dict[str, Any]]:
            return [
                companion
                for companion in stack.resources(resource_type).values()
                if str(companion.get("bucket", "")).startswith(f"${{{target}.")
            ]

        def logging_of(role: str) -> set[str]:
            """Buckets on the other side of this bucket's logging, as sender or receiver."""
            other = "bucket" if role == "target_bucket" else "target_bucket"
            return {
                str(logging.get(other, ""))
                for logging in stack.resources("aws_s3_bucket_logging").values()
                if str(logging.get(role, "")).startswith(f"${{{target}.")
            }

        senders = {
            sender
            for sender in logging_of("target_bucket")
            if not sender.startswith(f"${{{target}.")
        }
        log_bucket = bool(senders) and not logging_of("bucket")

        verdicts = []
        versioning = [
            block.get("status")
            for companion in companions("aws_s3_bucket_versioning")
            for block in blocks(companion, "versioning_configuration")
        ]
        if "Enabled" not in versioning:
            verdicts.append(Verdict.failed("versioning is not enabled"))
        defaults = [
            default
            for companion in companions("aws_s3_bucket_server_side_encryption_configuration")
            for rule in blocks(companion, "rule")
            for default in blocks(rule, "apply_server_side_encryption_by_default")
        ]
        if log_bucket:
            if not any(d.get("sse_algorithm") == "AES256" for d in defaults):
                # No server access log would ever arrive (DEPLOY-6 as much as STATE-2).
                verdicts.append(Verdict.failed("access-log bucket is not SSE-S3 encrypted"))
        elif not any(
            str(d.get("sse_algorithm", "")).startswith("aws:kms") and d.get("kms_master_key_id")
            for d in defaults
        ):
            verdicts.append(Verdict.failed("not encrypted with a customer-managed KMS key"))
        if not any(
            all(block.get(setting) is True for setting in PUBLIC_ACCESS_BLOCK)
            for block in companions("aws_s3_bucket_public_access_block")
        ):
            verdicts.append(Verdict.failed("public access is not blocked by all four settings"))
        if log_bucket:
            return combine(verdicts or [Verdict.passed("access-log bucket: versioned, private")])
        return combine(verdicts or [Verdict.passed("versioned, KMS-encrypted, private")])


check = StateStorage()
