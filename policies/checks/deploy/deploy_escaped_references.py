"""Builds CKV_GW_DEPLOY_3: no value of any resource names a resource, ephemeral, data source,
variable, local or module inside an escaped interpolation `$${...}` (DEPLOY-6), on every cloud.

Terraform reads `$${...}` as the literal text "${...}"
(https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences-1), so
a reference written that way is stored as text where a value was meant: a secret that holds
"${ephemeral....random_password}" instead of the password, and every sign-in with it fails after
a clean apply. cdktf writes exactly that when a "${...}" string is passed into an `Fn.*` call: it
escapes the string's interpolation (hashicorp/terraform-cdk PR #1233, issue #3562).

Legitimate escapes stay: IAM policy variables (`$${aws:username}`) and template placeholders
(`$${resource.label.x}`) name no Terraform address. The policy reports only on resources that
hold an escaped interpolation at all, so it does not count as judging the others.
"""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    escaped_references,
    strings_in,
)


class NoEscapedReferences(GroundworkCheck):
    id = "CKV_GW_DEPLOY_3"
    name = "No value names a Terraform address inside an escaped interpolation ($${...})"
    requirement = "DEPLOY-6"
    severity = "CRITICAL"
    resource_types = ("*",)
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        return any("$${" in text for text in strings_in(body))  # something escaped here

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        escaped = sorted(set(escaped_references(body)))
        if escaped:
            return Verdict.failed(
                "names " + ", ".join(escaped) + " inside $${...}: Terraform stores the text,"
                " not the value (write the reference unescaped, outside Fn.* string arguments)"
            )
        return Verdict.passed("every escaped interpolation is a literal placeholder")


check = NoEscapedReferences()
