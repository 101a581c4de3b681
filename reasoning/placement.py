"""Plan steps and the geometry that turns a symbolic step into robot motion.

A :class:`PlanStep` is symbolic: which skill, on which object, where to. The motion (grasp box, release
point) is computed when the step runs, from the newest percept, by :func:`grasp_of` and
:func:`release_point_for`: a target may have moved since the plan was made (a block first put on a plate
and then built upon), and a container fills up as objects go in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from groundsight.perception.relations import NEAR_DISTANCE, RELATIONS, Boxed

Vec3 = tuple[float, float, float]
CONTAINER_FLOOR = 0.008
"""Assumed floor thickness of a container (m); the release point is this far above its bottom."""
SIDE_GAP = 0.05
"""Gap (m) left between two objects placed side by side (left_of, right_of, in_front_of, behind, near)."""
TABLE_AREA = ((0.35, 0.65), (-0.25, 0.25))
"""x and y ranges (m) of the table where objects are set down out of the way."""
NEAR_SLACK = 0.03
"""A ``near`` placement aims this far (m) inside :data:`~perception.relations.NEAR_DISTANCE`, so that the
release error of the arm cannot carry it out of the predicate's tolerance."""
MIN_NEAR_GAP = 0.015
"""Smallest gap (m) between a ``near`` placement and its reference object."""
DISC_MARGIN = 0.008
"""Room (m) left between an object packed into a round container and its outer edge (the wall, the fingers)."""
ROUND_ASPECT = 0.06
"""A footprint whose sides differ by less than this fraction is treated as round (its inscribed square is used)."""

Skill = Literal["pick", "place", "handover"]


class PlanStep(BaseModel):
    """One skill call, with what must hold before and what it makes true."""

    model_config = ConfigDict(frozen=True)

    skill: Skill
    object: str
    relation: str | None = None
    target: str | None = None
    preconditions: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if self.skill == "place":
            where = "table" if self.relation == "table" else f"{self.relation}, {self.target}"
            return f"place({self.object}, {where})"
        return f"{self.skill}({self.object})"


Plan = list[PlanStep]


class Grasp(BaseModel):
    """Where to grasp: the object's box and yaw."""

    model_config = ConfigDict(frozen=True)

    position: Vec3
    extent: Vec3
    yaw: float = 0.0


def grasp_of(obj: Boxed, yaw: float = 0.0) -> Grasp:
    """A top-down grasp of ``obj``'s box."""
    return Grasp(position=tuple(obj.position), extent=tuple(obj.extent), yaw=yaw)  # type: ignore[arg-type]


def release_point(relation: str, target: Boxed, at: tuple[float, float] | None = None) -> Vec3:
    """Where the bottom of the held object should go: the container's floor or the support's top.

    ``at`` overrides the x, y (default: the target's centre), e.g. a free spot from :func:`free_spot`.
    """
    x, y, z = target.position
    if at is not None:
        x, y = at
    half_height = target.extent[2] / 2
    if relation == "inside":
        return (x, y, z - half_height + CONTAINER_FLOOR)
    return (x, y, z + half_height)


def free_spot(
    target: Boxed,
    occupants: Sequence[Boxed],
    size: float,
    margin: float = 0.012,
    sides: tuple[float, float] | None = None,
    yaw: float = 0.0,
    coming: int = 0,
    disc: float | None = None,
) -> tuple[float, float]:
    """The point of ``target``'s footprint, at least ``size / 2 + margin`` from its edge, that lies farthest
    from the objects already in or on it (its centre when it is empty and nothing else is to come).

    The footprint is a ``sides`` rectangle turned by ``yaw`` about the target's centre (by default the
    target's axis-aligned box, whose corners lie outside a turned tray, so pass the true sides when known), or,
    with ``disc``, a disc of that radius (a round container: ``size`` is then the object's circumscribed
    diameter). ``coming``: how many more objects the plan puts in or on the same target after this one; the
    first of several then goes to the edge of the footprint, not to its centre, so that the next one lands
    beside it, not on it (packing).
    """
    cx, cy = target.position[0], target.position[1]
    if not occupants and not coming:
        return (cx, cy)
    best, best_gap = (cx, cy), -1.0
    for x, y in _candidates(target, occupants, size, margin, sides, yaw, disc, coming):
        if occupants:
            gap = min(float(np.hypot(x - o.position[0], y - o.position[1])) for o in occupants)
        else:  # the first of several: as far from the centre as it fits
            gap = float(np.hypot(x - cx, y - cy))
        if gap > best_gap + 1e-9:
            best, best_gap = (float(x), float(y)), gap
    return best


def _ring_slots(target: Boxed, occupants: Sequence[Boxed], reach: float, count: int) -> list[tuple[float, float]]:
    """``count`` evenly spaced places on a ring of radius ``reach`` about ``target``'s centre, turned so that one
    falls where the first off-centre occupant is (a round container packed with ``count`` objects)."""
    cx, cy = target.position[0], target.position[1]
    reach = max(0.0, reach)
    start = 0.0
    for o in occupants:
        if math.hypot(o.position[0] - cx, o.position[1] - cy) > 0.2 * reach:
            start = math.atan2(o.position[1] - cy, o.position[0] - cx)
            break
    angles = [start + 2 * math.pi * k / max(count, 2) for k in range(max(count, 2))]
    return [(cx + reach * math.cos(a), cy + reach * math.sin(a)) for a in angles]


