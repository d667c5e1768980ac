"""Builds first-apply steps run from the deploy runner: start a Container Apps job and wait for
it, or check that an external secret has a value before a service reads it.

Satisfies: DEPLOY-2, DEPLOY-6

azurerm 4.55 can create a Container Apps job but not run one, and a scheduled job first runs
at its next cron tick, after the apply has finished. Where the app needs the job's work the
moment the apply ends (its PostgreSQL role, its cache access policy), the job is manually
triggered and a `terraform_data` resource with a `local-exec` provisioner starts it with the
Azure CLI on the deploy runner and polls the execution until it succeeds, failing the apply if
it does not (GCP's first-apply steps are the same mechanism, constructs/gcp/steps.py). The
step runs when it is created and again when its `triggers_replace` change (what the job does,
or for whom), and a failed step is tainted, so the next apply runs it again.

`az containerapp job start` and `az containerapp job execution show` are in the core Azure CLI
(GA, no extension: https://learn.microsoft.com/cli/azure/containerapp/job#az-containerapp-job-start,
https://learn.microsoft.com/cli/azure/containerapp/job/execution); the start returns the
execution's `name` (REST "Jobs - Start" returns a JobExecutionBase, name and id:
https://learn.microsoft.com/rest/api/containerapps/jobs/start), whose `properties.status` is
one of Running, Processing, Stopped, Degraded, Failed, Unknown, Succeeded
(https://learn.microsoft.com/rest/api/containerapps/jobs-executions/list, JobExecutionRunningState).
The runner therefore needs the Azure CLI signed in as the deployer, whose Owner role on the
subscription includes `Microsoft.App/jobs/start/action` (README, "Azure: before the first apply").
The step's `input` records what it does and the role it needs, so policies read it from the JSON.

`SecretHasValue` is the same mechanism for an external secret marked set (`value_set: true`):
it fails the apply, before any service that reads the secret is created or changed, when the
secret's latest version is empty (`CHECK_VALUE` below; CKV_GW_DEPLOY_94).
"""

from __future__ import annotations

from cdktf import ITerraformDependable, LocalExecProvisioner, TerraformResource
from cdktf_cdktf_provider_azurerm.container_app_job import ContainerAppJob
from cdktf_cdktf_provider_azurerm.key_vault_secret import KeyVaultSecret
from constructs import Construct

# The job's replica timeout times its attempts (1 + replica_retry_limit), plus the time Container
# Apps takes to schedule a replica; the step gives up after this and fails the apply.
WAIT_SECONDS = 20 * 60
POLL_SECONDS = 10
DEPLOYER_ROLE = "Owner"  # README "Give the deployer its roles"; includes jobs/start/action

# In GitHub Actions the CLI signs in here, with a fresh OIDC token, as the deploy identity the
# workflow gave Terraform (ARM_CLIENT_ID, ARM_TENANT_ID): the workflow signs only Terraform in
# (.github/workflows/deploy.yml), and a CLI login made at the job's start could not outlive
# the apply, because the CLI cannot renew a federated token once GitHub's expires (about
# 10 minutes; Azure/azure-cli#28708, Azure/login#180) while these steps run after the 10-minute
# role-propagation waits. Elsewhere the operator's own `az login` is used (README). No shell
# `${...}` here: Terraform would read it as an interpolation (CKV_GW_DEPLOY_3).
SIGN_IN = r"""set -eu
if env | grep -q '^ACTIONS_ID_TOKEN_REQUEST_URL='; then
  assertion=$(curl -fsS -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
    "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange" \
    | sed -n 's/.*"value":"\([^"]*\)".*/\1/p')
  test -n "$assertion"
  az login --service-principal --username "$ARM_CLIENT_ID" --tenant "$ARM_TENANT_ID" \
    --federated-token "$assertion" --allow-no-subscriptions --output none
fi
"""
START_AND_WAIT = SIGN_IN + (
    r"""execution=$(az containerapp job start --subscription "$SUBSCRIPTION" \
  --resource-group "$RESOURCE_GROUP" --name "$JOB" --query name -o tsv)
test -n "$execution"
echo "started $JOB execution $execution"
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  status=$(az containerapp job execution show --subscription "$SUBSCRIPTION" \
    --resource-group "$RESOURCE_GROUP" --name "$JOB" --job-execution-name "$execution" \
    --query properties.status -o tsv)
  case "$status" in
    Succeeded) echo "$JOB execution $execution succeeded"; exit 0 ;;
    Failed|Stopped|Degraded)
      echo "$JOB execution $execution ended $status (see its execution history)" >&2
      exit 1 ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "$JOB execution $execution still $status after WAIT_SECONDS s" >&2
    exit 1
  fi
  sleep POLL_SECONDS
done
""".replace("WAIT_SECONDS", str(WAIT_SECONDS)).replace("POLL_SECONDS", str(POLL_SECONDS))
)


