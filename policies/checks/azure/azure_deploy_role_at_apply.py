"""Builds CKV_GW_DEPLOY_93: every Container App that signs in with its own identity to a store
that admits it only once a job has enrolled it (the database's role, the cache's access policy)
depends on a step of the apply that runs that job (DEPLOY-6).

On an Entra-only Flexible Server the app's role exists only once a job has run
`pgaadauth_create_principal_with_oid` as the server's Entra administrator
(https://learn.microsoft.com/azure/postgresql/flexible-server/how-to-manage-azure-ad-users;
CKV_GW_DEPLOY_82 judges that such a job exists). azurerm 4.55 creates a Container Apps job but
never runs it: a scheduled job first runs at its next cron tick, after the apply has ended, so
until then every sign-in of the app fails (`role "..." does not exist`), and a job that is
never started creates nothing. The rule, for every kind of Container App that signs in with a
role a job creates (`DATABASE_AUTH=entra-token`, the role its identity's): the app depends on a
`terraform_data` step whose `input.starts` is a job that creates its identity's role, and that
step starts the job and waits until the execution succeeds (`az containerapp job start`, then
`az containerapp job execution show` until `Succeeded`, failing otherwise; REST
https://learn.microsoft.com/rest/api/containerapps/jobs/start). A step that only starts the job
lets the apply end before the role exists.

The cache is the same kind: Azure Managed Redis accepts an identity's token only once it has an
access policy assignment on the cache's database
(https://learn.microsoft.com/azure/redis/entra-for-authentication), which a `cache-access` job
PUTs (azurerm 4.55 has no resource for it, constructs/azure/jobs.py). So every Container App that
signs in to the cache (`REDIS_USERNAME`, its identity's object ID) depends on a step that runs a
job whose `DATABASE_ID` is a cache database and whose `APP_OBJECT_ID` is its identity.

Each such step is judged too: it starts the job it names and waits for the result.
"""

import re
from typing import Any

from azure_cache_access import job_env
from azure_deploy_database_role import role_identities
from groundwork_policy import (
    GroundworkCheck,
    Outcome,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
)

JOB = "azurerm_container_app_job"


def step_command(step: dict[str, Any]) -> str:
    """The text of a `terraform_data` step's local-exec command(s)."""
    return " ".join(
        str(local.get("command", ""))
        for provisioner in blocks(step, "provisioner")
        for local in blocks(provisioner, "local-exec")
    )


def step_environment(step: dict[str, Any], variable: str) -> list[str | None]:
    """The resource addresses a step's local-exec command(s) receive in `variable`."""
    return [
        address_of(local.get("environment", {}).get(variable))
        for provisioner in blocks(step, "provisioner")
        for local in blocks(provisioner, "local-exec")
    ]


def started_job(step: dict[str, Any]) -> str | None:
    """The job a step says it starts (`input.starts`), if it is a Container Apps job."""
    starts = address_of((step.get("input") or {}).get("starts"))
    return starts if starts and starts.startswith(f"{JOB}.") else None


def waits_for_success(step: dict[str, Any]) -> Verdict:
    """The step starts its job (the one its command's JOB names) and waits until it succeeds."""
    job = started_job(step)
    text = step_command(step)
    names = step_environment(step, "JOB")
    if not re.search(r"\baz\s+containerapp\s+job\s+start\b", text):
        return Verdict.failed(f"does not start {job} (az containerapp job start)")
    if job not in names:
        return Verdict.failed(f"its command's JOB is not {job}, the job it says it starts")
    waits = re.search(r"\baz\s+containerapp\s+job\s+execution\s+show\b", text)
    if not (waits and "Succeeded" in text and re.search(r"\bexit\s+1\b", text)):
        return Verdict.failed(
            f"starts {job} but does not wait until its execution succeeds (az containerapp job "
            "execution show until Succeeded, failing otherwise): the apply ends before it ran"
        )
    return Verdict.passed(f"starts {job} and waits until it succeeds")


def enrols_in_database(job: dict[str, Any]) -> set[str]:
    """The identities whose database role `job` creates (none for a job that does not)."""
    env = job_env(job)
    return role_identities(job) if "APP_ROLES" in env or "PGHOST" in env else set()


def enrols_in_cache(job: dict[str, Any]) -> set[str]:
    """The identity whose cache access policy `job` assigns (none for a job that does not)."""
    env = job_env(job)
    if "/databases/" not in str(env.get("DATABASE_ID") or ""):
        return set()
    return {address_of(env.get("APP_OBJECT_ID"))} - {None}  # type: ignore[return-value]


# (what the app signs in to, whether it does, the identities a job enrols there)
KINDS = (
    (
        "the database",
        lambda app: job_env(app).get("DATABASE_AUTH") == "entra-token",
        enrols_in_database,
    ),
    ("the cache", lambda app: bool(job_env(app).get("REDIS_USERNAME")), enrols_in_cache),
)


def signs_in(app: dict[str, Any]) -> list[tuple[str, Any]]:
    """(store, enrolling jobs' reader) for each store the app signs in to with its identity."""
    return [(store, enrols) for store, uses, enrols in KINDS if uses(app)]


class RoleCreatedDuringApply(GroundworkCheck):
    id = "CKV_GW_DEPLOY_93"
    name = "Every app that signs in with its identity waits for the step that enrols it"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_container_app", "terraform_data")
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        if self._address[0] == "terraform_data":
            return started_job(body) is not None
        return bool(signs_in(body))

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "terraform_data":
            return waits_for_success(body)
        app = self.address
        identities = {
            address_of(i) for b in blocks(body, "identity") for i in b.get("identity_ids") or []
        }
        graph = stack.graph
        verdicts = []
        for store, enrols in signs_in(body):
            creators = {
                f"{JOB}.{name}"
                for name, job in stack.resources(JOB).items()
                if enrols(job) & identities
            }
            if not creators:
                verdicts.append(Verdict.failed(f"no job enrols its identity in {store}"))
                continue
            steps = {
                f"terraform_data.{name}": step
                for name, step in stack.resources("terraform_data").items()
                if started_job(step) in creators
            }
            if not steps:
                verdicts.append(
                    Verdict.failed(
                        f"nothing in the apply starts {', '.join(sorted(creators))}: it is "
                        f"enrolled in {store} only when a schedule runs the job, after the apply"
                    )
                )
                continue
            working = {
                a for a, step in steps.items() if waits_for_success(step).outcome is Outcome.PASS
            }
            if not working:
                verdicts.append(combine([waits_for_success(step) for step in steps.values()]))
            elif not any(graph.needs(app, step) for step in working):
                verdicts.append(
                    Verdict.failed(
                        f"{app} does not depend on {', '.join(sorted(working))}, which enrols it "
                        f"in {store}: it can start and sign in before that"
                    )
                )
            else:
                verdicts.append(Verdict.passed(f"waits for {', '.join(sorted(working))} ({store})"))
        return combine(verdicts)


check = RoleCreatedDuringApply()
