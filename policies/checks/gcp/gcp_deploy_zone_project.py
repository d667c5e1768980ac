"""Builds CKV_GW_DEPLOY_58: every DNS record written into an existing zone (one read as a
`google_dns_managed_zone` data source) names the project the zone was read in, and that is the
project the environment says holds it, `gcp.dns_project` (default `gcp.project`) (DEPLOY-5).

A Cloud DNS managed zone belongs to one project: the data source, and a record set written into
the zone, address it as `projects/<project>/managedZones/<zone>`, and a resource without
`project` takes the provider's (the provider's google_dns_managed_zone data source and
google_dns_record_set pages: `project` "If it is not provided, the provider project is used").
In the shipped layout each environment has its own project, where no parent zone exists: the
apply would fail reading the zone, or, worse, write the delegation or the A record into a zone
of the same name the internet does not resolve, so the Google-managed certificate never
provisions. So the zone's project is explicit on both the data source and every record written
into it, and they agree.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine

DATA_ZONE = re.compile(r"\$\{(data\.google_dns_managed_zone\.[A-Za-z0-9_-]+)\.[^}]*\}")


class RecordsInTheZonesProject(GroundworkCheck):
    id = "CKV_GW_DEPLOY_58"
    name = (
        "Every DNS record written into an existing zone names the zone's project, which is "
        "gcp.dns_project"
    )
    requirement = "DEPLOY-5"
    severity = "HIGH"
    resource_types = ("google_dns_record_set",)

    def applies(self, body: dict[str, Any], stack: Stack) -> bool:
        # Records into a zone this stack creates live in the stack's project: not judged here.
        return DATA_ZONE.fullmatch(str(body.get("managed_zone"))) is not None

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        match = DATA_ZONE.fullmatch(str(body.get("managed_zone")))
        assert match is not None
        zone = match.group(1)
        data = stack.graph.bodies.get(zone)
        if data is None:
            return Verdict.failed(f"{zone} is not in the stack")
        read_in, written_in = data.get("project"), body.get("project")
        verdicts = []
        if read_in is None:
            verdicts.append(
                Verdict.failed(f"{zone} has no project: it is read in the provider's project")
            )
        if written_in is None:
            verdicts.append(
                Verdict.failed("no project: the record goes to the provider's project's zone")
            )
        elif written_in != read_in:
            verdicts.append(
                Verdict.failed(f"written in project {written_in}, but {zone} is read in {read_in}")
            )
        if stack.config is not None and read_in is not None:
            wanted = stack.config.gcp.zone_project
            if read_in != wanted:
                verdicts.append(
                    Verdict.failed(
                        f"{zone} is read in {read_in}, but gcp.dns_project (default gcp.project) "
                        f"is {wanted}"
                    )
                )
        return combine(verdicts or [Verdict.passed(f"written into {zone} in {read_in}")])


check = RecordsInTheZonesProject()
