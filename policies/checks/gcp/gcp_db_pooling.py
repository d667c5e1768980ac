"""Builds CKV_GW_DB_44: connection pooling (DB-6) as Cloud SQL allows it here.

Cloud SQL's managed pooling needs Enterprise Plus, so the app pools its connections (the
documented equivalent): every Cloud Run service that connects to this instance sets
`DATABASE_POOL_MAX`, and the instance's `max_connections` flag admits every pool at the
environment's maximum replicas (every database-using service's `max_replicas`, summed, x pool
size: APP-7 services share the instance).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine, is_reference

POOL_VARIABLE = "DATABASE_POOL_MAX"


class DbPooling(GroundworkCheck):
    id = "CKV_GW_DB_44"
    name = "App pools its Cloud SQL connections and max_connections fits every pool at max scale"
    requirement = "DB-6"
    severity = "MEDIUM"
    resource_types = ("google_sql_database_instance",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        primary = body.get("master_instance_name") or f"${{{self.address}.name}}"
        primary_address = primary.strip("${}").rsplit(".", 1)[0]
        flags = {
            f.get("name"): f.get("value")
            for f in blocks(body.get("settings") or {}, "database_flags")
        }
        limit = flags.get("max_connections")
        if limit is None or is_reference(limit):
            return Verdict.failed(f"max_connections flag is {limit!r}; pools cannot be sized")
        verdicts = []
        clients = 0
        config = stack.config
        replicas = sum(
            s.max_replicas for s in config.services if "database" in config.service_uses(s)
        )
        for name, service in stack.resources("google_cloud_run_v2_service").items():
            envs = {
                e.get("name"): e
                for t in blocks(service, "template")
                for c in blocks(t, "containers")
                for e in blocks(c, "env")
            }
            if not any(primary_address in str(e.get("value")) for e in envs.values()):
                continue
            clients += 1
            pool = (envs.get(POOL_VARIABLE) or {}).get("value")
            if pool is None or is_reference(pool):
                verdicts.append(Verdict.failed(f"service {name} sets no {POOL_VARIABLE}"))
                continue
            need = int(pool) * replicas
            if need > int(limit):
                verdicts.append(
                    Verdict.failed(
                        f"{replicas} replicas x pool {pool} = {need} > max_connections {limit}"
                    )
                )
        if not clients:
            verdicts.append(Verdict.failed("no Cloud Run service connects with a pool"))
        return combine(verdicts or [Verdict.passed(f"pools fit max_connections {limit}")])


check = DbPooling()
