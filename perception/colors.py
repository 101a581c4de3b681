"""Perception's own colour vocabulary and a shading-tolerant colour classifier.

The fourteen colour names are the words the rest of groundsight uses (``red orange yellow green blue purple
pink brown white gray`` and, since issue 13, ``cyan magenta black beige``). Each has a reference albedo
(linear RGB in 0..1). A camera sees a surface of albedo ``a`` as roughly ``pixel = 255 * gain * s * a`` where
``gain`` is the exposure of the camera under the scene's light and ``s`` the shading of that surface (1 for a
face turned to the light, down to about 0.6 for faces turned away). The classifier therefore fits, for every
reference, the best shading ``s`` within ``[SHADING_MIN, SHADING_MAX]`` and picks the reference with the
smallest residual. Bounding ``s`` is what keeps white apart from gray and orange apart from brown: they differ
in brightness, not in hue.

Other renderers, palettes and lights paint the same colour names otherwise (a paler red, a dimmer blue, a
desaturated brown). Pixels are therefore named by **regions of CIELAB's LCh** (lightness, chroma, hue angle;
:func:`name_by_region`): a hue sector per colour family, split by chroma or lightness where two names share
a hue (orange and brown, red and pink, white and gray), so pale, dark and saturated renderings of one colour
get one name. A pixel that is a shade of a reference albedo (residual at most ``tight_residual``: every
pixel of groundsight's own renders, and a host's calibrated paints, see ``agent.hosts.Appearance``) keeps
that reference's name. The confidence of a name grows with the pixel's distance to its region's border.
Names that differ in brightness only (white, gray, black; beige, brown) are given to whole objects by their lit
face (:meth:`ColorClassifier.refine`), since an unknown exposure moves every pixel across those borders.

Classification of whole images goes through a 64x64x64 lookup table built once, so it costs one table
look-up per pixel.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from groundsight.cache import cache_dir, write_atomically

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
    "cyan",
    "magenta",
    "black",
    "beige",
)
"""The colour words perception reports, in label order (label ``i`` is ``COLOR_NAMES[i]``). The last four came
with issue 13 and are appended, so the labels of the first ten did not change."""

BASE_COLOR_NAMES: tuple[str, ...] = COLOR_NAMES[:10]
"""The ten colours of groundsight's own random scenes (``sim.scene.random_requests``, ``datagen``) and of the
shipped VLM's prompt (its tokenizer holds the whole formatted prompt as one token); scenarios may use all of
:data:`COLOR_NAMES`."""

COLOR_SYNONYMS: dict[str, str] = {
    "grey": "gray",
    "violet": "purple",
    "teal": "cyan",
    "turquoise": "cyan",
    "aqua": "cyan",
    "fuchsia": "magenta",
    "tan": "beige",
    "khaki": "beige",
}
"""Words a model's answer, a detector's phrase or an instruction may use for one of :data:`COLOR_NAMES`
(``reasoning.language.COLOR_WORDS`` is built from both)."""

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
    "cyan": (0.10, 0.70, 0.75),
    "magenta": (0.85, 0.10, 0.70),
    "black": (0.07, 0.07, 0.07),
    "beige": (0.88, 0.76, 0.56),
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
TIGHT_RESIDUAL = 0.06
"""A pixel within this residual of a reference albedo (a shade of it) keeps that reference's name."""

# ------------------------------------------------------------------------------------------ LCh colour regions

