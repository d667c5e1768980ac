"""Builds CKV_GW_DEPLOY_106: a budget filters on no tag, or its alerts cannot fire after the
first apply (DEPLOY-6, COST-1).

An `aws_budgets_budget` whose `cost_filter` `TagKeyValue` names a tag (`user:<key>$<value>`,
or an AWS-generated one such as `aws:createdBy`) counts only the costs attributed to that
tag, and a tag is attributed nothing until it is activated as a cost allocation tag
(https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html). A key
can be activated only once tagged resources exist ("it can take up to 24 hours for the tag
keys to appear on Cost Allocation tag page for activation", the provider's note on
`aws_ce_cost_allocation_tag`), so an `aws_ce_cost_allocation_tag` in the same apply fails
with an empty result (hashicorp/terraform-provider-aws #29068); and "Only a management
account in an organization and single accounts that aren't members of an organization have
access to the cost allocation tags manager"
(https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/custom-tags.html; in a member
account the resource fails with AccessDeniedException). Until the tag is activated by hand,
the budget sees $0 and neither its forecast nor its actual notification fires: the plan looks
complete and nobody is told about the spend. So a tag filter fails, whatever else the stack
holds. The AWS stacks filter only where several environments share the account
(`aws.account_shared`), and constructs/aws/budget.py then declares the waiver.
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
    name = "A budget filters on no cost allocation tag a first apply cannot activate"
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
        named = ", ".join(keys)
        return Verdict.failed(
            f"{TAG_FILTER} filters on the tag {named}: a tag counts $0 until it is activated "
            "as a cost allocation tag, which AWS allows only once tagged resources exist (an "
            "aws_ce_cost_allocation_tag of the same apply fails, terraform-provider-aws "
            "#29068) and, in an AWS Organizations member account, only from the management "
            "account; until then the budget sees $0 and neither of its notifications can fire"
        )


check = BudgetTagsActive()
