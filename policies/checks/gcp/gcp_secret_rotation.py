"""Builds CKV_GW_SEC_41: every generated secret is rotated by someone (SEC-2).

A rotation schedule that only publishes a notice nobody consumes rotates nothing. A secret
labelled `secret-kind: generated` passes only when a Cloud Run job writes its versions (it
holds `roles/secretmanager.secretVersionAdder` on the secret and its command adds a version
to it) and a Cloud Scheduler job runs that job at least every `secrets.rotation_days`.
Derived secrets change with what they are derived from, so a derived secret passes only when
the stack has a version deriving it and none of that version's sources is one that never
changes by itself: Memorystore's AUTH string (`google_redis_instance.auth_string`, in REDIS_AUTH
and a `cache_url`) is generated once and changes only when AUTH is switched off and on again
("The AUTH string is uniquely generated each time that AUTH is enabled":
https://cloud.google.com/memorystore/docs/redis/auth-overview), so nothing rotates a secret
derived from it; it fails, and the construct waives that with the reason (constructs/gcp/
cache.py). External ones are set by people
(SEC-5): nothing in the stack rotates them, so they fail here, and the construct that creates
them waives that with the reason (their issuer rotates them; constructs/gcp/secrets.py), so
the gate reports SEC-2 waived for them, never passed. A secret without a kind label fails.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, strings_in

# Sources a derived secret may copy that never change by themselves (attribute -> why).
STATIC_SOURCES = {
    re.compile(r"\$\{google_redis_instance\.[^.}]+\.auth_string\}"): (
        "Memorystore's AUTH string, which changes only when AUTH is switched off and on"
    ),
}
VALUE_ATTRIBUTES = ("secret_data_wo", "secret_data")

# Cron schedules the stacks use -> the longest gap between two runs, in days.
CRON_PERIOD_DAYS = {"0 3 1 * *": 31, "0 3 * * 1": 7, "0 3 * * *": 1}


class SecretRotation(GroundworkCheck):
    id = "CKV_GW_SEC_41"
    name = "Every generated secret is rotated by a scheduled job within secrets.rotation_days"
    requirement = "SEC-2"
    severity = "MEDIUM"
    resource_types = ("google_secret_manager_secret",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        days = stack.config.secrets.rotation_days
        kind = (body.get("labels") or {}).get("secret-kind")
        if kind == "derived":
            return self._derived(stack)
        if kind == "external":
            return Verdict.failed("external: its issuer rotates it; nothing in the stack does")
        if kind != "generated":
            return Verdict.failed("no secret-kind label (generated, derived or external)")
        writers = {
            str(b.get("member"))
            for b in stack.graph.of_type("google_secret_manager_secret_iam_member").values()
            if address_of(b.get("secret_id")) == self.address
            and b.get("role") == "roles/secretmanager.secretVersionAdder"
        }
        pattern = re.compile(rf"versions add '?\$\{{{re.escape(self.address)}\.secret_id\}}")
        for job, jbody in stack.graph.of_type("google_cloud_run_v2_job").items():
            account = str(jbody.get("template", {}).get("template", {}).get("service_account"))
            if f"serviceAccount:{account}" not in writers or not pattern.search(
                " ".join(strings_in(jbody))
            ):
                continue
            name = job.split(".", 1)[1]
            for sbody in stack.graph.of_type("google_cloud_scheduler_job").values():
                if f"google_cloud_run_v2_job.{name}.name" not in str(sbody.get("http_target")):
                    continue
                period = CRON_PERIOD_DAYS.get(str(sbody.get("schedule")))
                if period is None:
                    return Verdict.unknown(f"schedule {sbody.get('schedule')!r} not understood")
                if period > days:
                    return Verdict.failed(f"rotated every {period} days > {days}")
                return Verdict.passed(f"{job} rotates it at least every {period} days")
            return Verdict.failed(f"{job} writes it but no schedule runs the job")
        return Verdict.failed("generated but no job writes new versions of it")

    def _derived(self, stack: Stack) -> Verdict:
        """A derived secret rotates with its sources, unless a source never changes."""
        values = [
            str(b.get(attribute))
            for b in stack.graph.of_type("google_secret_manager_secret_version").values()
            if address_of(b.get("secret")) == self.address
            for attribute in VALUE_ATTRIBUTES
            if b.get(attribute) is not None
        ]
        if not values:
            return Verdict.failed("derived, but no version in the stack derives it")
        for pattern, why in STATIC_SOURCES.items():
            if any(pattern.search(value) for value in values):
                return Verdict.failed(f"derived from {why}: nothing rotates it")
        return Verdict.passed("derived: changes with what it is derived from")


check = SecretRotation()
