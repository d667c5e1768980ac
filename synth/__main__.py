"""Builds the `python -m synth` command line: `verify` runs the Checkov gate over cdktf output,
`environments` validates the environment files and the operator waivers file as `cdktf synth`
would (exit 2 if they are bad),
`review` compares two outputs and `diagrams` draws each stack's components (synth/review.py).

Exit codes: 0 pass, 1 gate failure, 2 bad input (environment files, waivers, arguments)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from synth import review, verify
from synth.config import ConfigError, cloud_override, load_environments
from synth.waivers import WaiversError, load_waivers


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m synth", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    gate = commands.add_parser(
        "verify",
        help="run Checkov over every synthesized stack and apply the waivers",
        description=(
            "Fails (exit 1) on a failed check without a valid waiver, a parse error, a resource "
            "Checkov did not evaluate, or an expired waiver; exit 2 on bad input."
        ),
    )
    check = commands.add_parser(
        "environments",
        help=(
            "validate the environment files (schema, floors, overlapping networks) and the "
            "operator waivers file; exit 2 if bad"
        ),
    )
    check.add_argument(
        "directory",
        nargs="?",
        type=Path,
        help="environment files (default: $GROUNDWORK_ENVIRONMENTS or environments/)",
    )
    check.add_argument(
        "--waivers",
        type=Path,
        metavar="PATH",
        default=verify.DEFAULT_WAIVERS,
        help="operator waivers file (default %(default)s), as the gate reads it",
    )
    gate.add_argument(
        "outdir",
        nargs="?",
        type=Path,
        default=verify.DEFAULT_OUTDIR,
        help="cdktf output directory holding stacks/<stack>/cdk.tf.json (default %(default)s)",
    )
    gate.add_argument(
        "--waivers",
        type=Path,
        metavar="PATH",
        default=verify.DEFAULT_WAIVERS,
        help="operator waivers file (default %(default)s); constructs declare theirs in the JSON",
    )
    gate.add_argument("--json", type=Path, dest="json_path", metavar="PATH", help="JSON report")
    gate.add_argument("--junit", type=Path, metavar="PATH", help="JUnit XML report")
    gate.add_argument("--sarif", type=Path, metavar="PATH", help="SARIF 2.1.0 report")
    gate.add_argument(
        "--require-coverage",
        action="store_true",
        help="fail when a requirement that applies to a stack has no evaluated check",
    )
    gate.add_argument(
        "--requirements",
        type=Path,
        metavar="PATH",
        default=verify.DEFAULT_REQUIREMENT_MAP,
        help="reviewed map of built-in checks to requirement IDs (default %(default)s)",
    )
    gate.add_argument(
        "--environments",
        type=Path,
        metavar="DIR",
        help="environment files the stacks were synthesized from (default: $GROUNDWORK_"
        "ENVIRONMENTS or the project's environments/)",
    )
    gate.add_argument(
        "--today",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="the date waiver expiry is judged against (default: $GROUNDWORK_TODAY, else today)",
    )
    gate.add_argument(
        "--external-checks-dir",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help=f"extra Checkov checks directory, repeatable; {verify.POLICY_CHECKS_DIR} is always"
        " added when it exists",
    )
    review.add_parser(commands)
    review.add_diagrams_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "review":
        return review.main(args)
    if args.command == "diagrams":
        return review.diagrams_main(args)
    if args.command == "environments":
        return _environments(args.directory, args.waivers)
    return verify.run(
        outdir=args.outdir,
        waivers_path=args.waivers,
        today=args.today,
        json_path=args.json_path,
        junit_path=args.junit,
        external_checks_dirs=args.external_checks_dir,
        sarif_path=args.sarif,
        require_coverage=args.require_coverage,
        requirement_map_path=args.requirements,
        environments=args.environments,
    )


def _environments(directory: Path | None, waivers: Path) -> int:
    """What main.py loads before it synthesizes, and the operator waivers file the gate reads
    after it: bad input exits 2 with one line per problem, before minutes of synthesis."""
    directory = directory or Path(os.environ.get("GROUNDWORK_ENVIRONMENTS", "environments"))
    try:
        environments = load_environments(directory, cloud=cloud_override())
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        load_waivers(waivers)
    except WaiversError as error:
        for message in error.messages:
            print(message, file=sys.stderr)
        return 2
    names = ", ".join(f"{config.name} ({config.cloud})" for config in environments)
    print(f"environments: {len(environments)} valid: {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
