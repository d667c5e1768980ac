"""Builds CKV_GW_TAG_70: every taggable Azure resource carries the environment's TAG-1 tags
(app, environment, managed-by, owner, cost-center). azurerm has no provider default tags, so
stacks/azure.py sets them on each resource through an aspect and each resource is checked.
The list of taggable types is the provider's, so a resource type added later is covered."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, combine, is_reference

# Every azurerm 4.55 resource type with a `tags` argument (the provider bindings' resource
# classes that have `tags_input`, data sources excluded), without the `azurerm_` prefix.
TAGGABLE = tuple(
    f"azurerm_{name}"
    for name in """
    aadb2c_directory active_directory_domain_service ai_foundry ai_foundry_project
    ai_services analysis_services_server api_connection api_management
    api_management_named_value api_management_standalone_gateway app_configuration
    app_configuration_feature app_configuration_key app_service app_service_certificate
    app_service_certificate_order app_service_environment_v3 app_service_managed_certificate
    app_service_plan app_service_slot application_gateway application_insights
    application_insights_standard_web_test application_insights_web_test
    application_insights_workbook application_insights_workbook_template
    application_load_balancer application_load_balancer_frontend
    application_load_balancer_security_policy application_load_balancer_subnet_association
    application_security_group arc_kubernetes_cluster arc_kubernetes_provisioned_cluster
    arc_machine arc_machine_extension arc_private_link_scope arc_resource_bridge_appliance
    attestation_provider automanage_configuration automation_account
    automation_dsc_configuration automation_powershell72_module automation_python3_package
    automation_runbook automation_software_update_configuration automation_watcher
    availability_set bastion_host batch_account bot_channels_registration
    bot_service_azure_bot bot_web_app capacity_reservation capacity_reservation_group
    cdn_endpoint cdn_frontdoor_endpoint cdn_frontdoor_firewall_policy cdn_frontdoor_profile
    cdn_profile cognitive_account cognitive_account_project cognitive_account_rai_policy
    communication_service confidential_ledger container_app container_app_environment
    container_app_environment_certificate container_app_job container_group
    container_registry container_registry_agent_pool container_registry_task
    container_registry_webhook cosmosdb_account cosmosdb_cassandra_cluster
    cosmosdb_postgresql_cluster custom_ip_prefix custom_provider dashboard_grafana
    dashboard_grafana_managed_private_endpoint database_migration_project
    database_migration_service databox_edge_device databricks_access_connector
    databricks_workspace datadog_monitor dedicated_hardware_security_module dedicated_host
    dedicated_host_group dev_center dev_center_dev_box_definition
    dev_center_environment_type dev_center_network_connection dev_center_project
    dev_center_project_environment_type dev_center_project_pool
    dev_test_global_vm_shutdown_schedule dev_test_lab dev_test_linux_virtual_machine
    dev_test_policy dev_test_schedule dev_test_virtual_network
    dev_test_windows_virtual_machine digital_twins_instance disk_access disk_encryption_set
    dns_a_record dns_aaaa_record dns_caa_record dns_cname_record dns_mx_record dns_ns_record
    dns_ptr_record dns_srv_record dns_txt_record dns_zone dynatrace_monitor
    elastic_cloud_elasticsearch elastic_san email_communication_service
    email_communication_service_domain eventgrid_domain eventgrid_namespace
    eventgrid_partner_configuration eventgrid_partner_namespace
    eventgrid_partner_registration eventgrid_system_topic eventgrid_topic eventhub_cluster
    eventhub_namespace express_route_circuit express_route_gateway express_route_port
    fabric_capacity firewall firewall_policy fluid_relay_server frontdoor
    frontdoor_firewall_policy function_app function_app_flex_consumption function_app_slot
    gallery_application gallery_application_version graph_services_account
    hdinsight_hadoop_cluster hdinsight_hbase_cluster hdinsight_interactive_query_cluster
    hdinsight_kafka_cluster hdinsight_spark_cluster healthbot healthcare_dicom_service
    healthcare_fhir_service healthcare_medtech_service healthcare_service
    healthcare_workspace hpc_cache image iot_security_solution iotcentral_application iothub
    iothub_device_update_account iothub_device_update_instance iothub_dps ip_group key_vault
    key_vault_certificate key_vault_key key_vault_managed_hardware_security_module
    key_vault_managed_hardware_security_module_key key_vault_managed_storage_account
    key_vault_managed_storage_account_sas_token_definition key_vault_secret
    kubernetes_cluster kubernetes_cluster_node_pool kubernetes_fleet_manager kusto_cluster
    lb linux_function_app linux_function_app_slot linux_virtual_machine
    linux_virtual_machine_scale_set linux_web_app linux_web_app_slot load_test
    local_network_gateway log_analytics_cluster log_analytics_query_pack
    log_analytics_query_pack_query log_analytics_saved_search log_analytics_solution
    log_analytics_workspace logic_app_integration_account logic_app_standard
    logic_app_workflow machine_learning_compute_cluster machine_learning_compute_instance
    machine_learning_datastore_blobstorage machine_learning_datastore_datalake_gen2
    machine_learning_datastore_fileshare machine_learning_inference_cluster
    machine_learning_synapse_spark machine_learning_workspace
    maintenance_assignment_dynamic_scope maintenance_configuration managed_application
    managed_application_definition managed_disk managed_lustre_file_system managed_redis
    management_group_template_deployment maps_account maps_creator mobile_network
    mobile_network_attached_data_network mobile_network_data_network
    mobile_network_packet_core_control_plane mobile_network_packet_core_data_plane
    mobile_network_service mobile_network_sim_group mobile_network_sim_policy
    mobile_network_site mobile_network_slice mongo_cluster monitor_action_group
    monitor_activity_log_alert monitor_alert_processing_rule_action_group
    monitor_alert_processing_rule_suppression monitor_alert_prometheus_rule_group
    monitor_autoscale_setting monitor_data_collection_endpoint monitor_data_collection_rule
    monitor_metric_alert monitor_private_link_scope monitor_scheduled_query_rules_alert
    monitor_scheduled_query_rules_alert_v2 monitor_scheduled_query_rules_log
    monitor_smart_detector_alert_rule monitor_workspace mssql_database mssql_elasticpool
    mssql_failover_group mssql_job_agent mssql_managed_database mssql_managed_instance
    mssql_server mssql_virtual_machine mssql_virtual_machine_group mysql_flexible_server
    nat_gateway netapp_account netapp_backup_policy netapp_backup_vault netapp_pool
    netapp_snapshot_policy netapp_volume netapp_volume_group_oracle
    netapp_volume_group_sap_hana network_connection_monitor network_ddos_protection_plan
    network_function_azure_traffic_collector network_function_collector_policy
    network_interface network_manager network_manager_ipam_pool
    network_manager_verifier_workspace network_profile network_security_group
    network_watcher network_watcher_flow_log nginx_deployment notification_hub
    notification_hub_namespace oracle_autonomous_database
    oracle_autonomous_database_clone_from_backup
    oracle_autonomous_database_clone_from_database oracle_cloud_vm_cluster
    oracle_exadata_infrastructure oracle_exascale_database_storage_vault
    oracle_resource_anchor orbital_contact_profile orbital_spacecraft
    orchestrated_virtual_machine_scale_set palo_alto_local_rulestack_rule
    palo_alto_next_generation_firewall_virtual_hub_local_rulestack
    palo_alto_next_generation_firewall_virtual_hub_panorama
    palo_alto_next_generation_firewall_virtual_hub_strata_cloud_manager
    palo_alto_next_generation_firewall_virtual_network_local_rulestack
    palo_alto_next_generation_firewall_virtual_network_panorama
    palo_alto_next_generation_firewall_virtual_network_strata_cloud_manager
    point_to_site_vpn_gateway portal_dashboard postgresql_flexible_server postgresql_server
    powerbi_embedded private_dns_a_record private_dns_aaaa_record private_dns_cname_record
    private_dns_mx_record private_dns_ptr_record private_dns_resolver
    private_dns_resolver_dns_forwarding_ruleset private_dns_resolver_inbound_endpoint
    private_dns_resolver_outbound_endpoint private_dns_srv_record private_dns_txt_record
    private_dns_zone private_dns_zone_virtual_network_link private_endpoint
    private_link_service proximity_placement_group public_ip public_ip_prefix
    purview_account qumulo_file_system recovery_services_vault redhat_openshift_cluster
    redis_cache redis_enterprise_cluster relay_namespace
    resource_deployment_script_azure_cli resource_deployment_script_azure_power_shell
    resource_group resource_group_template_deployment restore_point_collection route_filter
    route_server route_table search_service security_center_automation
    sentinel_threat_intelligence_indicator service_fabric_cluster
    service_fabric_managed_cluster service_plan servicebus_namespace shared_image
    shared_image_gallery shared_image_version signalr_service snapshot spring_cloud_service
    ssh_public_key stack_hci_cluster stack_hci_logical_network
    stack_hci_marketplace_gallery_image stack_hci_network_interface stack_hci_storage_path
    stack_hci_virtual_hard_disk static_site static_web_app storage_account storage_mover
    storage_sync stream_analytics_cluster stream_analytics_job
    subnet_service_endpoint_storage_policy subscription subscription_template_deployment
    synapse_private_link_hub synapse_spark_pool synapse_sql_pool synapse_workspace
    system_center_virtual_machine_manager_availability_set
    system_center_virtual_machine_manager_cloud system_center_virtual_machine_manager_server
    system_center_virtual_machine_manager_virtual_machine_template
    system_center_virtual_machine_manager_virtual_network tenant_template_deployment
    traffic_manager_profile trusted_signing_account user_assigned_identity
    video_indexer_account virtual_desktop_application_group virtual_desktop_host_pool
    virtual_desktop_scaling_plan virtual_desktop_workspace virtual_hub
    virtual_hub_security_partner_provider virtual_machine virtual_machine_extension
    virtual_machine_restore_point_collection virtual_machine_run_command
    virtual_machine_scale_set virtual_machine_scale_set_standby_pool virtual_network
    virtual_network_gateway virtual_network_gateway_connection virtual_wan
    vmware_private_cloud voice_services_communications_gateway
    voice_services_communications_gateway_test_line vpn_gateway vpn_server_configuration
    vpn_site web_application_firewall_policy web_pubsub web_pubsub_socketio
    windows_function_app windows_function_app_slot windows_virtual_machine
    windows_virtual_machine_scale_set windows_web_app windows_web_app_slot
    workloads_sap_discovery_virtual_instance workloads_sap_single_node_virtual_instance
    workloads_sap_three_tier_virtual_instance
    """.split()
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
