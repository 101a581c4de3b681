"""groundsight as a user installs and runs it: from a folder holding their own ``agent.py``, ``sim.py`` and
``perception.py``; packaged scenarios by name from any directory; and a wheel installed without ``-e``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import typer

from tests.agent.cli.test_cli import ROOT, cli

SHADOWING_MODULES = ("agent", "sim", "perception")
"""Top-level names a user's own project very often has (LangGraph users keep an ``agent.py``)."""

GYM_SNIPPET = (
    "import gymnasium as gym, groundsight.agent\n"
    'env = gym.make("groundsight/Tabletop-v0")\n'
    "obs, info = env.reset(seed=0)\n"
    "print('reset ok', type(obs).__name__)\n"
)

PACKAGED_DEMO = "pick_place/red_block_in_blue_bowl"


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env={**os.environ, **env}, timeout=300)


@pytest.fixture
def user_project(tmp_path: Path) -> Path:
    """A folder with the user's own ``agent.py``, ``sim.py`` and ``perception.py``, each failing on import."""
    project = tmp_path / "my_project"
    project.mkdir()
    for name in SHADOWING_MODULES:
        (project / f"{name}.py").write_text(f"raise ImportError('the user\\'s own {name}.py was imported')\n")
    return project


def test_user_modules_really_shadow_in_that_folder(user_project: Path) -> None:
    """The fixture can make a test fail: ``import agent`` there does reach the user's file."""
    result = _run([sys.executable, "-c", "import agent"], user_project)
    assert result.returncode != 0 and "the user's own agent.py was imported" in result.stderr


def test_python_m_groundsight_help_beside_user_modules(user_project: Path) -> None:
    result = _run([sys.executable, "-m", "groundsight", "--help"], user_project)
    assert result.returncode == 0, result.stderr
    assert "Usage: python -m groundsight" in result.stdout and "scenarios" in result.stdout


def test_run_packaged_scenario_by_name_beside_user_modules(user_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("run", PACKAGED_DEMO, "--seed", "0", "--perception", "oracle", "--out", str(out), cwd=user_project)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["passed"] and summary["scenario"] == "red-block-in-blue-bowl"


def test_gymnasium_snippet_beside_user_modules(user_project: Path) -> None:
    result = _run([sys.executable, "-c", GYM_SNIPPET], user_project)
    assert result.returncode == 0, result.stderr
    assert "reset ok" in result.stdout


def test_scenarios_list_shows_every_packaged_scenario(tmp_path: Path) -> None:
    from groundsight.agent.tasks.scenario import PACKAGED_SCENARIOS

    result = cli("scenarios", "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = sorted(f"{p.parent.name}/{p.stem}" for p in PACKAGED_SCENARIOS.glob("*/*.yaml"))
    assert len(names) >= 30
    for name in names:
        assert name in result.stdout
    assert result.stdout.strip().splitlines()[-1] == f"{len(names)} packaged scenarios in 10 families"


def test_scenarios_list_by_family(tmp_path: Path) -> None:
    result = cli("scenarios", "list", "--family", "stacking", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "stacking/two_block_tower" in result.stdout and "success" in result.stdout
    assert "pick_place/" not in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "3 packaged scenarios in stacking"


def test_scenarios_list_unknown_family_is_one_line(tmp_path: Path) -> None:
    result = cli("scenarios", "list", "--family", "juggling", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and result.stderr.startswith(
        "error: --family: unknown family 'juggling' (known: counting, "
    )


def test_validate_accepts_packaged_names_from_any_directory(tmp_path: Path) -> None:
    result = cli("scenarios", "validate", "pick_place", "stacking/two_block_tower", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "8/8 scenario files valid"


def test_solve_accepts_a_packaged_name(tmp_path: Path) -> None:
    result = cli("solve", "stacking/two_block_tower", "--seeds", "1", "--out", str(tmp_path / "s"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "solve: 1/1 episodes passed"


def test_run_help_names_every_perceiver_and_packaged_scenarios() -> None:
    from groundsight.agent.cli import app
    from groundsight.perception.perceivers import MORE_PERCEIVERS, PERCEIVERS

    command = typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]
    helps = {p.name: p.help or "" for p in command.params}
    for name in (*PERCEIVERS, *MORE_PERCEIVERS):
        assert f" {name}," in helps["perception"] or f" {name}." in helps["perception"], name
    assert "packaged name" in helps["scenario"] and PACKAGED_DEMO in helps["scenario"]


WHEEL_SOURCES = (
    "pyproject.toml",
    "setup.py",
    "README.md",
    "groundsight",
    *("agent", "perception", "reasoning", "knowledge", "sim", "scenarios"),
)


def test_wheel_installed_without_editable_runs_a_packaged_scenario(tmp_path: Path) -> None:
    """Builds the wheel a pip user gets (``pip wheel --no-deps --no-build-isolation``, from a copy of the source
    folders so the build leaves nothing in the repository), installs it with ``pip install --no-deps --target T``,
    and from another directory with ``PYTHONPATH=T`` (so it shadows the editable install) runs a packaged
    scenario with ``python -m groundsight``. Checks the wheel carries the scenarios, the knowledge files, the
    grammar, the shipped VLM and the report templates. Takes about a minute."""
    source = tmp_path / "source"
    source.mkdir()
    for name in WHEEL_SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, source / name)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip"]
    build = _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)], tmp_path)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = wheels.glob("groundsight-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert len([n for n in names if n.startswith("groundsight/scenarios/") and n.endswith(".yaml")]) >= 30
    for required in (
        "groundsight/scenarios/pick_place/red_block_in_blue_bowl.yaml",
        "groundsight/knowledge/ontology/groundsight.ttl",
        "groundsight/knowledge/shapes/groundsight.shapes.ttl",
        "groundsight/reasoning/grammar.lark",
        "groundsight/perception/models/groundsight-vlm/config.json",
        "groundsight/perception/models/groundsight-vlm/model.safetensors",
        "groundsight/agent/evaluation/report/templates/report.html",
        "groundsight/agent/evaluation/report/templates/report.css",
    ):
        assert required in names, f"{required} is not in the wheel"
    target = tmp_path / "target"
    install = _run([*pip, "install", "--no-deps", "-q", "--target", str(target), str(wheel)], tmp_path)
    assert install.returncode == 0, install.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run(
        [sys.executable, "-c", "import groundsight.agent; print(groundsight.agent.__file__)"],
        elsewhere,
        PYTHONPATH=str(target),
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(target), where.stdout
    out = tmp_path / "run"
    run = _run(
        [sys.executable, "-m", "groundsight", "run", PACKAGED_DEMO, "--perception", "oracle", "--out", str(out)],
        elsewhere,
        PYTHONPATH=str(target),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith("result: success (passed")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["passed"]
    assert Path(json.loads((out / "run.json").read_text())["scenario_file"]).is_relative_to(target)
