"""Builds CKV_GW_AUTH_40: Identity Platform makes MFA available and enforces passwords of at
least 12 characters (AUTH-1). The 12 is REQUIREMENTS.md's constant, not an environment setting.

MFA: `mfa.state` ENABLED with an ENABLED provider (TOTP), so every user can enroll. Passwords:
google provider 6.50's `google_identity_platform_config` has no password policy, so the
stack sets it with a runner step (constructs/gcp/identity.py) whose `input.password_policy`
is the Identity Toolkit Admin API v2 `passwordPolicyConfig` it sends. The check accepts the
length only from such a step that runs after this config (graph order), ENFORCEs it, and whose
command really sends that body: a `curl --fail-with-body` PATCH with
`updateMask=passwordPolicyConfig` whose `-d` is the recorded policy (the record alone proves
nothing about what the runner sends).
"""

import json
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

MINIMUM_PASSWORD_LENGTH = 12


def _minimum_length(policy: Any) -> int | None:
    config = (policy or {}).get("passwordPolicyConfig") or {}
    if config.get("passwordPolicyEnforcementState") != "ENFORCE":
        return None
    lengths = [
        (version.get("customStrengthOptions") or {}).get("minPasswordLength")
        for version in config.get("passwordPolicyVersions") or []
    ]
    numbers = [int(length) for length in lengths if isinstance(length, int)]
    return min(numbers) if numbers and len(numbers) == len(lengths) else None


def _sends(step: dict[str, Any], policy: Any) -> bool:
    """Whether the step's local-exec command PATCHes exactly `policy` (identity.py's form)."""
    body = json.dumps(policy, sort_keys=True)
    commands = [
        str((exec_ or {}).get("command", ""))
        for provisioner in step.get("provisioner") or []
        for exec_ in [(provisioner or {}).get("local-exec")]
    ]
    return any(
        "--fail-with-body" in command
        and "PATCH" in command
        and "updateMask=passwordPolicyConfig" in command
        and f"-d '{body}'" in command
        for command in commands
    )


class IdentityPlatform(GroundworkCheck):
    id = "CKV_GW_AUTH_40"
    name = "Identity Platform makes MFA available and enforces 12+ character passwords"
    requirement = "AUTH-1"
    severity = "HIGH"
    resource_types = ("google_identity_platform_config",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        mfa = (blocks(body, "mfa") or [{}])[0]
        providers = [p for p in blocks(mfa, "provider_configs") if p.get("state") == "ENABLED"]
        if mfa.get("state") != "ENABLED" or not providers:
            verdicts.append(
                Verdict.failed(
                    f"MFA state {mfa.get('state')!r} with {len(providers)} enabled provider(s): "
                    "users cannot enroll"
                )
            )
        recorded = [
            (step, policy, length)
            for address, step in stack.graph.of_type("terraform_data").items()
            if stack.graph.needs(address, self.address)
            and (policy := (step.get("input") or {}).get("password_policy")) is not None
            and (length := _minimum_length(policy)) is not None
        ]
        enforced = [length for step, policy, length in recorded if _sends(step, policy)]
        if recorded and not enforced:
            verdicts.append(
                Verdict.failed(
                    "the password-policy step's command does not send the policy it records "
                    "(a curl --fail-with-body PATCH of passwordPolicyConfig with that body)"
                )
            )
        elif not enforced:
            verdicts.append(
                Verdict.failed(
                    "no step after this config enforces a password policy (the provider "
                    "cannot; Identity Platform's default minimum is 6)"
                )
            )
        elif max(enforced) < MINIMUM_PASSWORD_LENGTH:
            verdicts.append(
                Verdict.failed(
                    f"enforced minimum length {max(enforced)} < {MINIMUM_PASSWORD_LENGTH}"
                )
            )
        return combine(
            verdicts or [Verdict.passed(f"MFA available; passwords of {max(enforced)}+ characters")]
        )


check = IdentityPlatform()
