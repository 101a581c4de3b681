"""Perception's own colour vocabulary and a shading-tolerant colour classifier.

The ten colour names are the words the rest of groundsight uses (``red orange yellow green blue purple
pink brown white gray``). Each has a reference albedo (linear RGB in 0..1). A camera sees a surface of
albedo ``a`` as roughly ``pixel = 255 * gain * s * a`` where ``gain`` is the exposure of the camera under
the scene's light and ``s`` the shading of that surface (1 for a face turned to the light, down to about
0.6 for faces turned away). The classifier therefore fits, for every reference, the best shading ``s``
within ``[SHADING_MIN, SHADING_MAX]`` and picks the reference with the smallest residual. Bounding ``s``
is what keeps white apart from gray and orange apart from brown: they differ in brightness, not in hue.

Classification of whole images goes through a 64x64x64 lookup table built once, so it costs one table
look-up per pixel.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

COLOR_NAMES: tuple[str, ...] = (
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
    "white",
    "gray",
)
"""The colour words perception reports, in label order (label ``i`` is ``COLOR_NAMES[i]``)."""

REFERENCE_ALBEDO: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.10, 0.10),
    "orange": (1.00, 0.50, 0.00),
    "yellow": (0.95, 0.85, 0.10),
    "green": (0.10, 0.65, 0.20),
    "blue": (0.10, 0.30, 0.90),
    "purple": (0.50, 0.15, 0.70),
    "pink": (1.00, 0.50, 0.75),
    "brown": (0.45, 0.27, 0.10),
    "white": (0.95, 0.95, 0.95),
    "gray": (0.50, 0.50, 0.50),
}
"""Reference albedo of every colour name (linear RGB, 0..1); the simulator renders objects with these
(``groundsight.sim.bodies.COLORS`` is this table)."""

GAIN = 0.935
"""Camera exposure under the scene light: a lit face of albedo 1 reads ``255 * GAIN``. Calibrated on the
simulator's top camera; recalibrate (``ColorClassifier(gain=...)``) for another camera or light."""
SHADING_MIN = 0.6
SHADING_MAX = 1.07
"""Range of surface shading the classifier accepts (faces turned away from the light are darker)."""
MAX_RESIDUAL = 0.16
"""Largest residual (relative to the pixel's brightness) still given a name; worse pixels are unknown."""
UNKNOWN = 255
"""Label of a pixel that matches no colour well."""

TABLE_RGB: tuple[float, float, float] = (76.0, 71.0, 66.0)
"""How the simulator's table top reads (median RGB) under the light the classifier is calibrated for; the
reference surface of :func:`white_balance`. Recalibrate for another table."""

_LUT_BITS = 6


