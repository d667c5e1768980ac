"""Builds CKV_GW_EDGE_44: instances get 30 s to finish in-flight requests (EDGE-4's graceful
shutdown and connection draining).

- Cloud Run sends SIGTERM and stops the instance 10 seconds later; the grace period is fixed
  by the platform and cannot be set (https://cloud.google.com/run/docs/container-contract
  #instance-shutdown), so a Cloud Run service fails this check: the gap is visible in the
  gate and accepted only by a reasoned, expiring waiver, never passed on paper.
- A backend service whose backends are instance groups or zonal NEGs drains connections for
  `connection_draining_timeout_sec` (at least 30 s); serverless NEGs have no draining (the
  platform's grace period above applies).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks

DRAIN_SECONDS = 30
CLOUD_RUN_GRACE_SECONDS = 10


class GracefulShutdown(GroundworkCheck):
    id = "CKV_GW_EDGE_44"
    name = "Instances get 30 s of graceful shutdown or connection draining"
    requirement = "EDGE-4"
    severity = "MEDIUM"
    resource_types = ("google_cloud_run_v2_service", "google_compute_backend_service")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "google_cloud_run_v2_service":
            return Verdict.failed(
                f"Cloud Run stops an instance {CLOUD_RUN_GRACE_SECONDS} s after SIGTERM "
                f"(fixed by the platform); EDGE-4 asks {DRAIN_SECONDS} s"
            )
        groups = [address_of(b.get("group")) for b in blocks(body, "backend")]
        serverless = all(
            g
            and g.startswith("google_compute_region_network_endpoint_group.")
            and stack.graph.bodies.get(g, {}).get("network_endpoint_type") == "SERVERLESS"
            for g in groups
        )
        if groups and serverless:
            return Verdict.passed("serverless NEG backends: the platform's grace period applies")
        seconds = body.get("connection_draining_timeout_sec", 300)  # the API's default
        if int(seconds) >= DRAIN_SECONDS:
            return Verdict.passed(f"drains connections for {seconds} s")
        return Verdict.failed(f"drains connections for {seconds} s; EDGE-4 asks {DRAIN_SECONDS}")


check = GracefulShutdown()
