"""Builds CKV_GW_DEPLOY_34: every PostgreSQL connection string the stack hands the app verifies
the server's certificate in a form the app's driver understands (DEPLOY-6, DB-3).

The app this stack runs is Node (`NODE_ENV` in its default environment), so its driver is
node-postgres, whose URL parser is
pg-connection-string:
- `sslmode` must verify (`verify-ca` or `verify-full`); weaker modes accept any server;
- `sslrootcert=system` FAILS: pg-connection-string reads `sslrootcert` as a file path and calls
  readFileSync on it, so the first connection throws "ENOENT: no such file or directory, open
  'system'" (brianc/node-postgres#3101, open; the maintainer notes there that verifying against
  the trusted roots is already node-postgres's default). `system` is a libpq 16+ value only
  (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-SSLROOTCERT);
- no `sslrootcert` passes against RDS Proxy: with `sslmode=verify-full` node-postgres verifies
  the chain and host name against Node's bundled roots (Mozilla's store, which holds Amazon
  Root CA 1-4), and the proxy presents an ACM certificate ("RDS Proxy uses certificates from
  AWS Certificate Manager (ACM)", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html#rds-proxy-security.tls).
  An RDS instance presents a certificate of the RDS CA (`rds-ca-*`), which no bundled or system
  store holds, so the same URL against an instance endpoint (`${aws_db_instance.*}`) passes
  only when every container that reads the secret adds that CA to Node's roots with
  `NODE_EXTRA_CA_CERTS` (https://nodejs.org/api/cli.html#node_extra_ca_certsfile); how the
  file gets there before the app starts is CKV_GW_DEPLOY_101's. A URL no container reads
  fails nobody. Any other host without a CA fails;
- any other `sslrootcert` is a file the image must contain, which the stack cannot see:
  UNKNOWN.
A libpq-based driver would need the opposite (a named CA, e.g. `sslrootcert=system` with libpq
16+); README "AWS" says so.
"""

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of

SCHEMES = ("postgresql://", "postgres://")
VERIFYING = ("verify-ca", "verify-full")
# The proxy's endpoint, by reference or as AWS names it (<name>.proxy-<id>.<region>.rds...).
PROXY_MARKERS = ("${aws_db_proxy.", "${aws_db_proxy_endpoint.", ".proxy-")
INSTANCE_MARKER = "${aws_db_instance."
EXTRA_CA = "NODE_EXTRA_CA_CERTS"


def readers_without_extra_ca(stack: Stack, secret: str | None) -> tuple[list[str], list[str]]:
    """(every, without `NODE_EXTRA_CA_CERTS`): the `<task>/<container>`s reading `secret`."""
    readers, missing = [], []
    for name, body in stack.resources("aws_ecs_task_definition").items():
        for container in json.loads(str(body.get("container_definitions") or "[]")):
            if not any(
                address_of(item.get("valueFrom")) == secret
                for item in container.get("secrets") or []
            ):
                continue
            where = f"{name}/{container.get('name')}"
            readers.append(where)
            if not any(e.get("name") == EXTRA_CA for e in container.get("environment") or []):
                missing.append(where)
    return readers, missing


def _host(url: str) -> str:
    """The text between `@` (or the scheme) and the port or path, references left whole."""
    rest = url.split("://", 1)[1]
    rest = rest.rsplit("@", 1)[-1]
    depth, out = 0, []
    for char in rest:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and char in ":/?":
            break
        out.append(char)
    return "".join(out)


def judge(url: str, stack: Stack | None = None, secret: str | None = None) -> Verdict:
    query = parse_qs(urlsplit(url.replace("${", "").replace("}", "")).query)
    mode = (query.get("sslmode") or ["prefer"])[-1]
    root = (query.get("sslrootcert") or [None])[-1]
    if mode not in VERIFYING:
        return Verdict.failed(f"sslmode={mode} does not verify the server's certificate")
    if root == "system":
        return Verdict.failed(
            "sslrootcert=system: node-postgres reads sslrootcert as a file path, so the first "
            "connection fails with ENOENT open 'system' (brianc/node-postgres#3101); drop it, "
            "verify-full already checks Node's trusted roots"
        )
    if root is not None:
        return Verdict.unknown(
            f"sslrootcert={root} is a file the image must hold; not visible here"
        )
    host = _host(url)
    if any(marker in host for marker in PROXY_MARKERS):
        return Verdict.passed(
            f"sslmode={mode}: Node's trusted roots verify RDS Proxy's ACM certificate"
        )
    if INSTANCE_MARKER in host and stack is not None:
        readers, missing = readers_without_extra_ca(stack, secret)
        if missing:
            return Verdict.failed(
                f"sslmode={mode} against the instance {host}: {', '.join(missing)} read it "
                f"without {EXTRA_CA}, and Node's trusted roots do not hold the RDS CA that signs "
                "the instance's certificate"
            )
        return Verdict.passed(
            f"sslmode={mode} against the instance {host}: its readers "
            f"({', '.join(readers) or 'none'}) add the RDS CA with {EXTRA_CA} "
            "(CKV_GW_DEPLOY_101 judges the file)"
        )
    return Verdict.failed(
        f"sslmode={mode} against {host} without a CA: an RDS instance's certificate is signed "
        "by the RDS CA, which Node's trusted roots do not hold"
    )


class DatabaseUrlTls(GroundworkCheck):
    id = "CKV_GW_DEPLOY_34"
    name = "Database connection strings verify TLS in a form the app's driver reads"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("aws_secretsmanager_secret_version",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        value = body.get("secret_string")
        if not isinstance(value, str) or not value.startswith(SCHEMES):
            return Verdict.passed("not a PostgreSQL connection string")
        return judge(value, stack, address_of(body.get("secret_id")))


check = DatabaseUrlTls()
