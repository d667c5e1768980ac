"""Groundwork's cdktf app: one stack per file in environments/, named after the file, and
one bootstrap stack per cloud in use (`bootstrap-<cloud>`, the state storage, STATE-2).

Wiring only: load and validate the environments (and, when the gate will run, the operator
waivers file), create the App, add each environment's
stack for its cloud and then the bootstrap stacks, each with its synth-time guards,
synthesize into a staging folder, and run the verify gate on it. The output folder is
replaced only when the gate passes, so `cdktf deploy` and `cdktf diff` (which run this app
first) can never act on Terraform the gate has not passed. A stack whose inputs did not
change since the verified output is taken from it instead of synthesized again
(synth/fingerprint.py); the gate judges it like the others.

Exit status: 0 verified output written; 1 a guard or the gate failed; 2 bad input (config,
selection, a refused skip, the operator waivers file). Nothing is written unless the status is 0.

Environment:
- `CDKTF_OUTDIR`: output folder (cdktf's CLI sets it from `--output`; default cdktf.out).
- `GROUNDWORK_ENVIRONMENTS`: the environments folder (default environments/).
- `GROUNDWORK_STACKS`: comma-separated stack names to synthesize (default: all). With `CI`
  set, naming a production-tier environment whose state is local is refused (a deploy job).
- `GROUNDWORK_REPORTS`: where the gate writes verify.json/.xml/.sarif (default reports/).
- `GROUNDWORK_VERIFY=skip`: local iteration only; refused when `CI` is set or a selected
  stack is of the production tier (see `verification_skipped`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from synth import clock, fingerprint
from synth.config import (
    ConfigError,
    EnvironmentConfig,
    bootstrap_configs,
    cloud_override,
    load_environments,
)
from synth.output import cdktf_cli_runs, reuse_stacks, staged_outdir, write_manifest
from synth.providers import set_node_options

# cdktf, the stacks (jsii and the provider assemblies), the guards and the gate are imported
# where they are used: an unchanged project returns before any of them is needed.


class GateFailed(Exception):
    """The verify gate failed (status 1) or refused its input (status 2)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"verify gate exited {status}")
        self.status = status


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no")


def select_stacks(
    configs: Sequence[EnvironmentConfig], environ: Mapping[str, str]
) -> list[EnvironmentConfig]:
    """The configs named in `GROUNDWORK_STACKS` (all when unset); an unknown name is an error."""
    wanted = [n.strip() for n in environ.get("GROUNDWORK_STACKS", "").split(",") if n.strip()]
    if not wanted:
        return list(configs)
    known = {config.name: config for config in configs}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ConfigError(
            f"GROUNDWORK_STACKS={environ['GROUNDWORK_STACKS']}: no stack named "
            f"{', '.join(unknown)}; the stacks are {', '.join(sorted(known))}"
        )
    return [known[name] for name in wanted]


def refuse_local_production_in_ci(
    selected: Sequence[EnvironmentConfig], environ: Mapping[str, str]
) -> None:
    """In CI, a production-tier environment selected by name (what a deploy job does:
    `GROUNDWORK_STACKS=production npx cdktf deploy production`) must keep its state remotely:
    a runner's local disk is gone after the job, and with it the only record of what exists.
    Pull-request checks synthesize every stack without a selection and are not affected."""
    if not _truthy(environ.get("CI")) or not environ.get("GROUNDWORK_STACKS", "").strip():
        return
    local = [
        c.name
        for c in selected
        if c.tier == "production" and c.role == "workload" and c.state.backend == "local"
    ]
    if local:
        raise ConfigError(
            f"GROUNDWORK_STACKS: {', '.join(local)}: state.backend is local; CI deploys "
            "production only with remote state (README: 'Moving an environment to remote state')"
        )


def verification_skipped(configs: Sequence[EnvironmentConfig], environ: Mapping[str, str]) -> bool:
    """Whether `GROUNDWORK_VERIFY=skip` asks to skip the gate, and may.

    Skipping is for editing a dev or staging stack locally; it is refused (ConfigError) when
    `CI` is set, since CI's output is what gets reviewed and deployed, and when any selected
    stack is of the production tier (a bootstrap stack takes its source's tier)."""
    value = environ.get("GROUNDWORK_VERIFY", "")
    if value in ("", "on"):
        return False
    if value != "skip":
        raise ConfigError(f"GROUNDWORK_VERIFY={value}: expected 'skip' or nothing")
    if _truthy(environ.get("CI")):
        raise ConfigError("GROUNDWORK_VERIFY=skip: refused because CI is set; CI always verifies")
    production = [config.name for config in configs if config.tier == "production"]
    if production:
        raise ConfigError(
            f"GROUNDWORK_VERIFY=skip: refused for production-tier stacks ({', '.join(production)});"
            " select others with GROUNDWORK_STACKS=<name>[,<name>...]"
        )
    return True


def synthesize(app: Any, configs: Sequence[EnvironmentConfig]) -> None:
    """Add every stack with its guards to the cdktf `App`; `configs` holds environments,
    then bootstraps."""
    from stacks import bootstrap_stack_class, stack_class
    from synth.guards import attach_guards

    for config in configs:
        if config.role == "bootstrap":
            print(f"synth: {config.name} (state storage) on {config.cloud} ({config.region})")
            attach_guards(bootstrap_stack_class(config.cloud)(app, config))
        else:
            print(f"synth: {config.name} on {config.cloud} ({config.region})")
            attach_guards(stack_class(config.cloud)(app, config))
    app.synth()


