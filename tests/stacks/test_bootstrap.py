"""The bootstrap stacks (STATE-2): per cloud, the state storage is versioned, encrypted with
its own customer-managed key, private, protected from destroy, deterministically named,
tagged as `bootstrap-<cloud>` and printed as outputs; and how their configs are derived.

The stacks are the session matrix's (tests/conftest.py): main.py's own synthesis of each
cloud (`bootstrap_configs` of the loaded environments, one `bootstrap_stack_class` each,
with the synth-time guards), so a guard violation fails here too. A bootstrap-only app built
them identically but for the outdir-relative local state path, at about 3 s of CPU per cloud.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from matrix import CLOUDS, ROOT, bootstrap_stack, resources_of

from synth import verify
from synth.config import (
    ConfigError,
    bootstrap_configs,
    load_environments,
    parse_environment,
)


@pytest.fixture(scope="module")
def bootstrap_dir(matrix_dir: Path) -> Path:
    """`<dir>/<cloud>/stacks/bootstrap-<cloud>/cdk.tf.json`, as main.py wrote it."""
    return matrix_dir


@pytest.fixture(scope="module")
def stacks(bootstrap_dir: Path) -> dict[str, dict[str, Any]]:
    return {
        cloud: json.loads(
            (bootstrap_dir / cloud / "stacks" / bootstrap_stack(cloud) / "cdk.tf.json").read_text()
        )
        for cloud in CLOUDS
    }


@pytest.fixture(scope="module")
def production() -> Callable[[str], Any]:
    """The production environment's config for a cloud."""
    environments = {
        cloud: {c.name: c for c in load_environments(ROOT / "environments", cloud=cloud)}
        for cloud in CLOUDS
    }
    return lambda cloud: environments[cloud]["production"]


