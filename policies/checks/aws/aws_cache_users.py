"""Builds CKV_GW_CACHE_4: ElastiCache users authenticate with IAM, the default user is off,
and the user group is attached to the replication group (CACHE-1).

Redis RBAC requires a user named `default` in every user group; switched off (`off`) and
without a password it admits nobody. Every other user authenticates with IAM, so no password
exists anywhere. A group that no replication group names enforces nothing
(https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html,
https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks


class CacheUsers(GroundworkCheck):
    id = "CKV_GW_CACHE_4"
    name = "ElastiCache users use IAM, the default user is off, the group is attached"
    requirement = "CACHE-1"
    severity = "HIGH"
    resource_types = ("aws_elasticache_user", "aws_elasticache_user_group")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "aws_elasticache_user":
            return self._user(body)
        members = [address_of(user) for user in body.get("user_ids") or []]
        users = {a: stack.graph.bodies.get(a, {}) for a in members if a}
        if not any(u.get("user_name") == "default" for u in users.values()):
            return Verdict.failed("no user named 'default' in the group (Redis RBAC needs one)")
        attached = [
            address
            for address, group in stack.graph.of_type("aws_elasticache_replication_group").items()
            if any(address_of(g) == self.address for g in group.get("user_group_ids") or [])
        ]
        if not attached:
            return Verdict.failed("no replication group names this user group in user_group_ids")
        return Verdict.passed(f"attached to {attached[0]}")

    @staticmethod
    def _user(body: dict[str, Any]) -> Verdict:
        modes = blocks(body, "authentication_mode")
        kind = modes[0].get("type") if modes else None
        if body.get("passwords") or kind == "password":
            return Verdict.failed("the user has a password; use IAM authentication")
        if body.get("user_name") == "default":
            if str(body.get("access_string", "")).split(" ")[0] != "off":
                return Verdict.failed("the default user is not switched off (access_string 'off')")
            return Verdict.passed("default user switched off")
        if kind != "iam":
            return Verdict.failed(f"authentication_mode.type is {kind!r}; want 'iam'")
        return Verdict.passed("IAM authentication")


check = CacheUsers()
