"""Exit codes mean what the contract says in every command (0 passed, 1 ran but not passed, 2 bad input), with
one line and no traceback for each bad input an attacker or an unlucky user brings (issue 15)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.agent.cli.test_cli import DEMO, cli


def _one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert lines and lines[-1].startswith(("error:", "internal error:")), result.stderr
    return lines[-1]


def test_a_tools_module_that_exits_while_imported_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(3)\n")
    result = cli("tools", "list", "--tools", "exits:tools", cwd=tmp_path)
    assert result.returncode == 2
    assert "called sys.exit(3)" in _one_error_line(result)


def test_a_tools_function_that_exits_is_bad_input(tmp_path: Path) -> None:
    result = cli("tools", "list", "--tools", "sys:exit", cwd=tmp_path)
    assert result.returncode == 2
    assert "sys.exit" in _one_error_line(result)


def test_eval_refuses_two_files_with_one_name(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        shutil.copy(DEMO, tmp_path / name)
    result = cli("eval", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "names must be unique" in _one_error_line(result)
    assert not (tmp_path / "out" / "results.jsonl").exists()


def test_an_unusable_out_is_bad_input(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = cli("run", str(DEMO), "--perception", "oracle", "--out", str(blocker), "-q")
    assert result.returncode == 2
    assert "cannot be used as a run directory" in _one_error_line(result)


def test_camera_with_only_broken_images_is_bad_input(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "000000.png").write_bytes(b"")
    (frames / "000001.png").write_bytes(b"\x89PNG garbage")
    result = cli("camera", "--source", str(frames), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(bool(os.environ.get("DISPLAY")), reason="checks the no-display path")
def test_gui_without_a_display_runs_headless(tmp_path: Path) -> None:
    result = cli("run", str(DEMO), "--perception", "oracle", "--gui", "--out", str(tmp_path / "run"), "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "run" / "summary.json").exists()
