"""Builds CKV_GW_DEPLOY_19: nothing waits for what nobody creates (DEPLOY-5).

Waiter resources block the apply until something else happened:
- `aws_acm_certificate_validation` waits (75 minutes by default) until ACM sees the DNS
  records; it must name `validation_record_fqdns` from `aws_route53_record`s of this stack
  that it depends on, written from its certificate's `domain_validation_options`
  ("Resource: aws_acm_certificate_validation", https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/acm_certificate_validation).
  No records means nothing it waits for is ever created.
- `aws_lambda_invocation` waits for a function; the function must be one this stack creates
  (and so exists when invoked).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine


class WaitersHaveInputs(GroundworkCheck):
    id = "CKV_GW_DEPLOY_19"
    name = "Waiters wait only for what the stack creates (no validation without records)"
    requirement = "DEPLOY-5"
    severity = "CRITICAL"
    resource_types = ("aws_acm_certificate_validation", "aws_lambda_invocation")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph = stack.graph
        if self._address[0] == "aws_lambda_invocation":
            function = address_of(body.get("function_name"))
            if function is None or not function.startswith("aws_lambda_function."):
                return Verdict.failed(f"invokes {body.get('function_name')}, not a function here")
            if not graph.needs(self.address, function):
                return Verdict.failed(f"{function} is not created first")
            return Verdict.passed(f"invokes {function}, created first")
        certificate = address_of(body.get("certificate_arn"))
        fqdns = body.get("validation_record_fqdns") or []
        if not fqdns:
            return Verdict.failed("no validation_record_fqdns: waits for records nobody creates")
        verdicts = []
        for fqdn in fqdns:
            record = address_of(fqdn)
            if record is None or not record.startswith("aws_route53_record."):
                verdicts.append(Verdict.failed(f"{fqdn} is not a Route 53 record of this stack"))
                continue
            written_from = str(graph.bodies.get(record, {}))
            if certificate and f"{certificate}.domain_validation_options" not in written_from:
                verdicts.append(Verdict.failed(f"{record} is not written from {certificate}"))
            else:
                verdicts.append(Verdict.passed(f"{record} is written first"))
        return combine(verdicts)


check = WaitersHaveInputs()
