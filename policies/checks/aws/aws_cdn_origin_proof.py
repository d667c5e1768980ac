"""Builds CKV_GW_CDN_2: only this distribution reaches the load balancer it fronts (CDN-1,
"the origin reachable only through the CDN where the platform allows").

The ALB's security group admits CloudFront's origin-facing prefix list (CKV_GW_CDN_1), but that
list is every customer's CloudFront: a distribution of another account pointed at this ALB,
with the right Host, skips this distribution's web ACL and its per-viewer rate limit. AWS's
answer is a secret origin header that CloudFront adds and the ALB requires ("Restrict access
to Application Load Balancers",
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/restrict-access-to-load-balancer.html;
cloudposse/terraform-aws-cloudfront-cdn#46). So every distribution whose origin is an ALB of
the stack sends a `custom_header` on that origin that a rule of the ALB's REGIONAL web ACL
inspects (`field_to_match.single_header`, at any depth of the rule's statement).

The stacks do not build the header yet (its value must live in state: a random value, and AWS
stacks load no random provider), so this check fails them and the CDN construct declares the
gap as a waiver with that reason: the report says CDN-1 waived, never pass.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks


def header_names(value: Any) -> set[str]:
    """The request headers (lower case) a WAF rule statement inspects, at any depth."""
    if isinstance(value, list):
        return {name for item in value for name in header_names(item)}
    if not isinstance(value, dict):
        return set()
    own = {str(header.get("name", "")).lower() for header in blocks(value, "single_header")}
    return own | {
        name for key, item in value.items() if key != "single_header" for name in header_names(item)
    }


class OnlyThisDistributionReachesTheOrigin(GroundworkCheck):
    id = "CKV_GW_CDN_2"
    name = "The ALB behind CloudFront requires an origin header only this distribution sends"
    requirement = "CDN-1"
    severity = "HIGH"
    resource_types = ("aws_cloudfront_distribution",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        acls_of = {}
        for association in stack.resources("aws_wafv2_web_acl_association").values():
            balancer = address_of(association.get("resource_arn"))
            acl = address_of(association.get("web_acl_arn")) or ""
            acls_of.setdefault(balancer, []).append(acl.removeprefix("aws_wafv2_web_acl."))
        acls = stack.resources("aws_wafv2_web_acl")
        judged = []
        for origin in blocks(body, "origin"):
            balancer = address_of(origin.get("domain_name"))
            if not (balancer or "").startswith("aws_lb."):
                continue
            sent = {str(h.get("name", "")).lower() for h in blocks(origin, "custom_header")}
            required = {
                name
                for acl in acls_of.get(balancer, [])
                for rule in blocks(acls.get(acl) or {}, "rule")
                for name in header_names(rule.get("statement"))
            }
            if not sent & required:
                return Verdict.failed(
                    f"origin {origin.get('origin_id')} ({balancer}): no header it sends "
                    f"({', '.join(sorted(sent)) or 'none'}) is one the ALB's web ACL requires, so "
                    "any CloudFront distribution reaches the ALB and skips this one's web ACL"
                )
            judged.append(balancer)
        if not judged:
            return Verdict.passed("no ALB origin")
        return Verdict.passed(
            f"{', '.join(judged)} requires a header only this distribution's origin sends"
        )


check = OnlyThisDistributionReachesTheOrigin()
