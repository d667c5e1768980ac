"""Builds CKV_GW_OBJ_42: production buckets are geo-redundant: a dual-region placement over the
environment's region and `gcp.replica_region` (OBJ-4). Other tiers pass."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks

GEO_TIERS = frozenset({"production"})


class BucketGeoRedundancy(GroundworkCheck):
    id = "CKV_GW_OBJ_42"
    name = "Production bucket is dual-region over the region and the replica region"
    requirement = "OBJ-4"
    severity = "HIGH"
    resource_types = ("google_storage_bucket",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        if stack.tier not in GEO_TIERS:
            return Verdict.passed(f"{stack.tier}: geo-redundancy is a production requirement")
        gcp = stack.config.gcp
        wanted = {gcp.region.upper(), gcp.replica_region.upper()}
        placement = (blocks(body, "custom_placement_config") or [{}])[0]
        locations = {str(x).upper() for x in placement.get("data_locations") or []}
        if locations != wanted:
            return Verdict.failed(
                f"placed in {sorted(locations)} ({body.get('location')}); want {sorted(wanted)}"
            )
        return Verdict.passed(f"dual-region {sorted(wanted)}")


check = BucketGeoRedundancy()
