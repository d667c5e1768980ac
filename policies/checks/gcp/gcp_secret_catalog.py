"""Builds CKV_GW_SEC_44: every Secret Manager secret is an entry of `secrets.catalog` (SEC-5,
synth/app.py) or documented platform wiring, carries its kind, and is what its kind says:

- Its `secret_id` is `<prefix>-<entry>` (a generated X also `-previous` / `-next`; a database
  URL read by a service other than the default one `<prefix>-<entry>_<service>`, labelled
  `reader`), or platform wiring: the break-glass `database-password` (external) and, with the
  cache, `redis-auth` / `redis-ca-cert` (derived) (constructs/gcp/secrets.py).
- Its `secret-kind` label is the entry's kind.
- generated: a Cloud Run job writes its versions with `<bits>/8` random bytes (the rotator;
  CKV_GW_SEC_41 judges the schedule); no `google_secret_manager_secret_version` holds it.
- derived: its one version is written through the write-only `secret_data_wo` (no value in
  the state); external: no version and no literal anywhere in the JSON, and a catalog entry's
  `value-set` label is its `value_set` ("true" / "false"): CKV_GW_DEPLOY_44 lets a service
  read an unversioned external secret on that label, so it must say what the config says.
- No service reads it unless the service lists it (or uses the component whose platform
  secret it is), by environment reference or by a secretAccessor grant to its account (IAM-1).
"""

import re
from typing import Any

from gcp_app_services import (
    BREAK_GLASS,
    PLATFORM_SECRETS,
    account_readers,
    described,
    readers,
    secret_names,
    service_name,
)
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, combine, strings_in

from synth.app import DEFAULT_SERVICE_NAME, DerivedSecret, ExternalSecret, GeneratedSecret

SLOTS = ("", "_PREVIOUS", "_NEXT")


def dashed(name: str) -> str:
    return name.lower().replace("_", "-")


def expected_ids(stack: Stack) -> dict[str, tuple[str, str, str | None]]:
    """secret_id -> (variable, kind, reader service or None) for everything SEC-5 allows."""
    config = stack.config
    assert config is not None
    prefix = config.prefix
    allowed: dict[str, tuple[str, str, str | None]] = {
        f"{prefix}-{dashed(BREAK_GLASS)}": (BREAK_GLASS, "external", None)
    }
    if config.uses_cache:
        for name in PLATFORM_SECRETS:
            allowed[f"{prefix}-{dashed(name)}"] = (name, "derived", None)
    for name, entry in config.secrets.catalog.items():
        if isinstance(entry, GeneratedSecret):
            for slot in SLOTS:
                allowed[f"{prefix}-{dashed(name + slot)}"] = (name + slot, "generated", None)
        elif isinstance(entry, DerivedSecret) and entry.component == "database":
            for service in config.services:
                if name not in service.secrets:
                    continue
                if service.name == DEFAULT_SERVICE_NAME:
                    allowed[f"{prefix}-{dashed(name)}"] = (name, "derived", None)
                else:
                    secret_id = f"{prefix}-{dashed(name)}_{service.name}"
                    allowed[secret_id] = (name, "derived", service.name)
        else:
            allowed[f"{prefix}-{dashed(name)}"] = (name, entry.kind, None)
    return allowed


class SecretCatalog(GroundworkCheck):
    id = "CKV_GW_SEC_44"
    name = (
        "Every secret is a catalog entry or platform wiring, of its kind, read only by its listers"
    )
    requirement = "SEC-5"
    severity = "HIGH"
    resource_types = ("google_secret_manager_secret",)
    roles = ("workload",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        config = stack.config
        assert config is not None
        secret_id = str(body.get("secret_id"))
        allowed = expected_ids(stack)
        if secret_id not in allowed:
            return Verdict.failed(f"{secret_id} is no secrets.catalog entry nor platform wiring")
        variable, kind, reader = allowed[secret_id]
        labels = body.get("labels") or {}
        verdicts = []
        if labels.get("secret-kind") != kind:
            verdicts.append(
                Verdict.failed(f"secret-kind {labels.get('secret-kind')!r}; want {kind}")
            )
        versions = [
            v
            for v in stack.graph.of_type("google_secret_manager_secret_version").values()
            if address_of(v.get("secret")) == self.address
        ]
        target = rf"({re.escape(secret_id)}|\$\{{{re.escape(self.address)}\.secret_id\}})"
        adds = re.compile(rf"versions add '?{target}'?(\s|$)")
        written = [
            text
            for job in stack.graph.of_type("google_cloud_run_v2_job").values()
            for text in strings_in(job.get("template"))
            if adds.search(text)
        ]
        base = variable.removesuffix("_PREVIOUS").removesuffix("_NEXT")
        entry = config.secrets.catalog.get(base)
        if kind == "generated":
            if versions:
                verdicts.append(Verdict.failed("a generated secret has a version in the JSON"))
            if not written:
                verdicts.append(Verdict.failed("no job writes its versions: it never rotates"))
            elif isinstance(entry, GeneratedSecret):
                fresh = f"head -c {entry.bits // 8} /dev/urandom"
                if not any(fresh in text for text in written):
                    verdicts.append(Verdict.failed(f"the rotator does not write {entry.bits} bits"))
        elif kind == "derived":
            if len(versions) != 1:
                verdicts.append(Verdict.failed(f"{len(versions)} versions; a derived secret has 1"))
            for version in versions:
                if "secret_data" in version:
                    verdicts.append(Verdict.failed("secret_data is stored in the state"))
                if not version.get("secret_data_wo"):
                    verdicts.append(Verdict.failed("the version has no secret_data_wo"))
        else:
            if versions or written:
                verdicts.append(Verdict.failed("an external secret gets a value from the stack"))
            if isinstance(entry, ExternalSecret):
                want = "true" if entry.value_set else "false"
                found = labels.get("value-set")
                if found != want:
                    verdicts.append(Verdict.failed(f"value-set {found!r}; value_set is {want}"))
        for address, service, env in readers(stack, self.address):
            spec = described(config, service)
            if spec is None:
                verdicts.append(Verdict.failed(f"{address} is no described service"))
                continue
            if reader is not None and spec.name != reader:
                verdicts.append(Verdict.failed(f"service {spec.name} reads {reader}'s copy"))
            if env != variable or variable not in secret_names(config, spec):
                verdicts.append(
                    Verdict.failed(f"service {spec.name} reads it as {env} without listing it")
                )
        accounts = {
            str(
                service.get("template", {}).get("service_account")
                if isinstance(service.get("template"), dict)
                else (service.get("template") or [{}])[0].get("service_account")
            ): spec
            for service in stack.resources("google_cloud_run_v2_service").values()
            if (spec := described(config, service)) is not None
        }
        for member in account_readers(stack, self.address):
            email = member.removeprefix("serviceAccount:")
            spec = accounts.get(email)
            if spec is not None and variable not in secret_names(config, spec):
                verdicts.append(
                    Verdict.failed(f"service {spec.name}'s account may read it, unlisted")
                )
        who = service_name(config, reader) if reader else "its listers"
        return combine(verdicts or [Verdict.passed(f"{variable} ({kind}) read by {who} only")])


check = SecretCatalog()
