"""The shallow provider loader produces byte-identical Terraform to plain imports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from matrix import APP, CLOUDS, ENVIRONMENTS, ROOT, start_synth, wait_all

from synth.providers import (
    LAZY_NODE,
    PACKAGES,
    QUIET_NODE,
    SMALL_YOUNG_GENERATION,
    node_options,
    set_node_options,
)

# How many of the cloud's provider submodules a process has imported (`publication`
# registers a `<module>._private` alias per module; those are not counted). One write of one
# line: the app's output is read merged with Node's stderr, whose warnings ("(node:123)
# [DEP0044] ...") could otherwise land between a label and its number.
COUNT_SUBMODULES = (
    "import os, sys; from synth.providers import PACKAGES; "
    "prefix = PACKAGES[os.environ['CLOUD']] + '.'; "
    "sys.stdout.write('provider submodules: %d\\n' % "
    "sum(1 for m in sys.modules if m.startswith(prefix) and not m.endswith('._private'))); "
    "sys.stdout.flush()"
)


@dataclass(frozen=True)
class PlainMatrix:
    root: Path
    submodules: dict[str, int]  # per cloud, how many provider submodules the app imported


@pytest.fixture(scope="session")
def plain_matrix(tmp_path_factory: pytest.TempPathFactory) -> PlainMatrix:
    """The matrix again, with every provider imported the ordinary (full) way; each app
    also says how many provider submodules it imported (one plain import serves both
    tests: it is the dearest step of this module, about 12 s of CPU per cloud)."""
    root = tmp_path_factory.mktemp("plain")
    code = APP.replace("sys.exit(", "status = (") + "; " + COUNT_SUBMODULES + "; sys.exit(status)"
    outputs = wait_all(
        {
            cloud: start_synth(
                cloud, root / cloud, extra_env={"GROUNDWORK_PROVIDER_IMPORT": "plain"}, code=code
            )
            for cloud in CLOUDS
        }
    )
    counts = {
        cloud: int(re.findall(r"^provider submodules: (\d+)$", output, re.M)[-1])
        for cloud, output in outputs.items()
    }
    return PlainMatrix(root, counts)


@pytest.fixture(scope="session")
def plain_matrix_dir(plain_matrix: PlainMatrix) -> Path:
    return plain_matrix.root


@pytest.mark.parametrize("cloud", CLOUDS)
def test_loader_output_is_byte_identical_to_plain_import(
    matrix_dir: Path, plain_matrix_dir: Path, cloud: str
) -> None:
    fast, plain = matrix_dir / cloud, plain_matrix_dir / cloud
    fast_files = sorted(p.relative_to(fast) for p in fast.rglob("*") if p.is_file())
    plain_files = sorted(p.relative_to(plain) for p in plain.rglob("*") if p.is_file())
    assert fast_files == plain_files
    assert {Path("stacks", env, "cdk.tf.json") for env in ENVIRONMENTS} <= set(fast_files)
    for relative in fast_files:
        assert (fast / relative).read_bytes() == (plain / relative).read_bytes(), relative


# The loader, then the provider binding (formatted with `cloud`).
LOAD_THEN_PROVIDER = (
    "load_provider({cloud!r}); import importlib; "
    "importlib.import_module(PACKAGES[{cloud!r}] + '.provider')"
)


def loaded_submodules(cloud: str, mode: str, first: str = LOAD_THEN_PROVIDER) -> int:
    """How many of the cloud's provider submodules a fresh process has imported after running
    `first` (formatted with `cloud`; by default the loader, then the provider binding)."""
    probe = (
        "import sys; from synth.providers import load_provider, shallow_provider_imports, "
        f"PACKAGES; {first.format(cloud=cloud)}; "
        f"print(sum(1 for m in sys.modules if m.startswith(PACKAGES[{cloud!r}] + '.') "
        "and not m.endswith('._private')))"
    )
    env = {"GROUNDWORK_PROVIDER_IMPORT": mode, "PATH": f"{ROOT / 'node_modules' / '.bin'}"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip().splitlines()[-1])


def test_loader_imports_only_what_is_asked_for(plain_matrix: PlainMatrix) -> None:
    """Shallow: the package's _jsii plus the one submodule; plain: all of them (~2,200 for
    AWS), counted in the very app run whose output the byte-identical test compares.

    (`publication` registers a `<module>._private` alias per module; those are not counted.)
    """
    assert loaded_submodules("aws", "shallow") == 2  # _jsii and provider
    assert plain_matrix.submodules["aws"] > 2000


def test_a_construct_imported_before_its_provider_loads_it_shallowly() -> None:
    """With the finder in place (as the test suite puts it before it collects), a module whose
    first import is a construct's, and so a binding's, still gets the shallow package: the
    cache construct's few bindings, not azurerm's 1,528 submodules (which that import loaded
    in each test process, 6.7 s of CPU, before the finder)."""
    first = "shallow_provider_imports(); from constructs.azure.cache import Cache"
    assert loaded_submodules("azure", "shallow", first) < 20


def test_every_cloud_has_a_provider_package() -> None:
    assert set(PACKAGES) == set(CLOUDS)


def test_node_options_add_the_quiet_and_lazy_flags_once_and_keep_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the cdktf CLI puts in NODE_OPTIONS (a heap size) stays, in front; the app's
    options are added once, however often it is set; a plain run drops the lazy index and the
    young generation's cap, so the byte-identical proof's plain side loads every provider module
    as jsii does even when started from a process that has them."""
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=4096")
    monkeypatch.delenv("GROUNDWORK_PROVIDER_IMPORT", raising=False)
    set_node_options()
    set_node_options()
    app = f"{QUIET_NODE} {SMALL_YOUNG_GENERATION} {LAZY_NODE}"
    assert os.environ["NODE_OPTIONS"] == f"--max-old-space-size=4096 {app}"
    plain = node_options(os.environ["NODE_OPTIONS"], {"GROUNDWORK_PROVIDER_IMPORT": "plain"})
    assert plain == f"--max-old-space-size=4096 {QUIET_NODE}"


