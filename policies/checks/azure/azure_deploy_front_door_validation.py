"""Builds CKV_GW_DEPLOY_99: every Front Door custom domain with a managed certificate has the
validation record someone creates, and what uses the domain waits for it (DEPLOY-5).

Front Door issues a managed certificate only after it finds the `_dnsauth.<host>` TXT record
carrying the custom domain's validation token ("Configure a custom domain on Azure Front
Door", https://learn.microsoft.com/azure/frontdoor/standard-premium/how-to-add-custom-domain);
a token left unanswered for days turns the domain's validation state to an error that needs a
new token (MicrosoftDocs/azure-docs #91820). So for every `azurerm_cdn_frontdoor_custom_domain`
with `ManagedCertificate`:
- when it names a zone the stack creates (`dns_zone_id`), a TXT record in that zone carries
  its `validation_token`, and every route and custom-domain association that uses the domain
  depends on that record, so nothing serves the domain before its validation can start;
- otherwise (the zone is the operator's), a stack output hands the token to the operator
  (README, "Azure: CDN and DNS"), or nobody could create the record.
"""

from typing import Any

from azure_dns_zone import VALIDATION_RECORD, record_name
from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks


class FrontDoorValidation(GroundworkCheck):
    id = "CKV_GW_DEPLOY_99"
    name = "Every Front Door managed-certificate domain has its validation record, waited for"
    requirement = "DEPLOY-5"
    severity = "HIGH"
    resource_types = ("azurerm_cdn_frontdoor_custom_domain",)
    needs_config = False

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        return any(t.get("certificate_type") == "ManagedCertificate" for t in blocks(body, "tls"))

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        token = f"${{{self.address}.validation_token}}"
        zone = address_of(body.get("dns_zone_id"))
        if zone is None or zone.split(".", 1)[1] not in stack.resources("azurerm_dns_zone"):
            if any(
                token in str(output.get("value", ""))
                for output in stack.document.get("output", {}).values()
            ):
                return Verdict.passed("the operator gets the validation token as an output")
            return Verdict.failed(
                "its zone is not the stack's and no output hands over the validation token: "
                "nobody creates the _dnsauth record, and the certificate is never issued"
            )
        zone_name = stack.resources("azurerm_dns_zone")[zone.split(".", 1)[1]].get("name", "")
        wanted = record_name(f"{VALIDATION_RECORD}.{body.get('host_name')}", str(zone_name))
        records = [
            f"azurerm_dns_txt_record.{name}"
            for name, txt in stack.resources("azurerm_dns_txt_record").items()
            if txt.get("zone_name") == f"${{{zone}.name}}"
            and txt.get("name") == wanted
            and any(r.get("value") == token for r in blocks(txt, "record"))
        ]
        if not records:
            return Verdict.failed(
                f"no TXT record {wanted} in {zone} carries its validation token: Front Door "
                "never finds it"
            )
        users = [
            address
            for address, user in stack.graph.of_type(
                "azurerm_cdn_frontdoor_route", "azurerm_cdn_frontdoor_custom_domain_association"
            ).items()
            if self.address
            in {
                address_of(d)
                for d in [
                    *(user.get("cdn_frontdoor_custom_domain_ids") or []),
                    user.get("cdn_frontdoor_custom_domain_id"),
                ]
            }
        ]
        early = [u for u in users if not any(stack.graph.needs(u, r) for r in records)]
        if early:
            return Verdict.failed(f"{early} use the domain without waiting for {records[0]}")
        return Verdict.passed(f"{records[0]} validates it; {len(users)} users wait for it")


check = FrontDoorValidation()
