r"""Builds CKV_GW_DEPLOY_3: every interpolation in a resource's values parses as Terraform
expects, and none names a resource, ephemeral, data source, variable, local or module inside an
escaped interpolation `$${...}` (DEPLOY-6), on every cloud. Both are faults of one kind: cdktf
pastes literal strings into the `${...}` it writes without treating them as HCL.

Syntax. cdktf writes a Python string given to an `Fn.*` call into the HCL expression as
`"..."` without escaping backslashes or double quotes (hashicorp/terraform-cdk#1165; PR #1233
fixed only newlines and `${`). A psql script (`\set ON_ERROR_STOP on`, `:"app"`) became
`"\set ... :"app"..."`, and Terraform refused to load the whole configuration ("Invalid escape
sequence", "Missing attribute separator"). `template_syntax_error` (groundwork_policy.py) lexes
every string that holds `${` or `%{`: quoted strings inside it use only the escapes
`\n \r \t \" \\ \uNNNN \UNNNNNNNN`, hold no raw newline, end where the literal ends, and the
brackets close (https://github.com/hashicorp/hcl/blob/main/hclsyntax/spec.md).
tests/policies/test_template_syntax.py holds this lexer against `terraform validate` itself on
every synthesized stack and on this policy's fixtures.

Escaped references.
Terraform reads `$${...}` as the literal text "${...}"
(https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences-1), so
a reference written that way is stored as text where a value was meant: a secret that holds
"${ephemeral....random_password}" instead of the password, and every sign-in with it fails after
a clean apply. cdktf writes exactly that when a "${...}" string is passed into an `Fn.*` call: it
escapes the string's interpolation (hashicorp/terraform-cdk PR #1233, issue #3562).

Legitimate escapes stay: IAM policy variables (`$${aws:username}`) and template placeholders
(`$${resource.label.x}`) name no Terraform address. The policy reports only on resources that
hold an interpolation (escaped or not) at all, so it does not count as judging the others.
"""

from typing import Any

from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    escaped_references,
    strings_in,
    template_syntax_error,
)


class NoEscapedReferences(GroundworkCheck):
    id = "CKV_GW_DEPLOY_3"
    name = "Every interpolation parses as HCL; none names an address escaped ($${...})"
    requirement = "DEPLOY-6"
    severity = "CRITICAL"
    resource_types = ("*",)
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        return any("${" in text or "%{" in text for text in strings_in(body))

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        for text in strings_in(body):
            if "${" in text or "%{" in text:
                error = template_syntax_error(text)
                if error:
                    return Verdict.failed(
                        f"Terraform cannot parse this value: {error}; keep literal text out of"
                        " Fn.* calls (cdktf does not escape it, hashicorp/terraform-cdk#1165)"
                    )
        escaped = sorted(set(escaped_references(body)))
        if escaped:
            return Verdict.failed(
                "names " + ", ".join(escaped) + " inside $${...}: Terraform stores the text,"
                " not the value (write the reference unescaped, outside Fn.* string arguments)"
            )
        return Verdict.passed(
            "every interpolation parses, and every escaped one is a literal placeholder"
        )


check = NoEscapedReferences()
