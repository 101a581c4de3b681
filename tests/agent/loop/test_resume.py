"""Killing ``groundsight run`` mid-episode and resuming it from the SQLite checkpoint.

The run is a real process, killed with SIGKILL once the robot journal shows a completed action; the resumed
run rebuilds the world from the seed, replays the journal, and goes on from the checkpoint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.agent.cli.test_cli import EXE, ROOT, cli

TOWER = ROOT / "scenarios" / "stacking" / "three_block_tower.yaml"


def _journal(out: Path) -> list[dict]:
    path = out / "robot.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_killed_run_resumes_to_the_same_end_without_repeating_actions(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    assert cli("run", str(TOWER), "--perception", "oracle", "--seed", "4", "--out", str(whole), "-q").returncode == 0
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [EXE, "run", str(TOWER), "--perception", "oracle", "--seed", "4", "--out", str(killed), "-q"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while len(_journal(killed)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(_journal(killed))
    assert 2 <= done_before < len(_journal(whole)), "the kill should land mid-episode"
    assert not (killed / "summary.json").exists()

    resumed = cli("run", "--resume", str(killed), "-q")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    a = json.loads((whole / "summary.json").read_text())
    b = json.loads((killed / "summary.json").read_text())
    assert (b["status"], b["passed"], b["goal_satisfied"]) == (a["status"], a["passed"], a["goal_satisfied"])
    calls = [(c["method"], c["args"]) for c in _journal(killed)]
    assert calls == [(c["method"], c["args"]) for c in _journal(whole)]  # nothing done twice, nothing skipped
    replayed = [
        a
        for line in (killed / "trace.jsonl").read_text().splitlines()
        for a in json.loads(line).get("actions", [])[-1:]
        if json.loads(line)["node"] == "act"
    ]
    assert all(a["ok"] for a in replayed)  # a step re-run after the kill got the journal's outcome, not a new move


def test_resume_of_a_question_takes_the_answer(tmp_path: Path) -> None:
    ask = ROOT / "scenarios" / "pick_place" / "two_blue_bowls_ask.yaml"
    out = tmp_path / "run"
    first = cli("run", str(ask), "--out", str(out), "-q")
    assert first.returncode == 0 and "Which blue bowl" in first.stdout
    second = cli("run", "--resume", str(out), "--answer", "blue_bowl_2", "-q")
    assert "result: success" in second.stdout and "blue_bowl_2" in second.stdout
    assert [c["method"] for c in _journal(out)] == ["pick", "place"]


def test_resume_of_nothing_is_bad_input(tmp_path: Path) -> None:
    result = cli("run", "--resume", str(tmp_path))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


class _Killed(BaseException):
    """Stands in for SIGKILL inside the process: not an ``Exception``, so nothing records it as a result."""


def test_a_kill_between_a_steps_writes_and_its_checkpoint_resumes(tmp_path: Path, monkeypatch) -> None:
    """The narrowest window: the second action finished and LangGraph saved its writes, but the process dies
    before the step's checkpoint. The resumed run must apply those writes, not stop, and not act twice."""
    import groundsight.agent.loop.runner as runner
    from groundsight.agent.tasks.scenario import load_scenario

    real_open = runner.open_checkpointer

    def dying(path: Path):
        saver = real_open(path)
        put = saver.put

        def put_or_die(config, checkpoint, metadata, new_versions):
            if checkpoint["channel_values"].get("robot_calls") == 2:
                raise _Killed
            return put(config, checkpoint, metadata, new_versions)

        saver.put = put_or_die
        return saver

    out = tmp_path / "run"
    monkeypatch.setattr(runner, "open_checkpointer", dying)
    with pytest.raises(_Killed):
        runner.run_episode(load_scenario(TOWER), runner.RunConfig(seed=4, perception="oracle"), out)
    monkeypatch.setattr(runner, "open_checkpointer", real_open)
    assert len(_journal(out)) == 2 and not (out / "summary.json").exists()

    summary = runner.resume_run(out)
    assert summary.status == "succeeded" and summary.passed
    calls = [c["method"] for c in _journal(out)]
    assert calls == ["pick", "place", "pick", "place", "pick", "place"][: len(calls)] and len(calls) == 4
    records = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    assert [r["node"] for r in records if r.get("replayed")] == ["act"]  # the saved step, applied, not re-run
