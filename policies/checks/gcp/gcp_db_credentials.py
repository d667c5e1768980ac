"""Builds CKV_GW_DB_47: the database holds no password credential (DB-9): Cloud SQL has IAM
database authentication on, and every database user is an IAM user without a password, so
nothing secret needs to sit in Terraform or the app's configuration."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks

IAM_TYPES = {"CLOUD_IAM_SERVICE_ACCOUNT", "CLOUD_IAM_USER", "CLOUD_IAM_GROUP"}


class DbCredentials(GroundworkCheck):
    id = "CKV_GW_DB_47"
    name = "Cloud SQL uses IAM authentication and no database user has a password"
    requirement = "DB-9"
    severity = "HIGH"
    resource_types = ("google_sql_database_instance", "google_sql_user")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "google_sql_user":
            if body.get("password") or body.get("password_wo"):
                return Verdict.failed("the user has a password in the configuration")
            if body.get("type") not in IAM_TYPES:
                return Verdict.failed(f"user type {body.get('type', 'BUILT_IN')} is not IAM")
            return Verdict.passed(f"{body.get('type')} user")
        flags = {
            f.get("name"): f.get("value")
            for f in blocks(body.get("settings") or {}, "database_flags")
        }
        if flags.get("cloudsql.iam_authentication") != "on":
            return Verdict.failed("cloudsql.iam_authentication is not on")
        if body.get("root_password") or body.get("root_password_wo"):
            return Verdict.failed("root_password is set in the configuration")
        return Verdict.passed("IAM database authentication")


check = DbCredentials()
