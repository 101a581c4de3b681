"""``groundsight/Tabletop-v0``: the gymnasium environment with a task made from a scenario file.

>>> import gymnasium as gym, groundsight.agent  # importing it registers the environment
>>> env = gym.make("groundsight/Tabletop-v0", scenario="scenarios/pick_place/red_block_in_blue_bowl.yaml")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from groundsight.agent.tasks.goals import goal_holds
from groundsight.agent.tasks.scenario import DEMO_SCENARIO, Scenario, load_scenario
from groundsight.agent.tasks.sim_bridge import scenario_specs
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.camera import CameraConfig
from groundsight.sim.tabletop_env import TabletopEnv
from groundsight.sim.truth import ObjectTruth

ENV_ID = "groundsight/Tabletop-v0"
DEFAULT_SCENARIO = DEMO_SCENARIO


class ScenarioTask:
    """A :class:`sim.tabletop_env.Task` from a scenario: its objects, and its goal judged on simulator truth."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.instruction = scenario.instruction
        self.max_steps = scenario.max_steps

    def objects(self, rng: np.random.Generator) -> Sequence[ObjectSpec]:
        return scenario_specs(self.scenario, rng)

    def is_success(self, truth: dict[str, ObjectTruth], initial: dict[str, ObjectTruth]) -> bool:
        if self.scenario.goal is None:  # refuse / ask scenarios: solved by leaving everything alone
            return goal_holds({"unchanged": list(truth)}, truth, initial)
        return goal_holds(self.scenario.goal, truth, initial)


def make_env(
    scenario: str | Path | Scenario = DEFAULT_SCENARIO,
    render_mode: str | None = "rgb_array",
    camera: CameraConfig | None = None,
) -> TabletopEnv:
    """Entry point of ``groundsight/Tabletop-v0``: a scenario file (or model) becomes the env's task."""
    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return TabletopEnv(ScenarioTask(spec), render_mode=render_mode, camera=camera)
