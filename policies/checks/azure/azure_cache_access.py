"""Builds CKV_GW_APP_75: the app's own identity, and only it, gets data access to the cache
(APP-5, CACHE-1).

Azure Managed Redis with access keys off accepts an Entra ID token only from an identity that
has an access policy assignment on its database
(https://learn.microsoft.com/azure/redis/entra-for-authentication). azurerm 4.55 has no resource
for it (hashicorp/terraform-provider-azurerm #30938), so a Container Apps job of this stack
PUTs the assignment (constructs/azure/jobs.py). Every Managed Redis with access keys off must
have such a job whose `DATABASE_ID` is this cache's database and whose `APP_OBJECT_ID` is the
principal of the identity a container app of this stack runs as; otherwise the app cannot
authenticate (or another identity gets the cache). And every Container App that is told to use
the cache (`REDIS_HOST` names this cache) must get such a job for its own identity (APP-7: each
service signs in as itself).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks


def job_env(job: dict[str, Any]) -> dict[str, Any]:
    """`{name: value}` of a Container Apps job's environment (also CKV_GW_DEPLOY_87's)."""
    return {
        e.get("name"): e.get("value")
        for t in blocks(job, "template")
        for c in blocks(t, "container")
        for e in c.get("env") or []
    }


class CacheAccess(GroundworkCheck):
    id = "CKV_GW_APP_75"
    name = "A job of the stack gives the app's identity data access to the cache"
    requirement = "APP-5"
    severity = "HIGH"
    resource_types = ("azurerm_managed_redis",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        cache = ".".join(self._address)
        app_identities = {
            address_of(i)
            for app in stack.resources("azurerm_container_app").values()
            for b in blocks(app, "identity")
            for i in b.get("identity_ids") or []
        }
        granted: set[str | None] = set()
        for name, job in stack.resources("azurerm_container_app_job").items():
            env = job_env(job)
            database = str(env.get("DATABASE_ID", ""))
            target = address_of(database.split("}")[0] + "}")
            if target != cache or not database.endswith("/databases/default"):
                continue
            principal = address_of(env.get("APP_OBJECT_ID"))
            if principal not in app_identities:
                wrong = env.get("APP_OBJECT_ID")
                return Verdict.failed(f"{name} grants {wrong}, not an app identity")
            granted.add(principal)
        if not granted:
            return Verdict.failed(f"no job assigns an access policy on {cache}'s database")
        for name, app in stack.resources("azurerm_container_app").items():
            if address_of(job_env(app).get("REDIS_HOST")) != cache:
                continue
            own = {
                address_of(i) for b in blocks(app, "identity") for i in b.get("identity_ids") or []
            }
            if not own & granted:
                return Verdict.failed(
                    f"azurerm_container_app.{name} uses {cache}; no job grants it"
                )
        return Verdict.passed(f"jobs give {sorted(map(str, granted))} the cache's access policy")


check = CacheAccess()