class ColorClassifier:
    """Nearest-reference colour classification with a bounded shading factor.

    Args:
        gain: camera exposure, see :data:`GAIN`.
        shading: accepted ``(min, max)`` shading factor.
        max_residual: residual above which a pixel is :data:`UNKNOWN`.
    """

    def __init__(
        self,
        gain: float = GAIN,
        shading: tuple[float, float] = (SHADING_MIN, SHADING_MAX),
        max_residual: float = MAX_RESIDUAL,
    ) -> None:
        self.gain = gain
        self.shading = shading
        self.max_residual = max_residual
        self._refs = np.array([REFERENCE_ALBEDO[c] for c in COLOR_NAMES], dtype=np.float64) * 255.0 * gain
        self._lut: np.ndarray | None = None

    def residuals(self, rgb: np.ndarray) -> np.ndarray:
        """Residual (Nx10) of each of N RGB pixels (uint8 or float 0..255) to every reference.

        The residual is the distance to the best-shaded reference divided by the pixel's brightness
        (with a floor, so that near-black pixels do not blow up).
        """
        c = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
        refs = self._refs
        s = (c @ refs.T) / np.einsum("ij,ij->i", refs, refs)[None, :]
        s = np.clip(s, *self.shading)
        diff = c[:, None, :] - s[:, :, None] * refs[None, :, :]
        dist = np.sqrt(np.einsum("nkc,nkc->nk", diff, diff))
        brightness = np.maximum(np.linalg.norm(c, axis=1), 60.0)
        return dist / brightness[:, None]

    def classify_pixels(self, rgb: np.ndarray) -> np.ndarray:
        """Label (uint8 index into :data:`COLOR_NAMES`, or :data:`UNKNOWN`) of each of N RGB pixels."""
        r = self.residuals(rgb)
        labels = np.argmin(r, axis=1).astype(np.uint8)
        labels[r[np.arange(len(r)), labels] > self.max_residual] = UNKNOWN
        return labels

    @property
    def lut(self) -> np.ndarray:
        """Lookup table: label of every RGB colour quantised to 6 bits a channel (flat, 2**18 entries)."""
        if self._lut is None:
            q = np.arange(1 << _LUT_BITS, dtype=np.float64) * (1 << (8 - _LUT_BITS)) + (1 << (7 - _LUT_BITS))
            grid = np.stack(np.meshgrid(q, q, q, indexing="ij"), axis=-1).reshape(-1, 3)
            self._lut = np.concatenate([self.classify_pixels(chunk) for chunk in np.array_split(grid, 16)]).astype(
                np.uint8
            )
        return self._lut

    def classify_image(self, rgb: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """HxW uint8 labels of an HxWx3 uint8 image; pixels outside ``mask`` are :data:`UNKNOWN`."""
        img = np.asarray(rgb)
        shift = 8 - _LUT_BITS
        if mask is None:
            q = img >> shift
            idx = (q[..., 0].astype(np.int32) << 12) | (q[..., 1].astype(np.int32) << 6) | q[..., 2]
            return self.lut[idx]
        labels = np.full(img.shape[:2], UNKNOWN, dtype=np.uint8)
        q = img[mask] >> shift
        idx = (q[:, 0].astype(np.int32) << 12) | (q[:, 1].astype(np.int32) << 6) | q[:, 2]
        labels[mask] = self.lut[idx]
        return labels

    def classify(self, rgb: tuple[float, float, float] | np.ndarray) -> str | None:
        """Name of one RGB colour (0..255), or None when it matches no reference."""
        label = int(self.classify_pixels(np.asarray(rgb, dtype=np.float64).reshape(1, 3))[0])
        return None if label == UNKNOWN else COLOR_NAMES[label]

    def confidence(self, rgb: np.ndarray) -> float:
        """How clearly N pixels (all meant to be one colour) name their majority colour, in [0, 1].

        The median margin between the best and second-best residual, mapped to [0, 1].
        """
        r = np.sort(self.residuals(rgb), axis=1)
        margin = float(np.median(r[:, 1] - r[:, 0]))
        return float(np.clip(margin / 0.25, 0.0, 1.0))


@lru_cache(maxsize=4)
def default_classifier() -> ColorClassifier:
    """The shared classifier with default calibration (its lookup table is built on first use)."""
    return ColorClassifier()


def classify_color(rgb: tuple[float, float, float] | np.ndarray) -> str | None:
    """Colour name of one RGB value (0..255) under the default calibration, or None if unknown."""
    return default_classifier().classify(rgb)


def white_balance(
    rgb: np.ndarray,
    reference_pixels: np.ndarray,
    reference: tuple[float, float, float] = TABLE_RGB,
    tolerance: float = 0.02,
    limits: tuple[float, float] = (0.5, 2.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Rescale ``rgb`` per channel so that a reference surface reads as it does under the calibration light.

    Args:
        rgb: HxWx3 uint8 image.
        reference_pixels: Nx3 pixels of the reference surface (e.g. the table top) in ``rgb``.
        reference: how that surface reads under the calibration light.
        tolerance: gains within ``1 +- tolerance`` count as no change (the image is returned as is).
        limits: gains are clipped to this range (a reference that is mostly hidden cannot run away).

    Returns:
        The balanced image (``rgb`` itself when nothing changed) and the per-channel gain that was divided out.
    """
    if len(reference_pixels) == 0:
        return rgb, np.ones(3)
    seen = np.median(np.asarray(reference_pixels, dtype=np.float64).reshape(-1, 3), axis=0)
    gain = np.clip(seen / np.asarray(reference, dtype=np.float64), *limits)
    if np.all(np.abs(gain - 1.0) <= tolerance):
        return rgb, np.ones(3)
    balanced = np.clip(np.asarray(rgb, dtype=np.float32) / gain.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
    return balanced, gain
