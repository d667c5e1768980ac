"""Builds CKV_GW_DEPLOY_42: every resource that acts as an identity depends on that identity's
grants (DEPLOY-2): a CMEK-encrypted resource on the crypto-key grant to its own service
agent, and on a `time_sleep` of at least 7 minutes after that grant; a Cloud Run service or
job on every grant to the service account it runs as.

A resource created with a key its agent may not use yet fails ("permission denied on
cryptoKeys.encrypt"); grants are eventually consistent, so ordering is the least the plan
must do (https://cloud.google.com/kms/docs/cmek#cmek-integrations; the bootstrap bucket's
`depends_on` its grant is the pattern). Likewise a Cloud Run revision starts as its service
account as soon as it is created: a grant that does not exist yet (the Cloud SQL Auth Proxy's
`roles/cloudsql.client`, a secret's accessor) fails the first start
(https://cloud.google.com/run/docs/securing/service-identity;
https://cloud.google.com/iam/docs/access-change-propagation). Grants on the resource itself
(a job's own `run.invoker`) follow it and are exempt.

Ordering is not enough for a CMEK resource: the agent uses the key in the create call
itself, and a grant is honoured only once it has propagated, "typically 2 minutes, but could
potentially take 7 minutes or longer" (https://cloud.google.com/iam/docs/access-change-
propagation); the provider does not wait for that (terraform-provider-google#22521). So the
resource also waits for a `time_sleep` that itself waits for the grant. Each `time_sleep` of a
GCP stack is judged too: at least 7 minutes, after at least one IAM grant.

The same kind for what runs as an identity: every Cloud Run service or job depends on a
`time_sleep` of at least 7 minutes after each grant to its service account (not only on the
grant). Cloud Run checks at revision creation that the identity may access every secret the
revision reads, and a revision whose secret access, Cloud SQL login or bucket grant has not
propagated fails to start; Secret Manager's IAM is eventually consistent with the same bound
(https://cloud.google.com/secret-manager/docs/reference/consistency, "Propagating IAM
permissions is eventually consistent"; https://cloud.google.com/run/docs/configuring/
services/secrets, "Grant the service identity access to the secret"). The rotator job's
first run calls Secret Manager and Cloud Run as its account, so it is judged the same way.
"""

import re
from typing import Any

from gcp_deploy_refs import key_refs
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

from synth.gcp_needs import AGENT_DOMAINS, CMEK_AGENT_API

ENCRYPTERS = frozenset(
    {"roles/cloudkms.cryptoKeyEncrypterDecrypter", "roles/cloudkms.cryptoKeyEncrypter"}
)


RUNS_AS = ("google_cloud_run_v2_service", "google_cloud_run_v2_job")
PROPAGATION_SECONDS = 7 * 60
UNITS = {"h": 3600, "m": 60, "s": 1}


def seconds(duration: Any) -> int | None:
    """Seconds of a Go duration such as `7m` or `1m30s`; None if it is not one."""
    parts = re.findall(r"(\d+)([hms])", str(duration))
    if not parts or "".join(n + u for n, u in parts) != str(duration):
        return None
    return sum(int(n) * UNITS[u] for n, u in parts)


def is_grant(address: str) -> bool:
    return address.startswith("google_") and address.split(".")[0].endswith("_iam_member")


def propagation_sleep(stack: Stack, before: frozenset[str], grant: str) -> bool:
    """Whether something in `before` is a long enough `time_sleep` that waits for `grant`."""
    return any(
        a.startswith("time_sleep.")
        and stack.graph.needs(a, grant)
        and (seconds(stack.graph.bodies[a].get("create_duration")) or 0) >= PROPAGATION_SECONDS
        for a in before
    )


def run_as(body: dict[str, Any]) -> str | None:
    """The `google_service_account` address a Cloud Run service or job runs as."""
    for template in blocks(body, "template"):
        for holder in (template, *blocks(template, "template")):  # jobs nest one level more
            account = address_of(holder.get("service_account"))
            if account and account.startswith("google_service_account."):
                return account
    return None


class ResourcesWaitForTheirIdentitysGrants(GroundworkCheck):
    id = "CKV_GW_DEPLOY_42"
    name = (
        "Every resource that acts as an identity waits for that identity's grants to "
        "propagate (a CMEK resource's key grant, a Cloud Run service's or job's grants)"
    )
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = (*CMEK_AGENT_API, *RUNS_AS, "time_sleep")
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        # time_sleep is not Google's: judge it only in stacks that use the Google provider.
        return self._address[0] != "time_sleep" or any(
            a.startswith("google_") for a in stack.graph.bodies
        )

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "time_sleep":
            duration = seconds(body.get("create_duration"))
            if duration is None or duration < PROPAGATION_SECONDS:
                return Verdict.failed(
                    f"create_duration {body.get('create_duration')!r} is under 7 minutes"
                )
            grants = [a for a in stack.graph.prerequisites(self.address) if is_grant(a)]
            if not grants:
                return Verdict.failed("waits for no IAM grant")
            return Verdict.passed(f"{duration} s after {len(grants)} grants")
        if self._address[0] in RUNS_AS:
            return self._runtime_grants(body, stack)
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
            elif not any(propagation_sleep(stack, before, g) for g in grants if g in before):
                verdicts.append(
                    Verdict.failed(
                        f"{key}: starts right after {grants[0]}, before it propagates (no "
                        "time_sleep of 7 minutes after it)"
                    )
                )
            else:
                verdicts.append(Verdict.passed(f"{key}: waits for its agent's grant to propagate"))
        return combine(verdicts or [Verdict.passed("no customer-managed key")])

    def _runtime_grants(self, body: dict[str, Any], stack: Stack) -> Verdict:
        account = run_as(body)
        if account is None:
            return Verdict.passed("runs as no service account of this stack (APP-5 judges it)")
        before = stack.graph.prerequisites(self.address)
        grants = sorted(
            address
            for address, grant in stack.graph.bodies.items()
            if address.split(".")[0].endswith("_iam_member")
            and f"${{{account}." in str(grant.get("member"))  # serviceAccount:${...email}
            and not stack.graph.needs(address, self.address)  # a grant on this resource
        )
        verdicts = [
            Verdict.failed(f"starts as {account} before its grant {g} exists") if g not in before
            else Verdict.failed(
                f"starts as {account} right after its grant {g}, before it propagates (no "
                "time_sleep of 7 minutes after it)"
            ) if not propagation_sleep(stack, before, g)
            else Verdict.passed(f"{g}: exists and has propagated first")
            for g in grants
        ]  # fmt: skip
        return combine(verdicts or [Verdict.passed(f"{account} holds no grants")])


check = ResourcesWaitForTheirIdentitysGrants()
