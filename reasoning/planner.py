"""Plans of skills with symbolic preconditions and expected effects.

The pick-and-place family needs at most two steps: pick the object, place it in or on the target.
Geometry for the robot (grasp box, release point) is computed here from what was perceived.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from perception.objects import SceneObject
from perception.relations import Boxed

Vec3 = tuple[float, float, float]
CONTAINER_FLOOR = 0.008
"""Assumed floor thickness of a container (m); the release point is this far above its bottom."""


class PlanStep(BaseModel):
    """One skill call, with what must hold before and what must hold after."""

    model_config = ConfigDict(frozen=True)

    skill: Literal["pick", "place"]
    object: str
    target: str | None = None
    relation: str | None = None
    preconditions: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    grasp_position: Vec3 | None = None
    grasp_extent: Vec3 | None = None
    grasp_yaw: float = 0.0
    release_point: Vec3 | None = None

    @property
    def text(self) -> str:
        if self.skill == "pick":
            return f"pick({self.object})"
        return f"place({self.object}, {self.relation}, {self.target})"


Plan = list[PlanStep]


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
) -> tuple[float, float]:
    """The point of ``target``'s footprint, at least ``size / 2 + margin`` from its edge, that lies farthest
    from the objects already in or on it (its centre when it is empty).

    The footprint is a ``sides`` rectangle turned by ``yaw`` about the target's centre; by default the
    target's axis-aligned box (whose corners lie outside a turned tray, so pass the true sides when known).
    """
    cx, cy = target.position[0], target.position[1]
    if not occupants:
        return (cx, cy)
    lx, ly = sides if sides is not None else (target.extent[0], target.extent[1])
    hx, hy = max(0.0, lx / 2 - size / 2 - margin), max(0.0, ly / 2 - size / 2 - margin)
    c, s = np.cos(yaw), np.sin(yaw)
    best, best_gap = (cx, cy), -1.0
    for fx in np.linspace(-1.0, 1.0, 9):
        for fy in np.linspace(-1.0, 1.0, 9):
            u, v = fx * hx, fy * hy
            x, y = cx + c * u - s * v, cy + s * u + c * v
            gap = min(float(np.hypot(x - o.position[0], y - o.position[1])) for o in occupants)
            if gap > best_gap + 1e-9:
                best, best_gap = (x, y), gap
    return best


def plan_pick_place(obj: SceneObject, target: SceneObject, relation: str) -> Plan:
    """Pick ``obj`` and put it ``relation`` ``target``."""
    return [
        PlanStep(
            skill="pick",
            object=obj.id,
            preconditions=("hand_empty", f"clear({obj.id})", f"graspable({obj.id})"),
            effects=(f"holding({obj.id})",),
            grasp_position=obj.position,
            grasp_extent=obj.extent,
            grasp_yaw=obj.yaw,
        ),
        PlanStep(
            skill="place",
            object=obj.id,
            target=target.id,
            relation=relation,
            preconditions=(f"holding({obj.id})", f"clear({target.id})" if relation == "on" else f"open({target.id})"),
            effects=(f"{relation}({obj.id}, {target.id})", "hand_empty"),
            release_point=release_point(relation, target),
        ),
    ]
