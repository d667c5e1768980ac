"""Builds CKV_GW_DEPLOY_45: the app has one working path to PostgreSQL and a role able to
migrate (DEPLOY-6).

- `ssl_mode = TRUSTED_CLIENT_CERTIFICATE_REQUIRED` admits only the Cloud SQL connectors,
  which reach the server on 3307 (https://cloud.google.com/sql/docs/postgres/sql-proxy,
  "the proxy uses port 3307"); any other mode is a direct connection on 5432. The VPC must
  allow app egress on exactly that port, and with the connector path a Cloud SQL Auth Proxy
  container must serve this instance to the app.
- The proxy container the app waits for has a startup probe that means "ready" and that
  the platform can reach: `--health-check` with `--http-address` off loopback and an HTTP
  probe on `/startup` at `--http-port` (the health server binds localhost by default,
  GoogleCloudPlatform/cloud-sql-proxy examples/k8s-health-check/README.md; a TCP probe on
  the database port, bound to 127.0.0.1, proves nothing).
- Where the service's CPU is throttled between requests (`cpu_idle` true, or unset, which
  Cloud Run treats as request-based allocation: https://cloud.google.com/run/docs/
  configuring/billing-settings), the proxy runs with `--lazy-refresh`: its default
  background refresh of certificate and IAM token is starved and connections fail
  intermittently (GoogleCloudPlatform/cloud-sql-proxy#2183, `--lazy-refresh` since 2.11.0,
  #2184).
- An IAM database user starts with no privileges (https://cloud.google.com/sql/docs/
  postgres/add-manage-iam-users), and since PostgreSQL 15 `public` takes CREATE only from
  its owner `pg_database_owner` (https://www.postgresql.org/docs/15/release-15.html), so
  each IAM user on the instance needs a step that depends on it and grants CREATE on its
  database and on `public` (`gcloud sql instances execute-sql`) or assigns it roles.
- IAM-1 / DEPLOY-6 "its own role, not the master user": no step may give an IAM user an
  admin role (`cloudsqlsuperuser`, which can create extensions, event triggers and
  replication users, https://cloud.google.com/sql/docs/postgres/users; Cloud SQL's own
  roles; the server-file roles), neither through `--database-roles` nor in SQL. And since
  an IAM user created through the Cloud SQL API may already be a member of
  `cloudsqlsuperuser` (provider 6.50's `google_sql_user` cannot send `database_roles`), the
  step that lets the app migrate also runs `gcloud sql users assign-roles <user>
  --revoke-existing-roles` (no admin `--database-roles`; https://cloud.google.com/sdk/gcloud/
  reference/sql/users/assign-roles) and after it checks `pg_has_role(<user>,
  'cloudsqlsuperuser', 'MEMBER')`, failing otherwise. An SQL `REVOKE <role> FROM` fails
  instead: from PostgreSQL 16 it needs ADMIN OPTION on the role
  (https://www.postgresql.org/docs/16/release-16.html), which the deployer's
  `cloudsqlsuperuser` membership need not carry, so under `set -e` the step stops there.
- `gcloud sql instances execute-sql` exits 0 when its SQL fails: the database's error is in
  the response's `status` (https://cloud.google.com/sql/docs/postgres/admin-api/rest/
  v1beta4/instances/executeSql), which the command returns without reading (googlecloudsdk
  surface/sql/instances/execute_sql.py). So a step that grants through it must afterwards
  query `has_database_privilege(<user>, ..., 'CREATE')` and `has_schema_privilege(<user>,
  'public', 'CREATE')`, or the apply succeeds with an app that cannot migrate.
- A step that opens the instance's Data API (`--data-api-access=ALLOW_DATA_API`, which for a
  private-IP instance admits IAM-authenticated SQL from the internet: https://cloud.google.
  com/sql/docs/postgres/executesql-instance) closes it again and then reads
  `settings.dataApiAccess` back, so a close that failed fails the step (an EXIT trap's
  failure does not).
"""

import re
import shlex
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

CONNECTOR_PORT = "3307"
DIRECT_PORT = "5432"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ADMIN_ROLES = (
    "cloudsqlsuperuser",
    "cloudsqladmin",
    "cloudsqlreplica",
    "postgres",
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
)


def flag(args: list[str], name: str) -> str | None:
    return next((a.split("=", 1)[1] for a in args if a.startswith(f"{name}=")), None)


def proxy_probe(container: dict[str, Any]) -> Verdict:
    """The proxy's startup probe is its `/startup` endpoint, reachable by the prober."""
    args = [str(a) for a in container.get("args") or []]
    probe = next(iter(blocks(container, "startup_probe")), {})
    http = next(iter(blocks(probe, "http_get")), {})
    if "--health-check" not in args:
        return Verdict.failed("the proxy runs without --health-check: nothing says it is ready")
    if (flag(args, "--http-address") or "localhost") in LOOPBACK:
        return Verdict.failed("the proxy's health server listens on loopback only")
    port = flag(args, "--http-port") or "9090"
    if http.get("path") != "/startup" or str(http.get("port")) != port:
        return Verdict.failed(f"the proxy's startup probe is not GET /startup on {port}")
    return Verdict.passed("the app waits for the proxy's /startup probe")


