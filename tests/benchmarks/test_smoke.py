"""Smoke test of benchmarks/sim_speed.py: its measuring functions run on tiny counts and report numbers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "sim_speed.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("sim_speed", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["sim_speed"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_physics_and_render_report(bench):
    physics = bench.bench_physics(steps=20, repeats=1, seed=0, per_type=False)
    assert len(physics.rows) == 2
    assert all(float(r[2].replace(",", "")) > 0 for r in physics.rows)
    render, status = bench.bench_render([(64, 48)], reps=1, seed=0, egl=False)
    assert [r[0] for r in render.rows] == ["top", "front", "wrist"]
    assert status.startswith("EGL plugin: not probed")
    md = physics.markdown() + render.markdown()
    assert "| empty (Panda + table) |" in md and "| top |" in md


def test_skill_durations_report(bench):
    """Every skill of every kind reports its physics steps and wall time; physics is part of the wall time."""
    section = bench.bench_skills([0])
    names = [r[0] for r in section.rows]
    assert names[0] == "pick (a block)" and "place (bowl)" in names and "home (from home)" in names
    pick = section.rows[0]
    assert int(pick[2].replace(",", "")) > 100  # a pick moves the arm for a while
    assert 0 < float(pick[5]) <= float(pick[4])


def test_args_quick(bench):
    args = bench.parse_args(["--quick"])
    assert args.seeds == 1 and args.resolutions == [(320, 240), (640, 480)]
