"""Simulator truth: what is really where. Success is judged on this, never on perception."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

Vec3 = tuple[float, float, float]
ROUND_TYPES = frozenset({"bowl", "plate", "ball", "cylinder", "mug"})


class ObjectTruth(BaseModel):
    """The true state of one object: its axis-aligned box and base pose."""

    model_config = ConfigDict(frozen=True)

    id: str
    body: int
    type: str
    color: str
    size: str
    position: Vec3  # centre of the axis-aligned bounding box
    extent: Vec3  # full size of the box along x, y, z
    base_position: Vec3
    orientation: tuple[float, float, float, float]  # quaternion x, y, z, w

    @property
    def yaw(self) -> float:
        """Rotation about z (radians) from the orientation quaternion; 0 for round types, whose footprint
        has no direction to align a grasp with (as a camera reports them too)."""
        if self.type in ROUND_TYPES:
            return 0.0
        x, y, z, w = self.orientation
        return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))

    @property
    def description(self) -> str:
        return f"{self.color} {self.type}"


def moved(before: ObjectTruth, after: ObjectTruth, tolerance: float = 0.01) -> bool:
    """True if the object's base moved more than ``tolerance`` metres."""
    return sum((a - b) ** 2 for a, b in zip(before.base_position, after.base_position, strict=True)) ** 0.5 > tolerance
