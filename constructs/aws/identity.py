"""The optional user identity service: a Cognito user pool with a strong password policy.

Passwords need 12+ characters of every class; TOTP MFA is available to every user; threat
protection (advanced security) blocks risky sign-ins; the pool cannot be deleted by accident.

Satisfies: AUTH-1
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cognito_user_pool import (
    CognitoUserPool,
    CognitoUserPoolAccountRecoverySetting,
    CognitoUserPoolAccountRecoverySettingRecoveryMechanism,
    CognitoUserPoolPasswordPolicy,
    CognitoUserPoolSoftwareTokenMfaConfiguration,
    CognitoUserPoolUserPoolAddOns,
)
from constructs import Construct

from synth.config import EnvironmentConfig

MIN_PASSWORD_LENGTH = 12  # AUTH-1


class Identity(Construct):
    """Cognito user pool `<prefix>-users`; create it only when `features.auth_enabled`."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        pool = CognitoUserPool(
            self,
            "users",
            name=f"{config.prefix}-users",
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            password_policy=CognitoUserPoolPasswordPolicy(
                minimum_length=MIN_PASSWORD_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=True,
                temporary_password_validity_days=3,
                password_history_size=5,
            ),
            # MFA available to every user; the app may require it for sensitive roles.
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=CognitoUserPoolSoftwareTokenMfaConfiguration(
                enabled=True
            ),
            # Threat protection (ENFORCED) is a Plus-tier feature.
            user_pool_tier="PLUS",
            user_pool_add_ons=CognitoUserPoolUserPoolAddOns(advanced_security_mode="ENFORCED"),
            account_recovery_setting=CognitoUserPoolAccountRecoverySetting(
                recovery_mechanism=[
                    CognitoUserPoolAccountRecoverySettingRecoveryMechanism(
                        name="verified_email", priority=1
                    )
                ]
            ),
            deletion_protection="ACTIVE",
        )
        self.user_pool_id = pool.id
        self.user_pool_arn = pool.arn
