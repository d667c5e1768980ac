"""Builds CKV_GW_DB_10: the RDS Proxy pool is sized to leave the database headroom (DB-6).

The proxy's default target group holds the pool: `max_connections_percent` of the database's
`max_connections` may be open through the proxy. At 100 the proxy can take every connection,
leaving none for the master user's maintenance and the role task (constructs/aws/database_
roles.py); the RDS Proxy guide recommends leaving headroom (https://docs.aws.amazon.com/
AmazonRDS/latest/UserGuide/rds-proxy-connections.html). The group must belong to this stack's
proxy, and idle connections may not exceed the pool.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks


class DbProxyPool(GroundworkCheck):
    id = "CKV_GW_DB_10"
    name = "RDS Proxy pool belongs to the stack's proxy and leaves the database headroom"
    requirement = "DB-6"
    severity = "MEDIUM"
    resource_types = ("aws_db_proxy_default_target_group",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        proxy = address_of(body.get("db_proxy_name"))
        if (
            proxy is None
            or not proxy.startswith("aws_db_proxy.")
            or proxy not in stack.graph.bodies
        ):
            return Verdict.failed(
                f"db_proxy_name {body.get('db_proxy_name')!r} is not this stack's proxy"
            )
        pools = blocks(body, "connection_pool_config")
        if not pools:
            return Verdict.failed("connection_pool_config is not set (the default is 100 %)")
        pool = pools[0]
        most, idle = pool.get("max_connections_percent"), pool.get("max_idle_connections_percent")
        if not isinstance(most, int) or not 1 <= most < 100:
            return Verdict.failed(f"max_connections_percent is {most}; want 1-99 (headroom)")
        if not isinstance(idle, int) or idle > most:
            return Verdict.failed(f"max_idle_connections_percent is {idle}; want at most {most}")
        return Verdict.passed(f"pool of {most} % of max_connections, {idle} % idle")


check = DbProxyPool()
