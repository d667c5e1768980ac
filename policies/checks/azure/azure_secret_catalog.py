"""Builds CKV_GW_SEC_75: every Key Vault secret is a catalog entry of the app description, carries
its kind, and only the services that list it read it (SEC-5, IAM-1).

For each `azurerm_key_vault_secret`:
- its `groundwork-secret` tag names an entry of `secrets.catalog` (synth/app.py), and its name
  is the Key Vault spelling of one of that entry's variables (`JWT_SECRET` -> `jwt-secret`,
  `jwt-secret-previous`, `jwt-secret-next`; Key Vault names allow no underscores);
- its `groundwork-secret-kind` tag is the entry's kind;
- generated: a write-only random value (`value_wo`, never `value`), an expiry, and a job of the
  stack that rewrites it (its `ROTATED` list; SEC-2);
- derived: a value computed from what the stack creates (a reference, never a literal);
- external: no value in the JSON (no `value`; the write-only `value_wo` is the empty string,
  constructs/azure/secrets.py), its `groundwork-value-set` tag says the entry's `value_set`,
  and no job of the stack rotates it (its issuer does; SEC-2);
- every Container App that references it, and every identity granted a data role on it, runs
  a service that lists the entry in its `secrets` (the rotation job's identity, which rewrites
  it, aside). Azure grants Key Vault access per secret, so a service reading a secret it did
  not list would be a grant nobody described. An external secret whose entry says
  `value_set: false` has no reader and no reader's grant at all.
"""

from __future__ import annotations

from typing import Any

from azure_app_description import described
from azure_cache_access import job_env
from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    address_of,
    blocks,
    combine,
    is_reference,
)

from synth.app import secret_variables

SECRET_TAG, KIND_TAG = "groundwork-secret", "groundwork-secret-kind"
VALUE_SET_TAG = "groundwork-value-set"
READER_ROLES = {"Key Vault Secrets User"}
WRITER_ROLES = {"Key Vault Secrets Officer"}


def vault_name(variable: str) -> str:
    return variable.lower().replace("_", "-")


class AzureSecretCatalog(GroundworkCheck):
    id = "CKV_GW_SEC_75"
    name = "Key Vault secrets are catalog entries with their kind, read only by their services"
    requirement = "SEC-5"
    severity = "HIGH"
    resource_types = ("azurerm_key_vault_secret",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        catalog = stack.config.secrets.catalog
        tags = body.get("tags") or {}
        entry_name = tags.get(SECRET_TAG)
        entry = catalog.get(entry_name) if entry_name else None
        if entry is None:
            return Verdict.failed(
                f"tag {SECRET_TAG}={entry_name!r} is not in secrets.catalog ({sorted(catalog)})"
            )
        verdicts = []
        names = [vault_name(v) for v in secret_variables(entry_name, entry)]
        if body.get("name") not in names:
            verdicts.append(Verdict.failed(f"name {body.get('name')!r} is not one of {names}"))
        if tags.get(KIND_TAG) != entry.kind:
            verdicts.append(
                Verdict.failed(
                    f"tag {KIND_TAG}={tags.get(KIND_TAG)!r}; the catalog says {entry.kind}"
                )
            )
        verdicts += self._value(body, stack, entry.kind)
        if entry.kind == "external":
            verdicts += self._external(body, stack, entry.value_set)
        verdicts += self._readers(stack, entry_name)
        if not any(v.outcome.name == "FAIL" for v in verdicts):
            verdicts.append(Verdict.passed(f"{entry.kind} secret {entry_name}"))
        return combine(verdicts)

    def _value(self, body: dict[str, Any], stack: Stack, kind: str) -> list[Verdict]:
        if kind == "external":
            if "value" in body or body.get("value_wo") != "":
                return [Verdict.failed("an external secret has a value in the configuration")]
            if body.get("name") in self._rotated(stack):
                return [Verdict.failed("a job rewrites an external secret its issuer rotates")]
            return []
        if kind == "derived":
            value = body.get("value", body.get("value_wo"))
            if value is None or not is_reference(value):
                return [Verdict.failed(f"derived value {value!r} is not computed by the stack")]
            return []
        verdicts = []
        if "value" in body or not is_reference(body.get("value_wo")):
            verdicts.append(Verdict.failed("a generated secret needs a computed write-only value"))
        if body.get("expiration_date") is None:
            verdicts.append(Verdict.failed("a generated secret without an expiry never rotates"))
        if body.get("name") not in self._rotated(stack):
            verdicts.append(Verdict.failed(f"no job rotates {body.get('name')}"))
        return verdicts

    @staticmethod
    def _rotated(stack: Stack) -> set[str]:
        """The secret names the stack's jobs rewrite (their `ROTATED` lists)."""
        return {
            name
            for job in stack.resources("azurerm_container_app_job").values()
            for name in str(job_env(job).get("ROTATED", "")).split(",")
        }

    def _external(self, body: dict[str, Any], stack: Stack, value_set: bool) -> list[Verdict]:
        """An external secret says whether its value is set, and nothing reads it before."""
        tag = (body.get("tags") or {}).get(VALUE_SET_TAG)
        verdicts = []
        if tag != str(value_set).lower():
            verdicts.append(
                Verdict.failed(f"tag {VALUE_SET_TAG}={tag!r}; the catalog says {value_set}")
            )
        if not value_set:
            me = self.address
            readers = [
                f"azurerm_container_app.{name}"
                for name, app in stack.resources("azurerm_container_app").items()
                if any(
                    address_of(s.get("key_vault_secret_id")) == me for s in blocks(app, "secret")
                )
            ] + [
                f"azurerm_role_assignment.{name}"
                for name, grant in stack.resources("azurerm_role_assignment").items()
                if address_of(grant.get("scope")) == me
            ]
            if readers:
                verdicts.append(
                    Verdict.failed(f"{readers} read it before its value is set (value_set: false)")
                )
        return verdicts

    def _readers(self, stack: Stack, entry_name: str) -> list[Verdict]:
        me = self.address
        verdicts = []
        listing: set[str | None] = set()
        for name, app in stack.resources("azurerm_container_app").items():
            service = described(stack, app)
            lists = service is not None and entry_name in service.secrets
            identities = {
                address_of(i) for b in blocks(app, "identity") for i in b.get("identity_ids") or []
            }
            if lists:
                listing |= identities
            reads = any(
                address_of(s.get("key_vault_secret_id")) == me for s in blocks(app, "secret")
            )
            if reads and not lists:
                verdicts.append(
                    Verdict.failed(f"azurerm_container_app.{name} reads it without listing it")
                )
        principals = {
            f"{i}" for i in listing if i is not None
        }  # identities of the services that list it
        for name, grant in stack.resources("azurerm_role_assignment").items():
            if address_of(grant.get("scope")) != me:
                continue
            role = grant.get("role_definition_name")
            principal = address_of(grant.get("principal_id"))
            if role in WRITER_ROLES:
                continue  # the rotation job rewrites it (SEC-2); CKV_GW_IAM_70 judges its scope
            if role not in READER_ROLES or principal not in principals:
                verdicts.append(
                    Verdict.failed(
                        f"azurerm_role_assignment.{name} gives {role} to {principal}, which no "
                        f"service listing {entry_name} runs as"
                    )
                )
        return verdicts


check = AzureSecretCatalog()
