"""Keeping object identities across looks.

A perceiver names objects afresh every time it looks (``red_block``, ``red_ball_1``, ...). Between two looks
the agent has moved at most one object, and it knows where it put it. :func:`carry_ids` renames the new
percept's objects to the ids they had before, so that a plan made over the old ids stays valid: each old
object is matched to the new object of the same colour (and preferably the same type) nearest to where it
is expected to be now, one-to-one, greedily by distance.

An object of the previous percept that nothing moved and that now has another object resting on top of it
(the middle block of a tower, hidden from a camera above, or the bottom block seen only as a rim around the
one on it) is kept as it was, with its old evidence: the camera cannot see it whole, and nothing moved it.
A matched object keeps its earlier type and size (a block half hidden under another may look like something
else; it is still the block it was).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from groundsight.perception.objects import Percept, SceneObject

GATE = 0.12
"""Largest distance (m) between where an object is expected and where a new one is seen to match them."""
TYPE_PENALTY = 0.05
"""Added to the distance (m) when the types differ, so that the same type is preferred."""


def carry_ids(
    previous: Percept, current: Percept, expected: Mapping[str, tuple[float, float]] | None = None
) -> Percept:
    """``current`` with its objects renamed to the ids of ``previous`` they match.

    ``expected`` gives, for objects that were moved, the x, y where they should be now (default: where they
    were). Objects that match nothing keep their new id (made unique with a ``_new`` suffix if it is taken).
    """
    expected = expected or {}
    # objects that nothing moved and that now carry another on top are kept as they were, and the pieces of
    # their colour seen around what rests on them are taken for what they are: parts of the same object
    kept = [o for o in previous.objects if o.id not in expected and covered(o, current.objects)]
    fresh = [n for n in current.objects if not any(_piece_of(n, o) for o in kept)]
    pairs = []
    for old in previous.objects:
        if old in kept:
            continue
        ex, ey = expected.get(old.id, (old.position[0], old.position[1]))
        for j, new in enumerate(fresh):
            if new.color != old.color:
                continue
            cost = math.hypot(new.position[0] - ex, new.position[1] - ey) + (
                TYPE_PENALTY if new.type != old.type else 0
            )
            if cost <= GATE:
                pairs.append((round(cost, 6), old.id, j))
    names: dict[int, str] = {}
    taken: set[str] = {o.id for o in kept}
    for _, old_id, j in sorted(pairs):
        if j not in names and old_id not in taken:
            names[j] = old_id
            taken.add(old_id)
    by_id = {o.id: o for o in previous.objects}
    objects = list(kept)
    for j, obj in enumerate(fresh):
        name = names.get(j)
        if name is None:
            name, k = obj.id, 1
            while name in taken:
                name, k = f"{obj.id}_new{k}", k + 1
            taken.add(name)
        old = by_id.get(name)
        # an object does not change what it is: a matched object keeps the type and size it was seen with
        keep = {"type": old.type, "size": old.size} if old is not None and j in names else {}
        objects.append(obj.model_copy(update={"id": name, **keep}))
    return current.model_copy(update={"objects": sorted(objects, key=lambda o: o.id)})


def _piece_of(new: SceneObject, old: SceneObject) -> bool:
    """Is ``new`` (of ``old``'s colour, its centre over ``old``'s footprint, no higher) a visible part of it?"""
    return (
        new.color == old.color
        and abs(new.position[0] - old.position[0]) <= old.extent[0] / 2 + 0.01
        and abs(new.position[1] - old.position[1]) <= old.extent[1] / 2 + 0.01
        and new.position[2] <= old.position[2] + old.extent[2] / 2
    )


def covered(old: SceneObject, now: Sequence[SceneObject]) -> bool:
    """Does some object now rest on top of where ``old`` was (so that a camera above cannot see it)?"""
    top = old.position[2] + old.extent[2] / 2
    hx, hy = old.extent[0] / 2, old.extent[1] / 2
    return any(
        abs(o.position[0] - old.position[0]) <= hx
        and abs(o.position[1] - old.position[1]) <= hy
        and o.position[2] - o.extent[2] / 2 >= top - 0.01
        for o in now
    )
