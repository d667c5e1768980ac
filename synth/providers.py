"""Loads a prebuilt cdktf provider package without importing all of its submodules.

A prebuilt provider's `__init__.py` ends with one `from . import <submodule>` per
resource type (about 2,200 for AWS), which costs seconds and gigabytes when a stack uses a
few dozen. `load_provider` runs that `__init__.py` without those trailing imports, so each
`from cdktf_cdktf_provider_aws.vpc import Vpc` then loads only what it names. The rest of
the file (its `_jsii` assembly load, `check_type`, `__all__`) runs unchanged, which is why
the synthesized JSON is byte-identical to a plain import; tests/synth/test_providers.py
proves it for every cloud and environment.

A cloud may use a small companion provider (`COMPANIONS`): Azure's and GCP's stacks use
hashicorp/time for `time_sleep` (documented role-assignment and IAM-grant propagation waits),
so `load_provider("azure")` and `load_provider("gcp")` load it too; AWS loads it only for a
stack with DNSSEC (`load_companion`, constructs/aws/dns.py), and hashicorp/random only for a
stack with CloudFront (the origin header's value, constructs/aws/edge.py).

`GROUNDWORK_PROVIDER_IMPORT=plain` switches to the ordinary full import (for that proof,
or to rule the loader out when debugging).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys

PACKAGES = {
    "aws": "cdktf_cdktf_provider_aws",
    "gcp": "cdktf_cdktf_provider_google",
    "azure": "cdktf_cdktf_provider_azurerm",
}
# Provider packages a cloud's stacks use besides their own, loaded with it (hashicorp/time).
COMPANIONS = {"azure": ("cdktf_cdktf_provider_time",), "gcp": ("cdktf_cdktf_provider_time",)}


def _is_submodule_import(node: ast.stmt) -> bool:
    """`from . import x` (no module name): the eager per-resource imports."""
    return isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None


def load_provider(cloud: str) -> None:
    """Make the cloud's provider packages importable, shallowly unless told otherwise."""
    for package in (PACKAGES[cloud], *COMPANIONS.get(cloud, ())):
        _load_package(package)


def load_companion(package: str) -> None:
    """Load one companion package on demand, for a construct only some stacks use (AWS: the
    hashicorp/time sleep of DNSSEC, constructs/aws/dns.py), so the others do not pay for it."""
    _load_package(package)


def _load_package(package: str) -> None:
    if package in sys.modules:
        return
    if os.environ.get("GROUNDWORK_PROVIDER_IMPORT") == "plain":
        importlib.import_module(package)
        return
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None or spec.loader is None:
        raise ModuleNotFoundError(f"{package} is not installed; run `make setup`")
    with open(spec.origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), spec.origin)
    tree.body = [node for node in tree.body if not _is_submodule_import(node)]
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    try:
        exec(compile(tree, spec.origin, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[package]
        raise
