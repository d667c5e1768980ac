"""Builds CKV_GW_DEPLOY_52: a Cloud SQL for PostgreSQL instance sets no `replica_configuration`
(DEPLOY-4).

Every field of the block belongs to another engine: the MySQL external-primary settings
(`username`, `password`, certificates, `dump_file_path`, `connect_retry_interval`, ...),
`failover_target` ("Not supported for Postgres database", provider 6.50 docs of
`google_sql_database_instance`; legacy MySQL failover replicas, terraform-provider-google
#1773, #20975) and `cascadable_replica` (SQL Server only,
https://cloud.google.com/sql/docs/mysql/admin-api/rest/v1/instances#replicaconfiguration).
A PostgreSQL read replica needs only `master_instance_name`.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks


class PostgresHasNoReplicaConfiguration(GroundworkCheck):
    id = "CKV_GW_DEPLOY_52"
    name = "Cloud SQL for PostgreSQL instances set no replica_configuration (other engines')"
    requirement = "DEPLOY-4"
    severity = "MEDIUM"
    resource_types = ("google_sql_database_instance",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        version = str(body.get("database_version", ""))
        if not version.startswith("POSTGRES"):
            return Verdict.passed(f"{version or 'no engine'}: not PostgreSQL")
        fields = sorted({k for block in blocks(body, "replica_configuration") for k in block})
        if fields:
            return Verdict.failed(
                f"replica_configuration sets {', '.join(fields)}, which {version} does not "
                "support (MySQL / SQL Server fields)"
            )
        return Verdict.passed("no replica_configuration: a replica needs only its master")


check = PostgresHasNoReplicaConfiguration()
