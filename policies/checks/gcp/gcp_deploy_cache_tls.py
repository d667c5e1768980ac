"""Builds CKV_GW_DEPLOY_47: a Memorystore instance serving TLS hands its CA to the app
(DEPLOY-6).

With `transit_encryption_mode = SERVER_AUTHENTICATION` Memorystore signs its certificate
with a per-instance CA, which clients must install to verify the server
(https://cloud.google.com/memorystore/docs/redis/manage-in-transit-encryption). The CA
must reach the app: a secret version built from this instance's `server_ca_certs` that a
Cloud Run service reads. Built from ALL of them: during a CA rotation the list holds the
old and the new CA and both are valid
(https://cloud.google.com/memorystore/docs/redis/manage-in-transit-encryption#certificate_authority_rotation),
so a secret of `server_ca_certs[0]` alone fails TLS verification once the server certificate
is signed by the other one. Any index into the list fails (a splat or a for expression over
it passes).
"""

import re
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
        reference = re.escape(f"{self.address}.server_ca_certs")
        indexed = re.compile(reference + r"\s*(\[\s*\d|\.\d)")
        data = {  # the write-only argument or the stored one (CKV_GW_SEC_42)
            address_of(b.get("secret")): str(b.get("secret_data_wo") or b.get("secret_data"))
            for b in stack.graph.of_type("google_secret_manager_secret_version").values()
        }
        versions = {s: d for s, d in data.items() if re.search(reference, d)}
        secrets = {s for s, data in versions.items() if not indexed.search(data)}
        secrets.discard(None)
        if not secrets:
            if versions:
                return Verdict.failed(
                    "the CA secret holds one entry of server_ca_certs: during a CA rotation "
                    "the app must trust every entry"
                )
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
