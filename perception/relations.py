"""Geometric relations between objects, written once.

Every function takes two objects that expose ``position`` (centre of the 3D box, world frame) and
``extent`` (full size along x, y, z), in metres. The verifier applies them to perceived objects, the
success check to simulator truth, and referent resolution to "the block left of the bowl". Spatial words
take the robot's point of view: left is +y, right is -y, in front of is toward the robot (smaller x), behind
is away from it; each covers a region (the reference's side, widened by a 45 degree wedge, within reach).

Tolerances (metres) are module constants so tests and documentation can name them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

SUPPORT_GAP = 0.025  # |bottom of a - top of b| allowed for "on"
FOOTPRINT_MARGIN = 0.01  # a's centre may overhang b's footprint by this much for "on"
INSIDE_MARGIN = 0.005  # a's centre must lie this far inside the container's footprint
NEAR_DISTANCE = 0.15  # centre distance in xy for "near"
SIDE_MARGIN = 0.02  # minimum offset along the axis for left_of / right_of / in_front_of / behind
SIDE_ANGLE = np.radians(45.0)  # half-width of the wedge a direction word covers, beyond the reference's sides
SIDE_REACH = 0.40  # farthest centre distance in xy at which one object is still left of / behind ... another


class Boxed(Protocol):
    """Anything with an axis-aligned 3D box."""

    @property
    def position(self) -> tuple[float, float, float]: ...

    @property
    def extent(self) -> tuple[float, float, float]: ...


def _lo_hi(o: Boxed) -> tuple[np.ndarray, np.ndarray]:
    c, e = np.asarray(o.position, float), np.asarray(o.extent, float) / 2
    return c - e, c + e


def _centre_in_footprint(a: Boxed, b: Boxed, margin: float) -> bool:
    lo, hi = _lo_hi(b)
    x, y = a.position[0], a.position[1]
    return bool(lo[0] + margin <= x <= hi[0] - margin and lo[1] + margin <= y <= hi[1] - margin)


def inside(a: Boxed, b: Boxed) -> bool:
    """``a`` is inside container ``b``: smaller footprint, centred within b's, bottom between b's floor and rim."""
    a_lo, _ = _lo_hi(a)
    b_lo, b_hi = _lo_hi(b)
    smaller = all(x < y for x, y in zip(sorted(a.extent[:2]), sorted(b.extent[:2]), strict=True))
    return smaller and _centre_in_footprint(a, b, INSIDE_MARGIN) and bool(b_lo[2] - 0.01 <= a_lo[2] < b_hi[2] - 0.005)


def on(a: Boxed, b: Boxed) -> bool:
    """``a`` rests on top of ``b``: centre over b's footprint and a's bottom at b's top."""
    a_lo, _ = _lo_hi(a)
    _, b_hi = _lo_hi(b)
    return _centre_in_footprint(a, b, -FOOTPRINT_MARGIN) and bool(abs(a_lo[2] - b_hi[2]) <= SUPPORT_GAP)


def _toward(a: Boxed, b: Boxed, ux: float, uy: float) -> bool:
    """``a`` lies in the region on the (ux, uy) side of ``b``, as people use direction words: at least
    ``SIDE_MARGIN`` along the axis, within ``SIDE_REACH``, and sideways no farther than ``b``'s own half-width
    plus a ``SIDE_ANGLE`` wedge (the cylinder straight in front of a tray is in front of it; one 22 cm to the
    side, beside it, is not)."""
    dx, dy = a.position[0] - b.position[0], a.position[1] - b.position[1]
    along = dx * ux + dy * uy
    across = abs(dx * uy - dy * ux)
    half_across = (abs(uy) * b.extent[0] + abs(ux) * b.extent[1]) / 2
    return bool(
        along > SIDE_MARGIN and np.hypot(dx, dy) <= SIDE_REACH and across <= half_across + along * np.tan(SIDE_ANGLE)
    )


def left_of(a: Boxed, b: Boxed) -> bool:
    """``a`` is left of ``b`` from the robot's point of view (+y), within the region :func:`_toward` describes."""
    return _toward(a, b, 0.0, 1.0)


def right_of(a: Boxed, b: Boxed) -> bool:
    """``a`` is right of ``b`` from the robot's point of view (-y)."""
    return _toward(a, b, 0.0, -1.0)


def in_front_of(a: Boxed, b: Boxed) -> bool:
    """``a`` is in front of ``b``: toward the robot (-x)."""
    return _toward(a, b, -1.0, 0.0)


def behind(a: Boxed, b: Boxed) -> bool:
    """``a`` is behind ``b``: away from the robot (+x)."""
    return _toward(a, b, 1.0, 0.0)


def near(a: Boxed, b: Boxed) -> bool:
    """Centres of ``a`` and ``b`` lie within ``NEAR_DISTANCE`` in the table plane."""
    return bool(np.hypot(a.position[0] - b.position[0], a.position[1] - b.position[1]) <= NEAR_DISTANCE)


RELATIONS: dict[str, Callable[[Boxed, Boxed], bool]] = {
    "inside": inside,
    "on": on,
    "left_of": left_of,
    "right_of": right_of,
    "in_front_of": in_front_of,
    "behind": behind,
    "near": near,
}
"""Binary relations by name; the scene graph and goal checks look them up here."""