def cpu_throttled(service: dict[str, Any]) -> bool:
    """Any container of the service gets CPU only during requests (Cloud Run allocates CPU
    per instance, so one container's `cpu_idle` is the instance's)."""
    return any(
        r.get("cpu_idle") is not False and str(r.get("cpu_idle")).lower() != "false"
        for t in blocks(service, "template")
        for c in blocks(t, "containers")
        for r in (blocks(c, "resources") or [{}])
    )


def proxy_refresh(container: dict[str, Any], service: dict[str, Any]) -> Verdict:
    """A proxy whose CPU is throttled between requests refreshes lazily."""
    args = [str(a) for a in container.get("args") or []]
    if not cpu_throttled(service):
        return Verdict.passed("the proxy's CPU is always allocated")
    if "--lazy-refresh" in args:
        return Verdict.passed("CPU is throttled between requests and the proxy refreshes lazily")
    return Verdict.failed(
        "CPU is throttled between requests (cpu_idle) but the proxy refreshes in the "
        "background: add --lazy-refresh (cloud-sql-proxy#2183)"
    )


def grants_admin(values: list[str]) -> str | None:
    """The admin role a step's arguments give away, if any."""
    for value in values:
        roles = flag([value], "--database-roles")
        if roles is not None:
            found = [r for r in roles.split(",") if r.strip().lower() in ADMIN_ROLES]
            if found:
                return found[0]
        for role in ADMIN_ROLES:
            if re.search(rf"\bGRANT\s+\"?{role}\"?\s+TO\b", value, re.IGNORECASE):
                return role
        if re.search(r"\b(SUPERUSER|CREATEROLE|BYPASSRLS)\b", value, re.IGNORECASE):
            return "a role attribute"
    return None


def may_migrate(values: list[str], user: str) -> bool:
    """CREATE on the database and on `public` for `user`, or roles assigned to it."""
    if "assign-roles" in values:
        return True
    sql = flag(values, "--sql") or ""
    who = f'TO "{user}"'
    database = re.search(rf"GRANT [^;]*\bCREATE\b[^;]* ON DATABASE [^;]*{re.escape(who)}", sql)
    schema = re.search(rf"GRANT [^;]*\bCREATE\b[^;]* ON SCHEMA public {re.escape(who)}", sql)
    return bool(database and schema)


def step_command(body: dict[str, Any]) -> list[str]:
    """The words of a step's local-exec command (shell quoting undone); [] if none."""
    for provisioner in blocks(body, "provisioner"):
        for local in blocks(provisioner, "local-exec"):
            lexer = shlex.shlex(str(local.get("command", "")), posix=True, punctuation_chars=True)
            lexer.whitespace_split = True  # `;`, `(`, `)` still end a word
            try:
                return list(lexer)
            except ValueError:
                return [str(local.get("command", ""))]
    return []


COMMAND_ENDS = (";", "&&", "||", "|", "(", ")")


def literal_pattern(user: str) -> str:
    """A regex matching `user` as an SQL string literal (`'app@p.iam'`, quotes doubled)."""
    return re.escape("'" + user.replace("'", "''") + "'")


def revokes_admin(values: list[str], words: list[str], user: str) -> str | None:
    """What is missing for the step to take `cloudsqlsuperuser` from `user` and prove it."""
    sql = " ".join([flag(values, "--sql") or "", *words])
    if re.search(r"\bREVOKE\s+(ADMIN\s+OPTION\s+FOR\s+)?\"?cloudsqlsuperuser\b", sql, re.I):
        return (
            "revokes cloudsqlsuperuser in SQL, which from PostgreSQL 16 needs ADMIN OPTION the "
            "deployer may lack (use gcloud sql users assign-roles --revoke-existing-roles)"
        )
    revoked = None
    for i, word in enumerate(words[:-1]):
        if word != "assign-roles" or words[i + 1] != user:
            continue
        command = []
        for w in words[i + 2 :]:
            if w in COMMAND_ENDS:
                break
            command.append(w)
        if "--revoke-existing-roles" in command and not grants_admin(command):
            revoked = i
    if revoked is None:
        return "does not revoke its roles (assign-roles --revoke-existing-roles)"
    literal = literal_pattern(user)
    check = rf"pg_has_role\(\s*{literal}\s*,\s*'cloudsqlsuperuser'\s*,\s*'MEMBER'\s*\)"
    if not any(re.search(check, w, re.I) for w in words[revoked:]):
        return "does not check afterwards that it is no longer a member of cloudsqlsuperuser"
    return None


