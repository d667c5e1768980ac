"""Builds CKV_GW_EDGE_75: a public listener's certificate is one clients trust, unless the
config says otherwise (EDGE-1, OBS-4).

A self-signed certificate lets the first apply finish, but browsers refuse it and the uptime
test's TLS check fails, so HTTPS (EDGE-1) and the availability test (OBS-4) would hold on paper
only. Every Application Gateway certificate must be either the operator's certificate named in
`azure.certificate` (source `key_vault`: its versionless secret ID, so renewals reach the gateway,
https://learn.microsoft.com/azure/application-gateway/key-vault-certs) or a certificate of this
stack issued by a CA; a self-signed one (`issuer_parameters.name = "Self"`) passes only where
`azure.certificate.source` is `self_signed`, which synth.config refuses for the production tier.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

VERSIONLESS = re.compile(r"^https://[A-Za-z0-9-]+\.vault\.azure\.net/secrets/[A-Za-z0-9-]+$")


class TrustedCertificate(GroundworkCheck):
    id = "CKV_GW_EDGE_75"
    name = "The gateway's certificate is one clients trust unless the config says otherwise"
    requirement = "EDGE-1"
    severity = "HIGH"
    resource_types = ("azurerm_application_gateway",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        wanted = stack.config.azure.certificate
        verdicts = []
        for certificate in blocks(body, "ssl_certificate"):
            secret = certificate.get("key_vault_secret_id")
            source = address_of(secret)
            if source is not None and source.startswith("azurerm_key_vault_certificate."):
                policy = (blocks(stack.graph.bodies.get(source, {}), "certificate_policy") or [{}])[
                    0
                ]
                issuer = (blocks(policy, "issuer_parameters") or [{}])[0].get("name")
                if issuer != "Self":
                    verdicts.append(Verdict.passed(f"{source} is issued by {issuer}"))
                elif wanted is not None and wanted.source == "self_signed":
                    verdicts.append(Verdict.passed(f"{source} is self-signed, as the config says"))
                else:
                    verdicts.append(
                        Verdict.failed(
                            f"{source} is self-signed; azure.certificate does not allow it"
                        )
                    )
            elif isinstance(secret, str) and VERSIONLESS.match(secret):
                if wanted is not None and secret == wanted.versionless_secret_id:
                    verdicts.append(Verdict.passed(f"the operator's certificate {secret}"))
                else:
                    verdicts.append(Verdict.failed(f"{secret} is not azure.certificate's"))
            elif secret is None and certificate.get("data") is not None:
                verdicts.append(Verdict.failed("an inline certificate: no renewal, in the state"))
            else:
                verdicts.append(Verdict.unknown(f"key_vault_secret_id {secret!r} cannot be judged"))
        return combine(verdicts or [Verdict.failed("no TLS certificate")])


check = TrustedCertificate()
