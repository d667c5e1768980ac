"""Builds CKV_GW_DEPLOY_90: a container that signs in to Azure with its managed identity runs an
Azure CLI that can (DEPLOY-6).

Container Apps hands a managed identity's tokens out at IDENTITY_ENDPOINT, not at IMDS. Azure
CLI before 2.73 signs in with a managed identity through IMDS only, so `az login --identity`
fails in a Container Apps job (Azure/azure-cli #22677, microsoft/azure-container-apps #502);
MSAL's managed identity, which reads IDENTITY_ENDPOINT, became the default in 2.73 and the only
implementation in 2.75 (Azure/azure-cli #25959, #31577). From 2.73 a user-assigned identity is
named with `--client-id`, `--object-id` or `--resource-id`; `--username` is refused
(Azure/azure-cli #31015, #31453). Rule: every container whose command runs
`az login --identity` uses the `mcr.microsoft.com/azure-cli` image at 2.73 or later and does
not pass `--username`; a job that cannot sign in leaves whatever it maintains (the cache's
access policy, secret rotation) undone after the apply.
"""

import re
from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, blocks, combine

CLI_IMAGE = re.compile(r"^mcr\.microsoft\.com/azure-cli:(\d+)\.(\d+)\.(\d+)$")
MINIMUM = (2, 73)
# `az login --identity` in a shell script, or az("login", "--identity", ...) in Python.
IDENTITY_LOGIN = re.compile(r"""az\s+login\s+--identity|["']login["'],\s*["']--identity["']""")
USERNAME = re.compile(r"""--identity\s+--username|["']--identity["'],\s*["']--username["']""")


class CliSignsInWithIdentity(GroundworkCheck):
    id = "CKV_GW_DEPLOY_90"
    name = "Containers that sign in with a managed identity run an Azure CLI that can"
    requirement = "DEPLOY-6"
    severity = "HIGH"
    resource_types = ("azurerm_container_app_job", "azurerm_container_app")
    needs_config = False

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        verdicts = []
        for template in blocks(body, "template"):
            for container in blocks(template, "container"):
                words = [*(container.get("command") or []), *(container.get("args") or [])]
                script = " ".join(str(word) for word in words)
                if not IDENTITY_LOGIN.search(script):
                    continue
                image = str(container.get("image"))
                version = CLI_IMAGE.match(image)
                if version is None:
                    verdicts.append(Verdict.failed(f"signs in with az but runs {image}"))
                elif tuple(int(n) for n in version.groups()[:2]) < MINIMUM:
                    verdicts.append(
                        Verdict.failed(
                            f"{image} signs in through IMDS only, which Container Apps "
                            "does not serve (Azure CLI 2.73 or later needed)"
                        )
                    )
                elif USERNAME.search(script):
                    verdicts.append(
                        Verdict.failed("passes --username, which Azure CLI 2.73+ refuses")
                    )
                else:
                    verdicts.append(Verdict.passed(f"{image} signs in with --client-id"))
        return combine(verdicts or [Verdict.passed("does not sign in with az")])


check = CliSignsInWithIdentity()