def proves_grants(values: list[str], words: list[str], user: str) -> str | None:
    """What is missing for a step that grants `user` CREATE in SQL to prove the grants ran
    (None when it grants through roles, or checks both privileges after the grant)."""
    if "assign-roles" in values:
        return None
    literal = literal_pattern(user)
    grant = next((i for i, w in enumerate(words) if re.search(r"\bGRANT\b", w)), None)
    after = words[grant + 1 :] if grant is not None else []
    # The database the GRANT names, so the check asks about that one.
    named = re.search(r"\bON\s+DATABASE\s+\"?([\w-]+)", flag(values, "--sql") or "", re.I)
    database = re.escape(named.group(1)) if named else "[^']+"
    checks = (
        rf"has_database_privilege\(\s*{literal}\s*,\s*'{database}'\s*,\s*'CREATE'\s*\)",
        rf"has_schema_privilege\(\s*{literal}\s*,\s*'public'\s*,\s*'CREATE'\s*\)",
    )
    if all(any(re.search(c, w, re.I) for w in after) for c in checks):
        return None
    return (
        "does not check afterwards that the grants took effect (has_database_privilege and "
        "has_schema_privilege ... 'CREATE'): execute-sql exits 0 when its SQL fails"
    )


# The API's Settings.DataApiAccess values; gcloud refuses any other (https://cloud.google.com/
# python/docs/reference/google-cloud-sql/latest/google.cloud.sqladmin_v1.types.Settings.
# DataApiAccess). Stated here, not read from the construct, so a wrong value there fails.
DATA_API_ACCESS = ("ALLOW_DATA_API", "DISALLOW_DATA_API")


def closes_data_api(words: list[str]) -> Verdict | None:
    """A step that opens the Data API closes it, with a value the API accepts, and reads the
    setting back afterwards."""
    flag = "--data-api-access="
    values = {w[len(flag) :].split("'")[0] for w in words if w.startswith(flag)}
    unknown = sorted(values - set(DATA_API_ACCESS))
    if unknown:
        return Verdict.failed(
            f"--data-api-access={', '.join(unknown)} is not a value the API accepts "
            f"({', '.join(DATA_API_ACCESS)}): gcloud refuses it and the step fails"
        )
    opens = [i for i, w in enumerate(words) if w == f"{flag}ALLOW_DATA_API"]
    if not opens:
        return None
    closes = [i for i, w in enumerate(words) if w.startswith(f"{flag}DISALLOW_DATA_API")]
    last_close = max(closes, default=-1)
    if last_close < max(opens):
        return Verdict.failed(
            "the step opens the Data API and does not close it outside an EXIT trap"
        )
    if not any("settings.dataApiAccess" in w for w in words[last_close + 1 :]):
        return Verdict.failed(
            "the step closes the Data API without reading settings.dataApiAccess back: a "
            "failed close leaves it open and the step still succeeds"
        )
    return Verdict.passed("the step closes the Data API and checks it is closed")


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
    name = (
        "The app reaches PostgreSQL on the port its TLS mode uses, with a role to migrate "
        "and no admin role; the Data API ends closed"
    )
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
                (c, b)
                for b in stack.graph.of_type("google_cloud_run_v2_service").values()
                for t in blocks(b, "template")
                for c in blocks(t, "containers")
                if "cloud-sql-proxy" in str(c.get("image"))
                and f"{self.address}.connection_name" in str(c.get("args"))
            ]
            if proxies:
                verdicts.append(Verdict.passed("a Cloud SQL Auth Proxy serves it to the app"))
                verdicts.extend(proxy_probe(c) for c, _ in proxies)
                verdicts.extend(proxy_refresh(c, b) for c, b in proxies)
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
            name = str(ubody.get("name"))
            own = [
                ([str(v) for v in (b.get("input") or {}).get("gcloud") or []], step_command(b))
                for a, b in steps.items()
                if stack.graph.needs(a, user)
            ]
            admin = next((r for values, _ in own if (r := grants_admin(values))), None)
            migrating = [(values, words) for values, words in own if may_migrate(values, name)]
            if admin:
                verdicts.append(Verdict.failed(f"{user} is given {admin}, an admin role"))
            elif not migrating:
                verdicts.append(
                    Verdict.failed(f"{user} has no privileges: nothing lets it run migrations")
                )
            elif missing := next(
                (
                    m
                    for values, words in migrating
                    if (
                        m := revokes_admin(values, words, name)
                        or proves_grants(values, words, name)
                    )
                ),
                None,
            ):
                verdicts.append(Verdict.failed(f"{user}: the step that grants it {missing}"))
            else:
                verdicts.append(
                    Verdict.passed(f"{user} may create in its database and schema, as no admin")
                )
            verdicts.extend(v for _, words in own if (v := closes_data_api(words)))
        return combine(verdicts)


check = DatabasePathWorks()
