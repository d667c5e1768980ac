"""The rotator's shell script, run by /bin/sh against a fake `gcloud` (SEC-2, DEPLOY-6).

The fake keeps Secret Manager versions and Cloud Run revisions in a JSON file with a clock
that ticks one second per call, so the tests check what the script does, in order: seed,
shift, finish a half-done shift, and never shift twice without a roll in between.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from constructs.gcp.rotation import (  # noqa: E402
    CALL_SECONDS,
    MAX_TIMEOUT,
    RETRY,
    RETRY_WINDOW,
    ROLL_CALLS,
    SECRET_CALLS,
    rotate_script,
    rotation_timeout,
)

from synth.config import ConfigError  # noqa: E402

IDS = ["jwt", "jwt-previous", "jwt-next"]

FAKE_GCLOUD = r"""
import json, os, sys

path = os.environ["FAKE_STATE"]
state = json.load(open(path))
state["clock"] += 1
now = "2026-01-01T00:%02d:%02d.123456Z" % divmod(state["clock"], 60)
args = [a for a in sys.argv[1:] if not a.startswith(("--project", "--quiet", "--region"))]
fmt = next((a.split("=", 1)[1] for a in args if a.startswith("--format=")), "")
words = [a for a in args if not a.startswith("--")]
state["calls"].append(" ".join(words))


def save():
    json.dump(state, open(path, "w"))


if words[:3] == ["secrets", "versions", "list"]:
    versions = state["secrets"].get(words[3], [])
    if versions:
        latest = versions[-1]
        print(latest["createTime"] if "createTime" in fmt else len(versions))
elif words[:3] == ["secrets", "versions", "add"]:
    state["secrets"].setdefault(words[3], []).append(
        {"value": sys.stdin.read(), "createTime": now}
    )
elif words[:3] == ["secrets", "versions", "access"]:
    secret = next(a.split("=", 1)[1] for a in args if a.startswith("--secret="))
    print(state["secrets"][secret][-1]["value"])
elif words[:3] == ["run", "services", "describe"]:
    print(state["revisions"][-1]["name"] if state["revisions"] else "")
elif words[:3] == ["run", "revisions", "describe"]:
    print(next(r["created"] for r in state["revisions"] if r["name"] == words[3]))
elif words[:3] == ["run", "services", "update"]:
    if state["roll_fails"]:
        save()
        sys.exit(1)
    state["revisions"].append({"name": "svc-%05d" % len(state["revisions"]), "created": now})
else:
    save()
    sys.exit("fake gcloud: unexpected call " + " ".join(args))
save()
"""


def stamp(clock: int) -> str:
    """An RFC 3339 time `clock` seconds into the fake's day (Cloud Run's form, no fraction)."""
    minutes, seconds = divmod(clock, 60)
    return f"2026-01-01T00:{minutes:02d}:{seconds:02d}Z"


class FakeCloud:
    """The fake's state file, and the rotator script run against it by /bin/sh."""

    def __init__(self, tmp_path: Path) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name, text in (
            ("gcloud", f"#!{sys.executable}\n{FAKE_GCLOUD}"),
            ("sleep", "#!/bin/sh\nexit 0\n"),
        ):  # retries do not wait here
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        self.file = tmp_path / "state.json"
        self.write({"clock": 0, "secrets": {}, "revisions": [], "roll_fails": False, "calls": []})
        self.script = f"set -e; {RETRY}; {rotate_script('proj', 'europe-west1', ['svc'], IDS)}"
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_STATE": str(self.file),
        }

    def state(self) -> dict:
        return json.loads(self.file.read_text())

    def write(self, state: dict) -> None:
        self.file.write_text(json.dumps(state))

    def run(self, *, roll_fails: bool = False) -> int:
        """One run of the job; its exit status."""
        state = self.state()
        state["roll_fails"], state["calls"] = roll_fails, []
        self.write(state)
        return subprocess.run(
            ["/bin/sh", "-c", self.script], env=self.env, capture_output=True, check=False
        ).returncode

    def deploy_revision(self) -> None:
        """What the first apply does after the first run: create the service's revision."""
        state = self.state()
        state["clock"] += 1
        state["revisions"].append({"name": "svc-first", "created": stamp(state["clock"])})
        self.write(state)

    def values(self) -> tuple[str, ...]:
        """The latest (current, previous, next)."""
        return tuple(self.state()["secrets"][i][-1]["value"] for i in IDS)

    def calls(self) -> list[str]:
        return self.state()["calls"]


@pytest.fixture
def cloud(tmp_path: Path) -> FakeCloud:
    return FakeCloud(tmp_path)


