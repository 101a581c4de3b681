"""Pushing objects along the table with the simulated Panda (real PyBullet, DIRECT mode), judged on truth.

As in ``test_sim_skills.py`` the skill gets the objects' true boxes as input; the agent passes perceived ones.
"""

from __future__ import annotations

import math

import pybullet as p
import pytest

from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.panda import HOME_JOINTS
from groundsight.sim.skills import FAILURE_REASONS, SkillResult, Skills
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import World

DISTANCE = 0.10
TOLERANCE = 0.025
MAX_DRIFT = math.tan(math.radians(20))
"""A pushed object may drift sideways (pushing is unstable): its displacement stays within 20 deg of the push."""


@pytest.fixture
def make_world():
    worlds: list[World] = []

    def make(*specs: ObjectSpec) -> World:
        world = World()
        for spec in specs:
            world.add_object(spec)
        world.settle()
        worlds.append(world)
        return world

    yield make
    for w in worlds:
        w.close()


def _push(world: World, object_id: str, direction, distance: float = DISTANCE) -> SkillResult:
    t = world.truth_by_id()[object_id]
    result = Skills(world).push(t.position, t.extent, direction, distance)
    world.settle()
    return result


def _moved(before: ObjectTruth, after: ObjectTruth, unit: tuple[float, float]) -> tuple[float, float]:
    """Displacement of the object's base along ``unit`` and across it (metres)."""
    dx = after.base_position[0] - before.base_position[0]
    dy = after.base_position[1] - before.base_position[1]
    return dx * unit[0] + dy * unit[1], -dx * unit[1] + dy * unit[0]


def _assert_upright_on_table(t: ObjectTruth) -> None:
    up = p.getMatrixFromQuaternion(t.orientation)[8]  # z component of the object's own z axis
    assert up > 0.99, f"{t.id} tipped over (up={up:.3f})"
    assert t.position[2] - t.extent[2] / 2 == pytest.approx(0.0, abs=0.004)  # still resting on the table


def _assert_home_and_open(world: World) -> None:
    assert world.robot.joint_positions() == pytest.approx(HOME_JOINTS, abs=0.02)
    assert world.robot.gripper_gap() > 0.07


@pytest.mark.parametrize(
    ("spec", "direction"),
    [
        (ObjectSpec("red_block", "block", "red", "medium", x=0.45, y=0.0), (1.0, 0.0)),
        (ObjectSpec("red_block", "block", "red", "medium", x=0.5, y=0.12, yaw=0.3), (0.0, -1.0)),
        (ObjectSpec("red_block", "block", "red", "medium", x=0.45, y=0.1), (math.sqrt(0.5), -math.sqrt(0.5))),
    ],
    ids=["plus_x", "minus_y", "diagonal"],
)
def test_push_block_10cm(make_world, spec: ObjectSpec, direction: tuple[float, float]) -> None:
    world = make_world(spec)
    before = world.truth_by_id()["red_block"]
    result = _push(world, "red_block", direction)
    assert result.ok, result
    assert result.skill == "push" and result.reason is None
    after = world.truth_by_id()["red_block"]
    along, across = _moved(before, after, direction)
    assert along == pytest.approx(DISTANCE, abs=TOLERANCE)
    assert abs(across) <= MAX_DRIFT * along
    _assert_upright_on_table(after)
    # the planned stroke starts behind the object and runs along the direction, at pushing height
    (sx, sy, sz), (ex, ey, ez) = result.detail["start"], result.detail["end"]
    assert (before.position[0] - sx) * direction[0] + (before.position[1] - sy) * direction[1] > 0.04
    assert math.hypot(ex - sx, ey - sy) > DISTANCE
    assert (ex - sx) * direction[1] - (ey - sy) * direction[0] == pytest.approx(0.0, abs=1e-4)
    assert 0.012 < sz <= 0.021 and ez == pytest.approx(sz)
    assert result.detail["pushed"] == pytest.approx(DISTANCE, abs=0.005)
    _assert_home_and_open(world)


def test_push_direction_as_angle(make_world) -> None:
    world = make_world(ObjectSpec("red_block", "block", "red", "small", x=0.5, y=-0.1, yaw=-0.4))
    before = world.truth_by_id()["red_block"]
    result = _push(world, "red_block", math.pi / 2, 0.08)  # +y, 8 cm
    assert result.ok, result
    assert result.detail["direction"] == pytest.approx([0.0, 1.0], abs=1e-5)
    after = world.truth_by_id()["red_block"]
    along, across = _moved(before, after, (0.0, 1.0))
    assert along == pytest.approx(0.08, abs=TOLERANCE)
    assert abs(across) <= MAX_DRIFT * along
    _assert_upright_on_table(after)


def test_push_cylinder(make_world) -> None:
    world = make_world(ObjectSpec("blue_cylinder", "cylinder", "blue", "medium", x=0.5, y=0.05))
    before = world.truth_by_id()["blue_cylinder"]
    assert before.yaw == 0.0  # round types report no yaw
    result = _push(world, "blue_cylinder", (1.0, 0.0))
    assert result.ok, result
    after = world.truth_by_id()["blue_cylinder"]
    along, across = _moved(before, after, (1.0, 0.0))
    assert along == pytest.approx(DISTANCE, abs=TOLERANCE)
    assert abs(across) <= MAX_DRIFT * along
    _assert_upright_on_table(after)


