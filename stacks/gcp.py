"""The GCP stacks: provider with TAG-1 default labels, composing the GCP components.

`GcpStack` is an environment (workload); `GcpBootstrapStack` creates the state storage the
environments' GCS backends use (STATE-2). Both configure the provider with `google_provider`.

Satisfies: TAG-1, STATE-1, STATE-2, DEPLOY-2
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_google.provider import GoogleProvider
from cdktf_cdktf_provider_time.provider import TimeProvider
from constructs import Construct
from constructs.gcp.accounts import service_name
from constructs.gcp.apis import enable_apis
from constructs.gcp.budget import Budget
from constructs.gcp.cache import Cache
from constructs.gcp.database import Database
from constructs.gcp.edge import Edge
from constructs.gcp.identity import Identity
from constructs.gcp.keys import Keys
from constructs.gcp.network import Network
from constructs.gcp.observability import Observability
from constructs.gcp.registry import Registry
from constructs.gcp.rotation import Rotation
from constructs.gcp.secrets import Secrets
from constructs.gcp.service import build_services
from constructs.gcp.state import StateStorage
from constructs.gcp.storage import Storage

from stacks.base import GroundworkStack
from synth.app import DEFAULT_SERVICE_NAME
from synth.config import EnvironmentConfig


def google_provider(stack: GroundworkStack) -> GoogleProvider:
    """The Google provider in the config's project and region, labelling every resource with
    the stack's TAG-1 tags."""
    config = stack.config
    provider = GoogleProvider(stack, "google", project=config.gcp.project, region=config.gcp.region)
    # Set verbatim: passed as `default_labels=`, cdktf rewrites `managed-by` to `managed_by`.
    provider.add_override("default_labels", config.tags)
    # time_sleep waits for key grants to propagate (constructs/gcp/propagation.py).
    TimeProvider(stack, "time")
    return provider


class GcpStack(GroundworkStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config)
        google_provider(self)
        keys = Keys(self, "keys", config=config)
        network = Network(self, "network", config=config, agents=keys.agents)
        database = Database(self, "database", config=config, keys=keys, network=network)
        # The bucket and the cache exist only when a service uses them (synth/app.py).
        storage = (
            Storage(self, "storage", config=config, keys=keys)
            if config.uses_object_storage
            else None
        )
        secrets = Secrets(self, "secrets", config=config, keys=keys, database=database)
        cache = (
            Cache(self, "cache", config=config, keys=keys, network=network, secrets=secrets)
            if config.uses_cache
            else None
        )
        registry = Registry(self, "registry", config=config, keys=keys)
        # The rotator exists when the catalog has a generated secret (SEC-2).
        rotation = (
            Rotation(self, "rotation", config=config, secrets=secrets) if secrets.rotated else None
        )
        services = build_services(
            self,
            config=config,
            network=network,
            database=database,
            cache=cache,
            storage=storage,
            secrets=secrets,
            rotation=rotation,
        )
        edge = Edge(self, "edge", config=config, services=services)
        observability = Observability(
            self, "observability", config=config, services=services, database=database, edge=edge
        )
        Budget(self, "budget", config=config, keys=keys, observability=observability)
        if config.features.auth_enabled:  # AUTH-1 is optional
            Identity(self, "identity", config=config)
        TerraformOutput(
            self,
            "load_balancer_ip",
            value=edge.ip_address,
            description=(
                f"{config.domain} resolves here: the stack writes its A record in "
                + ("its own zone (DNS-1)" if config.features.dns_enabled else "gcp.dns_zone")
                if config.gcp.dns_zone
                else f"Point {config.domain} here (A record): gcp.ssl_certificate is served"
            ),
        )
        if edge.ds_record is not None:
            TerraformOutput(
                self,
                "dns_ds_record",
                value=edge.ds_record,
                description=(
                    f"DNS-1: add this DS record for {config.domain} to its parent zone "
                    f"{config.gcp.dns_zone} if that zone is DNSSEC-signed, so resolvers "
                    "validate the environment zone's signatures"
                ),
            )
        TerraformOutput(
            self,
            "registry_url",
            value=registry.repository_url,
            description="Push the app image here, tagged service.image_tag",
        )
        for service in services:
            default = service.spec.name == DEFAULT_SERVICE_NAME
            TerraformOutput(
                self,
                "app_image" if default else f"image_{service.spec.name}",
                value=registry.images[service.spec.name],
                # DEPLOY-5: the first revision runs gcp.initial_image; Terraform ignores the
                # image.
                description=(
                    "The release pipeline deploys this to the app container "
                    "(gcloud run deploy --container=app --image)"
                    if default
                    else "The release pipeline deploys this to service "
                    f"{service_name(config, service.spec.name)} "
                    "(gcloud run deploy --container=app --image)"
                ),
            )
        enable_apis(self)  # last: every API the stack's resources use (DEPLOY-2)


class GcpBootstrapStack(GroundworkStack):
    """STATE-2: the GCS bucket and key the environments' `backend: gcs` state lives in."""

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config)
        google_provider(self)
        state = StateStorage(self, "state", config=config)
        TerraformOutput(
            self, "state_bucket", value=state.bucket_name, description="Terraform state bucket"
        )
        TerraformOutput(
            self, "state_kms_key_id", value=state.kms_key_id, description="Its Cloud KMS key"
        )
        TerraformOutput(
            self,
            "state_backend",
            value=f"state: {{backend: gcs, bucket: {state.bucket_name}}}",
            description="Put this in environments/<env>.yaml to keep its state here",
        )
        enable_apis(self)  # last: every API the stack's resources use (DEPLOY-2)


STACK = GcpStack
BOOTSTRAP = GcpBootstrapStack