HUE_SECTORS: tuple[tuple[float, float, str], ...] = (
    (344.0, 18.0, "red|pink|magenta"),
    (18.0, 48.0, "red|pink|brown|beige"),
    (48.0, 78.0, "orange|brown|beige"),
    (78.0, 112.0, "yellow|brown|beige"),
    (112.0, 165.0, "green"),
    (165.0, 228.0, "cyan"),
    (228.0, 306.0, "blue"),
    (306.0, 344.0, "purple|magenta"),
)
"""CIELAB hue sectors (degrees, start inclusive) and the names they hold; the names of a shared sector are
split by :func:`name_by_region`'s chroma and lightness rules. Cyan (teal, turquoise) runs from green's end to
228 degrees: Ravens' cyan renders at 173-214 degrees, its steel blue at 240 and more, sky blue at 235."""
ACHROMATIC_CHROMA = (8.0, 0.08)
"""A pixel is achromatic (white, gray or black) when its chroma is below ``a + b * L``."""
ACHROMATIC_CHROMA_CYAN = (6.0, 0.06)
"""The same in the cyan sector: greys are tinted warm far more than cool (a light's colour, a warm grey paint),
and a dim cyan render (Ravens' cyan under a weak light: chroma 10-13 at L 37-55) is barely more colourful."""
WHITE_LIGHTNESS = 55.0
"""Achromatic pixels at least this light are white, darker ones gray (down to :data:`BLACK_LIGHTNESS`)."""
BLACK_LIGHTNESS = 25.0
"""Achromatic pixels darker than this are black."""
RED_SATURATION = (0.95, 0.75)
"""Chroma/lightness at and above which a pixel of the pink-red (344-18 deg) and red (18-48 deg) sectors is
red; paler ones are pink, or brown in the red sector when dark (L < :data:`PINK_LIGHTNESS`) or warm
(hue at least :data:`BROWN_HUE`)."""
MAUVE = (352.0, 0.8)
"""Greyish pixels (chroma/lightness below the second number) of the pink-red sector's first degrees (below
the first number) are purple (mauve, Ravens' purple), not pink."""
MAGENTA = (324.0, 352.0, 0.9, 30.0)
"""Magenta: hue from the first to the second angle (between purple and pink/red), chroma/lightness at least
the third number and chroma at least the fourth. Purple's own hue is below it (groundsight's purple 316 deg),
Ravens' greyish mauve purple is paler (chroma/lightness about 0.5), pink is paler too (0.8 at most)."""
PINK_LIGHTNESS = 45.0
BROWN_HUE = 35.0
ORANGE_CHROMA = 43.0
"""Chroma at and above which a pixel of the orange sector is orange; below it is brown (or beige)."""
YELLOW_CHROMA = (25.0, 0.5)
"""Chroma and chroma/lightness at and above which a pixel of the yellow sector is yellow; below either it is
brown (olive) or beige (khaki, tan, wheat: chroma/lightness about 0.25-0.37; Ravens' yellow about 0.8)."""
BEIGE_LIGHTNESS = 60.0
"""A pixel that would be brown (a warm, low-chroma pixel) is beige (tan, khaki, wheat) when at least this light."""
REGION_SCALE = 8.0
"""Distance (CIELAB units) from a region's border at which a pixel's name is fully confident."""

LIT_LIGHTNESS = {"black": 30.0, "white": 80.0, "beige": 66.0}
"""Object-level names of the pairs that differ only in brightness (:meth:`ColorClassifier.refine`), from the
lightness of an object's lit face (the 90th percentile of its pixels' L): an achromatic object is black below
the first number, white from the second up, gray between; a warm, low-chroma one (brown or beige) is beige
from the third up. Measured on 150 foreign scenes (their lit faces: gray L 58-79, white 77-100, 10-90 %)."""
LIT_PERCENTILE = 90.0

TABLE_RGB: tuple[float, float, float] = (76.0, 71.0, 66.0)
"""How the simulator's table top reads (median RGB) under the light the classifier is calibrated for; the
reference surface of :func:`white_balance`. Recalibrate for another table."""

_LUT_BITS = 6

_SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])


def rgb_to_lch(rgb: np.ndarray) -> np.ndarray:
    """CIELAB lightness, chroma and hue angle (degrees, 0..360) of N RGB pixels (0..255, read as sRGB, D65): Nx3."""
    c = np.clip(np.asarray(rgb, dtype=np.float64).reshape(-1, 3) / 255.0, 0.0, 1.0)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = (linear @ _SRGB_TO_XYZ.T) / _WHITE_D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lightness = 116 * f[:, 1] - 16
    a, b = 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])
    return np.column_stack([lightness, np.hypot(a, b), np.degrees(np.arctan2(b, a)) % 360.0])


def _sector_index(hue: np.ndarray) -> np.ndarray:
    """Index into :data:`HUE_SECTORS` of every hue angle."""
    out = np.zeros(len(hue), dtype=np.int64)
    for k, (start, end, _) in enumerate(HUE_SECTORS):
        inside = (hue >= start) & (hue < end) if start < end else (hue >= start) | (hue < end)
        out[inside] = k
    return out


