"""Builds CKV_GW_APP_43: secrets reach Cloud Run only as Secret Manager references (APP-4): no
environment variable named like a secret has a plain `value`, and every variable that names a
Secret Manager secret of the stack reads it through `value_source.secret_key_ref`. A service
whose description (APP-7) lists no secret and uses nothing with a platform secret may read
none; any other service that reads no secret by reference fails."""

import re
from typing import Any

from gcp_app_services import described, secret_names
from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

# Whole `_`-separated words, so NEXTAUTH_URL (a site URL, guide 003) is not taken for a secret
# while AUTH_TOKEN, NEXTAUTH_SECRET and STRIPE_API_KEY are.
SECRET_NAME = re.compile(
    r"(^|_)(SECRET|PASSWORD|PASSWD|TOKEN|AUTH|CREDENTIALS?|PRIVATE_KEY|API_KEY)(_|$)|DATABASE_URL"
)


class AppSecretsByReference(GroundworkCheck):
    id = "CKV_GW_APP_43"
    name = "Cloud Run takes secrets only by Secret Manager reference, never as plain values"
    requirement = "APP-4"
    severity = "CRITICAL"
    resource_types = ("google_cloud_run_v2_service",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        references = 0
        for template in blocks(body, "template"):
            for container in blocks(template, "containers"):
                for env in blocks(container, "env"):
                    name = str(env.get("name", ""))
                    if blocks(env, "value_source"):
                        references += 1
                    elif SECRET_NAME.search(name):
                        verdicts.append(Verdict.failed(f"{name} is a plain value"))
        spec = described(stack.config, body) if stack.config is not None else None
        reads_none = spec is not None and not secret_names(stack.config, spec)  # type: ignore[arg-type]
        if not references and reads_none:
            return combine(verdicts or [Verdict.passed("its description lists no secret")])
        if not references:
            verdicts.append(Verdict.failed("no secret is passed by reference"))
        return combine(verdicts or [Verdict.passed(f"{references} secrets by reference")])


check = AppSecretsByReference()
