"""Tabletop object catalogue: types, sizes and colours, and how each is built in PyBullet.

Types: ``block``, ``bowl``, ``plate``, ``tray`` (the original four) and ``ball``, ``cylinder``, ``mug``.
Containers (bowl, tray, mug) are compound bodies: a floor and walls, so that objects really fall inside.
A mug has a small handle on its local +x side.

Every body's own frame (the frame :class:`ObjectSpec` positions, and ``ObjectTruth.base_position``) is
the centre of its bottom, z up. Ball, cylinder and mug have their centre of mass where a real one would
be (PyBullet then reports their base pose at the centre of mass: use :func:`inertial_offset` to convert);
the original four keep theirs at the bottom centre, as before.

Graspable sizes (ball, cylinder, mug) stay within 7 cm across, the Panda gripper opens to 8 cm.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pybullet as p

from groundsight.perception.colors import REFERENCE_ALBEDO

COLORS: dict[str, tuple[float, float, float]] = REFERENCE_ALBEDO
"""Named colours (linear RGB in 0..1) used to render objects: perception's reference albedos
(:data:`groundsight.perception.colors.REFERENCE_ALBEDO`), the one table of colour values."""

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
    "ball": {s: {"radius": r} for s, r in zip(SIZES, (0.02, 0.025, 0.03), strict=True)},
    "cylinder": {
        s: {"radius": r, "height": h}
        for s, (r, h) in zip(SIZES, ((0.02, 0.06), (0.025, 0.075), (0.03, 0.09)), strict=True)
    },
    "mug": {
        s: {
            "radius": r,
            "height": h,
            "wall": 0.004,
            "floor": 0.006,
            "handle": 0.012,  # how far the handle sticks out beyond the wall
            "handle_width": 0.010,  # across the handle (local y)
            "handle_bar": 0.006,  # thickness of the handle's bars
        }
        for s, (r, h) in zip(SIZES, ((0.0275, 0.07), (0.031, 0.08), (0.034, 0.09)), strict=True)
    },
}
OBJECT_TYPES = tuple(_DIMENSIONS)
"""Every object type, in catalogue order: block, bowl, plate, tray, ball, cylinder, mug."""
_MASS = {"block": 0.08, "bowl": 0.3, "plate": 0.3, "tray": 0.5, "ball": 0.05, "cylinder": 0.1, "mug": 0.15}
MAX_PARTS = 16
"""PyBullet builds at most this many shapes into one compound (MAX_COMPOUND_COLLISION_SHAPES); more are
silently dropped, so every body here has at most 16 parts: a bowl's floor and 14 wall segments, a mug's
floor, 12 wall segments and a 3-bar handle."""
BOWL_SEGMENTS = 14
MUG_SEGMENTS = 12
HANDLE_SPAN = (0.2, 0.8)
"""The mug handle spans these fractions of the mug's height."""
# Friction: lateral for all; balls also resist rolling and spinning so that they stay where they are put.
_FRICTION = {"lateralFriction": 1.0, "spinningFriction": 0.001, "rollingFriction": 0.0001}
_BALL_FRICTION = {"lateralFriction": 1.0, "spinningFriction": 0.003, "rollingFriction": 0.003}


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


@functools.cache
def footprint_radius(obj_type: str, size: str) -> float:
    """Radius of a circle about the body's origin that covers its footprint, for collision-free placement."""
    d = dimensions(obj_type, size)
    if obj_type == "block":
        return d["side"] * math.sqrt(0.5)
    if obj_type == "tray":
        return math.hypot(d["length"], d["width"]) / 2
    if obj_type == "mug":
        return math.hypot(d["radius"] + d["handle"], d["handle_width"] / 2)
    return d["radius"]


def height(obj_type: str, size: str) -> float:
    """Height of an upright object of this type and size (metres)."""
    d = dimensions(obj_type, size)
    if obj_type == "block":
        return d["side"]
    if obj_type == "ball":
        return 2 * d["radius"]
    return d["height"]


@functools.cache
def inertial_offset(obj_type: str, size: str) -> tuple[float, float, float]:
    """Centre of mass in the body's own frame (bottom centre). Zero for block, bowl, plate and tray."""
    d = dimensions(obj_type, size)
    if obj_type == "ball":
        return (0.0, 0.0, d["radius"])
    if obj_type == "cylinder":
        return (0.0, 0.0, d["height"] / 2)
    if obj_type == "mug":
        return (0.0, 0.0, 0.4 * d["height"])
    return (0.0, 0.0, 0.0)


