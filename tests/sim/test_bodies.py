"""The tabletop object catalogue in real PyBullet (DIRECT): shapes, sizes, resting, truth boxes, grasping."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pybullet as p
import pytest

from groundsight.perception.colors import COLOR_NAMES, REFERENCE_ALBEDO
from groundsight.perception.relations import inside
from groundsight.sim.bodies import (
    COLORS,
    MAX_PARTS,
    OBJECT_TYPES,
    SIZES,
    ObjectSpec,
    dimensions,
    footprint_radius,
    height,
    world_aabb,
)
from groundsight.sim.world import World

NEW_TYPES = ("ball", "cylinder", "mug")
GRIPPER_OPENING = 0.08


@pytest.fixture
def world() -> Iterator[World]:
    w = World()
    yield w
    w.close()


def catalogue_extent(obj_type: str, size: str) -> tuple[float, float, float]:
    """Full size along x, y, z of an upright object at yaw 0 (a mug's handle points along +x)."""
    d = dimensions(obj_type, size)
    if obj_type == "block":
        return (d["side"],) * 3
    if obj_type == "tray":
        return (d["length"], d["width"], d["height"])
    if obj_type == "mug":
        return (2 * d["radius"] + d["handle"], 2 * d["radius"], d["height"])
    return (2 * d["radius"], 2 * d["radius"], height(obj_type, size))


def test_the_seven_types() -> None:
    assert OBJECT_TYPES == ("block", "bowl", "plate", "tray", "ball", "cylinder", "mug")
    for t in OBJECT_TYPES:
        for s in SIZES:
            assert dimensions(t, s)


def test_objects_are_rendered_in_perceptions_reference_colours(world: World) -> None:
    """One colour table: the simulator paints every colour name with perception's reference albedo."""
    assert COLORS is REFERENCE_ALBEDO
    assert tuple(COLORS) == COLOR_NAMES
    for i, color in enumerate(COLOR_NAMES):
        body = world.add_object(ObjectSpec(f"o{i}", "block", color, x=0.3 + 0.06 * (i % 5), y=0.1 * (i // 5)))
        rgba = p.getVisualShapeData(body, physicsClientId=world.client)[0][7]
        assert rgba == pytest.approx((*REFERENCE_ALBEDO[color], 1.0)), color


@pytest.mark.parametrize("obj_type", NEW_TYPES)
def test_new_types_fit_the_gripper(obj_type: str) -> None:
    for size in SIZES:
        d = dimensions(obj_type, size)
        assert 0.02 <= d["radius"] <= 0.035
        assert 2 * d["radius"] <= 0.07  # graspable across the body with room for the fingers
        if obj_type != "ball":
            assert 0.06 <= d["height"] <= 0.09
        if obj_type == "mug":
            # Whatever way the handle points, the narrower side of the mug's box leaves the fingers room.
            for yaw in np.linspace(0, math.pi, 13):
                lo, hi = world_aabb("mug", size, (0, 0, 0), p.getQuaternionFromEuler((0, 0, yaw)))
                assert min((hi - lo)[:2]) < GRIPPER_OPENING - 0.006


def test_a_small_block_fits_into_a_large_mug() -> None:
    d = dimensions("mug", "large")
    assert dimensions("block", "small")["side"] * math.sqrt(0.5) < d["radius"] - d["wall"]


@pytest.mark.parametrize("obj_type", OBJECT_TYPES)
def test_every_part_is_built(world: World, obj_type: str) -> None:
    """PyBullet keeps at most 16 shapes of a compound: none may be lost (a bowl once lost a wall)."""
    from groundsight.sim.bodies import _parts

    for i, size in enumerate(SIZES):
        body = world.add_object(ObjectSpec(f"{obj_type}_{size}", obj_type, "red", size, 0.4 + 0.15 * i, 0.0))
        parts = _parts(obj_type, dimensions(obj_type, size))
        assert len(parts) <= MAX_PARTS
        assert len(p.getCollisionShapeData(body, -1, physicsClientId=world.client)) == len(parts)
        assert len(p.getVisualShapeData(body, physicsClientId=world.client)) == len(parts)


@pytest.mark.parametrize("obj_type", NEW_TYPES)
@pytest.mark.parametrize("colors", [("red", "white", "gray"), ("blue", "yellow", "brown"), ("green", "pink", "purple")])
def test_new_objects_settle_where_they_are_put(world: World, obj_type: str, colors: tuple[str, ...]) -> None:
    placed = {}
    for i, (size, color) in enumerate(zip(SIZES, colors, strict=True)):
        spec = ObjectSpec(f"{color}_{obj_type}", obj_type, color, size, 0.4 + 0.13 * i, 0.1 * (i - 1), 0.5 * i)
        world.add_object(spec)
        placed[spec.id] = spec
    world.settle()
    world.step(480)  # two more seconds: nothing creeps or rolls away
    for t in world.truth():
        spec = placed[t.id]
        speed = np.linalg.norm(p.getBaseVelocity(t.body, physicsClientId=world.client)[0])
        assert speed < 1e-3, f"{t.id} still moves at {speed:.4f} m/s"
        assert math.dist(t.base_position[:2], (spec.x, spec.y)) < 0.01, f"{t.id} moved away"
        bottom = t.position[2] - t.extent[2] / 2
        assert bottom == pytest.approx(0.0, abs=0.002), f"{t.id} does not rest on the table"
        assert t.extent[2] == pytest.approx(height(obj_type, spec.size), abs=0.002)
        upright = p.getEulerFromQuaternion(t.orientation)
        assert abs(upright[0]) < 0.02 and abs(upright[1]) < 0.02, f"{t.id} tipped over"
        assert p.getVisualShapeData(t.body, physicsClientId=world.client)[0][7][:3] == pytest.approx(
            COLORS[spec.color], abs=1e-3
        )


@pytest.mark.parametrize("size", SIZES)
def test_balls_do_not_roll_away(world: World, size: str) -> None:
    world.add_object(ObjectSpec("ball", "ball", "red", size, 0.5, 0.1))
    start = world.truth()[0].position
    world.settle()
    world.step(960)
    assert math.dist(world.truth()[0].position, start) < 0.01
    # A push of 20 cm/s (a knock by the hand) rolls it only a little way before it stops.
    body = world.bodies["ball"]
    r = dimensions("ball", size)["radius"]
    p.resetBaseVelocity(body, (0.2, 0, 0), (0, 0.2 / r, 0), physicsClientId=world.client)
    world.step(480)
    end = world.truth()[0].position
    assert math.dist(end, start) < 0.04
    assert np.linalg.norm(p.getBaseVelocity(body, physicsClientId=world.client)[0]) < 1e-3


@pytest.mark.parametrize("obj_type", OBJECT_TYPES)
def test_truth_boxes_match_the_catalogue(world: World, obj_type: str) -> None:
    for i, size in enumerate(SIZES):
        world.add_object(ObjectSpec(f"{obj_type}_{size}", obj_type, "red", size, 0.5, 0.35 * (i - 1)))
    world.settle()
    for t, size in zip(world.truth(), SIZES, strict=True):
        expected = catalogue_extent(obj_type, size)
        # A bowl's wall is a polygon: its corners reach a little beyond the radius.
        slack = 0.04 * expected[0] if obj_type == "bowl" else 0.0015
        assert t.extent == pytest.approx(expected, abs=slack), f"{t.id}: {t.extent} != {expected}"
        # Upright at yaw 0, PyBullet's own box agrees (it over-bounds turned cylinders, see below).
        lo, hi = p.getAABB(t.body, physicsClientId=world.client)
        assert np.subtract(hi, lo) == pytest.approx(t.extent, abs=0.0015)
        assert np.add(hi, lo) / 2 == pytest.approx(t.position, abs=0.001)
        assert t.base_position[2] == pytest.approx(0.0, abs=0.002)  # the object's frame: its bottom centre


@pytest.mark.parametrize("obj_type", ["cylinder", "ball", "plate", "bowl"])
def test_truth_boxes_of_turned_round_objects_stay_tight(world: World, obj_type: str) -> None:
    world.add_object(ObjectSpec("a", obj_type, "red", "medium", 0.5, 0.0, math.pi / 4))
    world.settle()
    (t,) = world.truth()
    d = dimensions(obj_type, "medium")
    slack = 0.04 * d["radius"] if obj_type == "bowl" else 0.001  # a bowl's polygon corners
    assert t.extent[:2] == pytest.approx((2 * d["radius"],) * 2, abs=2 * slack)


@pytest.mark.parametrize("obj_type", OBJECT_TYPES)
def test_footprint_radius_covers_the_object_at_every_yaw(obj_type: str) -> None:
    for size in SIZES:
        r = footprint_radius(obj_type, size)
        for yaw in np.linspace(0, 2 * math.pi, 25):
            lo, hi = world_aabb(obj_type, size, (0, 0, 0), p.getQuaternionFromEuler((0, 0, yaw)))
            reach = max(abs(lo[0]), abs(hi[0]), abs(lo[1]), abs(hi[1]))
            # A bowl's polygon corners reach 3 % beyond its radius, well within the placement clearance.
            slack = 0.035 * r if obj_type == "bowl" else 0.001
            assert reach <= r + slack, f"{obj_type} {size} reaches {reach:.4f} > {r:.4f} at yaw {yaw:.2f}"


def test_set_object_pose_places_the_bottom(world: World) -> None:
    for i, t in enumerate(("ball", "cylinder", "mug", "block")):
        world.add_object(ObjectSpec(t, t, "red", "medium", 0.4, -0.2 + 0.13 * i))
    world.settle()
    for i, t in enumerate(("ball", "cylinder", "mug", "block")):
        world.set_object_pose(t, (0.6, -0.2 + 0.13 * i, 0.1), yaw=0.5)
        truth = world.truth_by_id()[t]
        assert truth.base_position == pytest.approx((0.6, -0.2 + 0.13 * i, 0.1), abs=1e-6)
        assert truth.position[2] - truth.extent[2] / 2 == pytest.approx(0.1, abs=1e-6)
        assert p.getEulerFromQuaternion(truth.orientation)[2] == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize("content", ["block", "ball"])
def test_a_small_object_stays_inside_a_large_mug(world: World, content: str) -> None:
    world.add_object(ObjectSpec("mug", "mug", "white", "large", 0.5, 0.0, 0.7))
    world.settle()
    world.add_object(ObjectSpec("content", content, "red", "small", 0.5, 0.0, 0.3))
    world.set_object_pose("content", (0.5, 0.0, dimensions("mug", "large")["floor"] + 0.002), 0.3)
    world.settle()
    truth = world.truth_by_id()
    assert inside(truth["content"], truth["mug"])
    assert truth["mug"].position[2] - truth["mug"].extent[2] / 2 == pytest.approx(0.0, abs=0.002)


@pytest.mark.parametrize(
    ("obj_type", "size", "yaw"),
    [("ball", "small", 0.0), ("ball", "large", 0.6), ("cylinder", "small", 0.3), ("cylinder", "large", -0.5)]
    + [("mug", "small", 0.4), ("mug", "medium", 1.2), ("mug", "large", 0.8), ("mug", "large", -2.4)],
)
def test_new_objects_can_be_picked_from_above(world: World, obj_type: str, size: str, yaw: float) -> None:
    """The Panda's parallel gripper picks each new type from above, given the object's true box.

    Round objects are given yaw 0, as the classical perceiver reports them (a mug's handle inside its box).
    """
    from groundsight.sim.skills import Skills

    world.add_object(ObjectSpec("thing", obj_type, "red", size, 0.5, 0.05, yaw))
    world.settle()
    (t,) = world.truth()
    result = Skills(world).pick(t.position, t.extent, 0.0)
    assert result.ok, result
    (after,) = world.truth()
    assert after.position[2] - after.extent[2] / 2 > 0.1  # lifted off the table


@pytest.mark.parametrize("obj_type", ["bowl", "tray", "mug"])
def test_a_container_rests_on_its_floor_alone(world: World, obj_type: str) -> None:
    """Only the floor touches the table (4 contact points), not every wall: the walls stand on the floor."""
    for i, size in enumerate(SIZES):
        world.add_object(ObjectSpec(f"{obj_type}_{size}", obj_type, "red", size, 0.5, 0.35 * (i - 1), 0.4 * i))
    world.settle()
    for body in world.bodies.values():
        points = p.getContactPoints(bodyA=body, bodyB=world.table, physicsClientId=world.client)
        assert 1 <= len(points) <= 4
        assert all(abs(c[5][2]) < 1e-3 for c in points)  # at the table top
