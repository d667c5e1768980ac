"""Guards the package layout cdktf depends on (see constructs/README.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import constructs

ROOT = Path(__file__).resolve().parent.parent


def test_constructs_folder_has_no_init_file() -> None:
    assert not (ROOT / "constructs" / "__init__.py").exists(), (
        "constructs/__init__.py shadows the constructs library and breaks cdktf; delete it"
    )


def test_constructs_construct_is_still_the_library_class() -> None:
    module_file = Path(sys.modules[constructs.Construct.__module__].__file__ or "")
    assert "site-packages" in module_file.parts, module_file
    assert constructs.Construct.__module__ == "constructs"


def test_project_constructs_folder_merges_into_the_library_package() -> None:
    assert str(ROOT / "constructs") in list(constructs.__path__)
    from constructs.subnets import plan_subnets

    assert plan_subnets("10.0.0.0/16", 2).public == ("10.0.0.0/20", "10.0.16.0/20")


def test_merge_holds_for_a_fresh_interpreter_started_like_cdktf_does() -> None:
    """`python main.py` puts the project root first on sys.path, as cdktf.json runs it."""
    probe = (
        "import constructs, cdktf; from constructs.subnets import plan_subnets; "
        "assert issubclass(cdktf.TerraformStack, constructs.Construct); print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr
