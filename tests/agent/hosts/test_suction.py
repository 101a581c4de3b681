"""The suction arm through the host API in groundsight's own world, the agent unchanged."""

from __future__ import annotations

import numpy as np
import pybullet as p

from groundsight.agent.hosts.suction import SuctionArm, run_scenario_with_suction
from groundsight.agent.tasks.scenario import load_scenario, resolve_scenario_path
from groundsight.sim.world import World


def test_the_cup_grips_only_on_contact_and_lets_go():
    with World() as world:
        p.removeBody(world.robot.body, physicsClientId=world.client)
        arm = SuctionArm(world.client, step=world.step, fixtures=(world.table,))
        miss = arm.pick((0.5, 0.2, 0.02), (0.04, 0.04, 0.04), 0.0)  # nothing there
        assert not miss.ok and miss.reason == "grasp_failed" and not arm.holding


def test_suction_arm_puts_the_block_on_the_block():
    scenario = load_scenario(resolve_scenario_path("pick_place/blue_block_on_red_block"))
    result = run_scenario_with_suction(scenario, seed=0)
    assert result["status"] == "succeeded" and result["host_success"] is True and result["passed"]
    assert result["moved"] == ["blue_block"]


def test_suction_arm_refuses_like_the_panda():
    scenario = load_scenario(resolve_scenario_path("pick_place/block_into_block_refuse"))
    result = run_scenario_with_suction(scenario, seed=0)
    assert result["status"] == "refused" and result["moved"] == [] and result["passed"]
    assert np.isfinite(result["wall_time_s"])
