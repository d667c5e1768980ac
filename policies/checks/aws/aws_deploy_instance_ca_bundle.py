"""Builds CKV_GW_DEPLOY_101: every container that reads an RDS instance-endpoint URL trusts the
RDS CA before it starts (DEPLOY-6).

A derived `database_direct_url` / `database_reader_url` names an RDS instance
(`${aws_db_instance.*}`), whose certificate is signed by the RDS CA; Node's bundled roots do
not hold it, so `sslmode=verify-full` fails every connection unless the process started with
`NODE_EXTRA_CA_CERTS` naming a file that holds the CA ("Node reads it once, when the process
starts", https://nodejs.org/api/cli.html#node_extra_ca_certsfile). The file is not in the app's
image (the app promises nothing but HTTP on its port, synth/app.py), so the task fetches the
region's bundle ("Certificate bundles by AWS Region",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html) in an init
container. Judged on `aws_ecs_task_definition`, for every container whose `secrets` include a
secret whose version (`aws_secretsmanager_secret_version.secret_string`) is such a URL:
- `NODE_EXTRA_CA_CERTS` is a file under the path where the container mounts a volume of the
  task definition;
- the container `dependsOn` a container of the same task with condition SUCCESS (it exited 0:
  "ContainerDependency",
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html;
  START or COMPLETE would let the app start before, or after a failed, fetch);
- that container is not essential (it exits), mounts the same volume writable, runs
  `aws.ca_bundle_image` (Amazon Linux 2023, whose curl verifies TLS; busybox's wget does not)
  `curl --fail --proto =https --output <file>` for the bundle URL of the stack's region
  (`synth.aws_app.rds_ca_bundle_url`) AND for Amazon Root CA 1, then `cat`s both files into
  the one the app trusts, all joined by `&&` in `sh -c` (nothing runs after a failed step).

Amazon Root CA 1 because the same container's DATABASE_URL goes to RDS Proxy, whose ACM
certificate chains to it, and `PGSSLROOTCERT` replaces libpq's (psycopg's, pgx's) trusted roots
("Using TLS/SSL with RDS Proxy",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html#rds-proxy-security.tls):
with the RDS CA alone, every verify-full connection to the proxy fails in a non-Node client.
"""

import json
import re
import shlex
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine

from synth.aws_app import AMAZON_ROOT_CA_1_URL, CA_BUNDLE_VARIABLES, rds_ca_bundle_url

INSTANCE_MARKER = "${aws_db_instance."
SCHEMES = ("postgresql://", "postgres://")
# What lets a shell script go on after a failed step, or run something not written out.
SEPARATORS = re.compile(r"[;|&\n`$]")
EXTRA_CA = CA_BUNDLE_VARIABLES[0]  # NODE_EXTRA_CA_CERTS


def instance_url_secrets(stack: Stack) -> set[str]:
    """Addresses of the secrets whose value is a PostgreSQL URL naming an RDS instance."""
    found = set()
    for body in stack.resources("aws_secretsmanager_secret_version").values():
        value = body.get("secret_string")
        if not isinstance(value, str) or not value.startswith(SCHEMES):
            continue
        host = value.split("://", 1)[1].rsplit("@", 1)[-1]
        secret = address_of(body.get("secret_id"))
        if host.startswith(INSTANCE_MARKER) and secret is not None:
            found.add(secret)
    return found


