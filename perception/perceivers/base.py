"""The perceiver contract and helpers every perceiver shares."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from groundsight.perception.frame import Frame
from groundsight.perception.objects import Percept, SceneObject


@runtime_checkable
class Perceiver(Protocol):
    """Turns camera frames into a :class:`~perception.objects.Percept`.

    ``name`` is the name the perceiver is chosen by (``make_perceiver(name)``) and is recorded in every
    percept. ``perceive`` must be deterministic: the same frames give the same percept.
    """

    name: str

    def perceive(self, frames: Sequence[Frame]) -> Percept:
        """Perceive the scene seen by ``frames`` (one per camera, taken at about the same time)."""
        ...


class PerceptionError(ValueError):
    """A perceiver cannot work with the frames it was given (no depth, no frames, ...)."""


def object_order_key(obj: SceneObject) -> tuple[float, float, float]:
    """Deterministic order of objects that share a name: left to right from the robot (decreasing y),
    then front to back (increasing x), then bottom to top."""
    x, y, z = obj.position
    return (-round(y, 4), round(x, 4), round(z, 4))


def assign_ids(objects: Sequence[SceneObject]) -> list[SceneObject]:
    """Name objects ``<color>_<type>``, numbered ``_1``, ``_2``, ... (left to right) when the name repeats.

    Returns the objects with their new ids, sorted by id.
    """
    counts = Counter(f"{o.color}_{o.type}" for o in objects)
    seen: Counter[str] = Counter()
    out: list[SceneObject] = []
    for obj in sorted(objects, key=lambda o: (o.color, o.type, object_order_key(o))):
        base = f"{obj.color}_{obj.type}"
        if counts[base] > 1:
            seen[base] += 1
            out.append(obj.model_copy(update={"id": f"{base}_{seen[base]}"}))
        else:
            out.append(obj.model_copy(update={"id": base}))
    return sorted(out, key=lambda o: o.id)


def frames_time(frames: Sequence[Frame]) -> float:
    """Timestamp of a set of frames: the newest one (0 when there are none)."""
    return max((f.t for f in frames), default=0.0)
