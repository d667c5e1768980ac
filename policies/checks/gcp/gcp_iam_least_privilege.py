"""Builds CKV_GW_IAM_40: the stack's own service accounts hold no role broader than their job,
and every custom role is narrow (IAM-1).

- `roles/cloudsql.instanceUser` holds `cloudsql.instances.executeSql`, the Cloud SQL Data
  API, which runs SQL as the account from outside the VPC (https://cloud.google.com/sql/docs/
  postgres/executesql-instance); an app that logs in through the Cloud SQL Auth Proxy needs
  only `cloudsql.instances.connect`, `get` and `login` (https://cloud.google.com/sql/docs/
  postgres/iam-roles).
- `roles/run.developer` and `roles/run.admin` include `run.services.delete`; rolling a
  service to a new revision needs `run.services.get` and `run.services.update`
  (https://cloud.google.com/run/docs/reference/iam/permissions).
- A custom role holds no wildcard, no delete, no IAM-policy write and no Data API.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict

# Predefined roles a workload identity of this stack never holds, and why.
TOO_BROAD = {
    "roles/owner": "owns the project",
    "roles/editor": "edits every resource",
    "roles/cloudsql.admin": "administers Cloud SQL",
    "roles/cloudsql.editor": "edits Cloud SQL instances",
    "roles/cloudsql.instanceUser": "includes cloudsql.instances.executeSql (the Data API)",
    "roles/run.admin": "administers Cloud Run, delete and IAM included",
    "roles/run.developer": "includes run.services.delete",
}
NEVER_IN_CUSTOM = (".delete", ".setIamPolicy", "executeSql", "*")


class LeastPrivilege(GroundworkCheck):
    id = "CKV_GW_IAM_40"
    name = "Workload service accounts hold narrow roles; custom roles hold no delete or Data API"
    requirement = "IAM-1"
    severity = "HIGH"
    resource_types = (
        "google_project_iam_member",
        "google_cloud_run_v2_service_iam_member",
        "google_cloud_run_v2_job_iam_member",
        "google_project_iam_custom_role",
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self.address.startswith("google_project_iam_custom_role."):
            permissions = [str(p) for p in body.get("permissions") or []]
            wide = [p for p in permissions if any(w in p for w in NEVER_IN_CUSTOM)]
            if wide:
                return Verdict.failed(f"custom role holds {', '.join(sorted(wide))}")
            return Verdict.passed(f"custom role of {len(permissions)} narrow permissions")
        member = str(body.get("member", ""))
        if "${google_service_account." not in member:
            return Verdict.passed("not one of this stack's workload service accounts")
        role = str(body.get("role"))
        if role in TOO_BROAD:
            return Verdict.failed(f"{role} {TOO_BROAD[role]}")
        return Verdict.passed(f"{role} is within the account's job")


check = LeastPrivilege()
