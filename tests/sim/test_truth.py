"""Simulator truth is perception's truth record: the oracle reads it as the world reports it, nothing copied."""

from __future__ import annotations

import math

import pybullet as p
import pytest

from groundsight.perception.perceivers.oracle import OraclePerceiver, TruthObject
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import World


def test_world_truth_is_perceptions_truth_record_with_the_base_pose() -> None:
    with World() as world:
        world.add_object(ObjectSpec("b", "block", "red", "small", x=0.5, y=0.1, yaw=0.4))
        world.add_object(ObjectSpec("c", "cylinder", "blue", "medium", x=0.4, y=-0.1, yaw=0.7))
        world.settle()
        block, cylinder = world.truth()
        assert isinstance(block, TruthObject) and isinstance(block, ObjectTruth)
        assert block.body == world.bodies["b"] and block.size == "small"
        assert block.yaw == pytest.approx(0.4, abs=0.01)
        assert block.yaw == pytest.approx(p.getEulerFromQuaternion(block.orientation)[2], abs=1e-9)
        assert cylinder.yaw == 0.0  # a round footprint has no direction


def test_the_oracle_reports_exactly_the_simulators_truth() -> None:
    class Source:
        def __init__(self, world: World) -> None:
            self.world = world

        def truth_objects(self) -> list[ObjectTruth]:
            return self.world.truth()

    with World() as world:
        world.add_object(ObjectSpec("b", "block", "green", "large", x=0.45, y=0.0, yaw=-0.3))
        world.settle()
        (truth,) = world.truth()
        (seen,) = OraclePerceiver(Source(world)).perceive([]).objects
        assert (seen.id, seen.type, seen.color, seen.size) == ("b", "block", "green", "large")
        assert (seen.position, seen.extent, seen.yaw) == (truth.position, truth.extent, truth.yaw)
        assert seen.confidence == 1.0 and seen.evidence == ()
        assert seen.description == truth.description == "green block"


def test_a_yaw_passed_in_is_derived_from_the_orientation_instead() -> None:
    quarter = (0.0, 0.0, math.sin(math.pi / 8), math.cos(math.pi / 8))
    fields = dict(id="a", body=1, type="block", color="red", size="small", position=(0, 0, 0), extent=(1, 1, 1))
    t = ObjectTruth(**fields, base_position=(0, 0, 0), orientation=quarter, yaw=2.0)
    assert t.yaw == pytest.approx(math.pi / 4)
    assert ObjectTruth(**t.model_dump()) == t
