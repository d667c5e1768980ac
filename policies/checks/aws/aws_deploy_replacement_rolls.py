"""Builds CKV_GW_DEPLOY_12: an attached resource whose change forces replacement rolls:
`create_before_destroy`, with a name the replacement does not share (DEPLOY-2).

Terraform destroys before it creates by default, and the old resource is still attached:
deleting a target group a listener forwards to fails with ResourceInUse
(terraform-provider-aws #16889), deleting a parameter group an instance uses fails with
InvalidDBParameterGroupState. With `create_before_destroy` the new one must be creatable
while the old exists, so its name has to change with what forces the replacement:
- `aws_lb_target_group`: port, protocol, target type -> the name carries the port (or
  `name_prefix`);
- `aws_db_parameter_group` / `aws_elasticache_parameter_group`: family -> the name carries
  the family's version;
- `aws_acm_certificate`: no name, `create_before_destroy` alone.
Only resources something else refers to (attached) are judged.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks

VERSION = re.compile(r"(\d+(?:\.\d+)?)$")


def _name_follows(rtype: str, body: dict[str, Any]) -> str | None:
    """None if the name changes with the replacing attribute; else the reason it does not."""
    if body.get("name_prefix") or rtype == "aws_acm_certificate":
        return None
    name = str(body.get("name", ""))
    if rtype == "aws_lb_target_group":
        port = str(body.get("port", ""))
        return None if port and name.endswith(f"-{port}") else f"name {name} lacks port {port}"
    match = VERSION.search(str(body.get("family", "")))
    version = match.group(1).replace(".", "") if match else ""
    return (
        None
        if version and version in name.replace(".", "")
        else (f"name {name} lacks the family version {version}")
    )


class ReplacementRolls(GroundworkCheck):
    id = "CKV_GW_DEPLOY_12"
    name = "Attached resources replaced by a change are created before the old is destroyed"
    requirement = "DEPLOY-2"
    severity = "HIGH"
    resource_types = (
        "aws_lb_target_group",
        "aws_db_parameter_group",
        "aws_elasticache_parameter_group",
        "aws_acm_certificate",
    )
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if not stack.graph.dependents(self.address):
            return Verdict.passed("nothing is attached to it")
        rolling = any(lc.get("create_before_destroy") is True for lc in blocks(body, "lifecycle"))
        if not rolling:
            return Verdict.failed("attached, but replaced destroy-first (no create_before_destroy)")
        problem = _name_follows(self._address[0], body)
        if problem:
            return Verdict.failed(f"create_before_destroy cannot create the twin: {problem}")
        return Verdict.passed("replacement is created before the old one is destroyed")


check = ReplacementRolls()
