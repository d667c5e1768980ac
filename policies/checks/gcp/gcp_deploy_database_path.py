"""Builds CKV_GW_DEPLOY_45: the app has one working path to PostgreSQL and a role able to
migrate (DEPLOY-6).

- `ssl_mode = TRUSTED_CLIENT_CERTIFICATE_REQUIRED` admits only the Cloud SQL connectors,
  which reach the server on 3307 (https://cloud.google.com/sql/docs/postgres/sql-proxy,
  "the proxy uses port 3307"); any other mode is a direct connection on 5432. The VPC must
  allow app egress on exactly that port, and with the connector path a Cloud SQL Auth Proxy
  container must serve this instance to the app.
- An IAM database user starts with no privileges, and since PostgreSQL 15 `public` takes
  CREATE only from the database owner (https://www.postgresql.org/docs/15/release-15.html),
  so each IAM user on the instance needs a roles step (`gcloud sql users assign-roles`)
  that depends on it.
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

CONNECTOR_PORT = "3307"
DIRECT_PORT = "5432"


def egress_ports(stack: Stack) -> set[str]:
    ports: set[str] = set()
    for body in stack.graph.of_type("google_compute_firewall").values():
        if body.get("direction") != "EGRESS":
            continue
        for allow in blocks(body, "allow"):
            ports.update(str(p) for p in allow.get("ports") or [])
    return ports


class DatabasePathWorks(GroundworkCheck):
    id = "CKV_GW_DEPLOY_45"
    name = "The app reaches PostgreSQL on the port its TLS mode uses, with a role to migrate"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("google_sql_database_instance",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if body.get("master_instance_name"):
            return Verdict.passed("a read replica: the app writes through the primary")
        ssl = [
            ip.get("ssl_mode")
            for s in blocks(body, "settings")
            for ip in blocks(s, "ip_configuration")
        ]
        connector = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED" in ssl
        port = CONNECTOR_PORT if connector else DIRECT_PORT
        verdicts = []
        if port in egress_ports(stack):
            verdicts.append(Verdict.passed(f"egress to {port} is allowed"))
        else:
            verdicts.append(Verdict.failed(f"the firewall allows no egress to {port}"))
        if connector:
            proxies = [
                c
                for b in stack.graph.of_type("google_cloud_run_v2_service").values()
                for t in blocks(b, "template")
                for c in blocks(t, "containers")
                if "cloud-sql-proxy" in str(c.get("image"))
                and f"{self.address}.connection_name" in str(c.get("args"))
            ]
            if proxies:
                verdicts.append(Verdict.passed("a Cloud SQL Auth Proxy serves it to the app"))
            else:
                verdicts.append(
                    Verdict.failed("client certificates required but no connector serves it")
                )
        steps = stack.graph.of_type("terraform_data")
        for user, ubody in stack.graph.of_type("google_sql_user").items():
            if address_of(ubody.get("instance")) != self.address:
                continue
            if not str(ubody.get("type", "")).startswith("CLOUD_IAM"):
                continue
            granted = any(
                "assign-roles" in ((b.get("input") or {}).get("gcloud") or [])
                and stack.graph.needs(a, user)
                for a, b in steps.items()
            )
            verdicts.append(
                Verdict.passed(f"{user} is given database roles")
                if granted
                else Verdict.failed(f"{user} has no privileges: nothing assigns it roles")
            )
        return combine(verdicts)


check = DatabasePathWorks()
