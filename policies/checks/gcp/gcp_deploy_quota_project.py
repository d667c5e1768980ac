"""Builds CKV_GW_DEPLOY_50: every resource whose API refuses calls without a quota project
is managed through a provider that sends one (DEPLOY-4).

The Billing Budget API (`billingbudgets.googleapis.com`) is a "client-based" API: under
user credentials it fails with "Your application is authenticating by using local
Application Default Credentials. The billingbudgets.googleapis.com API requires a quota
project" unless the request names one; the provider sends it with `user_project_override =
true` and `billing_project` (https://registry.terraform.io/providers/hashicorp/google/6.50.0/
docs/guides/provider_reference#user_project_override, https://cloud.google.com/docs/
authentication/troubleshoot-adc#user-creds-client-based).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

QUOTA_PROJECT_TYPES = ("google_billing_budget",)


def provider_config(stack: Stack, reference: Any) -> dict[str, Any] | None:
    """The `provider "google"` block a resource's `provider = "google.<alias>"` names."""
    alias = str(reference).split(".", 1)[1] if reference else None
    configs = stack.document.get("provider", {}).get("google") or []
    configs = configs if isinstance(configs, list) else [configs]
    for config in configs:
        if isinstance(config, dict) and config.get("alias") == alias:
            return config
    return None


class QuotaProjectSent(GroundworkCheck):
    id = "CKV_GW_DEPLOY_50"
    name = "Resources of client-based APIs use a provider that sends a quota project"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = QUOTA_PROJECT_TYPES
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        config = provider_config(stack, body.get("provider"))
        if config is None:
            return Verdict.failed(f"provider {body.get('provider')!r} is not configured")
        if config.get("user_project_override") is not True or not config.get("billing_project"):
            return Verdict.failed("its provider sends no quota project (user_project_override)")
        return Verdict.passed(f"quota project {config['billing_project']}")


check = QuotaProjectSent()
