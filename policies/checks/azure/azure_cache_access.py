"""Builds CKV_GW_APP_75: Redis data access goes to the app's own identity, with the
least-privileged built-in policy that lets it work (APP-5).

Azure Cache for Redis with Entra authentication grants data access through access policy
assignments. "Data Contributor" reads and writes keys; "Data Owner" adds every command,
including FLUSHALL and CONFIG, which an app never needs
(https://learn.microsoft.com/azure/azure-cache-for-redis/cache-configure-role-based-access-control).
The assignment must name a user-assigned identity of this stack.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of

ALLOWED = {"Data Contributor", "Data Reader"}


class CacheAccess(GroundworkCheck):
    id = "CKV_GW_APP_75"
    name = "Redis access policies go to the stack's identities, Data Contributor at most"
    requirement = "APP-5"
    severity = "HIGH"
    resource_types = ("azurerm_redis_cache_access_policy_assignment",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        policy = body.get("access_policy_name")
        if policy not in ALLOWED:
            return Verdict.failed(
                f"access_policy_name is {policy!r}; want one of {sorted(ALLOWED)}"
            )
        identity = address_of(body.get("object_id"))
        if identity is None or not identity.startswith("azurerm_user_assigned_identity."):
            return Verdict.failed(f"object_id {body.get('object_id')!r} is not a stack identity")
        cache = address_of(body.get("redis_cache_id"))
        if cache is None or cache not in stack.graph.bodies:
            return Verdict.failed(
                f"redis_cache_id {body.get('redis_cache_id')!r} is not in this stack"
            )
        return Verdict.passed(f"{policy} for {identity}")


check = CacheAccess()