def _ring(radius: float, wall: float, floor: float, top: float, segments: int, overlap: float) -> list[tuple]:
    """A container's round wall: ``segments`` boxes around a circle of ``radius``, standing on the floor.

    The walls start at the floor's top, not at the table: only the floor touches what the container stands on,
    so that resting on the table is one contact pair, not one per wall segment (a bowl whose 14 walls reached
    the table cost PyBullet 60 contact points, about 5x its physics time).
    """
    chord = 2 * radius * math.tan(math.pi / segments) + overlap
    half = [wall / 2, chord / 2, (top - floor) / 2]
    out = []
    for k in range(segments):
        a = 2 * math.pi * k / segments
        pos = ((radius - wall / 2) * math.cos(a), (radius - wall / 2) * math.sin(a), (floor + top) / 2)
        out.append((p.GEOM_BOX, {"halfExtents": half}, pos, p.getQuaternionFromEuler((0, 0, a))))
    return out


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
        return parts + _ring(r, w, f, h, BOWL_SEGMENTS, 0.002)
    if obj_type == "tray":
        length, width, h, w, f = d["length"], d["width"], d["height"], d["wall"], d["floor"]
        zc, hz = (f + h) / 2, (h - f) / 2  # the walls stand on the floor (see _ring)
        return [
            (p.GEOM_BOX, {"halfExtents": [length / 2, width / 2, f / 2]}, (0, 0, f / 2), ident),
            (p.GEOM_BOX, {"halfExtents": [w / 2, width / 2, hz]}, ((length - w) / 2, 0, zc), ident),
            (p.GEOM_BOX, {"halfExtents": [w / 2, width / 2, hz]}, (-(length - w) / 2, 0, zc), ident),
            (p.GEOM_BOX, {"halfExtents": [length / 2, w / 2, hz]}, (0, (width - w) / 2, zc), ident),
            (p.GEOM_BOX, {"halfExtents": [length / 2, w / 2, hz]}, (0, -(width - w) / 2, zc), ident),
        ]
    if obj_type == "ball":
        return [(p.GEOM_SPHERE, {"radius": d["radius"]}, (0, 0, d["radius"]), ident)]
    if obj_type == "cylinder":
        return [(p.GEOM_CYLINDER, {"radius": d["radius"], "length": d["height"]}, (0, 0, d["height"] / 2), ident)]
    if obj_type == "mug":
        r, h, w, f = d["radius"], d["height"], d["wall"], d["floor"]
        parts = [(p.GEOM_CYLINDER, {"radius": r, "length": f}, (0, 0, f / 2), ident)]
        parts += _ring(r, w, f, h, MUG_SEGMENTS, 0.001)
        # Handle: two horizontal bars from the wall and an upright bar joining their ends (a closed loop).
        out, half_w, bar = d["handle"], d["handle_width"] / 2, d["handle_bar"]
        z0, z1 = HANDLE_SPAN[0] * h, HANDLE_SPAN[1] * h
        stub = (out + w / 2) / 2  # half length of a horizontal bar, which starts inside the wall
        for zc in (z0 + bar / 2, z1 - bar / 2):
            parts.append((p.GEOM_BOX, {"halfExtents": [stub, half_w, bar / 2]}, (r - w / 2 + stub, 0, zc), ident))
        parts.append(
            (
                p.GEOM_BOX,
                {"halfExtents": [bar / 2, half_w, (z1 - z0) / 2]},
                (r + out - bar / 2, 0, (z0 + z1) / 2),
                ident,
            )
        )
        return parts
    raise ValueError(f"unknown object type {obj_type!r}")


def _rotation(quaternion: tuple[float, float, float, float] | list[float]) -> np.ndarray:
    return np.asarray(p.getMatrixFromQuaternion(quaternion), dtype=np.float64).reshape(3, 3)


@dataclass(frozen=True)
class _PartArrays:
    """An object's parts in its own frame, for bounding it at any pose in a few operations."""

    box_corners: np.ndarray
    """(3, 8 * boxes): every corner of every box part, one column each (rows reduce faster than columns)."""
    round_parts: tuple[tuple[tuple[float, float, float], tuple[float, float, float], float, float], ...]
    """Cylinders and spheres: (centre, axis, radius, half length); a sphere has a zero axis and half length."""


_SIGNS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)


