"""Builds the waits for Cloud KMS key grants to take effect before a CMEK resource uses them.

Satisfies: DEPLOY-2

An IAM grant exists as soon as `setIamPolicy` returns, but it is honoured only once it has
propagated: "Changes to allow or deny policies typically propagate in 2 minutes, but could
potentially take 7 minutes or longer" (https://cloud.google.com/iam/docs/access-change-
propagation). The provider treats a grant as done when the call succeeds and does not wait
(terraform-provider-google#22521), so a Cloud SQL instance, Memorystore instance, bucket,
secret or repository created right after its service agent's `cryptoKeyEncrypterDecrypter`
grant can be refused ("permission denied on Cloud KMS key") in a fresh project. `propagated`
returns a `time_sleep` (hashicorp/time, as Azure's role waits in constructs/azure/
propagation.py) of `IAM_PROPAGATION` after the given grants; a CMEK resource depends on it
instead of on the grant alone. The sleep runs on create only (and again if a grant is
replaced, through its `triggers`), so later applies do not wait.

The same holds for the grants a Cloud Run service or job runs on: Cloud Run checks at
revision creation that the service's identity may access every secret the revision reads,
and the revision fails if it may not yet; the Cloud SQL Auth Proxy sidecar logs in with its
`cloudsql` grant at start. Secret Manager states that "propagating IAM permissions is
eventually consistent ... granting or revoking access to secrets may not take effect
immediately" and points to the same IAM propagation page
(https://cloud.google.com/secret-manager/docs/reference/consistency). `all_propagated`
returns ONE such wait after every runtime grant of a stack (constructs/gcp/service.py,
`build_services`), so the first apply waits 7 minutes once, not once per grant.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import Fn, TerraformResource
from cdktf_cdktf_provider_time.sleep import Sleep
from constructs import Construct

# Not an upper bound: IAM says "typically 2 minutes, but could potentially take 7 minutes or
# longer" (https://cloud.google.com/iam/docs/access-change-propagation), and no better-sourced
# figure was found. 7 minutes covers the stated worst case; a first apply that still outruns
# propagation fails on the refused call, and re-running `terraform apply` completes it (the
# grants exist by then; README, "GCP: before the first apply").
IAM_PROPAGATION = "7m"


def propagated(scope: Construct, id_: str, grants: Sequence[TerraformResource]) -> Sleep:
    """A wait of `IAM_PROPAGATION` that starts once every grant in `grants` exists."""
    return Sleep(
        scope,
        id_,
        create_duration=IAM_PROPAGATION,
        triggers={grant.node.id: grant.get_string_attribute("id") for grant in grants},
    )


def all_propagated(scope: Construct, id_: str, grants: Sequence[TerraformResource]) -> Sleep:
    """One wait of `IAM_PROPAGATION` after every grant in `grants` (any number of them).

    Its one trigger is the grants' IDs joined, so adding or replacing a grant (a new secret a
    service reads) waits again before what depends on this sleep is updated; grants of
    several services share construct IDs (`reads-jwt_secret`), so they are not map keys.
    """
    return Sleep(
        scope,
        id_,
        create_duration=IAM_PROPAGATION,
        triggers={"grants": Fn.join(",", [grant.get_string_attribute("id") for grant in grants])},
    )