class JobRun(TerraformResource):
    """`terraform_data.<id>`: starts `job` once in the apply and waits until it succeeds."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        job: ContainerAppJob,
        subscription_id: str,
        does: str,
        triggers: dict[str, str],
        depends_on: list[ITerraformDependable] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type="terraform_data",
            depends_on=depends_on,
            provisioners=[
                LocalExecProvisioner(
                    type="local-exec",
                    command=START_AND_WAIT,
                    interpreter=["/bin/sh", "-c"],
                    environment={
                        "SUBSCRIPTION": subscription_id,
                        "RESOURCE_GROUP": job.resource_group_name,
                        "JOB": job.name,
                    },
                )
            ],
        )
        self.add_override("input", {"does": does, "starts": job.id, "role": DEPLOYER_ROLE})
        # Runs again when the job is replaced or what it does changes (a new service's role).
        self.add_override("triggers_replace", {"job": job.id, **triggers})


# An external secret marked set (`value_set: true`) is created with an empty first version
# (constructs/azure/secrets.py), and a Container App cannot start on an empty Key Vault value
# ("Unable to get value", microsoft/azure-container-apps #1291). In a fresh subscription, after
# the secret was destroyed and created again, or in an environment file copied with the flag,
# the apply would create it empty and point the app at it in the same run. So before any app
# references it, this step asks Key Vault for the LENGTH of the latest version's value (the
# value itself is never printed: `--query "length(value)"`, JMESPath on the CLI's output,
# https://learn.microsoft.com/cli/azure/keyvault/secret#az-keyvault-secret-show) and fails the
# apply with what to do when it is empty or unreadable. The deployer reads it with its Key
# Vault Secrets Officer role on the vault, from an address the vault's firewall admits
# (`azure.deployer_ip_ranges`), as Terraform itself writes the secrets.
CHECK_VALUE = (
    SIGN_IN
    + r"""if ! length=$(az keyvault secret show \
    --vault-name "$VAULT" --name "$SECRET" --query "length(value)" -o tsv); then
  echo "$ENTRY: could not read Key Vault secret $SECRET in $VAULT (see the error above)" >&2
  exit 1
fi
if [ "$length" -gt 0 ] 2>/dev/null; then
  echo "$ENTRY: Key Vault secret $SECRET in $VAULT has a value"
  exit 0
fi
cat >&2 <<MESSAGE
secrets.catalog.$ENTRY says value_set: true, but the latest version of Key Vault secret
$SECRET in $VAULT is empty, and a Container App cannot start on an empty secret
(microsoft/azure-container-apps #1291); nothing that reads it was changed.
Set its value (README, "Azure: setting an external secret"), with the value in a file:
  $SET_COMMAND
and apply again, or set value_set: false on $ENTRY in the environment file until it has one.
MESSAGE
exit 1
"""
)
SECRET_ROLE = "Key Vault Secrets Officer"  # the deployer's role on the vault (keys.py)


class SecretHasValue(TerraformResource):
    """`terraform_data.<id>`: fails the apply unless the latest version of the external secret
    `secret` (catalog entry `entry`) has a non-empty value; a reader of it depends on this."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        secret: KeyVaultSecret,
        vault_name: str,
        entry: str,
        set_command: str,
        triggers: dict[str, str],
    ) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type="terraform_data",
            provisioners=[
                LocalExecProvisioner(
                    type="local-exec",
                    command=CHECK_VALUE,
                    interpreter=["/bin/sh", "-c"],
                    environment={
                        "VAULT": vault_name,
                        "SECRET": secret.name,
                        "ENTRY": entry,
                        "SET_COMMAND": set_command,
                    },
                )
            ],
        )
        self.add_override(
            "input",
            {
                "does": f"checks that external secret {entry} has a value before a service "
                "reads it",
                "checks": secret.id,
                "role": SECRET_ROLE,
            },
        )
        # Runs when it is created (the entry became set, or a service began to read it), when
        # the secret is created again (a new versioned ID), and when the reference changes.
        self.add_override("triggers_replace", {"secret": secret.id, **triggers})
