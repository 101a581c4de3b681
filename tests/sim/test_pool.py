"""The body pool behind the gymnasium env's resets, in real PyBullet (DIRECT): colours with and without rendering."""

from __future__ import annotations

import pybullet as p
import pytest

from groundsight.sim.bodies import COLORS, ObjectSpec
from groundsight.sim.world import BodyPool, World


def _rgb(world: World, object_id: str) -> tuple[float, ...]:
    return tuple(p.getVisualShapeData(world.bodies[object_id], physicsClientId=world.client)[0][7][:3])


def test_a_render_off_place_leaves_colours_and_a_later_place_paints_them() -> None:
    with World() as world:
        pool = BodyPool(world)
        pool.place([ObjectSpec("a", "block", "red", x=0.5, y=0.0)])
        assert _rgb(world, "a") == pytest.approx(COLORS["red"], abs=1e-3)
        pool.place([ObjectSpec("b", "block", "blue", x=0.5, y=0.1)], colors=False)
        assert _rgb(world, "b") == pytest.approx(COLORS["red"], abs=1e-3)  # the same body, not repainted
        pool.place([ObjectSpec("c", "block", "blue", x=0.4, y=0.0)])
        assert _rgb(world, "c") == pytest.approx(COLORS["blue"], abs=1e-3)


def test_truth_of_a_placed_scene_is_where_the_specs_say() -> None:
    specs = [
        ObjectSpec("bowl", "bowl", "green", "large", 0.5, -0.1, 0.3),
        ObjectSpec("mug", "mug", "white", "small", 0.4, 0.15, -0.7),
        ObjectSpec("ball", "ball", "red", "medium", 0.6, 0.2),
    ]
    with World() as world:
        BodyPool(world).place(specs, colors=False)
        for spec, truth in zip(specs, world.truth(), strict=True):
            assert truth.base_position == pytest.approx((spec.x, spec.y, 0.0), abs=1e-9)
            assert truth.position[2] - truth.extent[2] / 2 == pytest.approx(0.0, abs=1e-9)