def test_node_options_cap_the_young_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Node given the app's options keeps V8's new space at two 1 MiB semi-spaces while a
    script churns through short-lived objects; by default it grows to 32 MiB (measured here),
    about 30 MB of jsii's Node process at the peak of a `make synth` (issue 13)."""
    monkeypatch.setenv("NODE_OPTIONS", "")
    set_node_options()
    node = str(ROOT / "node_modules" / ".bin" / "node")
    churn = (
        "let kept = []; for (let i = 0; i < 3e6; i++) { kept.push({ i });"
        " if (kept.length > 2e5) kept = []; }"
        " const space = require('v8').getHeapSpaceStatistics()"
        ".find((s) => s.space_name === 'new_space'); console.log(space.space_size);"
    )
    result = subprocess.run([node, "-e", churn], capture_output=True, text=True, check=True)
    assert int(result.stdout) <= 2 * 2**20


def test_node_options_silence_dep0044_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """The project's Node, given the app's options, drops exactly the warning a dependency's
    `util.isArray` call printed in every AWS `make synth`; the lazy index's path is read whole
    (quoted) and loads."""
    monkeypatch.setenv("NODE_OPTIONS", "")
    set_node_options()
    node = str(ROOT / "node_modules" / ".bin" / "node")
    calls = ["-e", "require('util').isArray([]); process.emitWarning('still shown', 'Warning')"]
    quiet = subprocess.run([node, *calls], capture_output=True, text=True, check=True)
    monkeypatch.delenv("NODE_OPTIONS")
    loud = subprocess.run([node, *calls], capture_output=True, text=True, check=True)
    assert "[DEP0044]" in loud.stderr and "[DEP0044]" not in quiet.stderr
    assert "Warning: still shown" in quiet.stderr  # other warnings still reach the user


