"""Builds CKV_GW_APP_44: Cloud Run runs as its own service account (not the default compute
one), and every grant to that account is one of the narrow roles the app needs, on its own
secrets, bucket or (conditioned) database (APP-5)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

# Grant resource type -> roles the app's identity may hold there.
ALLOWED = {
    "google_secret_manager_secret_iam_member": {"roles/secretmanager.secretAccessor"},
    "google_storage_bucket_iam_member": {"roles/storage.objectUser", "roles/storage.objectViewer"},
    # roles/cloudsql.instanceUser is not: it holds cloudsql.instances.executeSql (IAM-1,
    # CKV_GW_IAM_40); a custom role of these Cloud SQL permissions is.
    "google_project_iam_member": {"roles/cloudsql.client"},
}
CUSTOM_ALLOWED = {
    "google_project_iam_member": {
        "cloudsql.instances.connect",
        "cloudsql.instances.get",
        "cloudsql.instances.login",
    }
}


def allowed(kind: str, role: Any, stack: Stack) -> bool:
    if role in ALLOWED.get(kind, set()):
        return True
    custom = address_of(role)
    if not custom or not custom.startswith("google_project_iam_custom_role."):
        return False
    permissions = set(stack.graph.bodies.get(custom, {}).get("permissions") or [])
    return bool(permissions) and permissions <= CUSTOM_ALLOWED.get(kind, set())


ANY_GRANT = (
    *ALLOWED,
    "google_project_iam_binding",
    "google_storage_bucket_iam_binding",
    "google_secret_manager_secret_iam_binding",
    "google_kms_crypto_key_iam_member",
)


class AppIdentity(GroundworkCheck):
    id = "CKV_GW_APP_44"
    name = "Cloud Run runs as its own service account holding only the app's narrow grants"
    requirement = "APP-5"
    severity = "HIGH"
    resource_types = ("google_cloud_run_v2_service",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        template = body.get("template") or {}
        account = address_of(template.get("service_account"))
        if not account or not account.startswith("google_service_account."):
            return Verdict.failed(
                f"service_account is {template.get('service_account')!r}, not the app's own"
            )
        verdicts = []
        grants = 0
        for kind in ANY_GRANT:
            for name, grant in stack.resources(kind).items():
                members = grant.get("members") or [grant.get("member")]
                if not any(account in str(m) for m in members):
                    continue
                grants += 1
                role = grant.get("role")
                if not allowed(kind, role, stack):
                    verdicts.append(Verdict.failed(f"{kind}.{name} grants {role}"))
                elif kind == "google_project_iam_member" and not grant.get("condition"):
                    verdicts.append(Verdict.failed(f"{kind}.{name}: project-wide {role}"))
        return combine(verdicts or [Verdict.passed(f"own identity {account}, {grants} grants")])


check = AppIdentity()