def _mounts(container: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Volume -> (container path, read-only) of a container's mount points."""
    return {
        str(m.get("sourceVolume")): (
            str(m.get("containerPath", "")).rstrip("/"),
            bool(m.get("readOnly")),
        )
        for m in container.get("mountPoints") or []
    }


def _under(path: str, directory: str) -> str | None:
    """`path` relative to `directory`, or None when it is not inside it."""
    return path[len(directory) + 1 :] if directory and path.startswith(directory + "/") else None


class InstanceCaBundle(GroundworkCheck):
    id = "CKV_GW_DEPLOY_101"
    name = (
        "Every container reading an RDS instance URL starts with the RDS CA a verified fetch wrote"
    )
    requirement = "DEPLOY-6"
    severity = "CRITICAL"
    resource_types = ("aws_ecs_task_definition",)
    needs_config = True

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        config = stack.config.aws
        instance_secrets = instance_url_secrets(stack)
        containers = json.loads(str(body.get("container_definitions") or "[]"))
        by_name = {str(c.get("name")): c for c in containers}
        volumes = {str(v.get("name")) for v in body.get("volume") or [] if isinstance(v, dict)}
        verdicts = []
        for container in containers:
            name = container.get("name")
            read = [
                str(item.get("name"))
                for item in container.get("secrets") or []
                if address_of(item.get("valueFrom")) in instance_secrets
            ]
            if not read:
                continue
            where = f"container {name} (reads {', '.join(read)}, an RDS instance URL)"
            environment = {
                e.get("name"): e.get("value") for e in container.get("environment") or []
            }
            bundle = environment.get(EXTRA_CA)
            mounted = {
                volume: path
                for volume, (path, _) in _mounts(container).items()
                if volume in volumes
            }
            home = next(
                (
                    (volume, path)
                    for volume, path in mounted.items()
                    if isinstance(bundle, str) and _under(bundle, path)
                ),
                None,
            )
            if home is None:
                verdicts.append(
                    Verdict.failed(
                        f"{where}: {EXTRA_CA} is {bundle!r}, not a file under a volume it mounts, "
                        "so Node cannot trust the RDS CA and verify-full fails"
                    )
                )
                continue
            volume, path = home
            relative = _under(str(bundle), path)
            waits = [
                str(d.get("containerName"))
                for d in container.get("dependsOn") or []
                if d.get("condition") == "SUCCESS"
            ]
            fetchers = [by_name[w] for w in waits if w in by_name]
            problems = [self._fetch_problem(f, volume, relative, config) for f in fetchers]
            if not fetchers:
                verdicts.append(
                    Verdict.failed(
                        f"{where}: it depends on no container's SUCCESS, so it may start before "
                        f"{bundle} is written"
                    )
                )
            elif all(problems):
                verdicts.append(Verdict.failed(f"{where}: {'; '.join(p for p in problems if p)}"))
            else:
                verdicts.append(
                    Verdict.passed(f"{where}: starts after a verified fetch wrote {bundle}")
                )
        return combine(verdicts) if verdicts else Verdict.passed("reads no RDS instance URL")

    @staticmethod
    def _fetch_problem(
        fetcher: dict[str, Any], volume: str, relative: str | None, config: Any
    ) -> str | None:
        """Why `fetcher` does not write the region's RDS CA bundle and Amazon Root CA 1 to
        `volume`/`relative` over verified TLS; None when it does."""
        name = fetcher.get("name")
        if fetcher.get("essential") is not False:
            return f"{name} is essential (an init container must be essential: false)"
        mount = _mounts(fetcher).get(volume)
        if mount is None or mount[1]:
            return f"{name} does not mount {volume} writable"
        if fetcher.get("image") != config.ca_bundle_image:
            return f"{name} runs {fetcher.get('image')}, not aws.ca_bundle_image"
        steps = _steps([*(fetcher.get("entryPoint") or []), *(fetcher.get("command") or [])])
        if isinstance(steps, str):
            return f"{name}: {steps}"
        *fetches, last = steps if steps else [[]]
        downloads: dict[str, str] = {}  # URL -> file
        for words in fetches:
            if not words or words[0] != "curl":
                return f"{name} runs {words[:1]} before the bundle, not curl"
            if "--proto" not in words[:-1] or words[words.index("--proto") + 1] != "=https":
                return f"{name} does not restrict curl to HTTPS (--proto =https)"
            if "--fail" not in words:
                return f"{name} runs curl without --fail (an HTTP error would be written)"
            if "--output" not in words[:-1]:
                return f"{name} runs curl without --output"
            downloads[words[-1]] = words[words.index("--output") + 1]
        wanted = {"the region's RDS CA bundle": rds_ca_bundle_url(config.region)}
        wanted["Amazon Root CA 1 (RDS Proxy's root)"] = AMAZON_ROOT_CA_1_URL
        missing = [what for what, url in wanted.items() if url not in downloads]
        if missing:
            return f"{name} does not fetch {' or '.join(missing)}"
        # The bundle is the concatenation of both downloads.
        if last[:1] == ["curl"]:
            return f"{name} writes one download, not the RDS CA bundle and Amazon Root CA 1"
        if len(last) < 3 or last[0] != "cat" or last[-2] != ">":
            return f"{name} does not end by writing the downloads with `cat ... > <bundle>`"
        if _under(last[-1], mount[0]) != relative:
            return f"{name} writes {last[-1]!r}, not the file the app trusts"
        inputs = set(last[1:-2])
        if not all(downloads[url] in inputs for url in wanted.values()):
            return f"{name} does not put both downloads into {last[-1]}"
        return None


def _steps(words: list[str]) -> list[list[str]] | str:
    """The commands an init container runs, in order: one for a plain command, the
    `&&`-joined steps of `sh -c <script>`; a string saying why not when they may go on past a
    failed step (`;`, `||`, `|`, `&`)."""
    if words[:2] not in (["sh", "-c"], ["/bin/sh", "-c"], ["bash", "-c"], ["/bin/bash", "-c"]):
        return [words]
    if len(words) != 3:
        return "a shell runs one script"
    script = words[2]
    if SEPARATORS.search(script.replace("&&", "")):
        return "its script joins steps with something other than && (a failed fetch goes on)"
    return [shlex.split(step) for step in script.split("&&")]


check = InstanceCaBundle()
