"""Issue 14: the scripted solver packs several objects into one container, each ending inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundsight.agent.tasks.scenario import load_scenario
from groundsight.agent.tasks.solver import _puts, solve_episode

SCENARIOS = Path(__file__).resolve().parents[1] / "loop" / "scenarios_issue14"


@pytest.mark.parametrize("name", ["two_blocks_one_bowl", "three_blocks_one_bowl"])
def test_solver_packs_blocks_into_one_bowl(name: str) -> None:
    result = solve_episode(load_scenario(SCENARIOS / f"{name}.yaml"), seed=0)
    assert result.passed, result.failures
    assert result.failed_actions == 0


def test_puts_lists_every_inside_and_on_of_a_goal() -> None:
    goal = {"all": [{"inside": ["a", "bowl"]}, {"any": [{"on": ["b", "plate"]}, {"on": ["c", "plate"]}]}]}
    assert _puts(goal) == [("a", "inside", "bowl"), ("b", "on", "plate")]
    assert _puts({"stacked": ["top", "mid", "base"]}) == [("top", "on", "mid"), ("mid", "on", "base")]
