"""Builds CKV_GW_EDGE_73: each service is probed on GET of its described health path, readiness
at least every 10 s and liveness at least every 30 s as EDGE-4 states them (REQUIREMENTS.md),
each timing out after `health.timeout_seconds`, and it gets 30 s to shut down gracefully
(EDGE-4, Container Apps; synth/app.py for the description).

The requirement's periods are stated here, not read from the description: a described
`health.interval_seconds` may tighten the readiness probe (the probe then runs at the described
interval, and the policy checks that too) but never loosen it; synth/app.py refuses a longer one
on Azure at load. A probe whose period is missing fails (Container Apps' default readiness
period is 10 s, but STYLE.md: never pass because an attribute is absent)."""

from typing import Any

from azure_app_description import described
from groundwork_policy import (
    GroundworkCheck,
    Stack,
    Verdict,
    blocks,
    combine,
    expect_equal,
    is_reference,
)

# EDGE-4: "readiness probe every 10 s, liveness every 30 s".
READINESS_SECONDS = 10
LIVENESS_SECONDS = 30


def within(attribute: str, actual: Any, longest: int) -> Verdict:
    """A probe period no longer than EDGE-4's; absent fails, an expression is unknown."""
    if actual is None:
        return Verdict.failed(f"{attribute} is not set; EDGE-4 wants at most {longest} s")
    if is_reference(actual):
        return Verdict.unknown(f"{attribute} is an expression ({actual}); EDGE-4: {longest} s")
    try:
        seconds = int(actual)
    except (TypeError, ValueError):
        return Verdict.failed(f"{attribute} is {actual!r}; EDGE-4 wants at most {longest} s")
    if seconds > longest:
        return Verdict.failed(f"{attribute} is {seconds} s; EDGE-4 wants at most {longest} s")
    return Verdict.passed(f"{attribute} {seconds} s is within EDGE-4's {longest} s")


class AzureHealthChecks(GroundworkCheck):
    id = "CKV_GW_EDGE_73"
    name = "Container App probes its health path (readiness, liveness 30 s) with 30 s grace"
    requirement = "EDGE-4"
    severity = "MEDIUM"
    resource_types = ("azurerm_container_app",)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        service = described(stack, body)
        if service is None:
            return Verdict.failed("the app runs no described service (groundwork-service tag)")
        health = service.health
        # (probe, EDGE-4's longest period, the period the description asks for)
        intervals = (
            ("readiness_probe", READINESS_SECONDS, min(health.interval_seconds, READINESS_SECONDS)),
            ("liveness_probe", LIVENESS_SECONDS, LIVENESS_SECONDS),
        )
        template = (blocks(body, "template") or [{}])[0]
        verdicts = [
            expect_equal("termination_grace_period_seconds",
                         template.get("termination_grace_period_seconds"), 30, "EDGE-4"),
        ]  # fmt: skip
        containers = blocks(template, "container")
        if not containers:
            verdicts.append(Verdict.failed("no container"))
        for container in containers:
            for kind, longest, interval in intervals:
                probes = blocks(container, kind)
                if not probes:
                    verdicts.append(Verdict.failed(f"{container.get('name')}: no {kind}"))
                for probe in probes:
                    verdicts += [
                        expect_equal(f"{kind}.path", probe.get("path"), health.path,
                                     "health.path"),
                        within(f"{kind}.interval_seconds", probe.get("interval_seconds"),
                               longest),
                        expect_equal(f"{kind}.interval_seconds", probe.get("interval_seconds"),
                                     interval, "health.interval_seconds and EDGE-4"),
                        expect_equal(f"{kind}.timeout", probe.get("timeout"),
                                     health.timeout_seconds, "health.timeout_seconds"),
                    ]  # fmt: skip
        return combine(verdicts)


check = AzureHealthChecks()
