"""Tests how synth/checkov_launch.py speeds Checkov up without changing what it reads: JSONPath
expressions parse to the same trees with one parser per grammar, and every stack the gate
scans reads to the same definitions, line numbers included, on libyaml (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ply.yacc
import pytest
import yaml
from bc_jsonpath_ng import parser as jsonpath
from bc_jsonpath_ng.ext import parse
from checkov.common.graph.graph_builder.graph_components.blocks import Block
from checkov.common.parsers.yaml import loader
from matrix import ROOT

from synth import checkov_launch, checkov_run

# Attribute keys Checkov's graph builder rendered on the matrix's stacks (GCP's Cloud Run
# template, Azure's container app, a provisioner), plus a quoted part and a filter.
KEYS = [
    "template.containers.0.env.10.value_source.secret_key_ref",
    "template.vpc_access.network_interfaces",
    "template.container.env.12",
    "settings.ip_configuration",
    "provisioner/local-exec.environment",
    "input.gcloud",
]
EXPRESSIONS = [Block._get_jsonpath_key(key) for key in KEYS] + ["$.a[?b = 1].c", "$..d[*]"]


def test_one_parser_per_grammar_parses_every_expression_to_the_same_tree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(  # restored after the test
        jsonpath.JsonPathParser, "parse_token_stream", jsonpath.JsonPathParser.parse_token_stream
    )
    built = []
    build = ply.yacc.yacc

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(kwargs.get("start"))
        return build(*args, **kwargs)

    monkeypatch.setattr(ply.yacc, "yacc", counting)
    checkov_launch.reuse_jsonpath_parsers()
    original = jsonpath.JsonPathParser.parse_token_stream.original  # type: ignore[attr-defined]
    patched = [parse(expression) for expression in EXPRESSIONS]
    assert built == ["jsonpath"]  # built once, when the patch was made, for every expression
    monkeypatch.setattr(jsonpath.JsonPathParser, "parse_token_stream", original)
    fresh = [parse(expression) for expression in EXPRESSIONS]
    assert len(built) == 1 + len(EXPRESSIONS)  # the library's way: a parser per expression
    assert patched == fresh
    assert [str(tree) for tree in patched] == [str(tree) for tree in fresh]


def scanned_texts(matrix_dir: Path) -> dict[str, str]:
    """Every matrix stack and gate fixture as the gate writes it for Checkov."""
    files = sorted(matrix_dir.glob(f"*/stacks/*/{checkov_run.STACK_FILE}"))
    files += sorted((ROOT / "tests" / "synth" / "fixtures").rglob(checkov_run.STACK_FILE))
    texts = {}
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:  # the parse-error fixture: as written
            texts[str(path)] = path.read_text(encoding="utf-8")
            continue
        scannable = checkov_run.scannable(document) if isinstance(document, dict) else document
        texts[str(path)] = json.dumps(scannable, indent=2)
    return texts


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml: not patched")
def test_every_scanned_stack_reads_the_same_on_libyaml(
    matrix_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = scanned_texts(matrix_dir)
    assert {Path(path).parts[-4] for path in texts} >= {"aws", "gcp", "azure"}
    pure = {path: loader.loads(text) for path, text in texts.items()}
    monkeypatch.setattr(loader, "SafeLineLoader", loader.SafeLineLoader)  # restored after
    checkov_launch.parse_with_libyaml()
    assert loader.SafeLineLoader is checkov_launch.LibyamlLineLoader
    assert issubclass(loader.SafeLineLoader, yaml.CSafeLoader)
    on_libyaml = {path: loader.loads(text) for path, text in texts.items()}
    for path, definitions in pure.items():
        assert on_libyaml[path] == definitions, path
    assert any(d != [None] for d in pure.values())
