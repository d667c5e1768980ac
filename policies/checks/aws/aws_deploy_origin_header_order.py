"""Builds CKV_GW_DEPLOY_102: every CloudFront distribution whose origin is an ALB of the stack
starts only after that ALB's web ACL association, and its apply returns only once every edge
runs its configuration (DEPLOY-2).

The ALB's regional web ACL blocks every request without the distribution's origin header value
(CKV_GW_CDN_2; constructs/aws/edge.py, `OriginHeader`). Two orderings make that safe:
- first apply: the distribution `depends_on` the ALB's `aws_wafv2_web_acl_association` (and so
  on the web ACL), so CloudFront never sends a request the ALB's rules do not judge; nothing
  else orders them, as the distribution refers only to the ALB's DNS name;
- rotation: the web ACL accepts the previous, current and next value, and a rotation drops the
  one two generations back. That is safe only if the apply that switched CloudFront to a value
  returned after every edge ran it: `wait_for_deployment` (default true, "If enabled, the
  resource will wait for the distribution status to change from InProgress to Deployed",
  https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/cloudfront_distribution#wait_for_deployment)
  must not be false.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

ASSOCIATION = "aws_wafv2_web_acl_association"


class OriginHeaderOrder(GroundworkCheck):
    id = "CKV_GW_DEPLOY_102"
    name = "CloudFront sends to an ALB only after its web ACL association, and waits for deployment"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = ("aws_cloudfront_distribution",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        graph = stack.graph
        balancers = {
            balancer
            for origin in blocks(body, "origin")
            if (balancer := address_of(origin.get("domain_name"))) is not None
            and balancer.startswith("aws_lb.")
        }
        if not balancers:
            return Verdict.passed("no ALB origin")
        verdicts = []
        if body.get("wait_for_deployment") is False:
            verdicts.append(
                Verdict.failed(
                    "wait_for_deployment is false: the apply returns while edges still send the "
                    "previous origin header value, so the next rotation can drop a value in use"
                )
            )
        for balancer in sorted(balancers):
            associations = [
                address
                for address, association in graph.of_type(ASSOCIATION).items()
                if address_of(association.get("resource_arn")) == balancer
            ]
            if not associations:
                verdicts.append(Verdict.failed(f"{balancer} has no web ACL association here"))
                continue
            missing = [a for a in associations if not graph.needs(self.address, a)]
            if missing:
                verdicts.append(
                    Verdict.failed(
                        f"does not wait for {', '.join(missing)}: CloudFront may send to "
                        f"{balancer} before its web ACL judges the requests"
                    )
                )
            else:
                verdicts.append(Verdict.passed(f"starts after {balancer}'s web ACL association"))
        return combine(verdicts)


check = OriginHeaderOrder()
