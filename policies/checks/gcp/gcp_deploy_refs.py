"""Helpers of the GCP DEPLOY policies (no check here): the keys a resource body refers to,
and the secret a Cloud Run secret reference names."""

from typing import Any

from groundwork_policy import Stack, address_of


def key_refs(body: dict[str, Any]) -> list[str]:
    """Every `google_kms_crypto_key.<name>` a resource body refers to."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            address = address_of(value)
            if address and address.startswith("google_kms_crypto_key."):
                found.append(address)

    walk({k: v for k, v in body.items() if k not in ("depends_on", "lifecycle")})
    return found


def secret_address(stack: Stack, ref: Any) -> str | None:
    """The `google_secret_manager_secret` a secret reference names, by reference or by its
    `secret_id`; None if the stack has no such secret."""
    address = address_of(ref)
    if address:
        return address
    for a, b in stack.graph.of_type("google_secret_manager_secret").items():
        if b.get("secret_id") == ref:
            return a
    return None
