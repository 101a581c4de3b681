"""The agent in panda-gym, scored by panda-gym's own ``is_success`` (skipped without panda-gym)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("panda_gym")

from groundsight.agent.hosts.panda_gym import goal_on_table, make_env, run_panda_gym  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "panda_gym_push.py"


@pytest.mark.parametrize("seed", [0])
def test_the_push_example_succeeds_by_panda_gyms_is_success(tmp_path, seed):
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), "--seed", str(seed), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "panda-gym is_success: True" in run.stdout, run.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["host_success"] is True and summary["status"] == "succeeded"
    trace = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    assert {"perceive", "reason", "verify", "act", "observe"} <= {r["node"] for r in trace}


def test_a_goal_in_the_air_is_refused_without_moving(tmp_path):
    seed = next(s for s in range(20) if not _on_table("PandaPickAndPlace-v3", s))
    result = run_panda_gym("PandaPickAndPlace-v3", seed, out=tmp_path)
    assert result.status == "refused" and result.actions == 0
    assert "not a support surface" in result.reason
    assert result.host_success is False
    assert json.loads((tmp_path / "summary.json").read_text())["host_success"] is False


def _on_table(task: str, seed: int) -> bool:
    env = make_env(task, seed)
    try:
        return goal_on_table(env)
    finally:
        env.close()
