"""benchmarks/latency.py: its statistics, table and agreement over hand-made timings, and a real per-node run of
one short episode on this tree (timing.jsonl read back)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATH = ROOT / "benchmarks" / "latency.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("latency", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["latency"] = module
    spec.loader.exec_module(module)
    return module


def _episode(reason: float, verify: float, warmup: bool = False, passed: bool = True) -> dict:
    steps = [
        {"node": "perceive", "seconds": {"perceive": 0.3, "render": 0.1, "perception": 0.05}, "checkpoint": [0.002]},
        {"node": "reason", "seconds": {"reason": reason}, "checkpoint": []},
        {"node": "verify", "seconds": {"verify": verify}, "checkpoint": [0.004, 0.006]},
    ]
    return {"file": "a.yaml", "seed": 0, "warmup": warmup, "passed": passed, "steps": steps}


def test_node_stats_leave_the_warm_up_out_and_add_reason_to_verify(bench) -> None:
    stats = bench.node_stats([_episode(1.0, 1.0, warmup=True), _episode(0.02, 0.01), _episode(0.04, 0.01)])
    assert stats["decision"]["n"] == 2
    assert stats["decision"]["median"] == pytest.approx(40.0)
    assert stats["reason"]["p95"] == pytest.approx(40.0)
    assert stats["checkpoint"]["n"] == 6
    assert stats["act"]["median"] is None


def test_p95_is_a_nearest_rank(bench) -> None:
    assert bench.p95(list(range(1, 101))) == 95
    assert bench.p95([3.0]) == 3.0
    assert bench.p95([]) is None


def test_table_prints_both_sides_and_how_many_times_faster(bench) -> None:
    evals = {
        "old": {"workers1": {"episodes_per_min": 10.0, "passed": {"a/seed0": True}}},
        "now": {"workers1": {"episodes_per_min": 30.0, "passed": {"a/seed0": False}}},
    }
    for side in evals.values():
        side["workers2"] = {**side["workers1"], "episodes_per_min": 2 * side["workers1"]["episodes_per_min"]}
    result = {
        "sides": ["old", "now"],
        "cold": {"old": [{"pass": 0.1, "help": 1.0}], "now": [{"pass": 0.1, "help": 0.5}]},
        "eval": evals,
    }
    text = bench.table(result)
    assert "| cold: groundsight --help (median) | 1.000 | 0.500 | s" in text.replace("  ", " ").replace("  ", " ")
    assert "3.00x" in text and "2.00x" in text
    assert bench.agreement(result)[0] == "eval w1: 0 episodes pass/fail alike, 1 differ: a/seed0"


def test_a_real_episode_is_timed_from_its_timing_file(bench, tmp_path) -> None:
    scenario = ROOT / "scenarios" / "infeasible" / "absent_ball_refuse.yaml"
    side = bench.Side("now", ROOT, None)
    out = subprocess.run(
        bench._drive_command(side, 1, [scenario]), cwd=tmp_path, env=side.env(), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    episodes = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [e["warmup"] for e in episodes] == [True, False]
    stats = bench.node_stats(episodes)
    assert stats["decision"]["n"] >= 1 and stats["render"]["n"] >= 1 and stats["checkpoint"]["n"] >= 1
    assert episodes[1]["passed"]


def test_bad_arguments_are_one_line(bench) -> None:
    with pytest.raises(SystemExit) as info:
        bench.parse_args(["--suite", "no/such/folder"])
    assert info.value.code == 2
