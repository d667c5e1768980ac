"""Builds CKV_GW_DEPLOY_99: every Front Door custom domain with a managed certificate hands the
operator what their DNS needs: the validation token and the endpoint host (DEPLOY-5).

Front Door issues a managed certificate only after it finds the `_dnsauth.<host>` TXT record
carrying the custom domain's validation token ("Configure a custom domain on Azure Front
Door", https://learn.microsoft.com/azure/frontdoor/standard-premium/how-to-add-custom-domain);
a token left unanswered for days turns the domain's validation state to an error that needs a
new token (MicrosoftDocs/azure-docs #91820). The domain's clients, and the certificate's
automatic rotation, need the domain to be a CNAME to the endpoint that serves it (a managed
certificate without that CNAME stops rotating: https://learn.microsoft.com/azure/frontdoor/
apex-domain, MicrosoftDocs/azure-docs #112765). The stack owns no zone on Azure (DNS-1 is refused
there: synth.config NOT_EXPRESSIBLE), so the operator writes both records, and nobody could
without the values: for every `azurerm_cdn_frontdoor_custom_domain` with `ManagedCertificate`
a stack output carries its `validation_token`, and one carries the `host_name` of an endpoint
whose route serves the domain (README, "Azure: CDN and DNS").
"""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, combine


class FrontDoorValidation(GroundworkCheck):
    id = "CKV_GW_DEPLOY_99"
    name = "Every Front Door managed-certificate domain outputs its validation token and host"
    requirement = "DEPLOY-5"
    severity = "HIGH"
    resource_types = ("azurerm_cdn_frontdoor_custom_domain",)
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        return any(t.get("certificate_type") == "ManagedCertificate" for t in blocks(body, "tls"))

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        outputs = [str(o.get("value", "")) for o in stack.document.get("output", {}).values()]
        verdicts = []
        token = f"${{{self.address}.validation_token}}"
        if not any(token in value for value in outputs):
            verdicts.append(Verdict.failed(
                "no output hands over the validation token: nobody creates the _dnsauth "
                "record, and the certificate is never issued"
            ))  # fmt: skip
        endpoints = {
            address_of(route.get("cdn_frontdoor_endpoint_id"))
            for route in stack.resources("azurerm_cdn_frontdoor_route").values()
            if self.address
            in {address_of(d) for d in route.get("cdn_frontdoor_custom_domain_ids") or []}
        } - {None}
        hosts = {f"${{{endpoint}.host_name}}" for endpoint in endpoints}
        if not any(host in value for host in hosts for value in outputs):
            verdicts.append(Verdict.failed(
                f"no output hands over the host of the endpoint serving {body.get('host_name')}: "
                "nobody can write the CNAME its clients and certificate rotation need"
            ))  # fmt: skip
        if verdicts:
            return combine(verdicts)
        return Verdict.passed("the validation token and the endpoint host are outputs")


check = FrontDoorValidation()
