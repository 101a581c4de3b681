"""How a host's world looks to the classical perceiver: its objects' paints and its table.

groundsight's colour classifier names the ten reference albedos of :mod:`groundsight.perception.colors`, and
white-balances every frame against the tabletop world's dark table. Another world paints its objects and its
table otherwise (panda-gym: a saturated green ``(0.1, 0.9, 0.1)`` and blue ``(0.1, 0.1, 0.9)`` that the
default classifier leaves unnamed, on a white table). :class:`Appearance` is that calibration: extra albedos
for colour names, and how the host's table reads. It is a property of the world's paint, never of its state.
The perceiver and the verifier's re-measurement (depth probe, colour probe) use the same calibration, so a
claim is checked against the pixels with the eyes that made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from groundsight.perception.colors import COLOR_NAMES, GAIN, UNKNOWN, ColorClassifier
from groundsight.perception.evidence import SUPPORT_FRACTION, TABLE_CLEARANCE, DepthProbe
from groundsight.perception.frame import Frame
from groundsight.perception.objects import Evidence
from groundsight.perception.perceivers.classical import ClassicalConfig, ClassicalPerceiver

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Appearance:
    """A host world's paint.

    Attributes:
        albedos: colour name -> extra reference albedos (linear RGB 0..1) that also mean that name.
        table_albedo: the host table's albedo (its rendered colour is the white-balance reference); None keeps
            groundsight's table.
    """

    albedos: Mapping[str, tuple[RGB, ...]] = field(default_factory=dict)
    table_albedo: RGB | None = None

    def __post_init__(self) -> None:
        unknown = [name for name in self.albedos if name not in COLOR_NAMES]
        if unknown:
            raise ValueError(f"appearance: unknown colour name(s) {unknown} (known: {', '.join(COLOR_NAMES)})")

    def classifier(self) -> ColorClassifier:
        """The colour classifier that also knows the host's paints."""
        return HostColorClassifier(self.albedos) if self.albedos else ColorClassifier()

    def perceiver(self) -> ClassicalPerceiver:
        """A classical perceiver calibrated to this world."""
        config = ClassicalConfig()
        if self.table_albedo is not None:
            config = ClassicalConfig(table_rgb=tuple(255.0 * GAIN * np.asarray(self.table_albedo)))  # type: ignore[arg-type]
        return ClassicalPerceiver(config, colors=self.classifier())

    def depth_probe(self) -> DepthProbe:
        """The verifier's depth re-measurement with this world's perceiver."""
        return _HostDepthProbe(self.perceiver())

    def colour_probe(self) -> ColourProbe:
        """The verifier's colour re-measurement with this world's classifier."""
        return ColourProbe(self.classifier())


class HostColorClassifier(ColorClassifier):
    """The default classifier plus extra reference albedos per colour name (the best of a name's references
    counts)."""

    def __init__(self, albedos: Mapping[str, tuple[RGB, ...]], **options: float) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self._extra = [
            (COLOR_NAMES.index(name), np.asarray(a, dtype=np.float64) * 255.0 * self.gain)
            for name, refs in albedos.items()
            for a in refs
        ]

    def residuals(self, rgb: np.ndarray) -> np.ndarray:
        out = super().residuals(rgb)
        c = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
        brightness = np.maximum(np.linalg.norm(c, axis=1), 60.0)
        for label, ref in self._extra:
            s = np.clip((c @ ref) / float(ref @ ref), *self.shading)
            dist = np.linalg.norm(c - s[:, None] * ref[None, :], axis=1)
            out[:, label] = np.minimum(out[:, label], dist / brightness)
        return out


class _HostDepthProbe(DepthProbe):
    """A :class:`DepthProbe` that segments with the host-calibrated perceiver."""

    def __init__(self, perceiver: ClassicalPerceiver) -> None:
        super().__init__()
        self._perceiver = perceiver


class ColourProbe:
    """The verifier's colour probe (see :func:`groundsight.perception.evidence.colour_contradiction`) with a
    host-calibrated classifier: None if the evidence box supports the claimed colour, else what it shows."""

    def __init__(self, classifier: ColorClassifier) -> None:
        self.classifier = classifier

    def __call__(self, frame: Frame, evidence: Evidence, claimed: str) -> str | None:
        x0, y0, x1, y1 = (int(v) for v in evidence.box)
        h, w = frame.rgb.shape[:2]
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 <= x0 or y1 <= y0:
            return "nothing"
        mask = np.ones((y1 - y0, x1 - x0), dtype=bool)
        if frame.depth is not None:
            box = np.zeros(frame.depth.shape, dtype=bool)
            box[y0:y1, x0:x1] = True
            mask = (frame.points_world(box)[:, 2] > TABLE_CLEARANCE).reshape(mask.shape)
        labels = self.classifier.classify_image(np.ascontiguousarray(frame.rgb[y0:y1, x0:x1]), mask)
        counts = np.bincount(labels[labels != UNKNOWN].ravel(), minlength=len(COLOR_NAMES))
        support = counts[COLOR_NAMES.index(claimed)] if claimed in COLOR_NAMES else 0
        if support >= SUPPORT_FRACTION * max(evidence.pixels, 1):
            return None
        return COLOR_NAMES[int(np.argmax(counts))] if counts.sum() else "nothing"