def _candidates(
    target: Boxed,
    occupants: Sequence[Boxed],
    size: float,
    margin: float,
    sides: tuple[float, float] | None,
    yaw: float,
    disc: float | None,
    coming: int,
) -> list[tuple[float, float]]:
    """Grid points of the footprint where an object of ``size`` fits with ``margin`` to spare."""
    cx, cy = target.position[0], target.position[1]
    if disc is not None:
        return _ring_slots(target, occupants, disc - size / 2 - margin, len(occupants) + 1 + coming)
    lx, ly = sides if sides is not None else (target.extent[0], target.extent[1])
    hx, hy = max(0.0, lx / 2 - size / 2 - margin), max(0.0, ly / 2 - size / 2 - margin)
    c, s = np.cos(yaw), np.sin(yaw)
    grid = np.linspace(-1.0, 1.0, 9)
    return [(cx + c * fx * hx - s * fy * hy, cy + s * fx * hx + c * fy * hy) for fx in grid for fy in grid]


def true_sides(obj: Boxed, yaw: float) -> tuple[float, float]:
    """The sides of an object's footprint rectangle, recovered from its axis-aligned box and yaw.

    A nearly square box is a square turned by ``yaw`` (or a round object, whose yaw is 0); a rectangle is
    solved from its box and yaw when the yaw is far enough from 45 degrees, else its box is returned.
    """
    bx, by = obj.extent[0], obj.extent[1]
    c, s = abs(math.cos(yaw)), abs(math.sin(yaw))
    if abs(bx - by) <= ROUND_ASPECT * max(bx, by):
        side = min(bx, by) / (c + s)
        return (side, side)
    det = c * c - s * s
    if abs(det) > 0.3:
        length, width = (bx * c - by * s) / det, (by * c - bx * s) / det
        if length > 0 and width > 0:
            return (length, width)
    return (bx, by)


def footprint_sides(obj: Boxed, yaw: float) -> tuple[tuple[float, float], float]:
    """The rectangle (sides, yaw) of a container's or support's footprint that can safely be filled.

    A square box with no yaw may be a round object (a bowl, a plate), so its inscribed square is used.
    """
    sides = true_sides(obj, yaw)
    if sides[0] == sides[1] and abs(math.sin(2 * yaw)) < 1e-6:
        side = sides[0] / math.sqrt(2)
        return (side, side), 0.0
    return sides, yaw


def beside_point(relation: str, held: Boxed, reference: Boxed) -> tuple[float, float]:
    """Where to set ``held`` down so that it is ``relation`` (left_of, ..., near) ``reference``."""
    dx = (held.extent[0] + reference.extent[0]) / 2 + SIDE_GAP
    dy = (held.extent[1] + reference.extent[1]) / 2 + SIDE_GAP
    rx, ry = reference.position[0], reference.position[1]
    if relation == "near":
        # as close as the two allow, and well inside the tolerance of ``near``
        half = (held.extent[1] + reference.extent[1]) / 2
        dy = half + max(MIN_NEAR_GAP, min(SIDE_GAP, NEAR_DISTANCE - NEAR_SLACK - half))
    offset = {
        "left_of": (0.0, dy),
        "right_of": (0.0, -dy),
        "in_front_of": (-dx, 0.0),
        "behind": (dx, 0.0),
        "near": (0.0, dy if ry < 0 else -dy),
    }[relation]
    return (rx + offset[0], ry + offset[1])


def table_spot(others: Sequence[Boxed]) -> tuple[float, float]:
    """The point of :data:`TABLE_AREA` farthest from every object in ``others``."""
    (x0, x1), (y0, y1) = TABLE_AREA
    best, best_gap = ((x0 + x1) / 2, (y0 + y1) / 2), -1.0
    for x in np.linspace(x0, x1, 13):
        for y in np.linspace(y0, y1, 21):
            gap = min((math.hypot(x - o.position[0], y - o.position[1]) for o in others), default=1.0)
            if gap > best_gap + 1e-9:
                best, best_gap = (float(x), float(y)), gap
    return best


def release_point_for(step: PlanStep, held: Boxed, objects: Sequence[Boxed], coming: int = 0) -> Vec3:
    """Where a place step should release ``held``, given every perceived object (``held`` among them or not).

    Objects are matched by their ``id`` attribute; a ``yaw`` attribute, when present, turns the footprint.
    ``coming``: how many objects later steps of the plan put in or on the same target (see :func:`free_spot`).
    """
    others = [o for o in objects if getattr(o, "id", None) != getattr(held, "id", object())]
    if step.relation == "table":
        x, y = table_spot(others)
        return (x, y, 0.0)
    target = next(o for o in others if getattr(o, "id", None) == step.target)
    if step.relation in ("inside", "on"):
        occupants = [o for o in others if o is not target and RELATIONS[step.relation](o, target)]
        size = max(held.extent[0], held.extent[1])
        sides, yaw = footprint_sides(target, getattr(target, "yaw", 0.0))
        if (occupants or coming) and sides[0] == sides[1] and yaw == 0.0:  # round (or square): pack on its disc
            disc = min(target.extent[0], target.extent[1]) / 2
            spot = free_spot(target, occupants, size, margin=DISC_MARGIN, coming=coming, disc=disc)
        else:
            spot = free_spot(target, occupants, size, sides=sides, yaw=yaw, coming=coming)
        return release_point(step.relation, target, spot)
    x, y = beside_point(step.relation or "near", held, target)
    return (x, y, 0.0)


def still_to_place(plan: Sequence[PlanStep], index: int) -> int:
    """How many place steps after ``plan[index]`` put something in or on the same target (for packing)."""
    step = plan[index]
    return sum(
        1 for s in plan[index + 1 :] if s.skill == "place" and s.target == step.target and s.relation == step.relation
    )
