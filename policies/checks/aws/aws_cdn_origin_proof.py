"""Builds CKV_GW_CDN_2: only this distribution reaches the load balancer it fronts (CDN-1,
"the origin reachable only through the CDN where the platform allows").

The ALB's security group admits CloudFront's origin-facing prefix list (CKV_GW_CDN_1), but that
list is every customer's CloudFront: a distribution of another account pointed at this ALB,
with the right Host, skips this distribution's web ACL and its per-viewer rate limit. AWS's
answer is a secret origin header that CloudFront adds and the ALB requires ("Restrict access
to Application Load Balancers",
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/restrict-access-to-load-balancer.html;
cloudposse/terraform-aws-cloudfront-cdn#46). So every distribution whose origin is an ALB of
the stack sends a `custom_header` on that origin
- whose value is a `random_password` of the stack (a literal would be a secret written into
  the JSON, and the same in every copy of it), and
- which a BLOCK rule of the ALB's web ACL requires: its statement is a `not_statement` over
  byte matches (one, or an `or_statement` of several: the values accepted while it rotates)
  of `single_header` with that name, EXACTLY that same `random_password` reference. A rule
  that names the header but compares another value, or only checks that it is present,
  lets a foreign distribution through with any value.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

RANDOM = "random_password."


def _statements(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """The byte matches a `not_statement`'s inner statement is made of: itself, or each
    statement of an `or_statement` (any one of them lets the request through)."""
    found = []
    for inner in blocks(statement, "statement"):
        alternatives = [inner]
        for either in blocks(inner, "or_statement"):
            alternatives = blocks(either, "statement")
        for alternative in alternatives:
            found += blocks(alternative, "byte_match_statement")
    return found


def required_values(rule: dict[str, Any]) -> set[tuple[str, str]]:
    """(header name in lower case, value) pairs a request must carry one of, or `rule`
    blocks it: a BLOCK rule whose statement is NOT(one of these exact header values)."""
    if not blocks(rule, "action") or not blocks(blocks(rule, "action")[0], "block"):
        return set()
    required = set()
    for statement in blocks(rule, "statement"):
        for negated in blocks(statement, "not_statement"):
            for match in _statements(negated):
                if match.get("positional_constraint") != "EXACTLY":
                    continue
                for field in blocks(match, "field_to_match"):
                    for header in blocks(field, "single_header"):
                        name = str(header.get("name", "")).lower()
                        required.add((name, str(match.get("search_string"))))
    return required


class OnlyThisDistributionReachesTheOrigin(GroundworkCheck):
    id = "CKV_GW_CDN_2"
    name = "The ALB behind CloudFront requires an origin header value only this distribution sends"
    requirement = "CDN-1"
    severity = "HIGH"
    resource_types = ("aws_cloudfront_distribution",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        acls_of: dict[str | None, list[str]] = {}
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
            where = f"origin {origin.get('origin_id')} ({balancer})"
            sent = {
                (str(h.get("name", "")).lower(), str(h.get("value")))
                for h in blocks(origin, "custom_header")
            }
            secret = {
                (name, value)
                for name, value in sent
                if (address_of(value) or "").startswith(RANDOM) and value.endswith(".result}")
            }
            if not secret:
                return Verdict.failed(
                    f"{where}: it sends no header whose value is a random_password of the stack "
                    f"(sends: {', '.join(sorted(n for n, _ in sent)) or 'none'}), so nothing "
                    "proves a request came through this distribution"
                )
            required = {
                pair
                for acl in acls_of.get(balancer, [])
                for rule in blocks(acls.get(acl) or {}, "rule")
                for pair in required_values(rule)
            }
            if not secret & required:
                return Verdict.failed(
                    f"{where}: no BLOCK rule of the ALB's web ACL requires the value it sends "
                    f"in {', '.join(sorted(n for n, _ in secret))} (required: "
                    f"{', '.join(sorted(f'{n}={v}' for n, v in required)) or 'nothing'}), so any "
                    "CloudFront distribution reaches the ALB and skips this one's web ACL"
                )
            judged.append(balancer)
        if not judged:
            return Verdict.passed("no ALB origin")
        return Verdict.passed(
            f"{', '.join(judged)} blocks every request without the random origin header value "
            "this distribution sends"
        )


check = OnlyThisDistributionReachesTheOrigin()
