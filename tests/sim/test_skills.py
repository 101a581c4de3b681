"""Pick and place with the simulated Panda (real PyBullet, DIRECT mode), judged on simulator truth.

The skills get the objects' true geometry as input here; the agent will pass perceived geometry.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pybullet as p
import pytest

from groundsight.sim import panda
from groundsight.sim.bodies import ObjectSpec, dimensions
from groundsight.sim.panda import HOME_JOINTS, PandaRobot
from groundsight.sim.skills import FAILURE_REASONS, SkillResult, Skills, footprint_sides
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import World

BLOCK = ObjectSpec("red_block", "block", "red", "medium", x=0.45, y=0.15, yaw=0.35)


def _world(*specs: ObjectSpec) -> World:
    world = World()
    for spec in specs:
        world.add_object(spec)
    world.settle()
    return world


@pytest.fixture
def make_world():
    worlds: list[World] = []

    def make(*specs: ObjectSpec) -> World:
        worlds.append(_world(*specs))
        return worlds[-1]

    yield make
    for w in worlds:
        w.close()


def _yaw(t: ObjectTruth) -> float:
    return p.getEulerFromQuaternion(t.orientation)[2]


def _bottom(t: ObjectTruth) -> float:
    return t.position[2] - t.extent[2] / 2


def _top(t: ObjectTruth) -> float:
    return t.position[2] + t.extent[2] / 2


def _support_height(t: ObjectTruth) -> float:
    """Where an object put onto/into ``t`` should have its bottom: container floor, else the top."""
    if t.type in ("bowl", "tray"):
        return _bottom(t) + dimensions(t.type, t.size)["floor"]
    return _top(t)


def _centre_in_footprint(a: ObjectTruth, b: ObjectTruth) -> bool:
    return all(abs(a.position[i] - b.position[i]) <= b.extent[i] / 2 for i in (0, 1))


def _pick(skills: Skills, t: ObjectTruth) -> SkillResult:
    return skills.pick(t.position, t.extent, _yaw(t))


def _pick_and_place(world: World, target_id: str) -> tuple[SkillResult, SkillResult, dict[str, ObjectTruth]]:
    skills = Skills(world)
    truth = world.truth_by_id()
    picked = _pick(skills, truth["red_block"])
    assert picked.ok, picked
    target = truth[target_id]
    placed = skills.place((target.position[0], target.position[1], _support_height(target)))
    world.settle()
    return picked, placed, world.truth_by_id()


def test_block_into_bowl(make_world) -> None:
    world = make_world(BLOCK, ObjectSpec("blue_bowl", "bowl", "blue", "medium", x=0.55, y=-0.12))
    _, placed, truth = _pick_and_place(world, "blue_bowl")
    assert placed.ok, placed
    block, bowl = truth["red_block"], truth["blue_bowl"]
    d = dimensions("bowl", "medium")
    r = math.hypot(block.position[0] - bowl.position[0], block.position[1] - bowl.position[1])
    assert r < d["radius"] - d["wall"]
    assert _bottom(block) < _top(bowl)
    assert _bottom(block) == pytest.approx(_bottom(bowl) + d["floor"], abs=0.004)


def test_block_onto_plate(make_world) -> None:
    world = make_world(BLOCK, ObjectSpec("green_plate", "plate", "green", "medium", x=0.6, y=-0.05))
    _, placed, truth = _pick_and_place(world, "green_plate")
    assert placed.ok, placed
    block, plate = truth["red_block"], truth["green_plate"]
    assert _centre_in_footprint(block, plate)
    assert _bottom(block) == pytest.approx(_top(plate), abs=0.004)


def test_block_onto_block(make_world) -> None:
    base = ObjectSpec("blue_block", "block", "blue", "large", x=0.5, y=-0.15, yaw=-0.5)
    world = make_world(BLOCK, base)
    before = world.truth_by_id()["blue_block"]
    _, placed, truth = _pick_and_place(world, "blue_block")
    assert placed.ok, placed
    top, bottom = truth["red_block"], truth["blue_block"]
    assert _centre_in_footprint(top, bottom)
    assert _bottom(top) == pytest.approx(_top(bottom), abs=0.004)
    assert math.dist(bottom.base_position, before.base_position) < 0.01  # the base was not knocked over


def test_block_into_tray(make_world) -> None:
    world = make_world(BLOCK, ObjectSpec("gray_tray", "tray", "gray", "small", x=0.55, y=-0.12, yaw=0.3))
    _, placed, truth = _pick_and_place(world, "gray_tray")
    assert placed.ok, placed
    block, tray = truth["red_block"], truth["gray_tray"]
    assert _centre_in_footprint(block, tray)
    assert _bottom(block) < _top(tray)


def test_grasp_is_physical_and_lifts(make_world) -> None:
    world = make_world(BLOCK)
    robot: PandaRobot = world.robot
    skills = Skills(world)
    before = world.truth_by_id()["red_block"]
    picked = _pick(skills, before)
    assert picked.ok and picked.reason is None
    held = world.truth_by_id()["red_block"]
    assert _bottom(held) > _bottom(before) + 0.12  # lifted about 15 cm
    assert robot.holding()
    assert robot.held_body() == held.body
    assert held.body in robot.finger_contacts(0) and held.body in robot.finger_contacts(1)
    # Friction carries the block: the only constraint in the world is the finger gear, robot to robot.
    constraints = [p.getConstraintUniqueId(i, world.client) for i in range(p.getNumConstraints(world.client))]
    for c in constraints:
        info = p.getConstraintInfo(c, world.client)
        assert info[0] == robot.body and info[2] == robot.body


def test_place_ends_at_home_and_released(make_world) -> None:
    world = make_world(BLOCK, ObjectSpec("blue_bowl", "bowl", "blue", "medium", x=0.55, y=-0.12))
    _pick_and_place(world, "blue_bowl")
    robot: PandaRobot = world.robot
    assert not robot.holding()
    assert robot.joint_positions() == pytest.approx(HOME_JOINTS, abs=0.02)
    x, _, z = robot.ee_position()
    assert x == pytest.approx(0.19, abs=0.02) and z == pytest.approx(0.36, abs=0.02)


def test_pick_recovers_when_a_finger_lands_on_the_edge(make_world) -> None:
    """A perceived position 15 mm off across the fingers: a finger lands on the block, the hand shifts, grasps."""
    world = make_world(ObjectSpec("red_block", "block", "red", "medium", x=0.5, y=0.0, yaw=0.0))
    block = world.truth_by_id()["red_block"]
    x, y, z = block.position
    result = Skills(world).pick((x, y + 0.015, z), block.extent, 0.0)
    assert result.ok, result
    assert result.detail["attempts"] == 2
    assert world.robot.held_body() == block.body
    assert _bottom(world.truth_by_id()["red_block"]) > 0.1


def test_pick_opens_wider_when_both_fingers_land(make_world) -> None:
    """A box perceived too narrow (2 cm for a 5 cm block): both fingers land on it, the hand opens fully."""
    world = make_world(ObjectSpec("red_block", "block", "red", "medium", x=0.5, y=0.0, yaw=0.0))
    block = world.truth_by_id()["red_block"]
    result = Skills(world).pick(block.position, (0.02, 0.02, block.extent[2]), 0.0)
    assert result.ok, result
    assert result.detail["attempts"] == 2
    assert world.robot.held_body() == block.body


def test_pick_empty_air_reports_nothing_grasped(make_world) -> None:
    world = make_world(BLOCK)
    skills = Skills(world)
    result = skills.pick((0.55, -0.15, 0.025), (0.05, 0.05, 0.05), 0.0)
    assert not result.ok
    assert result.reason == "nothing_grasped"
    assert not world.robot.holding()
    assert world.robot.joint_positions() == pytest.approx(HOME_JOINTS, abs=0.02)


def test_pick_unreachable_moves_nothing(make_world) -> None:
    world = make_world(BLOCK)
    skills = Skills(world)
    q0 = world.robot.joint_positions()
    result = skills.pick((1.2, 0.0, 0.025), (0.05, 0.05, 0.05), 0.0)
    assert not result.ok and result.reason == "unreachable"
    assert world.robot.joint_positions() == pytest.approx(q0, abs=1e-6)


def test_place_unreachable_keeps_holding(make_world) -> None:
    world = make_world(BLOCK)
    skills = Skills(world)
    assert _pick(skills, world.truth_by_id()["red_block"]).ok
    result = skills.place((1.2, 0.0, 0.0))
    assert not result.ok and result.reason == "unreachable"
    assert world.robot.holding()
    # It can still put the block down properly afterwards.
    assert skills.place((0.5, -0.1, 0.0)).ok
    block = world.truth_by_id()["red_block"]
    assert block.position[:2] == pytest.approx((0.5, -0.1), abs=0.01)
    assert _bottom(block) == pytest.approx(0.0, abs=0.004)


def test_place_without_holding_reports_not_holding(make_world) -> None:
    world = make_world(BLOCK)
    result = Skills(world).place((0.5, 0.0, 0.0))
    assert not result.ok and result.reason == "not_holding"


def test_pick_too_wide_object(make_world) -> None:
    world = make_world(ObjectSpec("white_plate", "plate", "white", "large", x=0.5, y=0.0))
    plate = world.truth_by_id()["white_plate"]
    result = Skills(world).pick(plate.position, plate.extent, 0.0)
    assert not result.ok and result.reason == "too_wide"


def test_invalid_input(make_world) -> None:
    world = make_world(BLOCK)
    skills = Skills(world)
    assert skills.pick((math.nan, 0.0, 0.02), (0.05, 0.05, 0.05), 0.0).reason == "invalid_input"
    assert skills.pick((0.5, 0.0, 0.02), (0.05, -0.05, 0.05), 0.0).reason == "invalid_input"
    assert skills.pick((0.5, 0.0), (0.05, 0.05, 0.05), 0.0).reason == "invalid_input"
    assert skills.place("nowhere").reason == "invalid_input"  # type: ignore[arg-type]


def test_numpy_inputs_are_accepted(make_world) -> None:
    world = make_world(BLOCK)
    block = world.truth_by_id()["red_block"]
    result = Skills(world).pick(np.asarray(block.position), np.asarray(block.extent), np.float64(_yaw(block)))
    assert result.ok, result


def test_home_skill(make_world) -> None:
    world = make_world(BLOCK)
    result = Skills(world).home()
    assert result.ok and result.skill == "home"
    assert world.robot.joint_positions() == pytest.approx(HOME_JOINTS, abs=0.02)


def test_skill_result_contract(make_world) -> None:
    world = make_world(BLOCK)
    result = Skills(world).pick((1.2, 0.0, 0.025), (0.05, 0.05, 0.05), 0.0)
    again = SkillResult.model_validate_json(result.model_dump_json())
    assert again == result
    assert result.reason in FAILURE_REASONS
    assert result.message


def test_deterministic() -> None:
    finals = []
    for _ in range(2):
        with _world(BLOCK, ObjectSpec("blue_bowl", "bowl", "blue", "medium", x=0.55, y=-0.12)) as world:
            _, placed, truth = _pick_and_place(world, "blue_bowl")
            finals.append(
                (placed.detail["sim_steps"], truth["red_block"].base_position, truth["red_block"].orientation)
            )
    assert finals[0] == finals[1]


@pytest.mark.parametrize("yaw", [0.0, 0.3, -0.6, math.pi / 4 - 0.01])
def test_footprint_sides_of_rotated_square(yaw: float) -> None:
    side = 0.05
    w = side * (abs(math.cos(yaw)) + abs(math.sin(yaw)))
    a, b = footprint_sides((w, w, side), yaw)
    assert a == pytest.approx(side, abs=1e-6) and b == pytest.approx(side, abs=1e-6)


def test_footprint_sides_of_rectangle() -> None:
    yaw, a, b = 0.2, 0.08, 0.04
    c, s = math.cos(yaw), math.sin(yaw)
    got = footprint_sides((a * c + b * s, a * s + b * c, 0.03), yaw)
    assert got == pytest.approx((a, b), abs=1e-6)


def test_the_robot_needs_a_client_a_step_and_its_fixtures_not_the_world() -> None:
    """PandaRobot lives in any PyBullet client: it steps through the callable it is given, nothing else."""
    tree = ast.parse(Path(panda.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "groundsight.sim.world" not in imported
    client = p.connect(p.DIRECT)
    try:
        p.setGravity(0, 0, -9.81, physicsClientId=client)
        p.setTimeStep(1 / 240, physicsClientId=client)
        steps: list[int] = []

        def step() -> None:
            p.stepSimulation(physicsClientId=client)
            steps.append(1)

        robot = PandaRobot(client, step=step, fixtures=(7,))
        assert robot.fixtures == {7}
        motion = robot.move_to((0.45, 0.1, 0.2), 0.0)
        assert motion.ok, motion
        assert len(steps) == motion.steps > 0
        assert robot.ee_position() == pytest.approx((0.45, 0.1, 0.2), abs=0.005)
    finally:
        p.disconnect(client)