# A stack of two resource types: the provider and one virtual network.
TWO_TYPES = """
from synth.providers import load_provider, set_node_options
set_node_options()
load_provider("azure")
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_azurerm.provider import AzurermProvider
from cdktf_cdktf_provider_azurerm.virtual_network import VirtualNetwork
import sys
app = App(outdir=sys.argv[1])
stack = TerraformStack(app, "two")
AzurermProvider(stack, "azurerm", features=[{}])
VirtualNetwork(stack, "network", name="n", location="westeurope", resource_group_name="g",
               address_space=["10.0.0.0/16"])
app.synth()
# The type definitions jsii's kernel (a descendant of this process) holds open: read by range.
import os
children = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            children.setdefault(int(stat.read().rsplit(")", 1)[1].split()[1]), []).append(pid)
    except OSError:
        continue
todo = list(children.get(os.getpid(), []))
while todo:
    pid = todo.pop()
    todo += children.get(int(pid), [])
    for fd in os.listdir(f"/proc/{pid}/fd"):
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
        if target.endswith(".jsii.runtime-defs.v1.jsonl"):
            print("defs open:", target, file=sys.stderr)
"""


def test_jsii_requires_only_the_provider_modules_a_stack_creates(tmp_path: Path) -> None:
    """The lazy index at work in jsii's own Node process: of azurerm's 1,527 resource
    modules, a stack of a provider and a virtual network requires those two (Node's module
    debug log, which jsii passes through on stderr). Without the index every one of them
    is required when the assembly loads."""
    env = {**os.environ, "NODE_DEBUG": "module", "PATH": f"{ROOT / 'node_modules' / '.bin'}"}
    env.pop("GROUNDWORK_PROVIDER_IMPORT", None)
    result = subprocess.run(
        [sys.executable, "-c", TWO_TYPES, str(tmp_path / "out")],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    required = set(
        re.findall(
            r"Module\._load REQUEST (\S+) parent: \S*/@cdktf/provider-azurerm/lib/index\.js",
            result.stderr,
        )
    )
    assert required == {"./provider", "./virtual-network"}
    assert (tmp_path / "out" / "stacks" / "two" / "cdk.tf.json").is_file()
    # jsii read azurerm's type definitions by range (synth/lazy_provider_index.js), from the
    # file it keeps open, instead of holding its 22 MB in memory.
    opened = re.findall(r"^defs open: (.*)$", result.stderr, re.M)
    assert any("/@cdktf/provider-azurerm/" in path for path in opened), result.stderr[-3000:]


def test_jsii_type_definitions_are_read_by_range(tmp_path: Path) -> None:
    """In a Node given the app's options, `fs.readFileSync` of a type definitions file answers
    `toString(encoding, start, end)` with those bytes of the file, multi-byte characters and
    the last line included; any other file, or a call with options, reads as Node reads."""
    defs = tmp_path / ".jsii.runtime-defs.v1.jsonl"
    lines = [b'{"fqn":"a.B","kind":"class"}\n', '{"fqn":"a.Ω","kind":"enum"}\n'.encode(), b"{}"]
    defs.write_bytes(b"".join(lines))
    starts = [sum(map(len, lines[:index])) for index in range(len(lines) + 1)]
    other = tmp_path / "other.jsonl"
    other.write_bytes(lines[0])
    ranges = json.dumps([[starts[i], starts[i + 1]] for i in range(len(lines))])
    probe = (
        "const fs = require('fs'); const [defs, other] = process.argv.slice(1);"
        "const file = fs.readFileSync(defs);"
        f"const parts = {ranges}.map(([s, e]) => file.toString('utf-8', s, e));"
        "console.log(JSON.stringify({kind: file.constructor.name, parts,"
        " text: fs.readFileSync(defs, 'utf-8'), other: Buffer.isBuffer(fs.readFileSync(other))}));"
    )
    env = {**os.environ, "NODE_OPTIONS": node_options("", {})}
    node = str(ROOT / "node_modules" / ".bin" / "node")
    result = subprocess.run(
        [node, "-e", probe, str(defs), str(other)], env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    read = json.loads(result.stdout)
    assert read["kind"] == "RangedFile"
    assert read["parts"] == [line.decode() for line in lines]
    assert read["text"] == defs.read_text(encoding="utf-8")
    assert read["other"] is True
