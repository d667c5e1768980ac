"""GCP waivers that several resources declare in the same words (synth/construct_waivers.py)."""

from __future__ import annotations

from typing import Any

from synth.config import EnvironmentConfig
from synth.construct_waivers import waive

OWNER = "platform-team"
EXPIRES = "2027-05-31"


def postgres_instance(instance: Any, config: EnvironmentConfig) -> None:
    """The Cloud SQL checks every PostgreSQL instance of ours (primary or replica) fails."""
    version = config.database.engine_version
    for check, reason in (
        (
            "CKV2_GCP_13",
            "Logging every statement's duration (log_duration) is a cost the project does not "
            "take; DB-8 slow-query logging (log_min_duration_statement) and Query Insights are "
            "on.",
        ),
        (
            "CKV_GCP_54",
            "Checkov 3.3.30 crashes on cdktf's database_flags shape; CKV_GW_DB_46 judges the "
            "same flag (log_lock_waits=on) on this resource.",
        ),
        (
            "CKV_GCP_57",
            "Checkov 3.3.30 crashes on cdktf's database_flags shape, and the CIS value it wants "
            "(-1, no slow-query logging) contradicts DB-8; CKV_GW_DB_46 judges "
            "log_min_duration_statement.",
        ),
        (
            "CKV_GCP_79",
            f"PostgreSQL {version} is the major version database.engine_version pins (DB-1 asks "
            "for 15 or later); major upgrades are planned releases, not a side effect of a scan.",
        ),
    ):
        waive(instance, check, reason=reason, owner=OWNER, expires=EXPIRES)


def plain_http_xml_api(bucket: Any) -> None:
    """OBJ-5's platform gap, declared on every bucket (CKV_GW_OBJ_44 fails each)."""
    waive(
        bucket,
        "CKV_GW_OBJ_44",
        reason="Cloud Storage's XML API endpoints accept plain HTTP as well as HTTPS "
        "(https://cloud.google.com/storage/docs/request-endpoints) and no bucket setting or IAM "
        "condition refuses HTTP. Mitigated: the app's client library and Terraform's GCS "
        "backend and provider use the HTTPS JSON API only, every request must carry an OAuth "
        "token of an identity IAM admits (uniform bucket-level access, no ACLs), and public "
        "access prevention is enforced, so no anonymous request is served over any protocol.",
        owner=OWNER,
        expires=EXPIRES,
    )
