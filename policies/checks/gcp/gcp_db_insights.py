"""Builds CKV_GW_DB_46: Cloud SQL logs slow queries (`log_min_duration_statement` >= 0) and lock
waits (`log_lock_waits = on`), and has Query Insights on (DB-8); connection logging is proven
by the built-in CKV_GCP_52/53. Checkov 3.3.30's CKV_GCP_54 (log_lock_waits) and CKV_GCP_57
(log_min_duration_statement) crash on cdktf's `database_flags` shape, so this policy judges
both flags (CKV_GCP_57's CIS value -1 would turn DB-8's slow-query log off).

A primary with `cloudsql.enable_pgaudit` on logs nothing through pgAudit until
`CREATE EXTENSION pgaudit` has run in its database (https://cloud.google.com/sql/docs/
postgres/pg-audit: flag, extension, then `pgaudit.log`), so a gcloud step that depends on the
instance runs it (a replica receives the extension from its primary)."""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine


class DbInsights(GroundworkCheck):
    id = "CKV_GW_DB_46"
    name = "Cloud SQL logs slow queries and lock waits and has Query Insights on"
    requirement = "DB-8"
    severity = "MEDIUM"
    resource_types = ("google_sql_database_instance",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        settings = body.get("settings") or {}
        flags = {f.get("name"): f.get("value") for f in blocks(settings, "database_flags")}
        verdicts = []
        slow = flags.get("log_min_duration_statement")
        try:
            if slow is None or int(slow) < 0:
                verdicts.append(Verdict.failed(f"log_min_duration_statement is {slow!r}"))
        except ValueError:
            verdicts.append(Verdict.failed(f"log_min_duration_statement is {slow!r}"))
        if flags.get("log_lock_waits") != "on":
            verdicts.append(Verdict.failed(f"log_lock_waits is {flags.get('log_lock_waits')!r}"))
        if flags.get("cloudsql.enable_pgaudit") == "on" and not body.get("master_instance_name"):
            creates = [
                a
                for a, b in stack.graph.of_type("terraform_data").items()
                if stack.graph.needs(a, self.address)
                and any(
                    re.search(r"CREATE EXTENSION (IF NOT EXISTS )?\"?pgaudit\b", str(v), re.I)
                    for v in (b.get("input") or {}).get("gcloud") or []
                )
            ]
            if not creates:
                verdicts.append(
                    Verdict.failed("pgAudit is enabled but no step creates the pgaudit extension")
                )
        insights = (blocks(settings, "insights_config") or [{}])[0]
        if insights.get("query_insights_enabled") is not True:
            verdicts.append(Verdict.failed("Query Insights is off"))
        return combine(
            verdicts or [Verdict.passed(f"slow queries over {slow} ms, lock waits, insights on")]
        )


check = DbInsights()
