"""Builds CKV_GW_EDGE_40: the HTTPS proxy uses an SSL policy of TLS 1.2 or later, and the HTTP
proxy's URL map only redirects to HTTPS (EDGE-1)."""

from typing import Any

from groundwork_policy import GroundworkCheck, Stack, Verdict, address_of, blocks, is_reference

MIN_TLS = {"TLS_1_2", "TLS_1_3"}


class EdgeTls(GroundworkCheck):
    id = "CKV_GW_EDGE_40"
    name = "HTTPS proxy enforces TLS 1.2+ and the HTTP proxy only redirects to HTTPS"
    requirement = "EDGE-1"
    severity = "HIGH"
    resource_types = ("google_compute_target_https_proxy", "google_compute_target_http_proxy")
    needs_config = False

    def _target(self, stack: Stack, reference: Any) -> dict[str, Any] | None:
        address = address_of(reference)
        if not address:
            return None
        kind, name = address.split(".", 1)
        return stack.resources(kind).get(name)

    def evaluate(self, body: dict[str, Any], stack: Stack) -> Verdict:
        if self._address[0] == "google_compute_target_http_proxy":
            url_map = self._target(stack, body.get("url_map"))
            if url_map is None:
                return Verdict.unknown(f"url_map {body.get('url_map')} is not in the stack")
            redirect = blocks(url_map, "default_url_redirect")
            if url_map.get("default_service") or url_map.get("host_rule"):
                return Verdict.failed("the HTTP URL map serves traffic instead of redirecting")
            if not redirect or redirect[0].get("https_redirect") is not True:
                return Verdict.failed("the HTTP URL map does not redirect to HTTPS")
            return Verdict.passed("HTTP only redirects to HTTPS")
        policy_ref = body.get("ssl_policy")
        if not policy_ref:
            return Verdict.failed("no ssl_policy: Google's default allows TLS 1.0")
        policy = self._target(stack, policy_ref)
        if policy is None:
            if is_reference(policy_ref):
                return Verdict.unknown(f"ssl_policy {policy_ref} is not in the stack")
            return Verdict.unknown(f"ssl_policy {policy_ref} is external")
        version = policy.get("min_tls_version")
        if version not in MIN_TLS:
            return Verdict.failed(f"min_tls_version is {version}; want TLS_1_2 or later")
        if policy.get("profile") not in ("MODERN", "RESTRICTED"):
            return Verdict.failed(f"SSL policy profile is {policy.get('profile')}")
        return Verdict.passed(f"{version}, {policy.get('profile')}")


check = EdgeTls()
