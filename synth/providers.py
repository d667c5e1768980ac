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
each of those requires happen on first use, and has jsii read each type's definition from the
provider's type definitions file by its byte range instead of keeping the whole file (22-35 MB)
in memory; the JSON is byte-identical there too (same test).

Once `ShallowProviderFinder` is first on `sys.meta_path`, Python loads a provider package
shallowly however it is first imported. `load_provider` (and `load_companion`) put it there,
and so does the test suite before it collects (`shallow_provider_imports`), so a test module
that imports a binding (`from cdktf_cdktf_provider_azurerm.redis_cache import RedisCache`)
before any stack class is asked for still gets the shallow package. A process that imports a
construct without either (a script of its own) loads the package the ordinary, full way.
Before the finder, a test module whose first import was a construct's loaded all of azurerm's
1,528 submodules, 6.7 s of CPU in each test process (issue 13).

`GROUNDWORK_PROVIDER_IMPORT=plain` switches both to the ordinary full load (for that proof,
or to rule the loaders out when debugging).
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

PACKAGES = {
    "aws": "cdktf_cdktf_provider_aws",
    "gcp": "cdktf_cdktf_provider_google",
    "azure": "cdktf_cdktf_provider_azurerm",
}
# Provider packages a cloud's stacks use besides their own, loaded with it (hashicorp/time).
COMPANIONS = {"azure": ("cdktf_cdktf_provider_time",), "gcp": ("cdktf_cdktf_provider_time",)}
# Every prebuilt provider package is named so (cdktf's prebuilt providers, e.g. @cdktf/provider-aws
# publishes `cdktf_cdktf_provider_aws`) and its `__init__.py` has the shape described above.
PACKAGE_PREFIX = "cdktf_cdktf_provider_"

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


class _ShallowLoader(importlib.abc.Loader):
    """Runs a provider package's `__init__.py` from its source without the trailing
    `from . import <submodule>` lines. (Its cached bytecode is the whole file, so it is not
    used: parsing the file takes about 0.1 s for AWS's.)"""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module

    def exec_module(self, module: ModuleType) -> None:
        with open(self.origin, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), self.origin)
        tree.body = [node for node in tree.body if not _is_submodule_import(node)]
        exec(compile(tree, self.origin, "exec"), module.__dict__)


class ShallowProviderFinder(importlib.abc.MetaPathFinder):
    """Finds a top-level `cdktf_cdktf_provider_*` package as the path finder does and gives it
    a `_ShallowLoader`; any other name, and every name in a plain run
    (`GROUNDWORK_PROVIDER_IMPORT=plain`, read at each import), is left to the next finder."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if (
            not fullname.startswith(PACKAGE_PREFIX)
            or "." in fullname
            or os.environ.get("GROUNDWORK_PROVIDER_IMPORT") == "plain"
        ):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None or not spec.origin.endswith("__init__.py"):
            return spec
        return importlib.util.spec_from_file_location(
            fullname,
            spec.origin,
            loader=_ShallowLoader(spec.origin),
            submodule_search_locations=spec.submodule_search_locations,
        )


def shallow_provider_imports() -> None:
    """Put one ShallowProviderFinder first on `sys.meta_path` (again a no-op). A provider
    package already imported stays as it was loaded."""
    if not any(isinstance(finder, ShallowProviderFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, ShallowProviderFinder())


def load_provider(cloud: str) -> None:
    """Make the cloud's provider packages importable, shallowly unless told otherwise.
    Raises ModuleNotFoundError, naming `make setup`, when one is not installed."""
    for package in (PACKAGES[cloud], *COMPANIONS.get(cloud, ())):
        _load_package(package)


def load_companion(package: str) -> None:
    """Load one companion package on demand, for a construct only some stacks use (AWS: the
    hashicorp/time sleep of DNSSEC, constructs/aws/dns.py), so the others do not pay for it."""
    _load_package(package)


def _load_package(package: str) -> None:
    shallow_provider_imports()
    try:
        importlib.import_module(package)
    except ModuleNotFoundError as error:
        if error.name != package:
            raise
        raise ModuleNotFoundError(f"{package} is not installed; run `make setup`") from error
