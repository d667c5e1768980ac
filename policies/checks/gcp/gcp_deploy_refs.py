"""Helpers of the GCP DEPLOY policies (no check here): the keys a resource body refers to."""

from typing import Any

from groundwork_policy import address_of


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
