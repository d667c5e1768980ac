"""Builds CKV_GW_DEPLOY_18: what CloudFront and Route 53 take from other services is created
in us-east-1 (DEPLOY-4), and in the form they accept.

CloudFront accepts a viewer certificate only from ACM in US East (N. Virginia) ("To use a
certificate in AWS Certificate Manager (ACM) to require HTTPS between viewers and
CloudFront, make sure you request (or import) the certificate in the US East (N. Virginia)
Region", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html),
and a web ACL of scope CLOUDFRONT exists only there ("For CLOUDFRONT, you must create your
WAFv2 resources in the US East (N. Virginia) Region (us-east-1)",
https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/wafv2_web_acl).
Created with the stack's default provider in any other region, the web ACL fails at create
(WAFInvalidParameterException) and the distribution refuses the certificate
(InvalidViewerCertificate), so the first apply stops half way. Judged on every
`aws_wafv2_web_acl` of scope CLOUDFRONT, and on every `aws_cloudfront_distribution`: the
certificate its `viewer_certificate` names (directly, or through its
`aws_acm_certificate_validation`) and the validation itself. A resource's region is its
provider's (`provider: aws.<alias>`, else the default one's) `region`.

Route 53 does the same for DNS-1 (constructs/aws/dns.py):
- a key-signing key's KMS key "must be in the US East (N. Virginia) Region" and "must be an
  asymmetric customer managed key with an ECC_NIST_P256 key spec", for signing and
  verification ("Working with customer managed keys for DNSSEC",
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-configuring-dnssec-cmk-requirements.html);
  CreateKeySigningKey refuses any other (InvalidKMSArn);
- a query-logging configuration's log group: "You must create the log group in the us-east-1
  region" ("Public DNS query logging",
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html).
Judged on every `aws_route53_key_signing_key` and `aws_route53_query_log`; a literal ARN is
judged by its region field.
"""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    aws_provider_region,
    blocks,
    combine,
)

CLOUDFRONT_REGION = "us-east-1"
# Route 53 resource type -> (attribute, resource type it names), both only from us-east-1.
ROUTE53_INPUTS = {
    "aws_route53_key_signing_key": ("key_management_service_arn", "aws_kms_key"),
    "aws_route53_query_log": ("cloudwatch_log_group_arn", "aws_cloudwatch_log_group"),
}


class CloudFrontRegion(GroundworkCheck):
    id = "CKV_GW_DEPLOY_18"
    name = "What CloudFront and Route 53 take from ACM, WAF, KMS and Logs is in us-east-1"
    requirement = "DEPLOY-4"
    severity = "CRITICAL"
    resource_types = (
        "aws_wafv2_web_acl",
        "aws_cloudfront_distribution",
        "aws_route53_key_signing_key",
        "aws_route53_query_log",
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] in ROUTE53_INPUTS:
            return self._route53_input(body, stack)
        if self._address[0] == "aws_wafv2_web_acl":
            if body.get("scope") != "CLOUDFRONT":
                return Verdict.passed("a REGIONAL web ACL lives in the stack's region")
            return self._in_cloudfront_region(stack, [self.address])
        needed = []
        for certificate in blocks(body, "viewer_certificate"):
            arn = address_of(certificate.get("acm_certificate_arn"))
            if arn is None:
                if certificate.get("acm_certificate_arn"):
                    return Verdict.unknown("the viewer certificate is not from this stack")
                continue
            needed.append(arn)
            if arn.startswith("aws_acm_certificate_validation."):
                validated = stack.graph.bodies.get(arn) or {}
                needed.append(address_of(validated.get("certificate_arn")) or arn)
        acl = address_of(body.get("web_acl_id"))
        if acl:
            needed.append(acl)
        return self._in_cloudfront_region(stack, needed)

    def _route53_input(self, body: dict[str, Any], stack: Stack) -> Verdict:
        attribute, wanted_type = ROUTE53_INPUTS[self._address[0]]
        value = body.get(attribute)
        address = address_of(value)
        if address is None:
            # A literal ARN: arn:aws:<service>:<region>:<account>:...
            parts = str(value or "").split(":")
            if len(parts) < 4:
                return Verdict.unknown(f"{attribute} {value} is not an ARN or a reference")
            if parts[3] != CLOUDFRONT_REGION:
                return Verdict.failed(f"{attribute} is in {parts[3]}, not {CLOUDFRONT_REGION}")
            return Verdict.unknown(f"{attribute} {value} is not from this stack")
        if not address.startswith(f"{wanted_type}."):
            return Verdict.unknown(f"{attribute} names {address}, not an {wanted_type}")
        verdicts = [self._in_cloudfront_region(stack, [address])]
        if wanted_type == "aws_kms_key":
            key = stack.graph.bodies.get(address) or {}
            for field, wanted in (("customer_master_key_spec", "ECC_NIST_P256"),
                                  ("key_usage", "SIGN_VERIFY")):  # fmt: skip
                if key.get(field) != wanted:
                    verdicts.append(
                        Verdict.failed(f"{address} has {field} {key.get(field)}, not {wanted}")
                    )
        return combine(verdicts)

    @staticmethod
    def _in_cloudfront_region(stack: Stack, addresses: list[str]) -> Verdict:
        verdicts = []
        for address in dict.fromkeys(addresses):
            body = stack.graph.bodies.get(address)
            if body is None:
                verdicts.append(Verdict.unknown(f"{address} is not in this stack"))
                continue
            region = aws_provider_region(stack, body)
            if region != CLOUDFRONT_REGION:
                verdicts.append(
                    Verdict.failed(f"{address} is created in {region}, not {CLOUDFRONT_REGION}")
                )
        return (
            combine(verdicts)
            if verdicts
            else Verdict.passed(f"{len(addresses)} resources created in {CLOUDFRONT_REGION}")
        )


check = CloudFrontRegion()
