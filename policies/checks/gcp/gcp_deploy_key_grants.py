"""Builds CKV_GW_DEPLOY_42: every CMEK-encrypted resource depends on the crypto-key grant to
its own service agent (DEPLOY-2).

A resource created with a key its agent may not use yet fails ("permission denied on
cryptoKeys.encrypt"); grants are eventually consistent, so ordering is the least the plan
must do (https://cloud.google.com/kms/docs/cmek#cmek-integrations; the bootstrap bucket's
`depends_on` its grant is the pattern).
"""

from typing import Any

from gcp_deploy_refs import key_refs
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

from synth.gcp_needs import AGENT_DOMAINS, CMEK_AGENT_API

ENCRYPTERS = frozenset(
    {"roles/cloudkms.cryptoKeyEncrypterDecrypter", "roles/cloudkms.cryptoKeyEncrypter"}
)


class EncryptedResourcesWaitForKeyGrants(GroundworkCheck):
    id = "CKV_GW_DEPLOY_42"
    name = "Every CMEK-encrypted resource depends on its agent's grant on the key"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = tuple(CMEK_AGENT_API)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        api = CMEK_AGENT_API[self._address[0]]
        domains = {d for d, a in AGENT_DOMAINS.items() if a == api}
        before = stack.graph.prerequisites(self.address)
        verdicts = []
        for key in sorted(set(key_refs(body))):
            grants = [
                a
                for a, b in stack.graph.of_type("google_kms_crypto_key_iam_member").items()
                if address_of(b.get("crypto_key_id")) == key
                and b.get("role") in ENCRYPTERS
                and (
                    any(d in str(b.get("member")) for d in domains)
                    or (
                        api == "storage.googleapis.com"
                        and "google_storage_project_service_account" in str(b.get("member"))
                    )
                )
            ]
            if not grants:
                verdicts.append(Verdict.failed(f"{key}: no grant to the {api} agent"))
            elif not any(g in before for g in grants):
                verdicts.append(Verdict.failed(f"{key}: does not wait for {grants[0]}"))
            else:
                verdicts.append(Verdict.passed(f"{key}: waits for its agent's grant"))
        return combine(verdicts or [Verdict.passed("no customer-managed key")])


check = EncryptedResourcesWaitForKeyGrants()
