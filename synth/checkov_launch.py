"""Starts Checkov's CLI (`python -m synth.checkov_launch <checkov arguments>`) as
`python -m checkov.main` would, without its in-memory debug log, with one JSONPath parser per
grammar (`reuse_jsonpath_parsers`) and with the stacks read on libyaml (`parse_with_libyaml`);
each gives Checkov the same input and makes a scan cheaper (issue 13).

checkov/logging_init.py sets the root logger to DEBUG and keeps every debug record, formatted,
in a StringIO that only its `--support` upload reads; on our stacks that is about a sixth of
a scan's CPU (86,000 debug records over ten stacks, 4.3 s of 24 s profiled). Here the root
logger is raised to the stderr handler's own level (LOG_LEVEL, pinned to WARNING by
synth/checkov_run.py), so what reaches stderr, the "Failed to run check" lines the gate reads
included, is exactly what it was, and nothing else is formatted.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import runpy
import sys
from collections.abc import Sequence
from typing import Any

import checkov.logging_init as checkov_logging
import yaml


def reuse_jsonpath_parsers() -> None:
    """Build each JSONPath grammar's parser once per process instead of once per expression.

    Checkov's graph builder parses a JSONPath expression for every distinct attribute key it
    renders (checkov/common/graph/graph_builder/graph_components/blocks.py, which caches the
    parsed expressions, not the parser), and bc_jsonpath_ng builds a new PLY parser for each
    parse, generating its LALR tables afresh (bc_jsonpath_ng/parser.py,
    `JsonPathParser.parse_token_stream`: "we regenerate the parse table every time"): about
    55 ms per expression here, 1.5 s of a 4 s scan of one GCP stack (profiled, issue 13).
    The first parse of each (grammar, start symbol, debug) keeps the parser the library
    builds, with the library's own arguments; later parses run it on their tokens. The parser
    holds no state between parses (ply/yacc.py `LRParser.parse` starts each from fresh
    stacks) and the grammar's actions read nothing from their instance, so every expression
    parses to the same tree (tests/synth/test_checkov_launch.py)."""
    import ply.yacc
    from bc_jsonpath_ng import parser as jsonpath

    original = jsonpath.JsonPathParser.parse_token_stream
    if getattr(original, "reuses_parsers", False):
        return
    built: dict[tuple[type, str, bool], ply.yacc.LRParser] = {}

    def parse_token_stream(
        self: jsonpath.JsonPathParser, token_iterator: Any, start_symbol: str = "jsonpath"
    ) -> Any:
        key = (type(self), start_symbol, bool(self.debug))
        if key in built:
            tokens = jsonpath.IteratorToTokenStream(token_iterator)  # type: ignore[no-untyped-call]
            return built[key].parse(lexer=tokens)
        build = ply.yacc.yacc

        def keep(*args: Any, **kwargs: Any) -> ply.yacc.LRParser:
            built[key] = build(*args, **kwargs)
            return built[key]

        ply.yacc.yacc = keep
        try:
            return original(self, token_iterator, start_symbol)
        finally:
            ply.yacc.yacc = build

    parse_token_stream.reuses_parsers = True  # type: ignore[attr-defined]
    parse_token_stream.original = original  # type: ignore[attr-defined]
    jsonpath.JsonPathParser.parse_token_stream = parse_token_stream  # type: ignore[method-assign]
    # The grammar Checkov parses with, built now: a fork server's runs then inherit it.
    from bc_jsonpath_ng.ext.parser import parse

    parse("$.a")


def parse_with_libyaml() -> None:
    """Read the stacks with PyYAML's libyaml parser instead of its pure-Python one.

    Checkov's terraform_json runner reads each cdk.tf.json as YAML, to learn every object's
    first and last line (checkov/terraform_json/parser.py `loads` through
    checkov/common/parsers/yaml/loader.py, whose `SafeLineLoader` adds `__startline__` and
    `__endline__` to every mapping); in pure Python that is 0.55 s of a 2.7 s scan of one GCP
    stack (profiled, issue 13). `LibyamlLineLoader` is the same loader on libyaml (the
    `yaml.CSafeLoader` shipped in the locked PyYAML wheel): the same constructor, the same
    booleans, the same marks. Every stack of the matrix and every gate fixture reads to
    identical definitions, line numbers included (tests/synth/test_checkov_launch.py). Without
    libyaml (`yaml.__with_libyaml__` false) nothing changes."""
    from checkov.common.parsers.yaml import loader

    if not yaml.__with_libyaml__ or loader.SafeLineLoader is LibyamlLineLoader:
        return
    LibyamlLineLoader.bool_values = loader.SafeLineLoader.bool_values
    loader.SafeLineLoader = LibyamlLineLoader  # type: ignore[misc]


class LibyamlLineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """checkov's SafeLineLoader (checkov/common/parsers/yaml/loader.py) on libyaml."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        mapping["__startline__"] = node.start_mark.line + 1  # lines count from 1
        mapping["__endline__"] = node.end_mark.line + 1
        return mapping


def prepare() -> None:
    """Everything before the run proper: the root logger at the stderr handler's level,
    JSONPath parsers built once (`reuse_jsonpath_parsers`), and Checkov's CLI imported (what
    synth/checkov_server.py does once for many runs)."""
    logging.getLogger().setLevel(checkov_logging.LOG_LEVEL)
    reuse_jsonpath_parsers()
    parse_with_libyaml()
    importlib.import_module("checkov.main")


def write_check_names() -> None:
    """Write `{check ID: name}` of Checkov's built-in resource checks to the file named in
    GROUNDWORK_CHECK_NAMES (synth/checkov_run.py `CHECK_NAMES_ENV`), if set. Checkov's log
    names only the ID of a check that crashed; the gate reads the name from here instead of
    importing Checkov's check registry itself (about 1 s, on every GCP gate run; issue 13)."""
    from synth.checkov_run import CHECK_NAMES_ENV

    path = os.environ.get(CHECK_NAMES_ENV)
    if not path:
        return
    from checkov.terraform.checks.resource.registry import resource_registry

    names = {
        check.id: check.name for checks in resource_registry.checks.values() for check in checks
    }
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(names, stream)


def main(args: Sequence[str] | None = None) -> None:
    """Run Checkov's CLI with `args` (default: this process's arguments); it exits, after
    `write_check_names`."""
    prepare()
    sys.argv = ["checkov", *(sys.argv[1:] if args is None else args)]
    try:
        runpy.run_module("checkov.main", run_name="__main__", alter_sys=True)
    finally:
        write_check_names()


if __name__ == "__main__":
    main()
