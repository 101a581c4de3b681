"""Tabletop object catalogue: types, sizes and colours, and how each is built in PyBullet.

Containers (bowl, tray) are compound bodies: a floor and walls, so that objects really fall inside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pybullet as p

COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.10, 0.10),
    "orange": (1.00, 0.50, 0.00),
    "yellow": (0.95, 0.85, 0.10),
    "green": (0.10, 0.65, 0.20),
    "blue": (0.10, 0.30, 0.90),
    "purple": (0.50, 0.15, 0.70),
    "pink": (1.00, 0.50, 0.75),
    "brown": (0.45, 0.27, 0.10),
    "white": (0.95, 0.95, 0.95),
    "gray": (0.50, 0.50, 0.50),
}
"""Named colours (linear RGB in 0..1) used to render objects."""

SIZES = ("small", "medium", "large")

# Per type and size: the dimensions that define the shape (metres).
_DIMENSIONS: dict[str, dict[str, dict[str, float]]] = {
    "block": {s: {"side": d} for s, d in zip(SIZES, (0.04, 0.05, 0.06), strict=True)},
    "bowl": {
        s: {"radius": r, "height": 0.05, "wall": 0.008, "floor": 0.006}
        for s, r in zip(SIZES, (0.065, 0.08, 0.095), strict=True)
    },
    "plate": {s: {"radius": r, "height": 0.015} for s, r in zip(SIZES, (0.08, 0.10, 0.12), strict=True)},
    "tray": {
        s: {"length": l, "width": w, "height": 0.03, "wall": 0.008, "floor": 0.008}
        for s, (l, w) in zip(SIZES, ((0.20, 0.15), (0.26, 0.19), (0.30, 0.22)), strict=True)
    },
}
OBJECT_TYPES = tuple(_DIMENSIONS)
_MASS = {"block": 0.08, "bowl": 0.3, "plate": 0.3, "tray": 0.5}
BOWL_SEGMENTS = 16


@dataclass(frozen=True)
class ObjectSpec:
    """A fully specified object to put into the world (position resolved, id assigned)."""

    id: str
    type: str
    color: str
    size: str = "medium"
    x: float = 0.5
    y: float = 0.0
    yaw: float = 0.0


def dimensions(obj_type: str, size: str) -> dict[str, float]:
    """Shape dimensions of a type and size."""
    return _DIMENSIONS[obj_type][size]


def footprint_radius(obj_type: str, size: str) -> float:
    """Radius of a circle that covers the object's footprint, for collision-free placement."""
    d = dimensions(obj_type, size)
    if obj_type == "block":
        return d["side"] * math.sqrt(0.5)
    if obj_type == "tray":
        return math.hypot(d["length"], d["width"]) / 2
    return d["radius"]


def _parts(obj_type: str, d: dict[str, float]) -> list[tuple[int, dict, tuple[float, float, float], tuple]]:
    """(geometry type, geometry kwargs, local position, local orientation) for every part of a body."""
    ident = (0.0, 0.0, 0.0, 1.0)
    if obj_type == "block":
        h = d["side"] / 2
        return [(p.GEOM_BOX, {"halfExtents": [h, h, h]}, (0, 0, h), ident)]
    if obj_type == "plate":
        return [(p.GEOM_CYLINDER, {"radius": d["radius"], "length": d["height"]}, (0, 0, d["height"] / 2), ident)]
    if obj_type == "bowl":
        r, h, w, f = d["radius"], d["height"], d["wall"], d["floor"]
        parts = [(p.GEOM_CYLINDER, {"radius": r, "length": f}, (0, 0, f / 2), ident)]
        chord = 2 * r * math.tan(math.pi / BOWL_SEGMENTS) + 0.002
        for k in range(BOWL_SEGMENTS):
            a = 2 * math.pi * k / BOWL_SEGMENTS
            pos = ((r - w / 2) * math.cos(a), (r - w / 2) * math.sin(a), h / 2)
            parts.append(
                (p.GEOM_BOX, {"halfExtents": [w / 2, chord / 2, h / 2]}, pos, p.getQuaternionFromEuler((0, 0, a)))
            )
        return parts
    if obj_type == "tray":
        length, width, h, w, f = d["length"], d["width"], d["height"], d["wall"], d["floor"]
        return [
            (p.GEOM_BOX, {"halfExtents": [length / 2, width / 2, f / 2]}, (0, 0, f / 2), ident),
            (p.GEOM_BOX, {"halfExtents": [w / 2, width / 2, h / 2]}, ((length - w) / 2, 0, h / 2), ident),
            (p.GEOM_BOX, {"halfExtents": [w / 2, width / 2, h / 2]}, (-(length - w) / 2, 0, h / 2), ident),
            (p.GEOM_BOX, {"halfExtents": [length / 2, w / 2, h / 2]}, (0, (width - w) / 2, h / 2), ident),
            (p.GEOM_BOX, {"halfExtents": [length / 2, w / 2, h / 2]}, (0, -(width - w) / 2, h / 2), ident),
        ]
    raise ValueError(f"unknown object type {obj_type!r}")


def create_body(spec: ObjectSpec, client: int) -> int:
    """Create the PyBullet body for ``spec`` resting on the table (z = 0) and return its unique id."""
    d = dimensions(spec.type, spec.size)
    rgba = [*COLORS[spec.color], 1.0]
    parts = _parts(spec.type, d)
    collision = p.createCollisionShapeArray(
        shapeTypes=[g for g, _, _, _ in parts],
        halfExtents=[kw.get("halfExtents", [0, 0, 0]) for _, kw, _, _ in parts],
        radii=[kw.get("radius", 0.0) for _, kw, _, _ in parts],
        lengths=[kw.get("length", 0.0) for _, kw, _, _ in parts],
        collisionFramePositions=[pos for _, _, pos, _ in parts],
        collisionFrameOrientations=[orn for _, _, _, orn in parts],
        physicsClientId=client,
    )
    visual = p.createVisualShapeArray(
        shapeTypes=[g for g, _, _, _ in parts],
        halfExtents=[kw.get("halfExtents", [0, 0, 0]) for _, kw, _, _ in parts],
        radii=[kw.get("radius", 0.0) for _, kw, _, _ in parts],
        lengths=[kw.get("length", 0.0) for _, kw, _, _ in parts],
        visualFramePositions=[pos for _, _, pos, _ in parts],
        visualFrameOrientations=[orn for _, _, _, orn in parts],
        physicsClientId=client,
    )
    body = p.createMultiBody(
        baseMass=_MASS[spec.type],
        baseCollisionShapeIndex=collision,
        baseVisualShapeIndex=visual,
        basePosition=(spec.x, spec.y, 0.0005),
        baseOrientation=p.getQuaternionFromEuler((0, 0, spec.yaw)),
        physicsClientId=client,
    )
    p.changeVisualShape(body, -1, rgbaColor=rgba, physicsClientId=client)
    p.changeDynamics(
        body, -1, lateralFriction=1.0, spinningFriction=0.001, rollingFriction=0.0001, physicsClientId=client
    )
    return body
