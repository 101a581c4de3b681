"""Re-measuring a claim in the image: does the evidence a perceiver cites really show that colour?

The verifier uses this to check a claimed colour against the pixels, independently of the perceiver
that made the claim (a hallucinating model cites a box that shows something else).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from groundsight.perception.colors import COLOR_NAMES, UNKNOWN, default_classifier, white_balance
from groundsight.perception.frame import Frame
from groundsight.perception.objects import Evidence, SceneObject

SUPPORT_FRACTION = 0.5
"""The claimed colour must cover at least this fraction of the evidence's pixel count inside its box."""
TABLE_CLEARANCE = 0.003
"""With depth, only pixels at least this high above the table (z = 0) are counted."""
MIN_TABLE_SAMPLES = 500
"""With depth, colours are balanced against the table (as the classical perceiver does) when at least this
many of every 4th row and column's pixels show it."""


def _balanced(frame: Frame, rgb: np.ndarray) -> np.ndarray:
    """``rgb`` (a crop of ``frame``) white-balanced against the table the frame shows, if it shows enough."""
    if frame.depth is None:
        return rgb
    grid = np.zeros(frame.depth.shape, dtype=bool)
    grid[::4, ::4] = True
    table = np.abs(frame.points_world(grid)[:, 2]) < TABLE_CLEARANCE
    if np.count_nonzero(table) < MIN_TABLE_SAMPLES:
        return rgb
    return white_balance(rgb, frame.rgb[::4, ::4].reshape(-1, 3)[table])[0]


def colour_counts(frame: Frame, box: tuple[int, int, int, int]) -> dict[str, int]:
    """Pixels of each colour name inside ``box`` (above the table, when the frame has depth).

    With depth, the colours are first balanced against the table, so that a brighter, dimmer or tinted
    light does not change their names.
    """
    x0, y0, x1, y1 = (int(v) for v in box)
    h, w = frame.rgb.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return {}
    mask = np.ones((y1 - y0, x1 - x0), dtype=bool)
    if frame.depth is not None:
        sub = np.zeros(frame.depth.shape, dtype=bool)
        sub[y0:y1, x0:x1] = True
        mask = (frame.points_world(sub)[:, 2] > TABLE_CLEARANCE).reshape(mask.shape)
    labels = default_classifier().classify_image(_balanced(frame, frame.rgb[y0:y1, x0:x1]), mask)
    counts = np.bincount(labels[labels != UNKNOWN].ravel(), minlength=len(COLOR_NAMES))
    return {name: int(n) for name, n in zip(COLOR_NAMES, counts, strict=False) if n}


def colour_contradiction(frame: Frame, evidence: Evidence, claimed: str) -> str | None:
    """None if the pixels support ``claimed``; otherwise the colour the box mostly shows (or 'nothing')."""
    counts = colour_counts(frame, evidence.box)
    if counts.get(claimed, 0) >= SUPPORT_FRACTION * max(evidence.pixels, 1):
        return None
    return max(counts, key=counts.__getitem__) if counts else "nothing"


# ---------------------------------------------------------------------------------------------- depth re-measurement

