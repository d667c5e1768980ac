"""Builds CKV_GW_DEPLOY_19: nothing waits for what nobody creates (DEPLOY-5).

Waiter resources block the apply until something else happened:
- `aws_acm_certificate_validation` waits (75 minutes by default) until ACM sees the DNS
  records; it must name `validation_record_fqdns` from `aws_route53_record`s of this stack
  that it depends on, written from its certificate's `domain_validation_options`
  ("Resource: aws_acm_certificate_validation", https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/acm_certificate_validation).
  No records means nothing it waits for is ever created. ACM asks every certificate of a
  name in the account for the same CNAME record (terraform-provider-aws #13653), so a record
  written from ANOTHER certificate of this stack with exactly the same names (CDN-1's
  us-east-1 certificate shares the ALB's records, constructs/aws/cdn.py) validates it too; a
  certificate of other names does not. And each such record is written once: a second
  record resource for the same name (allow_overwrite) deletes the record when it is
  destroyed, though the other certificate's renewal still needs it.
- `aws_lambda_invocation` waits for a function; the function must be one this stack creates
  (and so exists when invoked).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine


def _names(body: dict[str, Any]) -> tuple[Any, ...]:
    return (body.get("domain_name"), *sorted(map(str, body.get("subject_alternative_names") or [])))


def _same_names(stack: Stack, certificate: str) -> list[str]:
    """`certificate` and every other ACM certificate of the stack for exactly its names."""
    bodies = stack.graph.of_type("aws_acm_certificate")
    own = bodies.get(certificate)
    if own is None:
        return [certificate]
    return [
        certificate,
        *(a for a, b in bodies.items() if a != certificate and _names(b) == _names(own)),
    ]


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
        writers = _same_names(stack, certificate) if certificate else []
        verdicts = []
        for fqdn in fqdns:
            record = address_of(fqdn)
            if record is None or not record.startswith("aws_route53_record."):
                verdicts.append(Verdict.failed(f"{fqdn} is not a Route 53 record of this stack"))
                continue
            written_from = str(graph.bodies.get(record, {}))
            if certificate and not any(
                f"{writer}.domain_validation_options" in written_from for writer in writers
            ):
                verdicts.append(
                    Verdict.failed(f"{record} is not written from {certificate} or its names")
                )
            else:
                verdicts.append(Verdict.passed(f"{record} is written first"))
        # One owner per validation record: records written from the options of certificates
        # of these names that this validation does not use are second copies of the same
        # DNS records, and deleting either copy (a switched-off CDN) deletes the record.
        used = {address_of(fqdn) for fqdn in fqdns}
        copies = sorted(
            address
            for address, record in graph.of_type("aws_route53_record").items()
            if address not in used
            and any(f"{writer}.domain_validation_options" in str(record) for writer in writers)
        )
        if certificate and copies:
            verdicts.append(
                Verdict.failed(
                    f"{', '.join(copies)} write the same validation records again (ACM gives "
                    "every certificate of a name the same CNAME): removing one removes the "
                    "record the other still needs"
                )
            )
        return combine(verdicts)


check = WaitersHaveInputs()
