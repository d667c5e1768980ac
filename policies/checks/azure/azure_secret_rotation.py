"""Builds CKV_GW_SEC_71: each Key Vault secret expires within `secrets.rotation_days` of being
written, and its vault publishes SecretNearExpiry events to a subscription that drives the
rotation job (SEC-2: expiry plus rotation, as Azure allows).

An external secret (tag `groundwork-secret-kind: external`, or created empty, `value_wo = ""`)
fails whatever its expiry says: the expiry is on its empty first version only, the operator's
versions carry none, and the rotation job drops its events (constructs/azure/jobs.py), so
nothing in the stack rotates it. Its issuer does, which the construct declares as a waiver
(constructs/azure/secrets.py), so the report says SEC-2 waived, not passed."""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

# constructs/azure/secrets.py tags every secret with its catalog kind (SEC-5).
KIND_TAG = "groundwork-secret-kind"
HOURS = re.compile(r'timeadd\(timestamp\(\), \\?"([0-9]+)h\\?"\)')


class AzureSecretRotation(GroundworkCheck):
    id = "CKV_GW_SEC_71"
    name = "Key Vault secrets expire within the rotation period and near-expiry events rotate them"
    requirement = "SEC-2"
    severity = "HIGH"
    resource_types = ("azurerm_key_vault_secret",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        days = stack.config.secrets.rotation_days
        kind = (body.get("tags") or {}).get(KIND_TAG)
        if kind == "external" or body.get("value_wo") == "":
            return Verdict.failed(
                "an external secret: its expiry is on the empty first version only and the "
                "rotation job drops its events, so nothing in the stack rotates it"
            )
        expiry = body.get("expiration_date")
        match = HOURS.search(str(expiry))
        verdicts = []
        if expiry is None:
            verdicts.append(Verdict.failed("expiration_date is not set"))
        elif match is None:
            verdicts.append(
                Verdict.unknown(f"expiration_date {expiry} is not timeadd(timestamp(), ...)")
            )
        elif int(match.group(1)) > days * 24:
            verdicts.append(Verdict.failed(f"expires after {match.group(1)}h > {days} days"))
        vault = address_of(body.get("key_vault_id"))
        topics = [
            name for name, topic in stack.resources("azurerm_eventgrid_system_topic").items()
            if address_of(topic.get("source_resource_id")) == vault
        ]  # fmt: skip
        subscribed = any(
            "Microsoft.KeyVault.SecretNearExpiry" in (sub.get("included_event_types") or [])
            and address_of(sub.get("system_topic"))
            in {f"azurerm_eventgrid_system_topic.{t}" for t in topics}
            for sub in stack.resources("azurerm_eventgrid_system_topic_event_subscription").values()
        )
        if not subscribed:
            verdicts.append(Verdict.failed(f"no SecretNearExpiry subscription on {vault}'s events"))
        return combine(
            verdicts or [Verdict.passed(f"expires within {days} days; rotation subscribed")]
        )


check = AzureSecretRotation()
