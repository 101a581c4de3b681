"""The support plane from the data, the workspace polygon and keep-out regions (issue 13).

Scenes are rendered in a bare PyBullet client (DIRECT): a table top tilted and lifted off the calibration's
plane, blocks standing on it, a top camera with its exact pose.
"""

from __future__ import annotations

import math

import numpy as np
import pybullet as p
import pytest

from benchmarks.foreign_scenes import _render
from groundsight.perception.perceivers.classical import ClassicalConfig, ClassicalPerceiver
from groundsight.perception.support import Plane, fit_plane


def _tilted_scene(tilt_deg: float, lift: float, seed: int = 0):
    """A grey table top tilted by ``tilt_deg`` about x and lifted by ``lift``; three blocks resting on it.

    Returns the frame and the blocks' true centres (world)."""
    rng = np.random.default_rng(seed)
    client = p.connect(p.DIRECT)
    try:
        tilt = math.radians(tilt_deg)
        orn = p.getQuaternionFromEuler([tilt, 0, 0])
        rot = np.asarray(p.getMatrixFromQuaternion(orn)).reshape(3, 3)
        top_centre = np.array([0.52, 0.0, lift])
        half = [0.5, 0.5, 0.02]
        table = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=[0.6, 0.6, 0.58, 1], physicsClientId=client)
        p.createMultiBody(0, -1, table, (top_centre - rot @ [0, 0, half[2]]).tolist(), orn, physicsClientId=client)
        centres = []
        for (u, v), colour in zip(
            [(-0.12, 0.1), (0.1, -0.08), (0.05, 0.14)], [(0.9, 0.1, 0.1), (0.1, 0.2, 0.9), (0.9, 0.8, 0.1)], strict=True
        ):
            side = 0.05
            centre = top_centre + rot @ [u, v, side / 2]
            shape = p.createVisualShape(
                p.GEOM_BOX, halfExtents=[side / 2] * 3, rgbaColor=[*colour, 1], physicsClientId=client
            )
            p.createMultiBody(0, -1, shape, centre.tolist(), orn, physicsClientId=client)
            centres.append(centre)
        frame = _render(client, rng, "top")
    finally:
        p.disconnect(client)
    return frame, centres


def test_fit_plane_finds_a_tilted_offset_table_among_clutter() -> None:
    rng = np.random.default_rng(1)
    truth = Plane.from_coefficients((0.0, -math.sin(math.radians(6)), math.cos(math.radians(6)), -0.03))
    xy = rng.uniform(-0.4, 0.4, (3000, 2))
    z = (-truth.offset - truth.normal[1] * xy[:, 1]) / truth.normal[2] + rng.normal(0, 0.0008, 3000)
    clutter = np.column_stack([rng.uniform(-0.4, 0.4, (600, 2)), rng.uniform(0.0, 0.09, 600)])
    floor = np.column_stack([rng.uniform(-1, 1, (2000, 2)), np.full(2000, -0.7)])
    plane, note = fit_plane(np.concatenate([np.column_stack([xy, z]), clutter, floor]), Plane.horizontal(0.0))
    assert note.startswith("fitted"), note
    assert plane.tilt_deg(truth) < 0.3
    assert abs(plane.offset - truth.offset) < 0.002
    again, _ = fit_plane(np.concatenate([np.column_stack([xy, z]), clutter, floor]), Plane.horizontal(0.0))
    assert again == plane  # seeded: the same points give the same plane


def test_fit_plane_falls_back_to_the_prior_without_support() -> None:
    floor_only = np.column_stack([np.random.default_rng(2).uniform(-1, 1, (500, 2)), np.full(500, -0.7)])
    plane, note = fit_plane(floor_only, Plane.horizontal(0.0))
    assert plane == Plane.horizontal(0.0) and note.startswith("prior")


@pytest.mark.parametrize(("tilt", "lift"), [(0.0, 0.025), (7.0, 0.015)])
def test_classical_measures_objects_on_the_table_it_sees(tilt: float, lift: float) -> None:
    """With the plane fitted from depth the blocks are found where they are, on the table actually seen."""
    frame, centres = _tilted_scene(tilt, lift)
    percept = ClassicalPerceiver().perceive([frame])
    assert percept.support["top"].startswith("fitted"), percept.support
    if tilt == 0:
        assert f"offset {-lift:+.4f} m" in percept.support["top"]
    assert _well_measured(percept.objects, centres) == 3, percept.objects


def test_a_tilted_table_misleads_the_level_prior() -> None:
    """With the calibration's level plane at z = 0 alone, the blocks on a table tilted by 7 degrees are
    measured against the wrong plane: taller and off in height."""
    frame, centres = _tilted_scene(7.0, 0.015)
    blind = ClassicalPerceiver(ClassicalConfig(fit_plane=False)).perceive([frame])
    assert blind.support["top"] == "prior: fitting off"
    assert _well_measured(blind.objects, centres) < 3


def _well_measured(objects, centres: list[np.ndarray]) -> int:
    """How many of the 5 cm blocks at ``centres`` are found as blocks within 2 mm, 5 cm (+-2 mm) tall."""
    return sum(
        any(
            o.type == "block" and np.linalg.norm(np.asarray(o.position) - c) < 0.002 and abs(o.extent[0] - 0.05) < 0.002
            for o in objects
        )
        for c in centres
    )


def test_workspace_polygon_and_keep_out_drop_what_lies_there() -> None:
    frame, centres = _tilted_scene(0.0, 0.0)
    everything = ClassicalPerceiver().perceive([frame]).objects
    assert len(everything) == 3
    left = ((0.3, 0.0), (0.8, 0.0), (0.8, 0.4), (0.3, 0.4))  # y >= 0: the two blocks at y = 0.1 and 0.14
    kept = ClassicalPerceiver(ClassicalConfig(workspace=left)).perceive([frame]).objects
    assert sorted(round(o.position[1], 1) for o in kept) == [0.1, 0.1]
    box = ((0.55, -0.15, -0.01), (0.7, 0.0, 0.2))  # around the blue block at (0.62, -0.08)
    kept = ClassicalPerceiver(ClassicalConfig(keep_out=(box,))).perceive([frame]).objects
    assert len(kept) == 2 and all(o.color != "blue" for o in kept)
