"""Builds CKV_GW_DEPLOY_106: a budget that filters on a tag has that tag activated as a cost
allocation tag in the same stack, or its alerts can never fire (DEPLOY-6, COST-1).

An `aws_budgets_budget` whose `cost_filter` `TagKeyValue` names `user:<key>$<value>` counts
only the costs attributed to that tag, and a tag is attributed nothing until it is activated
as a cost allocation tag
(https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html). A
user-defined key can be activated only once tagged resources exist ("it can take up to 24
hours for the tag keys to appear on Cost Allocation tag page for activation", the provider's
note on `aws_ce_cost_allocation_tag`), and "Only a management account in an organization and
single accounts that aren't members of an organization have access to the cost allocation
tags manager" (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/custom-tags.html).
Until then the budget sees $0, and neither its forecast nor its actual notification fires:
the plan looks complete and nobody is told about the spend. Terraform activates a tag with
`aws_ce_cost_allocation_tag` (`tag_key`, `status = "Active"`,
https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/ce_cost_allocation_tag).
A budget passes when it filters on no tag, or when every tag it filters on (user-defined, or
AWS-generated such as `aws:createdBy`, which needs activating too) has an
`aws_ce_cost_allocation_tag` of that key with `status = "Active"` in the stack. The AWS
stacks filter only where several environments share the account (`aws.account_shared`),
where the tag must be activated by hand; constructs/aws/budget.py then declares the waiver.
"""

from __future__ import annotations

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, is_reference

TAG_FILTER = "TagKeyValue"
# `user:<key>$<value>` names a user-defined tag, whose cost allocation tag key is `<key>`;
# an AWS-generated one (`aws:createdBy$<value>`) keeps its prefix in the key.
USER_PREFIX = "user:"


def tag_key(value: str) -> str:
    """The cost allocation tag key a `TagKeyValue` filter value names."""
    return value.partition("$")[0].removeprefix(USER_PREFIX)


class BudgetTagsActive(GroundworkCheck):
    id = "CKV_GW_DEPLOY_106"
    name = "A budget filtering on a tag has that tag activated as a cost allocation tag"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("aws_budgets_budget",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        values = [
            value
            for cost_filter in blocks(body, "cost_filter")
            if cost_filter.get("name") == TAG_FILTER
            for value in cost_filter.get("values") or []
        ]
        if any(is_reference(value) for value in values):
            return Verdict.unknown(f"a {TAG_FILTER} cost filter value is an expression")
        keys = sorted({tag_key(str(value)) for value in values})
        if not keys:
            return Verdict.passed("filters on no tag: it counts the account's costs")
        tags = stack.resources("aws_ce_cost_allocation_tag").values()
        active = {
            tag.get("tag_key")
            for tag in tags
            if tag.get("status") == "Active" and not is_reference(tag.get("tag_key"))
        }
        missing = [key for key in keys if key not in active]
        if not missing:
            return Verdict.passed(f"tags {', '.join(keys)} are activated in the stack")
        if any(is_reference(tag.get("tag_key")) or is_reference(tag.get("status"))
               for tag in tags):  # fmt: skip
            return Verdict.unknown(
                f"tags {', '.join(missing)}: an aws_ce_cost_allocation_tag of the stack is an "
                "expression"
            )
        named = ", ".join(missing)
        return Verdict.failed(
            f"{TAG_FILTER} filters on the tag {named}, and no aws_ce_cost_allocation_tag of "
            f"the stack activates {named} (status Active): a tag counts $0 until it is "
            "activated as a cost allocation tag (a user-defined one only after tagged "
            "resources exist, and in an AWS Organizations member account only from the "
            "management account), so the budget sees $0 and neither of its notifications "
            "can fire"
        )


check = BudgetTagsActive()
