"""Azure waiver constants the constructs share (synth/construct_waivers.py)."""

from __future__ import annotations

OWNER = "platform-team"
EXPIRES = "2027-05-31"
# Gaps and platform limits the project means to close: reviewed sooner.
GAP_EXPIRES = "2027-02-28"
