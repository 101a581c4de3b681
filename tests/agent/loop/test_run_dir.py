"""A run directory is owned by one run; damaged resume inputs restart or refuse in one line (issue 15).

Real episodes (oracle perception, real PyBullet, real SQLite checkpoints); the damage is what a kill or a full
disk leaves: a zero-length or garbage checkpoint, a torn last journal line, a damaged run.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundsight.agent.loop.run_dir import RunDirError, locked_run_dir
from groundsight.agent.loop.runner import RunConfig, resume_run, run_episode
from groundsight.agent.tasks.scenario import load_scenario

SCENARIO = "pick_place/red_block_in_blue_bowl"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "whole"
    summary = run_episode(load_scenario(SCENARIO), RunConfig(perception="oracle", seed=1), out)
    assert summary.passed
    return out


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


def test_a_second_run_on_a_locked_directory_is_refused_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    with locked_run_dir(out), pytest.raises(RunDirError, match=r"in use by another groundsight run \(pid \d+\)"):
        run_episode(load_scenario(SCENARIO), RunConfig(perception="oracle"), out)
    assert not (out / "summary.json").exists()
    with locked_run_dir(out):  # released when the holder ends
        pass


def test_an_unusable_directory_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(RunDirError, match="cannot be used as a run directory"):
        run_episode(load_scenario(SCENARIO), RunConfig(perception="oracle"), a_file)


@pytest.mark.parametrize("damage", [b"", b"this is not a database" * 50])
def test_a_damaged_or_empty_checkpoint_restarts_the_episode(finished: Path, tmp_path: Path, damage: bytes) -> None:
    run = _copy(finished, tmp_path / "run")
    (run / "summary.json").unlink()
    (run / "checkpoint.sqlite").write_bytes(damage)
    summary = resume_run(run)
    assert summary.passed and summary.status == "succeeded"
    expected = json.loads((finished / "summary.json").read_text())
    assert summary.actions == expected["actions"]
    calls = (run / "robot.jsonl").read_text().splitlines()
    assert len(calls) == expected["actions"]  # the restarted episode's calls only, none doubled


def test_a_torn_last_line_is_dropped_on_resume(finished: Path, tmp_path: Path) -> None:
    run = _copy(finished, tmp_path / "run")
    with open(run / "trace.jsonl", "ab") as fh:
        fh.write(b'{"node": "perc')
    resume_run(run)
    for line in (run / "trace.jsonl").read_text().splitlines():
        json.loads(line)  # every line whole again


@pytest.mark.parametrize("content", ["", "{not json", '{"seed": "x"}'])
def test_a_damaged_run_json_is_one_line(finished: Path, tmp_path: Path, content: str) -> None:
    run = _copy(finished, tmp_path / "run")
    (run / "run.json").write_text(content)
    with pytest.raises(ValueError, match=r"run.json") as err:
        resume_run(run)
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


def test_the_cli_resumes_a_run_killed_before_its_first_checkpoint(finished: Path, tmp_path: Path) -> None:
    from tests.agent.cli.test_cli import cli

    run = _copy(finished, tmp_path / "run")
    for name in ("summary.json", "checkpoint.sqlite", "trace.jsonl", "robot.jsonl"):
        (run / name).unlink(missing_ok=True)
    result = cli("run", "--resume", str(run), "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((run / "summary.json").read_text())["passed"]
