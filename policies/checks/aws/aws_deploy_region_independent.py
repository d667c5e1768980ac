"""Builds CKV_GW_DEPLOY_16: no bucket policy grants to a principal that exists only in some
regions (DEPLOY-4).

ALB access logs: regions opened after August 2022 (ca-west-1, il-central-1, mx-central-1,
ap-southeast-4/5/7, ...) have no regional Elastic Load Balancing account, so
`data.aws_elb_service_account` fails there ("unsupported region") and a policy naming a
regional ELB account breaks delivery; the `logdelivery.elasticloadbalancing.amazonaws.com`
service principal works in every region ("Enable access logs for your Application Load
Balancer", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html:
the regional-account policy of "Regions available before August 2022" is "legacy ... still
supported, but we recommend that you replace it with the newer policy"), so a policy naming
the service principal alone delivers in old and new regions alike.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict


class RegionIndependent(GroundworkCheck):
    id = "CKV_GW_DEPLOY_16"
    name = "Bucket policies grant only principals that exist in every region"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = ("aws_s3_bucket_policy",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        regional = sorted(
            a
            for a in stack.graph.prerequisites(self.address)
            if a.startswith("data.aws_elb_service_account.")
        )
        if regional:
            return Verdict.failed(f"grants to {regional[0]}, which newer regions do not have")
        return Verdict.passed("no region-dependent principal")


check = RegionIndependent()
