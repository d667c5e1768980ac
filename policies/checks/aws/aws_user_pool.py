"""Builds CKV_GW_AUTH_1: the Cognito user pool requires passwords of at least 12 characters
and offers MFA (AUTH-1). The 12 is REQUIREMENTS.md's constant, not an environment setting."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference

MINIMUM_PASSWORD_LENGTH = 12
MFA_AVAILABLE = ("OPTIONAL", "ON")


class UserPool(GroundworkCheck):
    id = "CKV_GW_AUTH_1"
    name = "Cognito user pool requires 12+ character passwords and makes MFA available"
    requirement = "AUTH-1"
    severity = "HIGH"
    resource_types = ("aws_cognito_user_pool",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        policies = blocks(body, "password_policy")
        length = policies[0].get("minimum_length") if policies else None
        if length is None:
            # Cognito's default is 8 characters.
            verdicts.append(Verdict.failed("password_policy.minimum_length is not set (8)"))
        elif is_reference(length):
            verdicts.append(Verdict.unknown(f"minimum_length is an expression ({length})"))
        elif int(length) < MINIMUM_PASSWORD_LENGTH:
            verdicts.append(Verdict.failed(f"minimum_length {length} < {MINIMUM_PASSWORD_LENGTH}"))
        mfa = body.get("mfa_configuration", "OFF")  # the provider's default
        if mfa not in MFA_AVAILABLE:
            verdicts.append(Verdict.failed(f"mfa_configuration is {mfa}: MFA is not available"))
        else:
            totp = any(b.get("enabled") in (True, "true")
                       for b in blocks(body, "software_token_mfa_configuration"))  # fmt: skip
            if not totp and not blocks(body, "sms_configuration"):
                verdicts.append(Verdict.failed("MFA on, but neither TOTP nor SMS is configured"))
        return combine(verdicts or [Verdict.passed(f"{length}+ characters, MFA {mfa}")])


check = UserPool()
