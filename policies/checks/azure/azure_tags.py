"""Builds CKV_GW_TAG_70: every taggable Azure resource carries the environment's TAG-1 tags
(app, environment, managed-by, owner, cost-center). azurerm has no provider default tags, so
stacks/azure.py sets them on each resource through an aspect and each resource is checked."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, is_reference

# azurerm resource types with a `tags` argument that the Azure stacks create (or may).
TAGGABLE = (
    "azurerm_application_gateway",
    "azurerm_application_insights",
    "azurerm_application_insights_standard_web_test",
    "azurerm_container_app",
    "azurerm_container_app_environment",
    "azurerm_container_registry",
    "azurerm_eventgrid_system_topic",
    "azurerm_key_vault",
    "azurerm_key_vault_certificate",
    "azurerm_key_vault_key",
    "azurerm_key_vault_secret",
    "azurerm_log_analytics_workspace",
    "azurerm_monitor_action_group",
    "azurerm_monitor_metric_alert",
    "azurerm_monitor_scheduled_query_rules_alert_v2",
    "azurerm_nat_gateway",
    "azurerm_network_security_group",
    "azurerm_network_watcher_flow_log",
    "azurerm_portal_dashboard",
    "azurerm_postgresql_flexible_server",
    "azurerm_private_dns_a_record",
    "azurerm_private_dns_zone",
    "azurerm_private_dns_zone_virtual_network_link",
    "azurerm_private_endpoint",
    "azurerm_public_ip",
    "azurerm_redis_cache",
    "azurerm_resource_group",
    "azurerm_storage_account",
    "azurerm_user_assigned_identity",
    "azurerm_virtual_network",
    "azurerm_web_application_firewall_policy",
    "azurerm_cdn_frontdoor_profile",
    "azurerm_dns_zone",
)


class AzureTags(GroundworkCheck):
    id = "CKV_GW_TAG_70"
    name = "Azure resources carry the environment's five TAG-1 tags"
    requirement = "TAG-1"
    severity = "MEDIUM"
    resource_types = TAGGABLE

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        assert stack.config is not None
        tags = body.get("tags")
        if is_reference(tags):
            return Verdict.unknown(f"tags is an expression: {tags}")
        tags = tags if isinstance(tags, dict) else {}
        return combine([
            Verdict.failed(f"tag {key} is {tags.get(key)!r}, want {value!r}")
            for key, value in stack.config.tags.items()
            if tags.get(key) != value
        ] or [Verdict.passed("all TAG-1 tags")])  # fmt: skip


check = AzureTags()
