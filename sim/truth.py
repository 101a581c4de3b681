"""Simulator truth: what is really where. Success is judged on this, never on perception."""

from __future__ import annotations

import math
from typing import Any

from pydantic import model_validator

from groundsight.perception.objects import TruthObject

Vec3 = tuple[float, float, float]
ROUND_TYPES = frozenset({"bowl", "plate", "ball", "cylinder", "mug"})


def footprint_yaw(obj_type: str, orientation: tuple[float, float, float, float]) -> float:
    """Rotation about z (radians) of a quaternion ``(x, y, z, w)``; 0 for round types, whose footprint has no
    direction to align a grasp with (as a camera reports them too)."""
    if obj_type in ROUND_TYPES:
        return 0.0
    x, y, z, w = orientation
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


class ObjectTruth(TruthObject):
    """The true state of one object: perception's :class:`TruthObject` record (the one the oracle perceiver
    and the audit read, so the simulator hands its truth over as it is), with the body id and size always
    known, plus the object's base pose.

    ``yaw`` is derived from ``orientation`` (see :func:`footprint_yaw`); a ``yaw`` passed in is ignored.
    """

    size: str
    body: int
    base_position: Vec3
    """The object's own frame (bottom centre when upright), whatever its centre of mass."""
    orientation: tuple[float, float, float, float]
    """Quaternion x, y, z, w."""

    @model_validator(mode="before")
    @classmethod
    def _yaw_from_orientation(cls, data: Any) -> Any:
        if isinstance(data, dict) and "orientation" in data and "type" in data:
            data = {**data, "yaw": footprint_yaw(data["type"], tuple(data["orientation"]))}
        return data


def moved(before: ObjectTruth, after: ObjectTruth, tolerance: float = 0.01) -> bool:
    """True if the object's base moved more than ``tolerance`` metres."""
    return sum((a - b) ** 2 for a, b in zip(before.base_position, after.base_position, strict=True)) ** 0.5 > tolerance
