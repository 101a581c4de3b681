"""The scripted solver drives the real skills from simulator truth and the goal; judged on truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundsight.agent.tasks.scenario import load_scenario
from groundsight.agent.tasks.solver import solve_episode

ROOT = Path(__file__).resolve().parents[3] / "scenarios"


@pytest.mark.parametrize(
    "path",
    [
        "stacking/three_block_tower.yaml",
        "sorting/blocks_into_matching_bowls.yaml",
        "spatial/block_left_of_bowl.yaml",
        "counting/two_green_blocks.yaml",
        "handover/green_ball.yaml",
    ],
)
def test_solver_solves_families(path: str) -> None:
    result = solve_episode(load_scenario(ROOT / path), seed=2)
    assert result.passed, result.failures
    assert result.actions >= 2


def test_solver_cannot_fake_an_impossible_goal() -> None:
    scenario = load_scenario(ROOT / "pick_place" / "red_block_in_blue_bowl.yaml")
    impossible = scenario.model_copy(update={"goal": {"inside": ["blue_bowl", "red_block"]}})
    result = solve_episode(impossible, seed=0)
    assert not result.passed
    assert result.failed_actions >= 1  # a bowl is too wide for the gripper: the pick says so


def test_solver_needs_a_goal() -> None:
    with pytest.raises(ValueError, match="needs a goal"):
        solve_episode(load_scenario(ROOT / "infeasible" / "absent_ball_refuse.yaml"), seed=0)
