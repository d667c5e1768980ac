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

The package's JavaScript has the same shape: jsii's Node process requires the provider's
`lib/index.js`, which requires every resource type's module (most of a 1.8-3.1 s load,
issue 13). `set_node_options` gives that process synth/lazy_provider_index.js, which makes
each of those requires happen on first use; the JSON is byte-identical there too (same test).

`GROUNDWORK_PROVIDER_IMPORT=plain` switches both to the ordinary full load (for that proof,
or to rule the loaders out when debugging).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path

PACKAGES = {
    "aws": "cdktf_cdktf_provider_aws",
    "gcp": "cdktf_cdktf_provider_google",
    "azure": "cdktf_cdktf_provider_azurerm",
}
# Provider packages a cloud's stacks use besides their own, loaded with it (hashicorp/time).
COMPANIONS = {"azure": ("cdktf_cdktf_provider_time",), "gcp": ("cdktf_cdktf_provider_time",)}

# What jsii's Node process would print on every start: a dependency still calls `util.isArray`
# ("[DEP0044] DeprecationWarning: The `util.isArray` API is deprecated"), noise in every
# `make synth` that no user can act on. Node's --disable-warning (Node 20.11 and later; the
# project's Node is 22, package.json) silences that code only.
QUIET_NODE = "--disable-warning=DEP0044"
# V8's young generation, three semi-spaces of up to 16 MiB each on 64-bit by default (Node's
# CLI docs, "--max-semi-space-size"; allowed in NODE_OPTIONS by nodejs/node#44436), capped at 1 MiB
# each: jsii's Node process peaks about 30 MB lower in a `make synth`, in the same time within
# noise (AWS, GCP and Azure edits, 6 alternating runs each, issue 13). The limit is the one V8
# itself picks for a 512 MiB heap. An eager load of a whole provider allocates far more and ran
# 4 % slower with it (the byte-identity proof's plain AWS side, 2 alternating runs), so a plain
# run goes without, as it goes without the lazy index.
SMALL_YOUNG_GENERATION = "--max-semi-space-size=1"
# Node reads NODE_OPTIONS split at spaces, a double-quoted value kept whole (Node's CLI docs,
# "NODE_OPTIONS"), so the hook's path is quoted: a checkout may live under a folder with spaces.
LAZY_INDEX = Path(__file__).with_name("lazy_provider_index.js")
LAZY_NODE = f'--require "{LAZY_INDEX}"'


def eager_node_options(options: str) -> str:
    """`options` (a NODE_OPTIONS value) without LAZY_NODE and SMALL_YOUNG_GENERATION, the others
    kept in order: what loads a provider's JavaScript as jsii does (a plain run, the bench's
    floors)."""
    kept = options.replace(LAZY_NODE, " ").split()
    return " ".join(option for option in kept if option != SMALL_YOUNG_GENERATION)


def node_options(options: str, environ: Mapping[str, str]) -> str:
    """`options` (a NODE_OPTIONS value) with QUIET_NODE and, unless
    `GROUNDWORK_PROVIDER_IMPORT=plain`, SMALL_YOUNG_GENERATION and LAZY_NODE, each once; a
    plain run drops those two, so one started from a lazy process (the proof in
    tests/synth/test_providers.py) loads as jsii does. Options already there, the cdktf CLI's
    heap size included, are kept in order."""
    kept = eager_node_options(options).split()
    if QUIET_NODE not in kept:
        kept.append(QUIET_NODE)
    if environ.get("GROUNDWORK_PROVIDER_IMPORT") != "plain":
        kept += [SMALL_YOUNG_GENERATION, LAZY_NODE]
    return " ".join(kept)


def set_node_options() -> None:
    """Set this process's NODE_OPTIONS to `node_options` of it. Call before the first
    `import cdktf` (or anything else that loads a jsii assembly): jsii starts its Node
    process then, with this process's environment, and never again."""
    os.environ["NODE_OPTIONS"] = node_options(os.environ.get("NODE_OPTIONS", ""), os.environ)


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
