"""Builds CKV_GW_DEPLOY_107: every PostgreSQL instance asks for a size its cloud's service
offers (DEPLOY-4), on every cloud.

The provider sends the size as written, so one the service does not offer (`db.t4g.hugeish`,
a Cloud SQL `db-n1-standard-2`, which PostgreSQL does not take, a General Purpose flexible
server with a B-series size) fails only at `terraform apply`, after the plan looked complete.
Judged: `aws_db_instance.instance_class`, `google_sql_database_instance.settings.tier`,
`azurerm_postgresql_flexible_server.sku_name`, by the rules of synth/skus.py (with their
sources), which the loader applies to `database.instance` too.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, is_reference

from synth.skus import database_instance_problem

# resource type -> (cloud, where its size is, read from the body)
SIZES = {
    "aws_db_instance": ("aws", "instance_class"),
    "google_sql_database_instance": ("gcp", "settings.tier"),
    "azurerm_postgresql_flexible_server": ("azure", "sku_name"),
}


def size_of(rtype: str, body: dict[str, Any]) -> Any:
    if rtype == "google_sql_database_instance":
        return next((s.get("tier") for s in blocks(body, "settings")), None)
    return body.get(SIZES[rtype][1])


class DatabaseSizeOffered(GroundworkCheck):
    id = "CKV_GW_DEPLOY_107"
    name = "Every PostgreSQL instance asks for a size its cloud's service offers"
    requirement = "DEPLOY-4"
    severity = "HIGH"
    resource_types = tuple(SIZES)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        rtype = self._address[0]
        cloud, attribute = SIZES[rtype]
        value = size_of(rtype, body)
        if value is None:
            return Verdict.failed(f"{attribute} is not set")
        if is_reference(value):
            return Verdict.unknown(f"{attribute} is an expression")
        problem = database_instance_problem(cloud, str(value))
        if problem:
            return Verdict.failed(f"{attribute} {value} {problem}")
        return Verdict.passed(f"{attribute} {value} is offered")


check = DatabaseSizeOffered()