def test_the_first_run_seeds_three_distinct_values_and_rolls_nothing(cloud: FakeCloud) -> None:
    assert cloud.run() == 0
    seeded = cloud.values()
    assert len(set(seeded)) == 3
    assert all(len(v) == 64 for v in seeded)  # 48 random bytes in base64 (SEC-5: >= 256 bits)
    assert not any(c.startswith("run services update") for c in cloud.calls())


def test_a_rotation_shifts_once_then_rolls_the_service(cloud: FakeCloud) -> None:
    cloud.run()
    cloud.deploy_revision()
    current, previous, following = cloud.values()
    assert cloud.run() == 0
    new_current, new_previous, new_next = cloud.values()
    assert (new_current, new_previous) == (following, current)
    assert new_next not in (current, previous, following)
    assert cloud.calls()[-1].startswith("run services update svc")
    assert len(cloud.state()["revisions"]) == 2


def test_a_failed_roll_is_retried_by_the_next_run_before_any_further_shift(
    cloud: FakeCloud,
) -> None:
    cloud.run()
    cloud.deploy_revision()
    assert cloud.run(roll_fails=True) != 0  # shifted, but live instances hold the old values
    shifted = cloud.values()
    assert cloud.run() == 0
    # Only the roll: a second shift would put live instances two rotations apart.
    assert cloud.values() == shifted
    assert not any(c.startswith("secrets versions add") for c in cloud.calls())
    assert cloud.calls()[-1].startswith("run services update svc")
    # Once rolled out, the next run shifts again.
    assert cloud.run() == 0
    assert cloud.values()[1] == shifted[0]


def test_a_shift_stopped_after_current_is_finished_with_next_only(cloud: FakeCloud) -> None:
    cloud.run()
    cloud.deploy_revision()
    current, previous, following = cloud.values()
    state = cloud.state()
    for secret, value in ((IDS[1], current), (IDS[0], following)):  # stopped before `next`
        state["clock"] += 1
        state["secrets"][secret].append({"value": value, "createTime": stamp(state["clock"])})
    cloud.write(state)
    assert cloud.run() == 0
    finished = cloud.values()
    assert finished[:2] == (following, current)  # current and previous are kept
    assert finished[2] not in (current, previous, following)
    assert [c for c in cloud.calls() if c.startswith("secrets versions add")] == [
        "secrets versions add jwt-next"
    ]
    assert cloud.calls()[-1].startswith("run services update svc")


def test_a_run_makes_at_most_the_budgeted_calls_per_secret_and_reader(tmp_path: Path) -> None:
    """The timeout's budget (constructs/gcp/rotation.py, `rotation_timeout`) counts SECRET_CALLS
    per generated secret and ROLL_CALLS per reader: a seeding run and a shifting run with 8
    readers make no more gcloud calls than that, and the shift makes exactly that many."""
    cloud = FakeCloud(tmp_path)
    readers = [f"svc-{n}" for n in range(8)]
    cloud.script = f"set -e; {RETRY}; {rotate_script('proj', 'europe-west1', readers, IDS)}"
    budget = SECRET_CALLS + ROLL_CALLS * len(readers)
    assert cloud.run() == 0
    assert len(cloud.calls()) <= budget  # seeding: 3 lists, 3 adds
    cloud.deploy_revision()
    assert cloud.run() == 0
    assert len(cloud.calls()) == budget
    assert sum(c.startswith("run services update") for c in cloud.calls()) == 8


def test_the_timeout_grows_with_the_catalog_and_its_readers_up_to_cloud_runs_maximum() -> None:
    # Today's catalog, JWT_SECRET read by the one service: 5 minutes of retries and 12 calls
    # of 30 s, 11 minutes (the fixed 600 s was less than that); no catalog gets less than
    # Cloud Run's default of 10 minutes.
    assert rotation_timeout({"JWT_SECRET": ["app"]}) == 660
    assert rotation_timeout({}) == 600
    # 8 services each reading 16 generated secrets: 16 x (9 + 3 x 8) calls of 30 s, plus one
    # 5-minute retry window, in whole minutes.
    large = {f"SECRET_{n}": [f"svc-{s}" for s in range(8)] for n in range(16)}
    expected = RETRY_WINDOW + CALL_SECONDS * 16 * (SECRET_CALLS + ROLL_CALLS * 8)
    assert expected == 16140
    assert rotation_timeout(large) == 16140
    assert rotation_timeout(large) > rotation_timeout({"SECRET_0": large["SECRET_0"]})
    huge = {f"SECRET_{n}": [f"svc-{s}" for s in range(8)] for n in range(700)}
    with pytest.raises(ConfigError, match=r"secrets\.catalog: .* task timeout"):
        rotation_timeout(huge)
    assert MAX_TIMEOUT == 168 * 3600
