"""Builds CKV_GW_DEPLOY_34: every PostgreSQL connection string the stack hands the app verifies
the server's certificate against a CA the app's runtime has (DEPLOY-6, DB-3).

libpq's `sslmode=verify-ca|verify-full` reads its trusted roots from `sslrootcert`, by default
`~/.postgresql/root.crt`; a container without that file fails to connect ("root certificate
file ... does not exist", https://www.postgresql.org/docs/current/libpq-ssl.html). So:
- `sslmode` must verify (`verify-ca` or `verify-full`); weaker modes accept any server;
- `sslrootcert` must be named; `system` (libpq 16+: the TLS library's trusted roots, and it
  forces verify-full) verifies only a publicly trusted certificate: RDS Proxy's, which comes
  from AWS Certificate Manager ("RDS Proxy uses certificates from AWS Certificate Manager
  (ACM)", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html#rds-proxy-security.tls;
  AWS Prescriptive Guidance, "Amazon RDS Proxy best practices"). An RDS instance presents a
  certificate of the RDS CA (`rds-ca-*`), which no system store holds, so `system` against an
  instance endpoint fails;
- any other `sslrootcert` is a file the image must contain, which the stack cannot see:
  UNKNOWN.
"""

from typing import Any
from urllib.parse import parse_qs, urlsplit

from groundwork_policy import GroundworkCheck, Stack, Verdict

SCHEMES = ("postgresql://", "postgres://")
VERIFYING = ("verify-ca", "verify-full")
# The proxy's endpoint, by reference or as AWS names it (<name>.proxy-<id>.<region>.rds...).
PROXY_MARKERS = ("${aws_db_proxy.", "${aws_db_proxy_endpoint.", ".proxy-")


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


def judge(url: str) -> Verdict:
    query = parse_qs(urlsplit(url.replace("${", "").replace("}", "")).query)
    mode = (query.get("sslmode") or ["prefer"])[-1]
    root = (query.get("sslrootcert") or [None])[-1]
    if mode not in VERIFYING:
        return Verdict.failed(f"sslmode={mode} does not verify the server's certificate")
    if root is None:
        return Verdict.failed(
            f"sslmode={mode} without sslrootcert: libpq looks for ~/.postgresql/root.crt, "
            "which the app's image does not have"
        )
    host = _host(url)
    if root == "system":
        if any(marker in host for marker in PROXY_MARKERS):
            return Verdict.passed(
                f"sslmode={mode}, system roots verify RDS Proxy's ACM certificate"
            )
        return Verdict.failed(
            f"sslrootcert=system against {host}: an RDS instance's certificate is signed by "
            "the RDS CA, which no system store holds"
        )
    return Verdict.unknown(f"sslrootcert={root} is a file the image must hold; not visible here")


class DatabaseUrlTls(GroundworkCheck):
    id = "CKV_GW_DEPLOY_34"
    name = "Database connection strings verify TLS against a CA the app's runtime has"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("aws_secretsmanager_secret_version",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        value = body.get("secret_string")
        if not isinstance(value, str) or not value.startswith(SCHEMES):
            return Verdict.passed("not a PostgreSQL connection string")
        return judge(value)


check = DatabaseUrlTls()
