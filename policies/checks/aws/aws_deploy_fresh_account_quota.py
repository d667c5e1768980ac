"""Builds CKV_GW_DEPLOY_17: nothing asks for quota a fresh account does not have (DEPLOY-4).

Lambda reserved concurrency: a new account's concurrent-executions quota can be as low as 10,
and Lambda refuses any reservation that would leave fewer than 10 unreserved
("Lambda quotas", https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html;
"Configuring reserved concurrency",
https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html). A function may
reserve only up to `aws.reserved_concurrency`, which the operator sets after raising the quota.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, is_reference


class FreshAccountQuota(GroundworkCheck):
    id = "CKV_GW_DEPLOY_17"
    name = "Lambda functions reserve no concurrency a fresh account cannot spare"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = ("aws_lambda_function",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        reserved = body.get("reserved_concurrent_executions")
        if reserved is None or reserved == -1:
            return Verdict.passed("reserves no concurrency")
        if is_reference(reserved):
            return Verdict.unknown(f"reserved_concurrent_executions is {reserved}")
        allowed = stack.config.aws.reserved_concurrency
        if int(reserved) > allowed:
            return Verdict.failed(
                f"reserves {reserved}; aws.reserved_concurrency allows {allowed} (fresh quota)"
            )
        return Verdict.passed(f"reserves {reserved}, within aws.reserved_concurrency")


check = FreshAccountQuota()