@functools.cache
def _part_arrays(obj_type: str, size: str) -> _PartArrays:
    """The parts of a type and size as :class:`_PartArrays` (cached)."""
    corners, rounds = [], []
    for geom, kw, pos, orn in _parts(obj_type, dimensions(obj_type, size)):
        rot, centre = _rotation(orn), np.asarray(pos, dtype=np.float64)
        if geom == p.GEOM_BOX:
            corners.append(centre + (_SIGNS * np.asarray(kw["halfExtents"], dtype=np.float64)) @ rot.T)
        elif geom == p.GEOM_CYLINDER:
            rounds.append((tuple(map(float, pos)), tuple(map(float, rot[:, 2])), kw["radius"], kw["length"] / 2))
        else:
            rounds.append((tuple(map(float, pos)), (0.0, 0.0, 0.0), kw["radius"], 0.0))
    stacked = np.concatenate(corners) if corners else np.zeros((0, 3))
    return _PartArrays(np.ascontiguousarray(stacked.T), tuple(rounds))


def world_aabb(
    obj_type: str,
    size: str,
    position: tuple[float, float, float],
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Exact axis-aligned box (lo, hi) of an object whose own frame (bottom centre) has this world pose.

    Unlike ``pybullet.getAABB``, which bounds a turned cylinder by a turned box (up to 41 % too wide at
    45 deg), this box is tight for every orientation: boxes by their corners, cylinders and spheres
    analytically. Box corners are bounded all at once (numpy), the one or two round parts in plain Python:
    a scene's truth is computed after every reset and skill, so it stays cheap.
    """
    lo, hi = aabb_offsets(obj_type, size, p.getMatrixFromQuaternion(orientation))
    x, y, z = position
    return np.array((x + lo[0], y + lo[1], z + lo[2])), np.array((x + hi[0], y + hi[1], z + hi[2]))


def aabb_offsets(obj_type: str, size: str, matrix: Sequence[float]) -> tuple[list[float], list[float]]:
    """(lo, hi) of :func:`world_aabb` relative to the object's origin, for its rotation ``matrix`` (the nine
    row-major entries ``pybullet.getMatrixFromQuaternion`` returns)."""
    parts = _part_arrays(obj_type, size)
    if parts.box_corners.shape[1]:
        points = np.asarray(matrix, dtype=np.float64).reshape(3, 3) @ parts.box_corners
        lo, hi = points.min(axis=1).tolist(), points.max(axis=1).tolist()
    else:
        lo, hi = [math.inf] * 3, [-math.inf] * 3
    rows = (matrix[0:3], matrix[3:6], matrix[6:9])
    for centre, axis, radius, half_length in parts.round_parts:
        for k, row in enumerate(rows):
            c = row[0] * centre[0] + row[1] * centre[1] + row[2] * centre[2]
            a = row[0] * axis[0] + row[1] * axis[1] + row[2] * axis[2]
            half = abs(a) * half_length + radius * math.sqrt(min(max(1.0 - a * a, 0.0), 1.0))
            lo[k], hi[k] = min(lo[k], c - half), max(hi[k], c + half)
    return lo, hi


def create_body(spec: ObjectSpec, client: int) -> int:
    """Create the PyBullet body for ``spec`` resting on the table (z = 0) and return its unique id."""
    d = dimensions(spec.type, spec.size)
    rgba = [*COLORS[spec.color], 1.0]
    parts = _parts(spec.type, d)
    if len(parts) > MAX_PARTS:
        raise ValueError(f"{spec.type} has {len(parts)} parts; PyBullet keeps only {MAX_PARTS}")
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
        baseInertialFramePosition=inertial_offset(spec.type, spec.size),
        physicsClientId=client,
    )
    p.changeVisualShape(body, -1, rgbaColor=rgba, physicsClientId=client)
    p.changeDynamics(body, -1, **(_BALL_FRICTION if spec.type == "ball" else _FRICTION), physicsClientId=client)
    return body


def set_pose(body: int, spec: ObjectSpec, position: tuple[float, float, float], yaw: float, client: int) -> None:
    """Teleport ``body`` (built from ``spec``) so that its own frame (bottom centre) is at ``position``."""
    orn = p.getQuaternionFromEuler((0, 0, yaw))
    m = p.getMatrixFromQuaternion(orn)
    ox, oy, oz = inertial_offset(spec.type, spec.size)
    com = tuple(float(position[k]) + (m[3 * k] * ox + m[3 * k + 1] * oy + m[3 * k + 2] * oz) for k in range(3))
    p.resetBasePositionAndOrientation(body, com, orn, physicsClientId=client)
    p.resetBaseVelocity(body, (0, 0, 0), (0, 0, 0), physicsClientId=client)
