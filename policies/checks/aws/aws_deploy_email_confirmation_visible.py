"""Builds CKV_GW_DEPLOY_33: every e-mail subscription's confirmation state is a stack output,
so the apply shows whether its alerts can be seen (DEPLOY-6, OBS-3).

SNS delivers nothing to an e-mail (or e-mail-json) endpoint until its owner clicks the link
SNS mails; Terraform cannot confirm it ("Confirmation tokens are valid for three days",
https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html). An alert topic whose only
subscriber never confirmed looks complete in the plan and alerts nobody. The provider reads
the subscription's `pending_confirmation` on every refresh
(https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/sns_topic_subscription#pending_confirmation):
an output that names it turns "can the alerts be seen" into something the apply prints.
"""

from __future__ import annotations

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, strings_in

NEEDS_CONFIRMATION = ("email", "email-json")


class EmailConfirmationVisible(GroundworkCheck):
    id = "CKV_GW_DEPLOY_33"
    name = "Every e-mail subscription's pending confirmation is a stack output"
    requirement = "DEPLOY-6"
    severity = "MEDIUM"
    resource_types = ("aws_sns_topic_subscription",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        protocol = body.get("protocol")
        if protocol not in NEEDS_CONFIRMATION:
            return Verdict.passed(f"protocol {protocol} needs no confirmation by a person")
        wanted = "${" + self.address + ".pending_confirmation}"
        outputs = stack.document.get("output") or {}
        named = sorted(
            name
            for name, output in outputs.items()
            if isinstance(output, dict) and wanted in strings_in(output.get("value"))
        )
        if not named:
            return Verdict.failed(
                f"{protocol} subscription: nothing shows whether it was confirmed, and until "
                "it is, its alerts reach nobody"
            )
        return Verdict.passed(f"output {named[0]} shows its pending confirmation")


check = EmailConfirmationVisible()
