"""The oracle perceiver: simulator truth in the shape of a percept, the upper bound for perception.

Perception never imports the simulator. Whoever owns the truth implements :class:`TruthSource` and reports
:class:`TruthObject` records: the simulator's own truth record (``groundsight.sim.truth.ObjectTruth``) is one,
so its adapter in ``groundsight.agent`` hands the simulator's truth over without copying.

Visibility: by default every true object is reported, also one that no frame shows (hidden under another
object, outside every view); such an object has no evidence. ``visible_only=True`` reports only objects
with at least ``min_pixels`` pixels in some frame's segmentation, which models what a perfect camera-based
perceiver could know. Frames without segmentation contribute no evidence; when no frame has segmentation,
``visible_only`` has nothing to judge by and every object is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from groundsight.perception.frame import Frame
from groundsight.perception.objects import Evidence, Percept, SceneObject, TruthObject
from groundsight.perception.perceivers.base import frames_time

Vec3 = tuple[float, float, float]


_SHARED_FIELDS = frozenset(TruthObject.model_fields) & frozenset(SceneObject.model_fields)
"""What a true object and a perceived one both record (id, attributes, box, yaw): the oracle passes these on."""


@runtime_checkable
class TruthSource(Protocol):
    """What the oracle needs from the simulator (or any ground truth): the objects as they are now."""

    def truth_objects(self) -> Sequence[TruthObject]:
        """The true state of every object, in a stable order."""
        ...


def segmentation_evidence(frame: Frame, body: int) -> Evidence | None:
    """Evidence (pixel box and count) of instance ``body`` in ``frame.segmentation``; None if not seen."""
    if frame.segmentation is None:
        return None
    mask = frame.segmentation == body
    count = int(np.count_nonzero(mask))
    if count == 0:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    return Evidence(camera=frame.camera, box=box, pixels=count)


class OraclePerceiver:
    """Reports the truth: true ids, attributes and geometry, confidence 1.0, segmentation evidence.

    Args:
        truth: the source of truth.
        visible_only: report only objects seen in some frame (see the module docstring).
        min_pixels: pixels an object needs in a frame to count as seen there.
    """

    name = "oracle"

    def __init__(self, truth: TruthSource, visible_only: bool = False, min_pixels: int = 1) -> None:
        self.truth = truth
        self.visible_only = visible_only
        self.min_pixels = min_pixels

    def perceive(self, frames: Sequence[Frame]) -> Percept:
        """The true objects with the evidence ``frames`` hold of them."""
        frames = list(frames)
        can_judge = any(f.segmentation is not None for f in frames)
        objects: list[SceneObject] = []
        for t in self.truth.truth_objects():
            evidence: list[Evidence] = []
            if t.body is not None:
                for frame in frames:
                    ev = segmentation_evidence(frame, t.body)
                    if ev is not None and ev.pixels >= self.min_pixels:
                        evidence.append(ev)
            if self.visible_only and can_judge and not evidence:
                continue
            objects.append(
                SceneObject(**t.model_dump(include=_SHARED_FIELDS), confidence=1.0, evidence=tuple(evidence))
            )
        return Percept(objects=objects, cameras=[f.camera for f in frames], perceiver=self.name, t=frames_time(frames))
