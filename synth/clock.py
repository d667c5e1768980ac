"""The gate's notion of today, injectable so no test and no rerun depends on the real date.

`GROUNDWORK_TODAY=YYYY-MM-DD` pins it for a whole process tree (the test suite sets it, so
`main.py` and `python -m synth verify` started by a test judge waiver expiry against a fixed
date); `python -m synth verify --today` pins one run. Otherwise it is the machine's date.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

TODAY_ENV = "GROUNDWORK_TODAY"


def today(environ: Mapping[str, str] = os.environ) -> dt.date:
    """`GROUNDWORK_TODAY` if set (ValueError if it is not an ISO date), else the real date."""
    pinned = environ.get(TODAY_ENV, "").strip()
    if not pinned:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(pinned)
    except ValueError:
        raise ValueError(f"{TODAY_ENV}={pinned!r}: not a YYYY-MM-DD date") from None