def one(stack: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (resource,) = resources_of(stack, resource_type)
    return resource


def gcp_bucket(stack: dict[str, Any], suffix: str) -> dict[str, Any]:
    """The stack's one GCS bucket whose name ends with `suffix`."""
    (bucket,) = [
        b for b in resources_of(stack, "google_storage_bucket") if b["name"].endswith(suffix)
    ]
    return bucket


def companion(stack: dict[str, Any], resource_type: str, address: str) -> dict[str, Any]:
    """The one `resource_type` resource configuring the bucket at `address`."""
    matching = [
        body
        for body in resources_of(stack, resource_type)
        if str(body["bucket"]).startswith(f"${{{address}.")
    ]
    assert len(matching) == 1, (resource_type, address, matching)
    return matching[0]


# --- AWS ---------------------------------------------------------------------------------

AWS_ACCOUNT = r"\$\{data\.aws_caller_identity\.[^}]+\.account_id\}"
AWS_BUCKETS = {
    "state": rf"groundwork-tfstate-{AWS_ACCOUNT}",
    "replica": rf"groundwork-tfstate-replica-{AWS_ACCOUNT}",
    "logs": rf"groundwork-tfstate-logs-{AWS_ACCOUNT}-eu-west-1",
    "replica-logs": rf"groundwork-tfstate-logs-{AWS_ACCOUNT}-eu-central-1",
}


def aws_bucket(stack: dict[str, Any], role: str) -> tuple[str, dict[str, Any]]:
    """(`aws_s3_bucket.<name>`, body) of the bootstrap stack's bucket playing `role`, by name."""
    (found,) = [
        (f"aws_s3_bucket.{name}", body)
        for name, body in stack["resource"]["aws_s3_bucket"].items()
        if re.fullmatch(AWS_BUCKETS[role], body["bucket"])
    ]
    return found


def aws_key(stack: dict[str, Any], description: str) -> tuple[str, dict[str, Any]]:
    """(`aws_kms_key.<name>`, body) of the stack's one key with `description`."""
    (found,) = [
        (f"aws_kms_key.{name}", body)
        for name, body in stack["resource"]["aws_kms_key"].items()
        if body["description"] == description
    ]
    return found


def test_aws_bootstrap_buckets_are_the_state_its_replica_and_two_log_buckets(
    stacks: dict[str, Any], production: Callable[[str], Any]
) -> None:
    """The regions the names carry are the production config's (`aws.region`,
    `aws.replica_region`), which the bootstrap config copies."""
    config = production("aws")
    assert (config.aws.region, config.aws.replica_region) == ("eu-west-1", "eu-central-1")
    stack = stacks["aws"]
    assert len(stack["resource"]["aws_s3_bucket"]) == len(AWS_BUCKETS)
    for role in AWS_BUCKETS:
        aws_bucket(stack, role)


def test_aws_state_bucket_is_versioned_kms_encrypted_private(stacks: dict[str, Any]) -> None:
    stack = stacks["aws"]
    address, _ = aws_bucket(stack, "state")
    versioning = companion(stack, "aws_s3_bucket_versioning", address)
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    encryption = companion(stack, "aws_s3_bucket_server_side_encryption_configuration", address)
    default = encryption["rule"][0]["apply_server_side_encryption_by_default"]
    key_address, key = aws_key(stack, "groundwork: Terraform state")
    assert default == {"sse_algorithm": "aws:kms", "kms_master_key_id": f"${{{key_address}.arn}}"}
    assert key["enable_key_rotation"] is True
    block = companion(stack, "aws_s3_bucket_public_access_block", address)
    for setting in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block[setting] is True, setting
    ownership = companion(stack, "aws_s3_bucket_ownership_controls", address)
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"


def test_aws_state_bucket_lifecycle_tls_only_and_no_lock_table(stacks: dict[str, Any]) -> None:
    stack = stacks["aws"]
    address, _ = aws_bucket(stack, "state")
    lifecycle = companion(stack, "aws_s3_bucket_lifecycle_configuration", address)
    (rule,) = lifecycle["rule"]
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] == 90
    assert rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 7
    policy = companion(stack, "aws_s3_bucket_policy", address)
    (document_name,) = re.findall(r"data\.aws_iam_policy_document\.([^.]+)\.json", policy["policy"])
    document = stack["data"]["aws_iam_policy_document"][document_name]
    denials = [s for s in document["statement"] if s.get("effect") == "Deny"]
    conditions = {s["condition"][0]["variable"] for s in denials}
    assert conditions == {"aws:SecureTransport", "s3:TlsVersion"}
    # Locking is the S3 backend's lock file (use_lockfile), not a DynamoDB table.
    assert "aws_dynamodb_table" not in stack["resource"]


def test_aws_state_and_its_replica_are_protected_from_destroy(stacks: dict[str, Any]) -> None:
    stack = stacks["aws"]
    for role in ("state", "replica"):
        _, bucket = aws_bucket(stack, role)
        assert bucket["lifecycle"] == {"prevent_destroy": True}, role
        assert bucket["force_destroy"] is False, role
    for description in (
        "groundwork: Terraform state",
        "groundwork: S3 replica of the tfstate bucket",
    ):
        _, key = aws_key(stack, description)
        assert key["lifecycle"] == {"prevent_destroy": True}, description


def test_aws_state_bucket_name_is_app_and_account(stacks: dict[str, Any]) -> None:
    stack = stacks["aws"]
    (account,) = stack["data"]["aws_caller_identity"]
    name = f"groundwork-tfstate-${{data.aws_caller_identity.{account}.account_id}}"
    assert aws_bucket(stack, "state")[1]["bucket"] == name
    aliases = {alias["name"] for alias in resources_of(stack, "aws_kms_alias")}
    assert aliases == {"alias/groundwork-tfstate", "alias/groundwork-tfstate-replica"}