def _hue_margin(hue: np.ndarray, chroma: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """Distance (CIELAB units, along the chroma circle) from each pixel's hue to its sector's nearer border."""
    starts = np.array([s for s, _, _ in HUE_SECTORS])[sector]
    ends = np.array([e for _, e, _ in HUE_SECTORS])[sector]
    to_start, to_end = (hue - starts) % 360.0, (ends - hue) % 360.0
    return chroma * np.radians(np.minimum(to_start, to_end))


class _Naming:
    """Labels and border distances of N LCh pixels while :func:`name_by_region` fills them in."""

    def __init__(self, lch: np.ndarray) -> None:
        self.lightness, self.chroma, self.hue = np.asarray(lch, dtype=np.float64).reshape(-1, 3).T
        self.labels = np.full(len(self.hue), UNKNOWN, dtype=np.uint8)
        self.sector = _sector_index(self.hue)
        cyan = self.sector == [n for _, _, n in HUE_SECTORS].index("cyan")
        a, b = (
            np.where(cyan, ACHROMATIC_CHROMA_CYAN[0], ACHROMATIC_CHROMA[0]),
            np.where(cyan, ACHROMATIC_CHROMA_CYAN[1], ACHROMATIC_CHROMA[1]),
        )
        limit = a + b * self.lightness
        self.chromatic = self.chroma >= limit
        self.margin = np.abs(self.chroma - limit)
        hue_margin = _hue_margin(self.hue, self.chroma, self.sector)
        self.margin[self.chromatic] = np.minimum(self.margin, hue_margin)[self.chromatic]
        self.ratio = self.chroma / np.maximum(self.lightness, 1.0)

    def sector_mask(self, sector_name: str) -> np.ndarray:
        """Chromatic pixels of the named hue sector."""
        names = [n for _, _, n in HUE_SECTORS]
        return self.chromatic & (self.sector == names.index(sector_name))

    def assign(self, where: np.ndarray, name: str, border: np.ndarray) -> None:
        """Name the pixels ``where``; ``border``: their (signed) distance to the region's border."""
        self.labels[where] = COLOR_NAMES.index(name)
        self.margin[where] = np.minimum(self.margin[where], np.abs(border[where]))


def _name_reds(n: _Naming) -> None:
    """The pink-red (344-18 deg) and red (18-48 deg) sectors: red, pink, mauve purple, brown, beige."""
    lightness, chroma, hue, ratio = n.lightness, n.chroma, n.hue, n.ratio
    pinkred, red = n.sector_mask("red|pink|magenta"), n.sector_mask("red|pink|brown|beige")
    n.assign(pinkred & (ratio >= RED_SATURATION[0]), "red", (ratio - RED_SATURATION[0]) * lightness)
    pinkred_pale = pinkred & (ratio < RED_SATURATION[0])
    n.assign(pinkred_pale, "pink", (ratio - RED_SATURATION[0]) * lightness)
    greyish = pinkred_pale & (hue >= HUE_SECTORS[0][0]) & (hue < MAUVE[0]) & (ratio < MAUVE[1])
    n.assign(greyish, "purple", np.minimum(chroma * np.radians(MAUVE[0] - hue), (MAUVE[1] - ratio) * lightness))
    saturated = (ratio - RED_SATURATION[1]) * lightness
    n.assign(red & (saturated >= 0), "red", saturated)
    pale = red & (saturated < 0)
    pink_border = np.minimum(lightness - PINK_LIGHTNESS, chroma * np.radians(BROWN_HUE - hue))
    pink = pink_border >= 0
    n.assign(pale & pink, "pink", np.minimum(-saturated, pink_border))
    _name_browns(n, pale & ~pink, np.minimum(-saturated, -pink_border))


def _name_browns(n: _Naming, where: np.ndarray, border: np.ndarray) -> None:
    """Warm, low-chroma pixels: brown, or beige when light (:data:`BEIGE_LIGHTNESS`)."""
    light = n.lightness - BEIGE_LIGHTNESS
    n.assign(where & (light >= 0), "beige", np.minimum(border, light))
    n.assign(where & (light < 0), "brown", np.minimum(border, -light))


def _name_warm(n: _Naming) -> None:
    """The orange and yellow sectors: orange or yellow when saturated enough, else brown or beige."""
    for sector_name, name, (chroma_min, ratio_min) in (
        ("orange|brown|beige", "orange", (ORANGE_CHROMA, 0.0)),
        ("yellow|brown|beige", "yellow", YELLOW_CHROMA),
    ):
        here = n.sector_mask(sector_name)
        border = np.minimum(n.chroma - chroma_min, (n.ratio - ratio_min) * n.lightness)
        n.assign(here & (border >= 0), name, border)
        _name_browns(n, here & (border < 0), border)


def _name_magenta(n: _Naming) -> None:
    """Saturated pixels between purple and pink/red (:data:`MAGENTA`) are magenta."""
    start, end, ratio_min, chroma_min = MAGENTA
    hue, ratio = n.hue, n.ratio
    here = n.chromatic & (hue >= start) & (hue < end) & (ratio >= ratio_min) & (n.chroma >= chroma_min)
    border = np.minimum.reduce(
        [
            n.chroma * np.radians(np.minimum(hue - start, end - hue)),
            (ratio - ratio_min) * n.lightness,
            n.chroma - chroma_min,
        ]
    )
    n.assign(here, "magenta", border)


def _name_achromatic(n: _Naming) -> None:
    """Achromatic pixels: white, gray or black by lightness."""
    lightness, grey = n.lightness, ~n.chromatic
    n.assign(grey & (lightness >= WHITE_LIGHTNESS), "white", lightness - WHITE_LIGHTNESS)
    middle = grey & (lightness < WHITE_LIGHTNESS) & (lightness >= BLACK_LIGHTNESS)
    n.assign(middle, "gray", np.minimum(WHITE_LIGHTNESS - lightness, lightness - BLACK_LIGHTNESS))
    n.assign(grey & (lightness < BLACK_LIGHTNESS), "black", BLACK_LIGHTNESS - lightness)


def name_by_region(lch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colour label (index into :data:`COLOR_NAMES`, or :data:`UNKNOWN`) of N LCh pixels by the LCh regions,
    and each pixel's distance (CIELAB units) to its region's border (0 for unknown ones)."""
    n = _Naming(lch)
    _name_reds(n)
    _name_warm(n)
    for sector_name, name in (("green", "green"), ("cyan", "cyan"), ("blue", "blue"), ("purple|magenta", "purple")):
        n.assign(n.sector_mask(sector_name), name, n.margin)
    _name_magenta(n)
    _name_achromatic(n)
    n.margin[n.labels == UNKNOWN] = 0.0
    return n.labels, n.margin


def _read_lut(path: Path) -> np.ndarray | None:
    """A cached lookup table, or None when it is missing or not a table of labels."""
    try:
        lut = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if lut.shape != (1 << (3 * _LUT_BITS),) or lut.dtype != np.uint8:
        return None
    if not np.all((lut < len(COLOR_NAMES)) | (lut == UNKNOWN)):
        return None
    return lut


class ColorClassifier:
    """Colour naming by LCh regions, with the reference albedos (bounded shading factor) taking precedence
    for pixels that are a shade of one of them.

    Args:
        gain: camera exposure, see :data:`GAIN`.
        shading: accepted ``(min, max)`` shading factor.
        max_residual: kept for callers that read it; residuals above it no longer make a pixel unknown
            (the regions name it).
        tight_residual: residual up to which a pixel keeps its nearest reference's name (:data:`TIGHT_RESIDUAL`).
    """

    def __init__(
        self,
        gain: float = GAIN,
        shading: tuple[float, float] = (SHADING_MIN, SHADING_MAX),
        max_residual: float = MAX_RESIDUAL,
        tight_residual: float = TIGHT_RESIDUAL,
    ) -> None:
        self.gain = gain
        self.shading = shading
        self.max_residual = max_residual
        self.tight_residual = tight_residual
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
        """Label (uint8 index into :data:`COLOR_NAMES`, or :data:`UNKNOWN`) of each of N RGB pixels.

        The LCh region's name (:func:`name_by_region`), unless the pixel is a shade of a reference albedo
        (residual at most ``tight_residual``): then that reference's.
        """
        labels, _ = name_by_region(rgb_to_lch(rgb))
        r = self.residuals(rgb)
        nearest = np.argmin(r, axis=1)
        tight = r[np.arange(len(r)), nearest] <= self.tight_residual
        labels[tight] = nearest[tight]
        return labels

    def refine(self, label: int, rgb: np.ndarray, calibrated: bool = False) -> int:
        """The name of a whole object whose pixels were named ``label``, where two names differ only in brightness.

        White, gray and black differ in lightness only, and so do beige and brown: an unknown exposure makes a
        lit gray face as light as a shaded white one. An object's lit face (the :data:`LIT_PERCENTILE` of its
        pixels' lightness) decides between them (:data:`LIT_LIGHTNESS`). Under the calibrated light (``calibrated``:
        the frame's reference surface read as calibrated or was balanced to it) the exposure is known, and an
        object that is mostly a shade of its label's reference albedo keeps ``label`` (the simulator renders a
        white plate or tray as dim as L 79). Without that evidence a shade proves nothing: every neutral grey is a
        shade of white.

        Args:
            label: the object's label (index into :data:`COLOR_NAMES`), from its pixels.
            rgb: Nx3 sample of the object's pixels (0..255).
            calibrated: the frame's exposure is the calibrated one (see above).
        """
        name = COLOR_NAMES[label] if label < len(COLOR_NAMES) else None
        sample = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
        if name not in ("white", "gray", "black", "brown", "beige") or len(sample) == 0:
            return label
        if calibrated and np.mean(self.residuals(sample)[:, label] <= self.tight_residual) >= 0.5:
            return label
        lit = float(np.percentile(rgb_to_lch(sample)[:, 0], LIT_PERCENTILE))
        if name in ("brown", "beige"):
            return COLOR_NAMES.index("beige" if lit >= LIT_LIGHTNESS["beige"] else "brown")
        if lit < LIT_LIGHTNESS["black"]:
            return COLOR_NAMES.index("black")
        return COLOR_NAMES.index("white" if lit >= LIT_LIGHTNESS["white"] else "gray")

    @property
    def lut(self) -> np.ndarray:
        """Lookup table: label of every RGB colour quantised to 6 bits a channel (flat, 2**18 entries).

        Built once per classifier; the default classifier's table is also kept in :mod:`groundsight.cache`
        (named by a hash of this module's source and the classifier's settings), so a new process skips the
        half second of building it.
        """
        if self._lut is None:
            stored = self._lut_path()
            self._lut = _read_lut(stored) if stored is not None else None
            if self._lut is None:
                self._lut = self._build_lut()
                if stored is not None:
                    lut = self._lut
                    write_atomically(stored, lambda out: np.save(out, lut, allow_pickle=False))
        return self._lut

    def _build_lut(self) -> np.ndarray:
        q = np.arange(1 << _LUT_BITS, dtype=np.float64) * (1 << (8 - _LUT_BITS)) + (1 << (7 - _LUT_BITS))
        grid = np.stack(np.meshgrid(q, q, q, indexing="ij"), axis=-1).reshape(-1, 3)
        return np.concatenate([self.classify_pixels(chunk) for chunk in np.array_split(grid, 16)]).astype(np.uint8)

    def _lut_path(self) -> Path | None:
        """Where this classifier's table is cached; None for a subclass (it may name pixels its own way)."""
        folder = cache_dir()
        if folder is None or type(self) is not ColorClassifier:
            return None
        settings = repr((self.gain, self.shading, self.max_residual, self.tight_residual, np.__version__))
        digest = hashlib.sha256(Path(__file__).read_bytes() + settings.encode()).hexdigest()[:32]
        return folder / f"colour-lut-{digest}.npy"

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

        Pixels that are mostly shades of reference albedos: the median margin between the best and
        second-best residual, mapped to [0, 1]. Others: the median distance to their LCh region's border
        over :data:`REGION_SCALE`.
        """
        r = np.sort(self.residuals(rgb), axis=1)
        if np.mean(r[:, 0] <= self.tight_residual) >= 0.5:
            margin = float(np.median(r[:, 1] - r[:, 0]))
            return float(np.clip(margin / 0.25, 0.0, 1.0))
        _, distance = name_by_region(rgb_to_lch(rgb))
        return float(np.clip(np.median(distance) / REGION_SCALE, 0.0, 1.0))


@lru_cache(maxsize=4)
def default_classifier() -> ColorClassifier:
    """The shared classifier with default calibration (its lookup table is built on first use)."""
    return ColorClassifier()


def classify_color(rgb: tuple[float, float, float] | np.ndarray) -> str | None:
    """Colour name of one RGB value (0..255) under the default calibration, or None if unknown."""
    return default_classifier().classify(rgb)


BALANCE_LIMITS = (0.75, 1.33)
"""Per-channel gains a white balance may divide out; a reference that reads further off is another surface
(another table), not the calibrated one under another light, and the balance is refused."""
BALANCE_SPREAD = 0.12
"""The reference surface is uniform when at least :data:`BALANCE_SHARE` of its pixels lie within this
fraction of its median brightness and chromaticity (a checkered floor, a table seen beside the floor, a
shadowed half are not)."""
BALANCE_SHARE = 0.8


def balance_gain(
    reference_pixels: np.ndarray,
    reference: tuple[float, float, float] = TABLE_RGB,
    tolerance: float = 0.02,
    limits: tuple[float, float] = BALANCE_LIMITS,
) -> tuple[np.ndarray | None, str]:
    """The per-channel gain that makes ``reference_pixels`` read ``reference``, or None and why it is refused.

    Trustworthy evidence only: the pixels must be many and uniform (:data:`BALANCE_SPREAD`, :data:`BALANCE_SHARE`)
    and the gain within ``limits``. A gain within ``1 +- tolerance`` is no change (None, ``"not needed"``).
    """
    pixels = np.asarray(reference_pixels, dtype=np.float64).reshape(-1, 3)
    if len(pixels) == 0:
        return None, "no reference pixels"
    seen = np.median(pixels, axis=0)
    brightness = pixels.sum(axis=1)
    level = max(float(seen.sum()), 1.0)
    chroma = pixels / np.maximum(brightness, 1.0)[:, None] - seen / level
    close = (np.abs(brightness / level - 1.0) <= BALANCE_SPREAD) & (np.abs(chroma).max(axis=1) <= BALANCE_SPREAD / 3)
    if np.mean(close) < BALANCE_SHARE:
        return None, f"reference not uniform ({100 * np.mean(close):.0f}% of its pixels near its median)"
    gain = seen / np.asarray(reference, dtype=np.float64)
    if np.any(gain < limits[0]) or np.any(gain > limits[1]):
        return None, f"gain {np.round(gain, 2).tolist()} outside {list(limits)}: another surface, not another light"
    if np.all(np.abs(gain - 1.0) <= tolerance):
        return None, "not needed"
    return gain, "applied"


def white_balance(
    rgb: np.ndarray,
    reference_pixels: np.ndarray,
    reference: tuple[float, float, float] = TABLE_RGB,
    tolerance: float = 0.02,
    limits: tuple[float, float] = BALANCE_LIMITS,
) -> tuple[np.ndarray, np.ndarray]:
    """Rescale ``rgb`` per channel so that a reference surface reads as it does under the calibration light.

    Args:
        rgb: HxWx3 uint8 image.
        reference_pixels: Nx3 pixels of the reference surface (e.g. the table top) in ``rgb``.
        reference: how that surface reads under the calibration light.
        tolerance: gains within ``1 +- tolerance`` count as no change (the image is returned as is).
        limits: the gains allowed; see :func:`balance_gain`, which also refuses a surface that is not uniform.

    Returns:
        The balanced image (``rgb`` itself when nothing changed or the balance was refused) and the
        per-channel gain that was divided out (ones when none).
    """
    gain, _ = balance_gain(reference_pixels, reference, tolerance, limits)
    if gain is None:
        return rgb, np.ones(3)
    balanced = np.clip(np.asarray(rgb, dtype=np.float32) / gain.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
    return balanced, gain
