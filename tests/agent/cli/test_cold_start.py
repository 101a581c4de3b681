"""``groundsight --help``, every command's ``--help`` and argument errors start at once: they import none of the
heavy libraries (issue 16: each is imported where it is first used). Checked on the list of modules
``python -X importtime`` reports, in a fresh process; no clocks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.agent.cli.test_cli import DEMO, ROOT

HEAVY = (
    "torch",
    "transformers",
    "langchain",
    "langchain_core",
    "langgraph",
    "langsmith",
    "matplotlib",
    "rdflib",
    "owlrl",
    "pyshacl",
    "pybullet",
    "cv2",
    "ray",
    "gymnasium",
    "numpy",
)
"""Top-level packages a command must not import before it has parsed and checked its arguments (gymnasium and
numpy cost half a second together; the others seconds)."""

HELP_COMMANDS = [
    [],
    ["run"],
    ["eval"],
    ["solve"],
    ["camera"],
    ["report"],
    ["datagen"],
    ["train-vlm"],
    ["scenarios"],
    ["scenarios", "list"],
    ["scenarios", "validate"],
    ["kg"],
    ["kg", "query"],
    ["kg", "types"],
    ["tools"],
    ["tools", "list"],
    ["tools", "call"],
]

ARGUMENT_ERRORS = [
    ["run", "nosuch.yaml"],
    ["run", str(DEMO), "--seed", "abc"],
    ["run", str(DEMO), "--perception", "nosuch"],
    ["run", str(DEMO), "--reasoner", "nosuch"],
    ["run", str(DEMO), "--record", "nosuch", "out"],
    ["eval", "nosuch_folder"],
    ["eval", str(DEMO), "--backend", "nosuch"],
    ["solve", "nosuch_folder"],
    ["tools", "call", "nosuch.yaml", "distance"],
    ["scenarios", "list", "--family", "nosuch"],
    ["run", "--nosuch-option"],
]


def imported_packages(args: list[str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m groundsight ARGS``; the result and the top-level packages it imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "groundsight", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "COLUMNS": "120"},
    )
    names = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return result, names


def _heavy(names: set[str]) -> list[str]:
    return sorted(names.intersection(HEAVY))


def test_the_import_list_sees_a_heavy_import() -> None:
    """The check can fail: a command that loads a scenario (its model checks placements with numpy) shows it."""
    _, names = imported_packages(["scenarios", "validate", str(DEMO)])
    assert "numpy" in names and _heavy(names)


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: " ".join(c) or "groundsight")
def test_help_imports_nothing_heavy(command: list[str]) -> None:
    result, names = imported_packages([*command, "--help"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Usage:" in result.stdout
    assert _heavy(names) == [], f"groundsight {' '.join(command)} --help imports {_heavy(names)}"


@pytest.mark.parametrize("args", ARGUMENT_ERRORS, ids=" ".join)
def test_argument_error_exits_2_and_imports_nothing_heavy(args: list[str]) -> None:
    result, names = imported_packages(args)
    errors = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    assert result.returncode == 2, "\n".join(errors)
    assert "Traceback" not in result.stderr
    assert _heavy(names) == [], f"groundsight {' '.join(args)} imports {_heavy(names)}"


def test_missing_scenario_file_is_the_same_one_line_as_before() -> None:
    result, _ = imported_packages(["run", "nosuch.yaml"])
    errors = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    assert errors == ["error: nosuch.yaml: (file): cannot read: No such file or directory"]


GYM_AFTER_AGENT = (
    "import sys\n"
    "import groundsight.agent\n"
    "print('gymnasium imported by groundsight.agent:', 'gymnasium' in sys.modules)\n"
    "import gymnasium as gym\n"
    "print('registered:', 'groundsight/Tabletop-v0' in gym.registry)\n"
)


def test_import_agent_registers_the_env_when_gymnasium_comes_later() -> None:
    """``import groundsight.agent`` no longer imports gymnasium, yet still registers ``groundsight/Tabletop-v0``
    (the moment gymnasium is imported); the other order is covered by test_packaging's gymnasium snippet."""
    result = subprocess.run([sys.executable, "-c", GYM_AFTER_AGENT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["gymnasium imported by groundsight.agent: False", "registered: True"]
