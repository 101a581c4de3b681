"""The robot is not an object: our simulator marks the robot's links in every frame (issue 13)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from groundsight.perception.perceivers.classical import ClassicalConfig, ClassicalPerceiver
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.world import World

HAND = (0.45, 0.1, 0.04)
"""Where the closed hand hangs, just over the table between the objects."""


@pytest.fixture(scope="module")
def arm_over_table():
    with World(cameras=["top", "front"]) as world:
        world.add_object(ObjectSpec("red_block", "block", "red", "medium", 0.42, -0.15))
        world.add_object(ObjectSpec("blue_bowl", "bowl", "blue", "large", 0.62, 0.15))
        world.settle()
        world.robot.reset(world.robot.solve_ik(HAND, 0.3).joints, finger=0.0)
        yield [camera.read() for camera in world.cameras], world.robot.body


def _near_hand(objects) -> list:
    return [o for o in objects if math.dist(o.position[:2], HAND[:2]) < 0.06]


def test_the_robot_mask_is_the_robots_pixels(arm_over_table) -> None:
    frames, robot = arm_over_table
    for frame in frames:
        assert frame.robot_mask is not None and frame.robot_mask.sum() > 5000
        assert (frame.robot_mask == (frame.segmentation == robot)).all()


def test_the_hand_over_the_table_is_never_an_object(arm_over_table) -> None:
    """With the mask only the block and the bowl are found; without it, the hand in the front view is still
    no object: it continues, without a jump in depth, up the arm beyond ``max_height``. With neither, the
    closed hand is taken for a gray block (so the test can fail)."""
    frames, _ = arm_over_table
    for frame in frames:
        objects = ClassicalPerceiver().perceive([frame]).objects
        assert sorted(o.id for o in objects) == ["blue_bowl", "red_block"], objects
    front = dataclasses.replace(next(f for f in frames if f.camera == "front"), robot_mask=None)
    unmasked = ClassicalPerceiver().perceive([front]).objects
    assert sorted(o.id for o in unmasked) == ["blue_bowl", "red_block"], unmasked
    blind = ClassicalPerceiver(ClassicalConfig(tall_jump=0.0)).perceive([front]).objects
    assert _near_hand(blind), blind


def test_a_keep_out_box_does_for_a_real_robot_what_the_mask_does(arm_over_table) -> None:
    """A real robot without a mask: the calibration's keep-out box around the hand's reach."""
    frames, _ = arm_over_table
    front = dataclasses.replace(next(f for f in frames if f.camera == "front"), robot_mask=None)
    assert _near_hand(ClassicalPerceiver(ClassicalConfig(tall_jump=0.0)).perceive([front]).objects)
    box = ((HAND[0] - 0.06, HAND[1] - 0.06, 0.005), (HAND[0] + 0.06, HAND[1] + 0.06, 1.0))
    objects = ClassicalPerceiver(ClassicalConfig(keep_out=(box,), tall_jump=0.0)).perceive([front]).objects
    assert sorted(o.id for o in objects) == ["blue_bowl", "red_block"], objects
