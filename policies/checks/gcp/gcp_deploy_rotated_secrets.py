"""Builds CKV_GW_DEPLOY_53: every generated secret a service reads is handed to it as current,
previous and next, and its rotator restarts the service after a rotation (DEPLOY-6, SEC-2).

A Cloud Run instance reads a `secret_key_ref` once, when it starts (`latest` is resolved at
instance start: https://cloud.google.com/run/docs/configuring/services/secrets). After a
rotation, instances started later sign with a key the older ones do not know, unless:

- the service receives X (sign and verify), X_PREVIOUS and X_NEXT (verify only), three
  generated secrets labelled `rotation-slot` current / previous / next and `rotates` X;
- a Cloud Run job writes new versions of all three and, after its last write, rolls this
  service to a new revision (`gcloud run services update <service>`, a label change creates
  a revision: https://cloud.google.com/run/docs/configuring/services/labels);
- that job's account may do so on this service: `roles/run.developer`, `run.admin`, or a custom
  role holding `run.services.update`
  granted on the service itself, and `roles/iam.serviceAccountUser` on the account the
  service runs as, which deploying a revision needs (https://cloud.google.com/run/docs/
  deploying, "Required roles").
Then live instances are never more than one rotation apart and accept each other's tokens.
"""

import re
from typing import Any

from gcp_deploy_refs import secret_address
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine

SLOTS = {"": "current", "_PREVIOUS": "previous", "_NEXT": "next"}
RESTART_ROLES = ("roles/run.developer", "roles/run.admin")
RESTART_PERMISSION = "run.services.update"


def may_restart(stack: Stack, role: Any) -> bool:
    """A predefined role that updates services, or a custom role holding run.services.update."""
    if role in RESTART_ROLES:
        return True
    custom = address_of(role)
    if custom and custom.startswith("google_project_iam_custom_role."):
        return RESTART_PERMISSION in (stack.graph.bodies.get(custom, {}).get("permissions") or [])
    return False


def job_command(body: dict[str, Any]) -> str:
    return " ".join(
        " ".join(str(x) for x in (c.get("command") or []) + (c.get("args") or []))
        for t in blocks(body, "template")
        for inner in blocks(t, "template")
        for c in blocks(inner, "containers")
    )


def job_account(body: dict[str, Any]) -> str:
    return next(
        (
            str(inner.get("service_account"))
            for t in blocks(body, "template")
            for inner in blocks(t, "template")
        ),
        "",
    )


class RotatedSecretsContract(GroundworkCheck):
    id = "CKV_GW_DEPLOY_53"
    name = "Generated secrets reach the app as current, previous, next; the rotator restarts it"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("google_cloud_run_v2_service",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        env: dict[str, str] = {}  # env name -> secret address
        for t in blocks(body, "template"):
            for c in blocks(t, "containers"):
                for e in blocks(c, "env"):
                    for source in blocks(e, "value_source"):
                        for ref in blocks(source, "secret_key_ref"):
                            secret = secret_address(stack, ref.get("secret"))
                            if secret:
                                env[str(e.get("name"))] = secret
        labels = {
            a: (b.get("labels") or {})
            for a, b in stack.graph.of_type("google_secret_manager_secret").items()
        }
        generated = {
            n: s for n, s in env.items() if labels.get(s, {}).get("secret-kind") == "generated"
        }
        if not generated:
            return Verdict.passed("the service reads no generated secret")
        verdicts = []
        for name, secret in sorted(generated.items()):
            if labels[secret].get("rotation-slot") != "current":
                continue
            base = name
            trio = {base + suffix: env.get(base + suffix) for suffix in SLOTS}
            rotates = labels[secret].get("rotates")
            wrong = [
                n
                for n, (suffix, slot) in zip(trio, SLOTS.items(), strict=True)
                if not trio[n]
                or labels.get(trio[n] or "", {}).get("rotation-slot") != slot
                or labels.get(trio[n] or "", {}).get("rotates") != rotates
            ]
            if wrong:
                verdicts.append(Verdict.failed(f"{base}: {', '.join(wrong)} not handed over"))
                continue
            verdicts.append(self._rotator(stack, body, base, [s for s in trio.values() if s]))
        unslotted = [
            n for n, s in generated.items() if labels[s].get("rotation-slot") not in SLOTS.values()
        ]
        for name in unslotted:
            verdicts.append(Verdict.failed(f"{name} is generated but read as one value"))
        if not verdicts:
            return Verdict.failed("generated secrets are read, none of them as the current value")
        return combine(verdicts)

    def _rotator(
        self, stack: Stack, body: dict[str, Any], base: str, secrets: list[str]
    ) -> Verdict:
        service = str(body.get("name"))
        restart = re.compile(rf"run services update '?{re.escape(service)}'? ")
        allowed = {
            str(b.get("member"))
            for b in stack.graph.of_type("google_cloud_run_v2_service_iam_member").values()
            if address_of(b.get("name")) == self.address and may_restart(stack, b.get("role"))
        }
        for job, jbody in stack.graph.of_type("google_cloud_run_v2_job").items():
            command = job_command(jbody)
            per: dict[str, list[int]] = {}
            for secret in secrets:
                sid = str(stack.graph.bodies[secret].get("secret_id", "\0"))
                target = rf"(\$\{{{re.escape(secret)}\.secret_id\}}|{re.escape(sid)})"
                pattern = rf"versions add '?{target}'?"
                per[secret] = [m.end() for m in re.finditer(pattern, command)]
            if not all(per.values()):
                continue  # this job does not write all three
            writes = [at for found in per.values() for at in found]
            rolled = [m.start() for m in restart.finditer(command)]
            if not rolled or max(rolled) < max(writes):
                return Verdict.failed(f"{job} rotates {base} but never restarts {service} after")
            member = f"serviceAccount:{job_account(jbody)}"
            if member not in allowed:
                return Verdict.failed(f"{job} may not deploy a revision of {service}")
            runtime = address_of(
                next((t.get("service_account") for t in blocks(body, "template")), None)
            )
            acts_as = any(
                address_of(b.get("service_account_id")) == runtime
                and b.get("role") == "roles/iam.serviceAccountUser"
                and str(b.get("member")) == member
                for b in stack.graph.of_type("google_service_account_iam_member").values()
            )
            if runtime and not acts_as:
                return Verdict.failed(f"{job} may not act as {runtime}, which {service} runs as")
            return Verdict.passed(f"{job} shifts {base} and rolls {service} to a new revision")
        return Verdict.failed(f"no job writes all of {base}, {base}_PREVIOUS and {base}_NEXT")


check = RotatedSecretsContract()
