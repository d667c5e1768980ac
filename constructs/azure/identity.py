"""The optional user identity service (AUTH-1) on Azure: not expressible with azurerm.

Satisfies: AUTH-1 (by refusing to synthesize a stack that asks for it)

AUTH-1 names Entra External ID. The azurerm provider (4.55) has no resource for an
external (CIAM) tenant, nor for its user flows, password policy or MFA settings; the
legacy Azure AD B2C directory resource is gone from 4.x as well. The azuread provider can
register applications and Conditional Access policies inside an existing external
tenant, but cannot create the tenant, and Entra's password rules are fixed by Microsoft
(no 12-character minimum setting). So, rather than synthesize a stack that silently
lacks the identity service, `Identity` raises when `features.auth_enabled` is on; with it
off (every shipped environment) it builds nothing.
"""

from __future__ import annotations

from constructs import Construct

from synth.config import EnvironmentConfig


class NotExpressible(Exception):
    """A requirement the Azure provider cannot express; the message says why."""


class Identity(Construct):
    """Nothing when AUTH-1 is off; an error naming the gap when it is on."""

    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id_)
        if config.features.auth_enabled:
            raise NotExpressible(
                f"environment {config.name}: features.auth_enabled (AUTH-1) asks for Entra "
                "External ID, which the azurerm provider cannot create (no external-tenant, "
                "user-flow or password-policy resource); create the tenant outside Terraform "
                "or switch the feature off for Azure"
            )