POSITION_TOLERANCE = 0.015
"""A claimed footprint centre may lie at most this far (metres, in x, y) from the one the depth re-measures."""
MIN_BOX_IOU = 0.3
"""A re-measured object stands behind a claim when their pixel boxes overlap at least this much (IoU)."""
UNCLAIMED_GATE = 0.03
"""A re-measured object farther than this (x, y, metres) from every claim, with no overlapping box, is unclaimed."""


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two pixel boxes ``x0, y0, x1, y1``."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class DepthProbe:
    """Re-measures object claims from a frame's depth (and colour) with the classical shape models.

    The frame is segmented once (by height above the table, then colour, then footprint and depth profile:
    :class:`~perception.perceivers.classical.ClassicalPerceiver`), independently of the claims; a claim is
    then compared with the re-measured object whose pixel box overlaps its evidence box most. The results of
    the latest frames are cached by identity, so the verifier's many questions about one look cost one
    segmentation per camera.
    """

    def __init__(self, cache: int = 4) -> None:
        self._perceiver: Any = None
        self._cache: list[tuple[Frame, list[SceneObject]]] = []
        self._size = cache

    def detections(self, frame: Frame) -> list[SceneObject]:
        """The objects the depth of ``frame`` shows (none without depth)."""
        for cached, found in self._cache:
            if cached is frame:
                return found
        if frame.depth is None:
            found: list[SceneObject] = []
        else:
            if self._perceiver is None:
                from groundsight.perception.perceivers.classical import ClassicalPerceiver  # heavy; only when asked

                self._perceiver = ClassicalPerceiver()
            found = sorted(self._perceiver.detect(frame), key=lambda o: (o.position, o.color, o.type))
        self._cache = [(frame, found), *self._cache][: self._size]
        return found

    def match(self, frame: Frame, evidence: Evidence, color: str | None = None) -> SceneObject | None:
        """The re-measured object whose box overlaps ``evidence``'s most (at least :data:`MIN_BOX_IOU`); one of
        ``color`` first among overlapping ones (the visible rim of a block under another has the top one's box)."""
        best, best_score = None, MIN_BOX_IOU
        for det in self.detections(frame):
            for ev in det.evidence:
                iou = box_iou(ev.box, evidence.box)
                if ev.camera != evidence.camera or iou < MIN_BOX_IOU:
                    continue
                score = iou + (1.0 if color is not None and det.color == color else 0.0)
                if score >= best_score:
                    best, best_score = det, score
        return best

    def contradictions(
        self, frame: Frame, evidence: Evidence, claim: SceneObject
    ) -> tuple[SceneObject | None, list[str]]:
        """What the depth in ``evidence``'s box says against ``claim``: (the re-measured object, problems).

        Problems: nothing there (only table), another type, or a centre more than :data:`POSITION_TOLERANCE`
        away. Without depth nothing can be said: ``(None, [])``.
        """
        if frame.depth is None:
            return None, []
        found = self.match(frame, evidence, claim.color)
        if found is None:
            return None, [f"the depth in {evidence.camera} box {list(evidence.box)} shows no object, only table"]
        problems = []
        if found.type != claim.type:
            problems.append(f"its depth profile is a {found.type}'s, not a {claim.type}'s")
        dx, dy = claim.position[0] - found.position[0], claim.position[1] - found.position[1]
        if math.hypot(dx, dy) > POSITION_TOLERANCE:
            problems.append(
                f"the depth puts its centre at x={found.position[0]:.3f}, y={found.position[1]:+.3f}, "
                f"{100 * math.hypot(dx, dy):.1f} cm from the claimed one"
            )
        return found, problems

    def unclaimed(
        self, frames: Sequence[Frame], claims: Sequence[SceneObject], matched: Sequence[SceneObject] = ()
    ) -> list[SceneObject]:
        """Objects the depth shows that no claim stands for: not ``matched`` to a claim (see :meth:`match`),
        and no claim of their colour and type overlaps their box or lies within :data:`UNCLAIMED_GATE` (a
        block in a bowl of its colour is not the bowl)."""
        out: list[SceneObject] = []
        taken = {id(m) for m in matched}
        for frame in frames:
            for det in self.detections(frame):
                if id(det) in taken:
                    continue
                same = [c for c in claims if (c.color, c.type) == (det.color, det.type)]
                boxes = [ev for c in same for ev in c.evidence if ev.camera == frame.camera]
                if any(box_iou(ev.box, det.evidence[0].box) >= MIN_BOX_IOU for ev in boxes):
                    continue
                if any(math.dist(c.position[:2], det.position[:2]) <= UNCLAIMED_GATE for c in same):
                    continue
                if all(math.dist(o.position[:2], det.position[:2]) > UNCLAIMED_GATE for o in out):
                    out.append(det)
        return out
