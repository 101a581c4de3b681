"""Goal predicates of the scenario file, evaluated on simulator truth.

Pair predicates use :mod:`groundsight.perception.relations` (the same geometry the verifier applies to what was
perceived). ``on_table`` and ``unchanged`` use the tolerances below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from groundsight.perception.relations import RELATIONS
from groundsight.sim.scene import in_handover_zone
from groundsight.sim.truth import ObjectTruth, moved

ON_TABLE_HEIGHT = 0.01
"""An object is on the table when the bottom of its box is at most this high (m) and it is neither inside
nor on another object."""
UNCHANGED_TOLERANCE = 0.01
"""An object is unchanged when its base moved at most this far (m)."""
DISPLACED_TOLERANCE = 0.03
"""A displaced object's base may end this far (m) from its start plus the asked offset."""
LIFTED_HEIGHT = 0.05
"""An object is lifted when the bottom of its box is at least this high (m) above the table and it rests on
nothing (held in the air)."""


def goal_holds(goal: Mapping[str, Any], truth: Mapping[str, ObjectTruth], initial: Mapping[str, ObjectTruth]) -> bool:
    """Evaluate a (validated) goal expression on the true object states."""
    ((key, value),) = goal.items()
    if key == "all":
        return all(goal_holds(g, truth, initial) for g in value)
    if key == "any":
        return any(goal_holds(g, truth, initial) for g in value)
    if key == "not":
        return not goal_holds(value, truth, initial)
    if key in RELATIONS:
        return RELATIONS[key](truth[value[0]], truth[value[1]])
    if key == "stacked":
        return all(RELATIONS["on"](truth[a], truth[b]) for a, b in zip(value, value[1:], strict=False))
    if key == "on_table":
        return all(_on_table(truth[o], truth) for o in value)
    if key == "handed_over":
        return all(in_handover_zone(truth[o].position) for o in value)
    if key == "displaced":
        return all(_displaced(initial[o], truth[o], offset) for o, offset in value.items())
    if key == "lifted":
        return all(_lifted(truth[o], truth) for o in value)
    if key == "unchanged":
        return all(not moved(initial[o], truth[o], UNCHANGED_TOLERANCE) for o in value)
    raise ValueError(f"unknown goal predicate {key!r}")


def _on_table(obj: ObjectTruth, truth: Mapping[str, ObjectTruth]) -> bool:
    """Bottom near the table top, and neither inside nor on another object (a bowl's floor is not the table)."""
    low = obj.position[2] - obj.extent[2] / 2 <= ON_TABLE_HEIGHT
    return low and not any(
        RELATIONS["inside"](obj, other) or RELATIONS["on"](obj, other) for other in truth.values() if other.id != obj.id
    )


def _displaced(before: ObjectTruth, after: ObjectTruth, offset: Any) -> bool:
    """The base moved by ``offset`` (dx, dy) within DISPLACED_TOLERANCE, and is back down on the table."""
    dx, dy = offset
    x, y = before.base_position[0] + dx, before.base_position[1] + dy
    down = after.position[2] - after.extent[2] / 2 <= ON_TABLE_HEIGHT
    off = ((after.base_position[0] - x) ** 2 + (after.base_position[1] - y) ** 2) ** 0.5
    return down and off <= DISPLACED_TOLERANCE


def _lifted(obj: ObjectTruth, truth: Mapping[str, ObjectTruth]) -> bool:
    """Bottom at least LIFTED_HEIGHT above the table, and not resting on or in another object."""
    high = obj.position[2] - obj.extent[2] / 2 >= LIFTED_HEIGHT
    return high and not any(
        RELATIONS["inside"](obj, other) or RELATIONS["on"](obj, other) for other in truth.values() if other.id != obj.id
    )


def moved_objects(truth: Mapping[str, ObjectTruth], initial: Mapping[str, ObjectTruth]) -> list[str]:
    """Ids of objects whose base moved more than :data:`UNCHANGED_TOLERANCE`."""
    return [oid for oid, t in truth.items() if moved(initial[oid], t, UNCHANGED_TOLERANCE)]