def test_aws_state_admits_each_other_environment_account_to_its_own_key_only(
    stacks: dict[str, Any], production: Callable[[str], Any]
) -> None:
    """STATE-1, DEPLOY-3: dev and staging deploy from accounts of their own, so the state
    bucket's policy and key policy grant each account its own state key (and lock file) and
    nothing more; the bucket's own account (production's) needs no grant."""
    stack = stacks["aws"]
    address, _ = aws_bucket(stack, "state")
    policy = companion(stack, "aws_s3_bucket_policy", address)
    document = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}", policy["policy"])
    assert document, policy["policy"]
    statements = stack["data"]["aws_iam_policy_document"][document.group(1)]["statement"]
    arn = f"${{{address}.arn}}"
    accounts = {"dev": "111122223333", "staging": "444455556666"}
    assert production("aws").aws.account_id == "777788889999"
    granted = [s for s in statements if s.get("effect", "Allow") == "Allow"]
    assert {s["principals"][0]["identifiers"][0] for s in granted} == {
        f"arn:aws:iam::{account}:root" for account in accounts.values()
    }
    for env, account in accounts.items():
        mine = [
            s
            for s in granted
            if s["principals"][0]["identifiers"] == [f"arn:aws:iam::{account}:root"]
        ]
        key = f"groundwork/{env}/terraform.tfstate"
        assert sorted((tuple(s["actions"]), tuple(s["resources"])) for s in mine) == [
            (("s3:DeleteObject", "s3:GetObject", "s3:PutObject"), (f"{arn}/{key}*",)),
            (("s3:ListBucket",), (arn,)),
        ]
        (listing,) = [s for s in mine if s["actions"] == ["s3:ListBucket"]]
        assert listing["condition"] == [
            {"test": "StringLike", "variable": "s3:prefix", "values": [f"{key}*"]}
        ]
    _, key = aws_key(stack, "groundwork: Terraform state")
    key_statements = json.loads(key["policy"])["Statement"]
    for account in accounts.values():
        (use,) = [
            s for s in key_statements if s["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
        ]
        assert use["Action"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        assert use["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
        assert all(
            value.startswith("arn:aws:s3:::groundwork-tfstate-")
            for value in use["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"]
        )


def test_aws_state_replicates_to_the_replica_bucket_with_the_replica_key(
    stacks: dict[str, Any],
) -> None:
    """OBJ-4 / STATE-2: every object, re-encrypted with a key of the replica region, after
    both buckets are versioned and the role may replicate."""
    stack = stacks["aws"]
    state_address, _ = aws_bucket(stack, "state")
    replica_address, replica = aws_bucket(stack, "replica")
    key_address, key = aws_key(stack, "groundwork: S3 replica of the tfstate bucket")
    assert key["provider"] == replica["provider"] == "aws.replica"
    (provider,) = [p for p in stack["provider"]["aws"] if p.get("alias") == "replica"]
    assert provider["region"] == "eu-central-1"
    replica_encryption = companion(
        stack, "aws_s3_bucket_server_side_encryption_configuration", replica_address
    )
    assert replica_encryption["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": f"${{{key_address}.arn}}",
    }
    replication = companion(stack, "aws_s3_bucket_replication_configuration", state_address)
    (rule,) = replication["rule"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": ""}
    assert rule["source_selection_criteria"] == {"sse_kms_encrypted_objects": {"status": "Enabled"}}
    assert rule["destination"]["bucket"] == f"${{{replica_address}.arn}}"
    assert rule["destination"]["encryption_configuration"] == {
        "replica_kms_key_id": f"${{{key_address}.arn}}"
    }
    (role_name,) = [
        name
        for name, role in stack["resource"]["aws_iam_role"].items()
        if role["name"] == "groundwork-tfstate-replication"
    ]
    assert replication["role"] == f"${{aws_iam_role.{role_name}.arn}}"
    versioning = {
        f"aws_s3_bucket_versioning.{name}"
        for name, body in stack["resource"]["aws_s3_bucket_versioning"].items()
        if body["bucket"] in (f"${{{state_address}.id}}", f"${{{replica_address}.id}}")
    }
    assert len(versioning) == 2
    assert versioning <= set(replication["depends_on"])


@pytest.mark.parametrize(("source", "target"), [("state", "logs"), ("replica", "replica-logs")])
def test_aws_state_access_is_logged_to_an_sse_s3_bucket_of_its_region(
    stacks: dict[str, Any], source: str, target: str
) -> None:
    """OBJ-6: server access logs of the state bucket (and of its replica) go to an SSE-S3 log
    bucket in the same region, once that bucket's policy admits S3's log delivery."""
    stack = stacks["aws"]
    source_address, source_bucket = aws_bucket(stack, source)
    target_address, target_bucket = aws_bucket(stack, target)
    assert source_bucket.get("provider") == target_bucket.get("provider")
    logging = companion(stack, "aws_s3_bucket_logging", source_address)
    assert logging["target_bucket"] == f"${{{target_address}.bucket}}"
    assert logging["target_prefix"] == f"s3/${{{source_address}.bucket}}/"
    assert logging.get("provider") == source_bucket.get("provider")
    ((policy_key, policy),) = [
        (name, body)
        for name, body in stack["resource"]["aws_s3_bucket_policy"].items()
        if body["bucket"] == f"${{{target_address}.id}}"
    ]
    assert f"aws_s3_bucket_policy.{policy_key}" in logging["depends_on"]
    encryption = companion(
        stack, "aws_s3_bucket_server_side_encryption_configuration", target_address
    )
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "AES256"
    }
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    delivery = statements["S3ServerAccessLogs"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Resource"] == f"${{{target_address}.arn}}/s3/*"
    assert list(delivery["Condition"]["StringEquals"]) == ["aws:SourceAccount"]
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    assert companion(stack, "aws_s3_bucket_versioning", target_address)[
        "versioning_configuration"
    ] == {"status": "Enabled"}
    block = companion(stack, "aws_s3_bucket_public_access_block", target_address)
    assert all(block[setting] is True for setting in ("block_public_acls", "block_public_policy"))


def test_aws_state_buckets_carry_no_gap_waiver(stacks: dict[str, Any]) -> None:
    """Replication and access logging are built, so nothing waives them on the state bucket
    or its replica."""
    stack = stacks["aws"]
    for role in ("state", "replica"):
        _, bucket = aws_bucket(stack, role)
        waived = {w["check"] for w in bucket.get("//", {}).get("waivers", [])}
        assert not waived & {"CKV_AWS_18", "CKV_AWS_144"}, (role, waived)


# --- GCP ---------------------------------------------------------------------------------


def test_gcp_state_bucket_is_versioned_cmek_encrypted_private(
    stacks: dict[str, Any], production: Callable[[str], Any]
) -> None:
    stack = stacks["gcp"]
    bucket = gcp_bucket(stack, "-tfstate")
    (key_name,) = stack["resource"]["google_kms_crypto_key"]
    assert bucket["name"] == f"{production('gcp').gcp.project}-tfstate"
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["encryption"] == {
        "default_kms_key_name": f"${{google_kms_crypto_key.{key_name}.id}}"
    }
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    gcp = production("gcp").gcp  # a production config: dual-region, as for the app (OBJ-4)
    assert bucket["custom_placement_config"]["data_locations"] == [
        gcp.region.upper(),
        gcp.replica_region.upper(),
    ]
    noncurrent = [
        r for r in bucket["lifecycle_rule"] if "days_since_noncurrent_time" in r["condition"]
    ]
    assert [r["condition"]["days_since_noncurrent_time"] for r in noncurrent] == [90]
    key = one(stack, "google_kms_crypto_key")
    assert key["rotation_period"] == f"{90 * 24 * 3600}s"
    grant = one(stack, "google_kms_crypto_key_iam_member")
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    # DEPLOY-2: the Cloud Storage agent, read from (and so created by) the GA data source.
    assert "data.google_storage_project_service_account." in grant["member"]
    assert any("google_storage_project_service_account" in d for d in grant["depends_on"])
    # DEPLOY-4: the EU dual-region's key lives in Cloud KMS's `europe`, not `eu`.
    assert bucket["location"] == "EU"
    assert one(stack, "google_kms_key_ring")["location"] == "europe"


def test_gcp_state_is_protected_from_destroy(stacks: dict[str, Any]) -> None:
    stack = stacks["gcp"]
    assert gcp_bucket(stack, "-tfstate")["lifecycle"] == {"prevent_destroy": True}
    assert gcp_bucket(stack, "-tfstate")["force_destroy"] is False
    assert one(stack, "google_kms_crypto_key")["lifecycle"] == {"prevent_destroy": True}


def test_gcp_state_requests_are_logged_to_an_access_log_bucket(
    stacks: dict[str, Any], production: Callable[[str], Any]
) -> None:
    """Who read or wrote state: usage logs go to a second bucket, as the app's bucket does
    (the waiver that claimed data-access audit logs no stack enables is gone)."""
    stack = stacks["gcp"]
    state, logs = gcp_bucket(stack, "-tfstate"), gcp_bucket(stack, "-tfstate-access-logs")
    (logs_name,) = [
        name
        for name, body in stack["resource"]["google_storage_bucket"].items()
        if body["name"].endswith("-tfstate-access-logs")
    ]
    assert state["logging"] == {
        "log_bucket": f"${{google_storage_bucket.{logs_name}.name}}",
        "log_object_prefix": "tfstate/",
    }
    assert logs["encryption"] == state["encryption"]
    assert logs["public_access_prevention"] == "enforced"
    assert logs["versioning"] == {"enabled": True}
    expiry = [r["condition"]["age"] for r in logs["lifecycle_rule"] if "age" in r["condition"]]
    assert production("gcp").logs.retention_days in expiry
    (writer,) = resources_of(stack, "google_storage_bucket_iam_member")
    assert writer["member"] == "group:cloud-storage-analytics@google.com"
    assert writer["role"] == "roles/storage.objectCreator"
    assert "CKV_GCP_62" not in {w["check"] for w in state["//"].get("waivers", [])}
    # OBJ-5: the XML API admits plain HTTP on every bucket; declared, never passed.
    for bucket in (state, logs):
        assert "CKV_GW_OBJ_44" in {w["check"] for w in bucket["//"].get("waivers", [])}
    assert {"age": production("gcp").logs.retention_days, "with_state": "ANY"} in [
        r["condition"] for r in logs["lifecycle_rule"]
    ]


# --- Azure -------------------------------------------------------------------------------


def test_azure_state_blob_operations_are_logged_to_log_analytics(
    stacks: dict[str, Any],
) -> None:
    """Who read, wrote or deleted state: a diagnostic setting on the state account's blob
    service sends StorageRead/Write/Delete to the stack's own workspace."""
    stack = stacks["azure"]
    (account_name,) = stack["resource"]["azurerm_storage_account"]
    (workspace_name,) = stack["resource"]["azurerm_log_analytics_workspace"]
    setting = one(stack, "azurerm_monitor_diagnostic_setting")
    assert setting["target_resource_id"] == (
        f"${{azurerm_storage_account.{account_name}.id}}/blobServices/default"
    )
    assert setting["log_analytics_workspace_id"] == (
        f"${{azurerm_log_analytics_workspace.{workspace_name}.id}}"
    )
    assert {log["category"] for log in setting["enabled_log"]} == {
        "StorageRead",
        "StorageWrite",
        "StorageDelete",
    }
    assert one(stack, "azurerm_log_analytics_workspace")["local_authentication_enabled"] is False


def test_azure_state_account_is_versioned_cmk_encrypted_private(stacks: dict[str, Any]) -> None:
    stack = stacks["azure"]
    account = one(stack, "azurerm_storage_account")
    assert account["blob_properties"]["versioning_enabled"] is True
    assert account["blob_properties"]["delete_retention_policy"]["days"] >= 7
    (key_name,) = stack["resource"]["azurerm_key_vault_key"]
    assert account["customer_managed_key"]["key_vault_key_id"] == (
        f"${{azurerm_key_vault_key.{key_name}.versionless_id}}"
    )
    assert account["infrastructure_encryption_enabled"] is True
    assert account["allow_nested_items_to_be_public"] is False
    assert account["shared_access_key_enabled"] is False
    assert account["https_traffic_only_enabled"] is True
    assert account["min_tls_version"] == "TLS1_2"
    assert account["account_replication_type"] == "GRS"
    container = one(stack, "azurerm_storage_container")
    assert (container["name"], container["container_access_type"]) == ("tfstate", "private")
    key = one(stack, "azurerm_key_vault_key")
    assert key["rotation_policy"]["automatic"]["time_after_creation"] == "P90D"
    vault = one(stack, "azurerm_key_vault")
    assert vault["purge_protection_enabled"] is True


def test_azure_state_is_protected_from_destroy(stacks: dict[str, Any]) -> None:
    stack = stacks["azure"]
    for resource_type in (
        "azurerm_storage_account",
        "azurerm_storage_container",
        "azurerm_key_vault",
        "azurerm_key_vault_key",
    ):
        assert one(stack, resource_type)["lifecycle"]["prevent_destroy"] is True, resource_type
    lock = one(stack, "azurerm_management_lock")
    (account_name,) = stack["resource"]["azurerm_storage_account"]
    assert lock["lock_level"] == "CanNotDelete"
    assert lock["scope"] == f"${{azurerm_storage_account.{account_name}.id}}"


def test_azure_state_names_are_derived_from_app_and_subscription(
    stacks: dict[str, Any], production: Callable[[str], Any]
) -> None:
    stack = stacks["azure"]
    subscription = production("azure").azure.subscription_id
    digest = hashlib.sha256(f"{subscription}/groundwork-bootstrap-azure".encode()).hexdigest()
    account = one(stack, "azurerm_storage_account")["name"]
    assert account.startswith("sttfstate") and account.endswith(digest[:6])
    assert len(account) <= 24 and account.isalnum()
    assert one(stack, "azurerm_resource_group")["name"] == "rg-groundwork-tfstate"


# --- every cloud -------------------------------------------------------------------------

OUTPUTS = {
    "aws": {"state_bucket", "state_kms_key_arn", "state_backend"},
    "gcp": {"state_bucket", "state_kms_key_id", "state_backend"},
    "azure": {
        "state_resource_group_name",
        "state_storage_account_name",
        "state_container_name",
        "state_backend",
    },
}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_outputs_name_the_storage_and_the_backend_snippet(
    stacks: dict[str, Any], cloud: str
) -> None:
    outputs = stacks[cloud]["output"]
    assert OUTPUTS[cloud] <= set(outputs)
    assert outputs["environment"]["value"] == bootstrap_stack(cloud)
    backend = {"aws": "s3", "gcp": "gcs", "azure": "azurerm"}[cloud]
    assert outputs["state_backend"]["value"].startswith(f"state: {{backend: {backend}, ")


@pytest.mark.parametrize("cloud", CLOUDS)
def test_own_state_is_local_in_the_project_root(
    stacks: dict[str, Any], bootstrap_dir: Path, cloud: str
) -> None:
    """Relative to the stack's folder (where Terraform runs), whatever the output folder."""
    name = bootstrap_stack(cloud)
    (path,) = stacks[cloud]["terraform"]["backend"]["local"].values()
    assert not path.startswith("/")
    state = (bootstrap_dir / cloud / "stacks" / name / path).resolve()
    assert state == ROOT / f"terraform.{name}.tfstate"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_tags_carry_the_bootstrap_environment(stacks: dict[str, Any], cloud: str) -> None:
    stack = stacks[cloud]
    expected = {
        "app": "groundwork",
        "environment": bootstrap_stack(cloud),
        "managed-by": "groundwork",
        "owner": "platform-team",
        "cost-center": "cc-1001",
    }
    if cloud == "aws":
        # Both providers, the state's region and the replica's, tag what they create.
        providers = stack["provider"]["aws"]
        assert [p.get("alias") for p in providers] == [None, "replica"]
        for provider in providers:
            assert provider["default_tags"] == [{"tags": expected}]
    elif cloud == "gcp":
        (provider,) = stack["provider"]["google"]
        assert provider["default_labels"] == expected
    else:
        tagged = [
            body
            for resource_type, named in stack["resource"].items()
            for body in named.values()
            if "tags" in body
        ]
        assert tagged
        assert all(body["tags"] == expected for body in tagged)


# --- configs -----------------------------------------------------------------------------


@pytest.mark.parametrize("cloud", CLOUDS)
def test_bootstrap_config_is_productions_account_project_subscription(
    cloud: str, production: Callable[[str], Any]
) -> None:
    environments = load_environments(ROOT / "environments", cloud=cloud)
    (config,) = bootstrap_configs(environments)
    source = production(cloud)
    assert (config.name, config.role, config.tier) == (
        bootstrap_stack(cloud),
        "bootstrap",
        "production",
    )
    assert (config.aws, config.gcp, config.azure) == (source.aws, source.gcp, source.azure)
    assert config.state.backend == "local"
    assert config.waivers == []
    assert config.tags["environment"] == bootstrap_stack(cloud)


def test_bootstrap_configs_one_per_cloud_in_use_highest_tier_first() -> None:
    environments = load_environments(ROOT / "environments", cloud="gcp")
    by_name = {config.name: config for config in environments}
    dev = by_name["dev"].model_copy(update={"cloud": "aws"})
    staging = by_name["staging"]
    configs = bootstrap_configs([dev, staging, by_name["dev"]])
    assert [(c.name, c.cloud) for c in configs] == [
        ("bootstrap-aws", "aws"),
        ("bootstrap-gcp", "gcp"),
    ]
    assert configs[0].gcp == dev.gcp  # the only aws environment
    assert configs[1].gcp == staging.gcp  # staging outranks dev
    assert bootstrap_configs([]) == []


def test_environment_files_cannot_set_role() -> None:
    with pytest.raises(ConfigError) as error:
        parse_environment(
            "dev", {"tier": "dev", "role": "bootstrap"}, source="environments/dev.yaml"
        )
    assert str(error.value).startswith("environments/dev.yaml: role: unknown key; ")
    assert "bootstrap" in str(error.value)


# --- the gate ----------------------------------------------------------------------------


def test_gate_judges_bootstrap_stacks_by_their_config_and_the_bootstrap_list() -> None:
    """load_configs derives a bootstrap stack's config from the environments synthesized for
    its cloud alongside it; only the map's `bootstrap:` requirements apply to it."""
    stacks = [
        verify.Stack(name, Path(name), {"provider": {"aws": [{}]}}, ())
        for name in ("dev", "production", "bootstrap-aws")
    ]
    configs = verify.load_configs(stacks, ROOT / "environments")
    assert configs["bootstrap-aws"] == bootstrap_configs([configs["dev"], configs["production"]])[0]
    mapping = verify.load_requirement_map(ROOT / "policies" / "requirements")
    assert {"STATE-2", "TAG-1", "OBJ-1", "OBJ-2", "OBJ-3"} <= set(mapping.bootstrap)
    bootstrap, production = configs["bootstrap-aws"], configs["production"]
    assert verify.applicable("STATE-2", bootstrap, mapping)
    assert not verify.applicable("NET-1", bootstrap, mapping)
    assert not verify.applicable("AUTH-1", bootstrap, mapping)
    assert verify.applicable("NET-1", production, mapping)  # workloads: as before
