"""Scene building: resolve object placement (collision-free, seeded) and populate a world."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from groundsight.perception.colors import BASE_COLOR_NAMES
from groundsight.sim.bodies import OBJECT_TYPES, SIZES, ObjectSpec, footprint_radius

WORKSPACE_X = (0.32, 0.72)
WORKSPACE_Y = (-0.28, 0.28)
"""Where objects are placed at random (the reachable tabletop, minus a margin)."""
HANDOVER_ZONE = ((0.40, 0.70), (-0.15, 0.15), (0.18, 0.45))
"""Box (x, y, z ranges in metres) in front of the robot, above the table, where a person takes an object
from the gripper. An object handed over is held with its centre inside this box."""
CLEARANCE = 0.05
"""Minimum gap between the covering circles of two objects."""
JITTER = 0.02
"""Per-seed jitter (metres) of objects whose position the scenario fixed, when ``randomize`` is on."""


@dataclass(frozen=True)
class PlacementRequest:
    """An object to place; ``x``/``y`` None means anywhere in the workspace."""

    id: str
    type: str
    color: str
    size: str = "medium"
    x: float | None = None
    y: float | None = None


class PlacementError(RuntimeError):
    """No collision-free placement was found."""


def place_objects(
    requests: list[PlacementRequest], rng: np.random.Generator, randomize: bool = True, tries: int = 500
) -> list[ObjectSpec]:
    """Resolve positions and yaws: fixed objects first (jittered when ``randomize``), then random ones."""
    placed: list[ObjectSpec] = []

    def free(x: float, y: float, r: float) -> bool:
        return all(math.hypot(x - o.x, y - o.y) >= r + footprint_radius(o.type, o.size) + CLEARANCE for o in placed)

    fixed = [r for r in requests if r.x is not None and r.y is not None]
    # largest first: a big tray finds room before the small blocks are scattered
    loose = sorted((r for r in requests if r.x is None or r.y is None), key=lambda r: -footprint_radius(r.type, r.size))
    out: dict[str, ObjectSpec] = {}
    for req in fixed + loose:
        radius = footprint_radius(req.type, req.size)
        yaw = float(rng.uniform(-math.pi / 4, math.pi / 4)) if randomize else 0.0
        spec = ObjectSpec(req.id, req.type, req.color, req.size, yaw=yaw)
        if req.x is not None and req.y is not None:
            for _ in range(tries if randomize else 0):
                dx, dy = rng.uniform(-JITTER, JITTER, 2)
                x, y = req.x + float(dx), req.y + float(dy)
                if free(x, y, radius):
                    break
            else:  # no jitter, or no jittered spot is free: exactly where the scenario put it
                x, y = req.x, req.y
        else:
            for _ in range(tries):
                x = float(rng.uniform(WORKSPACE_X[0] + radius * 0.5, WORKSPACE_X[1] - radius * 0.5))
                y = float(rng.uniform(WORKSPACE_Y[0] + radius * 0.5, WORKSPACE_Y[1] - radius * 0.5))
                if free(x, y, radius):
                    break
            else:
                raise PlacementError(f"no free place for {req.id!r} after {tries} tries")
        spec = replace(spec, x=x, y=y)
        placed.append(spec)
        out[req.id] = spec
    return [out[r.id] for r in requests]


def in_handover_zone(point: tuple[float, float, float]) -> bool:
    """Is ``point`` inside :data:`HANDOVER_ZONE`?"""
    return all(lo <= v <= hi for v, (lo, hi) in zip(point, HANDOVER_ZONE, strict=True))


def random_requests(rng: np.random.Generator, n: int, types: tuple[str, ...] = OBJECT_TYPES) -> list[PlacementRequest]:
    """``n`` random objects with unique colour-type pairs, for perception benchmarks and data generation."""
    seen: set[tuple[str, str]] = set()
    out: list[PlacementRequest] = []
    colors = list(BASE_COLOR_NAMES)  # groundsight's ten: scenarios may paint any colour of COLORS
    while len(out) < n:
        t = str(rng.choice(types))
        c = str(rng.choice(colors))
        if (c, t) in seen:
            continue
        seen.add((c, t))
        out.append(PlacementRequest(f"{c}_{t}", t, c, str(rng.choice(SIZES))))
    return out
