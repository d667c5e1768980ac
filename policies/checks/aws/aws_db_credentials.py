"""Builds CKV_GW_DB_5: the RDS master password lives in Secrets Manager, never in the
configuration or the state (DB-9).

A primary passes with `manage_master_user_password = true` (RDS keeps it), or with the
write-only `password_wo` taken from an ephemeral generator whose same value is written,
write-only, to a Secrets Manager secret version of this stack (`secret_string_wo`). A literal
`password`, a `password_wo` from anything but an ephemeral resource, or a secret version that
names the generator only inside an escaped `$${...}` (a literal, not the value), fails. Read
replicas inherit the primary's credentials.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, escaped_references

EPHEMERAL = re.compile(r"\$\{[^}]*\b(ephemeral\.[A-Za-z0-9_]+\.[A-Za-z0-9_-]+)\.")


class DbManagedPassword(GroundworkCheck):
    id = "CKV_GW_DB_5"
    name = "RDS master password lives in Secrets Manager, never in configuration or state"
    requirement = "DB-9"
    severity = "CRITICAL"
    resource_types = ("aws_db_instance",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("replicate_source_db"):
            return Verdict.passed("read replica")
        if body.get("password") is not None:
            return Verdict.failed("password is set in the configuration")
        if body.get("manage_master_user_password") is True:
            return Verdict.passed("master password managed by Secrets Manager")
        write_only = body.get("password_wo")
        if write_only is None:
            return Verdict.failed("neither manage_master_user_password nor password_wo is set")
        match = EPHEMERAL.search(str(write_only))
        if not match:
            return Verdict.failed(f"password_wo is {write_only}, not an ephemeral value")
        generator = match.group(1)
        stored = [
            name
            for name, version in stack.resources("aws_secretsmanager_secret_version").items()
            if generator in str(version.get("secret_string_wo", ""))
            # "$${ephemeral....}" is the text, not the password (CKV_GW_DEPLOY_3).
            and not any(
                ref.startswith(generator) for ref in escaped_references(version["secret_string_wo"])
            )
        ]
        if not stored:
            return Verdict.failed(f"{generator} is written to no Secrets Manager secret version")
        return Verdict.passed(f"write-only password from {generator}, kept in {stored[0]}")


check = DbManagedPassword()
