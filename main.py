"""Groundwork's cdktf app: one stack per file in environments/, named after the file, and
one bootstrap stack per cloud in use (`bootstrap-<cloud>`, the state storage, STATE-2).

Wiring only: load and validate the environments, create the App, add each environment's
stack for its cloud and then the bootstrap stacks, each with its synth-time guards,
synthesize. Bad config exits 2 and a guard violation exits 1, each with one line per
problem; neither writes anything.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cdktf import App

from stacks import bootstrap_stack_class, stack_class
from synth.config import ConfigError, bootstrap_configs, cloud_override, load_environments
from synth.guards import attach_guards, guard_failures
from synth.output import staged_outdir


def main() -> int:
    environments_dir = Path(os.environ.get("GROUNDWORK_ENVIRONMENTS", "environments"))
    # cdktf's CLI passes its output directory in CDKTF_OUTDIR.
    outdir = Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    try:
        environments = load_environments(environments_dir, cloud=cloud_override())
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        with staged_outdir(outdir) as staging:
            app = App(outdir=str(staging))
            for config in environments:
                print(f"synth: {config.name} on {config.cloud} ({config.region})")
                attach_guards(stack_class(config.cloud)(app, config))
            bootstraps = bootstrap_configs(environments)
            for config in bootstraps:
                print(f"synth: {config.name} (state storage) on {config.cloud} ({config.region})")
                attach_guards(bootstrap_stack_class(config.cloud)(app, config))
            app.synth()
    except RuntimeError as error:
        failures = guard_failures(error)
        if failures is None:
            raise
        print("\n".join(["synth stopped by guards:", *failures]), file=sys.stderr)
        return 1
    print(f"synth: wrote {len(environments) + len(bootstraps)} stacks to {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
