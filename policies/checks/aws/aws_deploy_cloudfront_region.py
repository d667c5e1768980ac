"""Builds CKV_GW_DEPLOY_18: what CloudFront attaches is created in us-east-1 (DEPLOY-4).

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
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

CLOUDFRONT_REGION = "us-east-1"


def region_of(stack: Stack, body: dict[str, Any]) -> str | None:
    """The region of the AWS provider a resource names (`aws.<alias>`), else the default's."""
    wanted = str(body.get("provider") or "aws")
    alias = wanted.split(".", 1)[1] if "." in wanted else None
    providers = stack.document.get("provider", {}).get("aws") or []
    for provider in providers if isinstance(providers, list) else [providers]:
        if provider.get("alias") == alias:
            region = provider.get("region")
            return str(region) if region is not None else None
    return None


class CloudFrontRegion(GroundworkCheck):
    id = "CKV_GW_DEPLOY_18"
    name = "CloudFront's certificate and CLOUDFRONT web ACL are created in us-east-1"
    requirement = "DEPLOY-4"
    severity = "CRITICAL"
    resource_types = ("aws_wafv2_web_acl", "aws_cloudfront_distribution")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
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

    @staticmethod
    def _in_cloudfront_region(stack: Stack, addresses: list[str]) -> Verdict:
        verdicts = []
        for address in dict.fromkeys(addresses):
            body = stack.graph.bodies.get(address)
            if body is None:
                verdicts.append(Verdict.unknown(f"{address} is not in this stack"))
                continue
            region = region_of(stack, body)
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
