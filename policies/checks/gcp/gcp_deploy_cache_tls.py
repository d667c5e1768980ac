"""Builds CKV_GW_DEPLOY_47: a Memorystore instance serving TLS hands its CA to the app
(DEPLOY-6).

With `transit_encryption_mode = SERVER_AUTHENTICATION` Memorystore signs its certificate
with a per-instance CA, which clients must install to verify the server
(https://cloud.google.com/memorystore/docs/redis/manage-in-transit-encryption). The CA
must reach the app: a secret version built from this instance's `server_ca_certs` that a
Cloud Run service reads.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks


class CacheCaReachesTheApp(GroundworkCheck):
    id = "CKV_GW_DEPLOY_47"
    name = "The app receives the per-instance CA of every TLS Memorystore instance"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("google_redis_instance",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("transit_encryption_mode") != "SERVER_AUTHENTICATION":
            return Verdict.passed("no TLS: nothing to verify (CACHE-1 judges TLS itself)")
        secrets = {
            address_of(b.get("secret"))
            for b in stack.graph.of_type("google_secret_manager_secret_version").values()
            if f"{self.address}.server_ca_certs" in str(b.get("secret_data"))
        }
        secrets.discard(None)
        if not secrets:
            return Verdict.failed("no secret holds this instance's server CA")
        ids = {stack.graph.bodies[s].get("secret_id") for s in secrets if s}
        for service in stack.graph.of_type("google_cloud_run_v2_service").values():
            for template in blocks(service, "template"):
                for container in blocks(template, "containers"):
                    for env in blocks(container, "env"):
                        for source in blocks(env, "value_source"):
                            for ref in blocks(source, "secret_key_ref"):
                                secret = ref.get("secret")
                                if address_of(secret) in secrets or secret in ids:
                                    return Verdict.passed(f"the app reads it as {env.get('name')}")
        return Verdict.failed("the CA secret exists but no service reads it")


check = CacheCaReachesTheApp()
