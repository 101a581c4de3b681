"""Re-measuring a claim in the image: does the evidence a perceiver cites really show that colour?

The verifier uses this to check a claimed colour against the pixels, independently of the perceiver
that made the claim (a hallucinating model cites a box that shows something else).
"""

from __future__ import annotations

import numpy as np

from perception.colors import COLOR_NAMES, UNKNOWN, default_classifier, white_balance
from perception.frame import Frame
from perception.objects import Evidence

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