def test_push_ball_rolls_the_right_way(make_world) -> None:
    world = make_world(ObjectSpec("green_ball", "ball", "green", "medium", x=0.5, y=0.1))
    before = world.truth_by_id()["green_ball"]
    result = _push(world, "green_ball", (0.0, -1.0))
    assert result.ok, result
    along, across = _moved(before, world.truth_by_id()["green_ball"], (0.0, -1.0))
    assert along > 0.05 and abs(across) < along / 2


def test_push_unreachable_object_moves_nothing(make_world) -> None:
    world = make_world(ObjectSpec("red_block", "block", "red", "medium", x=0.5, y=0.0))
    q0 = world.robot.joint_positions()
    gap0 = world.robot.gripper_gap()
    before = world.truth_by_id()["red_block"]
    result = Skills(world).push((1.1, 0.0, 0.025), (0.05, 0.05, 0.05), (1.0, 0.0), DISTANCE)
    assert not result.ok and result.reason == "unreachable"
    assert world.robot.joint_positions() == pytest.approx(q0, abs=1e-6)
    assert world.robot.gripper_gap() == pytest.approx(gap0, abs=1e-6)
    assert world.truth_by_id()["red_block"].base_position == pytest.approx(before.base_position, abs=1e-6)


def test_push_ending_beyond_reach_moves_nothing(make_world) -> None:
    world = make_world(ObjectSpec("red_block", "block", "red", "medium", x=0.7, y=0.0))
    q0 = world.robot.joint_positions()
    before = world.truth_by_id()["red_block"]
    result = Skills(world).push(before.position, before.extent, (1.0, 0.0), 0.2)
    assert not result.ok and result.reason == "unreachable", result
    assert result.detail["end"][0] > 0.85  # the plan was there, and refused
    assert world.robot.joint_positions() == pytest.approx(q0, abs=1e-6)
    world.settle()
    assert world.truth_by_id()["red_block"].base_position == pytest.approx(before.base_position, abs=1e-6)


def test_push_blocked_when_coming_down_on_a_neighbour(make_world) -> None:
    """A second block stands where the hand would come down behind the first one: "blocked", nothing pushed."""
    world = make_world(
        ObjectSpec("red_block", "block", "red", "medium", x=0.5, y=0.0),
        ObjectSpec("blue_block", "block", "blue", "medium", x=0.43, y=0.0),
    )
    before = world.truth_by_id()
    result = _push(world, "red_block", (1.0, 0.0))
    assert not result.ok and result.reason == "blocked", result
    after = world.truth_by_id()
    assert math.dist(after["red_block"].base_position, before["red_block"].base_position) < 0.005
    _assert_upright_on_table(after["blue_block"])
    _assert_home_and_open(world)


def test_push_nothing_reports_missed(make_world) -> None:
    world = make_world(ObjectSpec("red_block", "block", "red", "medium", x=0.5, y=0.15))
    result = Skills(world).push((0.5, -0.1, 0.025), (0.05, 0.05, 0.05), (1.0, 0.0), DISTANCE)
    assert not result.ok and result.reason == "missed"
    assert "contact_at" not in result.detail
    _assert_home_and_open(world)


def test_push_invalid_input(make_world) -> None:
    world = make_world()
    skills = Skills(world)
    q0 = world.robot.joint_positions()
    assert skills.push((0.5, 0.0, 0.025), (0.05, 0.05, 0.05), (0.0, 0.0), 0.1).reason == "invalid_input"
    assert skills.push((0.5, 0.0, 0.025), (0.05, 0.05, 0.05), math.nan, 0.1).reason == "invalid_input"
    assert skills.push((0.5, 0.0, 0.025), (0.05, 0.05, 0.05), (1.0, 0.0), -0.1).reason == "invalid_input"
    assert skills.push((0.5, 0.0, 0.025), (0.05, 0.0, 0.05), (1.0, 0.0), 0.1).reason == "invalid_input"
    assert skills.push((0.5, math.inf, 0.025), (0.05, 0.05, 0.05), (1.0, 0.0), 0.1).reason == "invalid_input"
    assert skills.push((0.5, 0.0, 0.025), (0.05, 0.05, 0.05), "left", 0.1).reason == "invalid_input"  # type: ignore[arg-type]
    assert world.robot.joint_positions() == pytest.approx(q0, abs=1e-6)


def test_push_result_contract(make_world) -> None:
    world = make_world()
    result = Skills(world).push((1.1, 0.0, 0.025), (0.05, 0.05, 0.05), 0.0, 0.1)
    again = SkillResult.model_validate_json(result.model_dump_json())
    assert again == result
    assert result.reason in FAILURE_REASONS and result.message
    assert {"start", "end", "direction", "distance"} <= set(result.detail)


def test_push_deterministic() -> None:
    finals = []
    for _ in range(2):
        with World() as world:
            world.add_object(ObjectSpec("red_block", "block", "red", "medium", x=0.5, y=0.05, yaw=0.2))
            world.settle()
            result = _push(world, "red_block", (0.0, -1.0))
            block = world.truth_by_id()["red_block"]
            finals.append((result.detail["sim_steps"], result.detail["pushed"], block.base_position, block.orientation))
    assert finals[0] == finals[1]
