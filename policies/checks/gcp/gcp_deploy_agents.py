"""Builds CKV_GW_DEPLOY_41: every grant to a Google service agent depends on what creates that
agent (DEPLOY-2).

Enabling an API does not create its service agent; a grant naming `service-<number>@gcp-sa-
...` before it exists fails with "Service account ... does not exist"
(terraform-provider-google#9969). What creates one: `google_project_service_identity`
(google-beta), reading `data.google_storage_project_service_account` (Cloud Storage), or a
`gcloud beta services identity create --service=<api>` step (constructs/gcp/steps.py).

A resource an agent creates for us waits for that agent and for its project role too:
`google_service_networking_connection` is made by Service Networking's agent
(`service-<number>@service-networking.iam.gserviceaccount.com`), which needs
`roles/servicenetworking.serviceAgent`; without both the connection fails "Error code 7,
Required 'compute.globalAddresses.list' permission" (terraform-provider-google#14720, #11195).
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

from synth.gcp_needs import AGENT_DOMAINS, AGENT_PROJECT_ROLES

AGENT = re.compile(r"service-[^@]+@([a-z0-9.-]+\.iam\.gserviceaccount\.com)")
STORAGE_AGENT_SOURCE = "data.google_storage_project_service_account."
# Resource type -> the API whose agent creates it on our behalf.
AGENT_MADE = {"google_service_networking_connection": "servicenetworking.googleapis.com"}


def creates(stack: Stack, address: str, api: str) -> bool:
    body = stack.graph.bodies.get(address, {})
    kind = address.rsplit(".", 1)[0]
    if kind == "google_project_service_identity":
        return body.get("service") == api
    if kind == "data.google_storage_project_service_account":
        return api == "storage.googleapis.com"
    if kind == "terraform_data":
        args = (body.get("input") or {}).get("gcloud") or []
        return "identity" in args and f"--service={api}" in args
    return False


class AgentGrantsWaitForAgents(GroundworkCheck):
    id = "CKV_GW_DEPLOY_41"
    name = "Every grant to a service agent depends on the resource that creates the agent"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = (
        "google_kms_crypto_key_iam_member",
        "google_secret_manager_secret_iam_member",
        "google_pubsub_topic_iam_member",
        "google_storage_bucket_iam_member",
        "google_project_iam_member",
        *AGENT_MADE,
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        kind = self.address.rsplit(".", 1)[0]
        if kind in AGENT_MADE:
            return self.agent_made(AGENT_MADE[kind], stack)
        member = str(body.get("member", ""))
        if STORAGE_AGENT_SOURCE in member:
            return Verdict.passed("the member is read from the storage agent data source")
        match = AGENT.search(member)
        if not match:
            return Verdict.passed("not a service agent")
        api = AGENT_DOMAINS.get(match.group(1))
        if api is None:
            return Verdict.failed(f"{match.group(1)}: no known way to create this agent")
        if any(creates(stack, a, api) for a in stack.graph.prerequisites(self.address)):
            return Verdict.passed(f"waits for the {api} agent's creation")
        return Verdict.failed(f"grants to the {api} agent but nothing it waits for creates it")

    def agent_made(self, api: str, stack: Stack) -> Verdict:
        """The resource waits for its agent's creation and for the agent's project role."""
        before = stack.graph.prerequisites(self.address)
        if not any(creates(stack, a, api) for a in before):
            return Verdict.failed(f"made by the {api} agent but nothing it waits for creates it")
        role = AGENT_PROJECT_ROLES[api]
        domain = next(d for d, a in AGENT_DOMAINS.items() if a == api)
        bodies = stack.graph.bodies
        granted = any(
            a.startswith("google_project_iam_member.")
            and bodies.get(a, {}).get("role") == role
            and f"@{domain}" in str(bodies.get(a, {}).get("member", ""))
            for a in before
        )
        if not granted:
            return Verdict.failed(f"made by the {api} agent but does not wait for its {role}")
        return Verdict.passed(f"waits for the {api} agent and its {role}")


check = AgentGrantsWaitForAgents()
