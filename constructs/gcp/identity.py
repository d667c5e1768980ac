"""Identity Platform for the app's users, with MFA available (only when auth is enabled).

MFA (TOTP) is ENABLED for users who enroll; e-mail sign-in requires a password. The
12-character minimum of AUTH-1 is Identity Platform's `passwordPolicyConfig`, which the
Terraform google provider (6.x) does not expose; it is set once through the Identity
Toolkit API (`projects.updateConfig`) and is reported as a gap until the provider has it.

Satisfies: AUTH-1
"""

from __future__ import annotations

from cdktf_cdktf_provider_google.identity_platform_config import (
    IdentityPlatformConfig,
    IdentityPlatformConfigMfa,
    IdentityPlatformConfigMfaProviderConfigs,
    IdentityPlatformConfigMfaProviderConfigsTotpProviderConfig,
    IdentityPlatformConfigSignIn,
    IdentityPlatformConfigSignInEmail,
)
from constructs import Construct

from synth.config import EnvironmentConfig

MIN_PASSWORD_LENGTH = 12  # AUTH-1


class Identity(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        IdentityPlatformConfig(
            self,
            "config",
            authorized_domains=[config.domain],
            sign_in=IdentityPlatformConfigSignIn(
                email=IdentityPlatformConfigSignInEmail(enabled=True, password_required=True)
            ),
            mfa=IdentityPlatformConfigMfa(
                state="ENABLED",
                provider_configs=[
                    IdentityPlatformConfigMfaProviderConfigs(
                        state="ENABLED",
                        totp_provider_config=(
                            IdentityPlatformConfigMfaProviderConfigsTotpProviderConfig(
                                adjacent_intervals=1
                            )
                        ),
                    )
                ],
            ),
        )