def stop_jsii() -> None:
    """Stop jsii's Node process once the stacks are written (issue 13).

    The gate needs nothing from it, yet it holds the provider assembly while Checkov runs:
    measured here, 570 MB resident for AWS, 470 MB for GCP, 420 MB for Azure. jsii 1.x keeps
    the process behind `kernel.provider._process` (jsii/_kernel/providers/process.py, pinned
    in Pipfile.lock); `stop()` is what jsii itself runs at exit. After this call no jsii object
    may be used, so only a run that ends with the gate calls it, never the test suite's
    synthesis worker, which synthesizes again in the same process (tests/matrix.py)."""
    from jsii._runtime import kernel

    kernel.provider._process.stop()


@contextlib.contextmanager
def checkov_importing(gate: bool) -> Iterator[Callable[[], None]]:
    """While the stacks are synthesized, a Checkov fork server imports Checkov for the gate
    (synth/checkov_server.py `in_background`; issue 13): jsii keeps about one core busy, the
    import (about 3 s) takes the other, and the gate's scan then starts at once. Yields the
    `ready()` to call right before the gate; a run without the gate starts nothing."""
    if not gate:
        yield lambda: None
        return
    from synth import checkov_server

    with checkov_server.in_background() as ready:
        yield ready


def check_waivers() -> int:
    """Read the operator waivers file the gate will apply (`verify.DEFAULT_WAIVERS`) before
    anything is synthesized: 0 when it is valid, else 2 with one line per problem on stderr.
    A bad file then stops the run at once rather than after the synthesis; the environment
    files were checked just before, so `make synth` needs no separate check (issue 13)."""
    from synth.verify import DEFAULT_WAIVERS
    from synth.waivers import WaiversError, load_waivers

    try:
        load_waivers(DEFAULT_WAIVERS)
    except WaiversError as error:
        print("\n".join(error.messages), file=sys.stderr)
        return 2
    return 0


def run_gate(outdir: Path, reports: Path, today: dt.date) -> int:
    """The verify gate with --require-coverage over `outdir`, reports into `reports`, judging
    waiver expiry against `today` (synth/clock.py)."""
    from synth import verify

    # The gate's progress lines go to stdout here: cdktf's CLI labels every line an app
    # writes to stderr "[ERROR]", and these are not errors (the verdict is on stdout too).
    with contextlib.redirect_stderr(sys.stdout):
        return verify.run(
            outdir,
            require_coverage=True,
            today=today,
            json_path=reports / "verify.json",
            junit_path=reports / "verify.xml",
            sarif_path=reports / "verify.sarif",
        )


def main(*, verify_output: bool = True, environ: Mapping[str, str] = os.environ) -> int:
    """The app. `verify_output=False` is the test suite's synthesis of the whole matrix, which
    judges the output with the gate separately (tests/synth/test_gate_on_matrix.py)."""
    environments_dir = Path(environ.get("GROUNDWORK_ENVIRONMENTS", "environments"))
    outdir = Path(environ.get("CDKTF_OUTDIR", "cdktf.out"))
    reports = Path(environ.get("GROUNDWORK_REPORTS", "reports"))
    try:
        environments = load_environments(environments_dir, cloud=cloud_override(environ))
        # Bootstrap stacks derive from every environment, whichever are selected.
        every = [*environments, *bootstrap_configs(environments)]
        selected = select_stacks(every, environ)
        refuse_local_production_in_ci(selected, environ)
        skip = verification_skipped(selected, environ) if verify_output else True
        today = clock.today(environ)
    except (ConfigError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    inputs = fingerprint.fingerprint(environments_dir, environ, today, reports)
    if not skip and fingerprint.up_to_date(outdir, reports, inputs):
        print(f"synth: {outdir} is verified and up to date (no input changed)")
        return 0
    gate = verify_output and not skip
    if gate and (status := check_waivers()):
        return status
    # Only a run that ends with the gate takes stacks from the verified output, and records
    # what its own were synthesized from.
    stack_inputs: dict[str, str] = {}
    if gate:
        code = fingerprint.synthesis_code()
        stack_inputs = {
            c.name: fingerprint.stack_inputs(c, code, outdir, environ) for c in selected
        }
    reused = fingerprint.reusable(outdir, stack_inputs) if gate else set()
    fresh = [config for config in selected if config.name not in reused]
    try:
        with (
            staged_outdir(outdir, cli=cdktf_cli_runs(environ)) as staging,
            checkov_importing(gate and bool(fresh)) as ready,
        ):
            if fresh:
                set_node_options()
                from cdktf import App

                synthesize(App(outdir=str(staging)), fresh)
            if reused:
                names = [config.name for config in selected if config.name in reused]
                print(f"synth: {', '.join(names)} unchanged: taken from the verified {outdir}")
                reuse_stacks(outdir, staging, names)
                write_manifest(outdir, staging, names)
            if skip and verify_output:
                print("synth: GROUNDWORK_VERIFY=skip: NOT VERIFIED; never deploy this output")
            elif gate:
                if fresh:
                    stop_jsii()
                ready()
                status = run_gate(staging, reports, today)
                if status != 0:
                    raise GateFailed(status)
                fingerprint.record(staging, inputs, stack_inputs, {c.name: c for c in selected})
    except GateFailed as failed:
        print(f"synth: the verify gate failed; {outdir} is unchanged", file=sys.stderr)
        return failed.status
    except RuntimeError as error:
        from synth.guards import guard_failures

        failures = guard_failures(error)
        if failures is None:
            raise
        print("\n".join(["synth stopped by guards:", *failures]), file=sys.stderr)
        return 1
    print(f"synth: wrote {len(selected)} stack(s) to {outdir}")
    return 0


if __name__ == "__main__":
    status = main()
    # Python's teardown would collect every object jsii and the provider bindings created,
    # 0.2-0.3 s after the last line (measured, issue 13); frozen, they are left to the OS,
    # which frees the process whole. Files are closed and folders removed before this point.
    gc.freeze()
    sys.exit(status)
