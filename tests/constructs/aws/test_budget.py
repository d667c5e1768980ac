"""Budget: a monthly cost budget per environment, 80 % forecast and 100 % actual (COST-1).

Alone in its account (the shipped environments) the budget counts the account's costs, with no
filter; where environments share an account (`aws.account_shared`) it counts the environment
tag, which must be activated by hand, and says so in a waiver of CKV_GW_DEPLOY_106."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdktf import App, TerraformStack
from cdktf import Testing as CdktfTesting
from cdktf_cdktf_provider_aws.budgets_budget import BudgetsBudget
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs.aws.budget import Budget
from matrix import ENVIRONMENTS, resources_of

from synth.config import EnvironmentConfig, load_environment, load_environments

ROOT = Path(__file__).resolve().parents[3]
SHARED_ACCOUNT = "111122223333"


def budget_of(config: EnvironmentConfig, outdir: Path) -> dict[str, Any]:
    """The budget as the app writes it: cdktf's Testing.synth leaves out the `//` block that
    carries the declared waivers, so this synthesizes a real App into `outdir`."""
    app = App(outdir=str(outdir))
    stack = TerraformStack(app, config.name)
    AwsProvider(stack, "aws", region=config.aws.region)
    Budget(stack, "budget", config=config)
    app.synth()
    document = json.loads((outdir / "stacks" / config.name / "cdk.tf.json").read_text())
    [budget] = resources_of(document, "aws_budgets_budget")
    return budget


@pytest.fixture(scope="module")
def synthesized() -> str:
    config = load_environment(ROOT / "environments" / "dev.yaml")
    stack = TerraformStack(CdktfTesting.app(), "test")
    AwsProvider(stack, "aws", region=config.aws.region)
    Budget(stack, "budget", config=config)
    return CdktfTesting.synth(stack)


@pytest.fixture(scope="module")
def sharing(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EnvironmentConfig]:
    """The shipped dev and staging files moved into one account, as the loader accepts them:
    both say `account_shared: true`, staging leaves RDSOSMetrics and the app's log-delivery
    policy to dev."""
    directory = tmp_path_factory.mktemp("environments")
    for name in ("dev", "staging"):
        data = yaml.safe_load((ROOT / "environments" / f"{name}.yaml").read_text())
        data["aws"].update(account_id=SHARED_ACCOUNT, account_shared=True)
        if name == "staging":
            data["aws"].update(rds_os_metrics_log_group="exists", log_delivery_policy_regions=[])
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(data))
    return {config.name: config for config in load_environments(directory, cloud="aws")}


def test_monthly_cost_budget_notifies_at_80_forecast_and_100_actual_cost_1(
    synthesized: str,
) -> None:
    assert CdktfTesting.to_have_resource_with_properties(
        synthesized,
        BudgetsBudget.TF_RESOURCE_TYPE,
        {"budget_type": "COST", "time_unit": "MONTHLY", "limit_amount": "50", "limit_unit": "USD"},
    )
    [budget] = resources_of(json.loads(synthesized), "aws_budgets_budget")
    notifications = {
        (n["threshold"], n["notification_type"], n["threshold_type"]): n[
            "subscriber_email_addresses"
        ]
        for n in budget["notification"]
    }
    assert notifications == {
        (80, "FORECASTED", "PERCENTAGE"): ["alerts-dev@example.com"],
        (100, "ACTUAL", "PERCENTAGE"): ["alerts-dev@example.com"],
    }


@pytest.mark.parametrize(
    ("env", "amount"), [("dev", "50"), ("staging", "100"), ("production", "600")]
)
def test_budget_amount_follows_the_environment_cost_1(
    matrix: dict[tuple[str, str], Any], env: str, amount: str
) -> None:
    [budget] = resources_of(matrix["aws", env], "aws_budgets_budget")
    assert budget["limit_amount"] == amount


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_an_environment_alone_in_its_account_budgets_the_whole_account_cost_1(
    matrix: dict[tuple[str, str], Any], env: str
) -> None:
    """Each shipped file names its own account: the budget counts from the first day, with
    no tag filter that would count $0 until someone activates the tag."""
    [budget] = resources_of(matrix["aws", env], "aws_budgets_budget")
    assert "cost_filter" not in budget
    assert "waivers" not in budget.get("//", {})


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_environments_sharing_an_account_budget_their_tag_and_waive_its_activation_cost_1(
    sharing: dict[str, EnvironmentConfig], env: str, tmp_path: Path
) -> None:
    budget = budget_of(sharing[env], tmp_path)
    assert budget["cost_filter"] == [{"name": "TagKeyValue", "values": [f"user:environment${env}"]}]
    [waiver] = budget["//"]["waivers"]
    assert waiver["check"] == "CKV_GW_DEPLOY_106"
    assert (
        "activated as a cost allocation tag by hand from the management account"
        in (waiver["reason"])
    )
    assert (waiver["owner"], waiver["expires"]) == ("platform-team", "2027-05-31")
