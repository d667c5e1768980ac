"""Builds CKV_GW_DEPLOY_92: no Container App combines an HTTP scale rule with KEDA scalers
(DEPLOY-4).

Container Apps accepts the combination but does not honour it: with a CPU (or any other
KEDA-based) scale rule in the same app, the HTTP rule stops scaling on `concurrentRequests`
while the other rules keep working (microsoft/azure-container-apps #468, "http scaling rule
doesn't work in combination with keda scaling rules", open since 2022-10-26). The HTTP rule
then only looks like a trigger: the app does not add replicas for request load until CPU or
memory climbs. The rule, for every Container App: an `http_scale_rule` only where it has no
`custom_scale_rule` (cpu, memory or any KEDA scaler) and no `azure_queue_scale_rule` (a KEDA
scaler too, https://learn.microsoft.com/azure/container-apps/scale-app).
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks

KEDA_RULES = ("custom_scale_rule", "azure_queue_scale_rule")


class NoHttpRuleBesideKeda(GroundworkCheck):
    id = "CKV_GW_DEPLOY_92"
    name = "No Container App pairs an HTTP scale rule with CPU, memory or other KEDA scale rules"
    requirement = "DEPLOY-4"
    severity = "MEDIUM"
    resource_types = ("azurerm_container_app",)
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        template = (blocks(body, "template") or [{}])[0]
        http = [rule.get("name") for rule in blocks(template, "http_scale_rule")]
        keda = [
            f"{rule.get('name')} ({rule.get('custom_rule_type', kind)})"
            for kind in KEDA_RULES
            for rule in blocks(template, kind)
        ]
        if http and keda:
            return Verdict.failed(
                f"HTTP scale rule {', '.join(map(str, http))} beside {', '.join(keda)}: Container "
                "Apps then ignores the HTTP rule (microsoft/azure-container-apps #468)"
            )
        if http:
            return Verdict.passed("the HTTP scale rule is the app's only kind of rule")
        return Verdict.passed(f"no HTTP scale rule ({', '.join(keda) or 'no rules'})")


check = NoHttpRuleBesideKeda()
