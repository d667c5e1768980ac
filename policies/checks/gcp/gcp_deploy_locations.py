"""Builds CKV_GW_DEPLOY_40: every location is one its service accepts, and every CMEK key is
where its data is (DEPLOY-4).

Cloud KMS and Cloud Storage spell multi-regions differently (`europe` vs `EU`); a key ring in
`eu` does not exist (https://cloud.google.com/kms/docs/locations), and a CMEK key must be in
the location of the data it encrypts: the bucket's location, or for a dual-region the
multi-region holding it (https://cloud.google.com/storage/docs/encryption/
customer-managed-keys#restrictions); regional services (Cloud SQL, Memorystore, Artifact
Registry, Secret Manager replicas) take a key in their own region
(https://cloud.google.com/kms/docs/cmek#cmek-integrations).
"""

from typing import Any

from gcp_deploy_refs import key_refs
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

from synth.gcp_needs import KMS_MULTI_REGIONS, STORAGE_MULTI_REGIONS, STORAGE_TO_KMS
from synth.regions import GCP_REGIONS

KMS_LOCATIONS = frozenset(GCP_REGIONS) | KMS_MULTI_REGIONS
STORAGE_LOCATIONS = frozenset(r.upper() for r in GCP_REGIONS) | STORAGE_MULTI_REGIONS


def ring_location(stack: Stack, key: str) -> str | None:
    body = stack.graph.bodies.get(key, {})
    ring = address_of(body.get("key_ring"))
    return stack.graph.bodies.get(ring or "", {}).get("location")


class LocationsValid(GroundworkCheck):
    id = "CKV_GW_DEPLOY_40"
    name = "Every location is valid for its service and every CMEK key is where its data is"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = (
        "google_kms_key_ring",
        "google_storage_bucket",
        "google_sql_database_instance",
        "google_redis_instance",
        "google_artifact_registry_repository",
        "google_secret_manager_secret",
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        rtype = self._address[0]
        if rtype == "google_kms_key_ring":
            location = body.get("location")
            if location in KMS_LOCATIONS:
                return Verdict.passed(f"Cloud KMS location {location}")
            return Verdict.failed(f"{location!r} is not a Cloud KMS location")
        wanted: list[tuple[str, str]] = []  # (key address, location it must be in)
        verdicts = []
        if rtype == "google_storage_bucket":
            location = str(body.get("location", "")).upper()
            if location not in STORAGE_LOCATIONS:
                verdicts.append(Verdict.failed(f"{location!r} is not a Cloud Storage location"))
            kms = STORAGE_TO_KMS.get(location, location.lower())
            wanted = [(key, kms) for key in key_refs(body)]
        elif rtype == "google_secret_manager_secret":
            for replication in blocks(body, "replication"):
                for managed in blocks(replication, "user_managed"):
                    for replica in blocks(managed, "replicas"):
                        wanted += [(k, replica.get("location", "")) for k in key_refs(replica)]
        else:
            region = body.get("region") or body.get("location") or ""
            wanted = [(key, region) for key in key_refs(body)]
        for key, location in wanted:
            actual = ring_location(stack, key)
            if actual is None:
                verdicts.append(Verdict.unknown(f"{key}: its key ring's location is unknown"))
            elif actual != location:
                verdicts.append(Verdict.failed(f"{key} is in {actual}; the data is in {location}"))
            else:
                verdicts.append(Verdict.passed(f"{key} in {location}"))
        return combine(verdicts or [Verdict.passed("no customer-managed key")])


check = LocationsValid()
