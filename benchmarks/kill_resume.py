"""Kill -9 at random moments, then ``--resume``: the same end, no robot call repeated, nothing corrupted.

    python -m benchmarks.kill_resume [--trials 50] [--seed 0] [--scenario stacking/three_block_tower]

Each trial starts ``groundsight run SCENARIO --perception oracle --out D``, sends SIGKILL after a random delay
(from 0 s, before the first checkpoint, to the length of a whole run, so some kills land mid-write and some after
the end), resumes with ``groundsight run --resume D`` when no summary was written (or runs the command again when
the kill came before the run wrote its run.json: there is nothing to resume), and compares with an
uninterrupted run of the same seed: status, passed, and the robot journal's calls, in order.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "groundsight"]


def _run(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=timeout, check=False)


def _calls(out: Path) -> list[tuple[str, list]]:
    path = out / "robot.jsonl"
    if not path.exists():
        return []
    return [(e["method"], e["args"]) for e in map(json.loads, path.read_text().splitlines())]


def _outcome(out: Path) -> tuple[str, bool]:
    summary = json.loads((out / "summary.json").read_text())
    return summary["status"], summary["passed"]


def trial(scenario: str, seed: int, delay: float, out: Path) -> dict:
    """One kill at ``delay`` seconds and the resume after it."""
    proc = subprocess.Popen(
        [*COMMAND, "run", scenario, "--perception", "oracle", "--seed", str(seed), "--out", str(out), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    calls_at_kill = len(_calls(out))
    resumed = None
    if not (out / "run.json").exists():  # killed before the run wrote anything: the user runs it again
        resumed = _run(["run", scenario, "--perception", "oracle", "--seed", str(seed), "--out", str(out), "-q"])
    elif not (out / "summary.json").exists():
        resumed = _run(["run", "--resume", str(out), "-q"])
    return {
        "delay": round(delay, 2),
        "killed": killed,
        "calls_at_kill": calls_at_kill,
        "resume_rc": None if resumed is None else resumed.returncode,
        "resume_err": "" if resumed is None else resumed.stderr.strip()[-300:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenario", default="stacking/three_block_tower")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="kill_resume_"))
    failures = 0
    try:
        references: dict[int, tuple[tuple[str, bool], list, float]] = {}
        for k in range(args.trials):
            seed = k % 3
            if seed not in references:
                ref = tmp / f"reference{seed}"
                start = time.perf_counter()
                _run(["run", args.scenario, "--perception", "oracle", "--seed", str(seed), "--out", str(ref), "-q"])
                references[seed] = (_outcome(ref), _calls(ref), time.perf_counter() - start)
            outcome, calls, length = references[seed]
            out = tmp / f"trial{k}"
            result = trial(args.scenario, seed, rng.uniform(0.0, length * 1.1), out)
            same = (out / "summary.json").exists() and _outcome(out) == outcome and _calls(out) == calls
            failures += not same
            print(json.dumps({"trial": k, "seed": seed, "same_end_same_calls": same, **result}), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"kill_resume: {args.trials - failures}/{args.trials} trials resumed to the same end with the same calls")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
