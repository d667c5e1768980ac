"""Which database instance sizes each cloud's PostgreSQL service accepts (DEPLOY-4).

`database.instance.<cloud>` goes into the stack as written (`aws_db_instance.instance_class`,
`google_sql_database_instance.settings.tier`, `azurerm_postgresql_flexible_server.sku_name`),
and the provider sends any string: a size the service does not offer fails only at `terraform
apply` (newcomer run: `db.t4g.hugeish` passed the loader and the gate). The loader
(synth/config.py) and CKV_GW_DEPLOY_107 judge the same rules, from here:

- AWS RDS: `db.<instance class family>.<size>`, the size one RDS names: micro, small, medium,
  large, xlarge, <n>xlarge, or metal ("DB instance class types",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Types.html).
  Which families a region and engine version offer is not judged here.
- Cloud SQL for PostgreSQL: only shared-core (`db-f1-micro`, `db-g1-small`) and custom
  `db-custom-<vCPUs>-<MB>` tiers ("Postgres supports only shared-core machine types, and
  custom machine types", the provider's `google_sql_database_instance` `tier`); a custom tier
  has 1 or an even number of vCPUs up to 96, and 0.9 to 6.5 GB of memory per vCPU, a multiple
  of 256 MB and at least 3,840 MB (https://cloud.google.com/sql/docs/postgres/create-instance,
  "Machine types"). Enterprise Plus's `db-perf-optimized-*` tiers are not offered: the stacks
  run the Enterprise edition.
- Azure Database for PostgreSQL flexible server: `<tier>_<VM size>`, Burstable (`B_`) with a
  B-series size, General Purpose (`GP_`) with a D-series and Memory Optimized (`MO_`) with an
  E-series one (azurerm `sku_name`: "follows the tier + name pattern (e.g. B_Standard_B1ms,
  GP_Standard_D2s_v3, MO_Standard_E4s_v3)"; tiers and series:
  https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-compute).
"""

from __future__ import annotations

import re

AWS_SIZE = r"(micro|small|medium|large|xlarge|[0-9]+xlarge|metal(-[0-9]+xl)?)"
AWS_INSTANCE = re.compile(rf"db\.[a-z][a-z0-9-]*\.{AWS_SIZE}")
GCP_SHARED_CORE = ("db-f1-micro", "db-g1-small")
GCP_CUSTOM = re.compile(r"db-custom-([0-9]+)-([0-9]+)")
GCP_MAX_VCPUS = 96
GCP_MIN_MB = 3840
GCP_MB_STEP = 256
GCP_MB_PER_VCPU = (0.9 * 1024, 6.5 * 1024)
# tier prefix -> (tier's name, the VM series letter its sizes start with)
AZURE_TIERS = {
    "B": ("Burstable", "B"),
    "GP": ("General Purpose", "D"),
    "MO": ("Memory Optimized", "E"),
}
AZURE_SKU = re.compile(r"(B|GP|MO)_Standard_([A-Z])[0-9]+[a-z]*(_v[0-9]+)?")


def database_instance_problem(cloud: str, value: str) -> str | None:
    """Why `value` is not a database size the cloud's PostgreSQL service offers, or None.

    `cloud`: aws, gcp or azure. Returns text that completes "<value> ...", for example
    "is not db.<family>.<size> ..."."""
    if cloud == "aws":
        if AWS_INSTANCE.fullmatch(value):
            return None
        return (
            "is not an RDS instance class, db.<family>.<size> with a size of micro, small, "
            "medium, large, xlarge, <n>xlarge or metal (for example db.t4g.medium)"
        )
    if cloud == "gcp":
        return _cloud_sql_problem(value)
    if cloud == "azure":
        return _flexible_server_problem(value)
    raise ValueError(f"unknown cloud {cloud!r}")


def _cloud_sql_problem(value: str) -> str | None:
    if value in GCP_SHARED_CORE:
        return None
    custom = GCP_CUSTOM.fullmatch(value)
    if custom is None:
        return (
            "is not a Cloud SQL for PostgreSQL tier: db-f1-micro, db-g1-small or "
            "db-custom-<vCPUs>-<MB> (for example db-custom-2-7680)"
        )
    vcpus, mb = int(custom.group(1)), int(custom.group(2))
    if not (vcpus == 1 or (vcpus % 2 == 0 and 2 <= vcpus <= GCP_MAX_VCPUS)):
        return f"has {vcpus} vCPUs: a custom tier takes 1 or an even number up to {GCP_MAX_VCPUS}"
    low, high = GCP_MB_PER_VCPU
    if mb % GCP_MB_STEP or mb < GCP_MIN_MB or not low * vcpus <= mb <= high * vcpus:
        return (
            f"has {mb} MB: a custom tier's memory is a multiple of {GCP_MB_STEP} MB, at least "
            f"{GCP_MIN_MB} MB, and 0.9 to 6.5 GB per vCPU ({round(low * vcpus)} to "
            f"{round(high * vcpus)} MB for {vcpus})"
        )
    return None


def _flexible_server_problem(value: str) -> str | None:
    sku = AZURE_SKU.fullmatch(value)
    if sku is None:
        return (
            "is not a flexible server SKU, <tier>_Standard_<size> with a tier of B, GP or MO "
            "(for example GP_Standard_D2ds_v5)"
        )
    tier, series = AZURE_TIERS[sku.group(1)]
    if sku.group(2) != series:
        return f"names a {sku.group(2)}-series size; the {tier} tier offers {series}-series sizes"
    return None
