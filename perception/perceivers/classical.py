"""Classical RGB-D perception with OpenCV: depth foreground, colour split, shape models.

Pipeline for one frame:

1. **Foreground by height.** Every pixel's depth is back-projected to a world height; pixels more than
   ``min_height`` above the table plane (``table_z``) and below ``max_height`` are foreground. The table
   itself never is, whatever its colour.
2. **Colour split.** Foreground pixels are labelled with the nearest reference colour
   (:mod:`groundsight.perception.colors`); each colour's mask is closed and split into connected components; those
   smaller than ``min_pixels`` are dropped. A block in a bowl or on a plate is therefore its own component
   and leaves a hole in the container's.
3. **Geometry.** Each component's pixels are back-projected to world points. The footprint is
   ``cv2.minAreaRect`` of the points' x, y (centre, length, width, yaw), the top a high percentile of z,
   the fill ratio (convex hull area / rectangle area) tells round from rectangular, and the depth of the
   footprint's centre below the top tells hollow (bowl, tray, mug) from flat (block, plate, cylinder).
   A round footprint is also fitted with a circle; what sticks out of it is a mug's handle, part of the
   same component (never an object of its own). A small round one is fitted with a sphere (its size and
   residual tell a ball, from any viewpoint); the profile of its top (a dome, or flat) and how much of
   the footprint lies at the top tell a ball from a cylinder; a footprint whose middle is unseen and
   mostly empty is a cup seen from the side.
4. **Type and size.** Each (type, size) of the :data:`CATALOGUE` scores how well it explains those
   measures; the best wins and its score sets the confidence. Components no model explains (an arm, a
   hand, clutter) are dropped.
5. **Support.** An object rests on the table unless its top is clearly higher than its model's height:
   then its bottom is ``top - height`` (a block in a bowl, on a plate, on another block). A block that
   carries another block is mostly hidden; its footprint is completed with the part under the block on
   top.
6. **Several cameras** are fused by 3D proximity of same-coloured detections.

Colours are white-balanced against the table first (a brighter, dimmer or tinted light). Objects are
named ``<color>_<type>``, numbered left to right (from the robot) when a name repeats. Round objects
(bowl, plate, ball, cylinder, mug) are reported with yaw 0 and the axis-aligned box of what was seen (a
mug's box includes its handle; a ball's is the fitted sphere's).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from groundsight.perception.colors import (
    COLOR_NAMES,
    TABLE_RGB,
    UNKNOWN,
    ColorClassifier,
    balance_gain,
    default_classifier,
)
from groundsight.perception.frame import Frame
from groundsight.perception.objects import Evidence, Percept, SceneObject
from groundsight.perception.perceivers.base import PerceptionError, assign_ids, frames_time
from groundsight.perception.perceivers.boxes import fuse
from groundsight.perception.support import Plane, fit_plane

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShapeModel:
    """What the classical perceiver knows about one object type.

    Attributes:
        type: the type word.
        round: footprint is a circle (else a rectangle).
        hollow_depth: how far below the top the middle of the footprint lies (0 for a flat top).
        sizes: size word -> nominal (length, width, height) in metres; length >= width; a round
            footprint's length and width are its diameter (without a handle).
        hollow_min: if set, the type is deep and narrow (a mug): the middle of the footprint lies *at
            least* this far below the top (how far depends on the view), instead of ``hollow_depth``.
        domed: the top is a dome (a ball): the middle of the footprint is higher than the ring around it.
        handle: how far a handle sticks out of a round footprint (0: no handle).
        stacks: objects of this type may rest on other objects (in a bowl, on a plate or a block); the
            others (bowl, plate, tray) stand on the table.
    """

    type: str
    round: bool
    hollow_depth: float
    sizes: dict[str, tuple[float, float, float]]
    hollow_min: float | None = None
    domed: bool = False
    handle: float = 0.0
    stacks: bool = False


SIZE_NAMES: tuple[str, ...] = ("small", "medium", "large")


def _sizes(*dims: tuple[float, float, float]) -> dict[str, tuple[float, float, float]]:
    return dict(zip(SIZE_NAMES, dims, strict=True))


CATALOGUE: tuple[ShapeModel, ...] = (
    ShapeModel("block", False, 0.0, _sizes((0.04, 0.04, 0.04), (0.05, 0.05, 0.05), (0.06, 0.06, 0.06)), stacks=True),
    ShapeModel("bowl", True, 0.044, _sizes((0.13, 0.13, 0.05), (0.16, 0.16, 0.05), (0.19, 0.19, 0.05))),
    ShapeModel("plate", True, 0.0, _sizes((0.16, 0.16, 0.015), (0.20, 0.20, 0.015), (0.24, 0.24, 0.015))),
    ShapeModel("tray", False, 0.022, _sizes((0.20, 0.15, 0.03), (0.26, 0.19, 0.03), (0.30, 0.22, 0.03))),
    ShapeModel(
        "ball",
        True,
        0.0,
        _sizes((0.04, 0.04, 0.04), (0.05, 0.05, 0.05), (0.06, 0.06, 0.06)),
        domed=True,
        stacks=True,
    ),
    ShapeModel("cylinder", True, 0.0, _sizes((0.04, 0.04, 0.06), (0.05, 0.05, 0.075), (0.06, 0.06, 0.09)), stacks=True),
    ShapeModel(
        "mug",
        True,
        0.0,
        _sizes((0.055, 0.055, 0.07), (0.062, 0.062, 0.08), (0.068, 0.068, 0.09)),
        hollow_min=0.03,
        handle=0.012,
        stacks=True,
    ),
)
"""The object models the classical perceiver recognises (dimensions of the tabletop object catalogue)."""

_FILL_ROUND = 0.79  # hull area / min-area rectangle area of a circle (pi / 4) or a 16-gon
_FILL_RECT = 0.97
_ROUNDISH = 0.88  # below this fill a footprint is measured as a circle (centre, radius, handle)
_DOME = 0.22  # a ball's dome (see _Blob.dome) in units of its radius, for points seen from above
_FLAT_BAND = 0.004  # points this close to the top count as "at the top" for _Blob.flat
_FLAT_CELL = 0.0025  # grid cell (metres) on which _Blob.flat measures areas in the table plane


def _cap_share(radius: float) -> float:
    """Share of a sphere's footprint within _FLAT_BAND of its top (the area of the cap over the disc's)."""
    return (2 * radius * _FLAT_BAND - _FLAT_BAND**2) / radius**2


def _occupancy(xy: np.ndarray, mask: np.ndarray) -> tuple[int, int]:
    """Grid cells (of _FLAT_CELL) that all points fall in, and those that the points in ``mask`` fall in."""
    ij = np.floor(xy / _FLAT_CELL).astype(np.int64)
    ij -= ij.min(axis=0)
    grid = np.zeros(tuple(ij.max(axis=0) + 1), dtype=bool)
    grid[ij[:, 0], ij[:, 1]] = True
    occupied = int(np.count_nonzero(grid))
    grid[:] = False
    grid[ij[mask, 0], ij[mask, 1]] = True
    return occupied, int(np.count_nonzero(grid))


_MODELS = {m.type: m for m in CATALOGUE}
_SUPPORTS = ("block", "cylinder")  # the stackable types a block can stand on
_BALL_MAX = max(m.sizes[s][0] for m in CATALOGUE if m.domed for s in m.sizes) / 2 + 0.015
_HOLLOW_COVER = 0.6  # a footprint covered less than this, with its middle unseen, is a cup seen from the side


def _by_cost(row: tuple) -> tuple:
    """Sort key of a scored (cost, dims, type, size) row: cost, then type and size (deterministic ties)."""
    return (row[0], row[2], row[3])


def _fit_circle(xy: np.ndarray, keep: float = 0.003, iterations: int = 4) -> tuple[np.ndarray, float]:
    """Least-squares circle (centre, radius) through 2D points, refitted on the points close to it.

    The refits leave out what sticks out of the circle (a mug's handle, a neighbour's corner).
    """
    mean = xy.mean(axis=0)
    pts = xy - mean
    use = np.ones(len(pts), dtype=bool)
    centre, radius = np.zeros(2), 0.0
    for _ in range(iterations):
        a = np.column_stack([pts[use], np.ones(int(use.sum()))])
        b = (pts[use] ** 2).sum(axis=1)
        sol = np.linalg.lstsq(a, b, rcond=None)[0]
        centre = sol[:2] / 2
        radius = math.sqrt(max(float(sol[2] + centre @ centre), 0.0))
        residual = np.abs(np.hypot(*(pts - centre).T) - radius)
        new = residual < max(keep, 2.5 * float(np.median(residual)))
        if np.count_nonzero(new) < 6 or np.array_equal(new, use):
            break
        use = new
    return centre + mean, radius


def _fit_sphere(
    points: np.ndarray, radius: float, start: np.ndarray, iterations: int = 12
) -> tuple[np.ndarray, float, float] | None:
    """Sphere (centre, radius, rms residual) through 3D ``points``, by Gauss-Newton from ``start`` and ``radius``.

    The radius is fitted too: a rendered sphere is a mesh a little inside the true one, and holding the
    radius fixed would pull the centre down. None if the fit ends far from the start (too few points, or
    not a sphere at all).
    """
    x = np.array([*np.asarray(start, dtype=np.float64), radius])
    use = np.ones(len(points), dtype=bool)
    for i in range(iterations):
        v = points[use] - x[:3]
        dist = np.maximum(np.linalg.norm(v, axis=1), 1e-9)
        jac = np.column_stack([-v / dist[:, None], -np.ones(len(v))])
        step = np.linalg.lstsq(jac, -(dist - x[3]), rcond=None)[0]
        x += step
        if i == 3:  # drop stray points (an occluding edge, a neighbour's pixel) once the fit is close
            residual = np.abs(np.linalg.norm(points - x[:3], axis=1) - x[3])
            keep = residual < max(0.003, 3 * float(np.median(residual)))
            if np.count_nonzero(keep) >= 10:
                use = keep
        if float(np.linalg.norm(step)) < 1e-7:
            break
    if not (0.6 * radius < x[3] < 1.5 * radius) or np.linalg.norm(x[:3] - start) > 0.5 * radius + 0.005:
        return None
    rms = float(np.sqrt(np.mean((np.linalg.norm(points[use] - x[:3], axis=1) - x[3]) ** 2)))
    return x[:3], float(x[3]), rms


@dataclass(frozen=True)
class ClassicalConfig:
    """Tuning of :class:`ClassicalPerceiver` (metres and pixels).

    Detections below ``min_confidence`` are dropped. A detection whose bottom is more than
    ``lifted_height`` above the table and that no grounded detection supports is *floating* (held by the
    gripper, or not an object at all: a part of the arm); it is kept only with at least
    ``floating_min_confidence``. A component that reaches up to ``max_height`` is part of something taller
    than any object (the arm) and is dropped. A detection below ``fragment_confidence`` that lies on a
    larger, surer detection's surface (a highlight or shadow named another colour) is dropped. A blob on (or
    within ``merge_reach`` of) a larger one whose union the models explain within ``merge_slack`` of the
    larger alone is merged into it, unless the larger is a container or a plate and the smaller explained
    on its own (cost at most ``content_cost``): then it is the content.

    ``workspace`` (the calibration file's polygon, world x, y): a detection whose footprint centre lies
    outside it is not an object. ``keep_out`` (world boxes ``((x0, y0, z0), (x1, y1, z1))``, e.g. the robot's
    base and reach from the calibration) and a frame's ``robot_mask`` (the robot's links where they are,
    from a simulator or a robot interface) are never foreground; neither is a surface that continues without
    a jump in depth of ``tall_jump`` or more up beyond ``max_height`` (an unmasked robot's base and lower
    links; 0 turns this off).

    The support plane: with ``fit_plane`` each frame's table plane is fitted to its depth (RANSAC,
    :func:`~groundsight.perception.support.fit_plane`) near the prior ``plane`` (``(a, b, c, d)`` of
    ``a x + b y + c z + d = 0``, the calibration's; default the level plane at ``table_z``), and the frame is
    levelled onto it, so that heights are measured above the table actually seen; a fitted plane within
    ``plane_snap`` (metres, and 0.3 degrees) of the level plane at ``table_z`` is taken as that plane. The
    percept records per camera what was used (``ClassicalPercept.support``).

    With ``lift_rgb`` (set by a calibration: the pose must be known), a frame without depth is segmented in
    colour and each object lifted onto the prior plane
    (:func:`~groundsight.perception.perceivers.rgb_lift.detect_rgb`), at a lower confidence; without it such
    a frame "needs depth".

    Catalogue sizes are priors, not gates: a model may be scaled by ``size_range`` (footprint; height only
    down) to fit a blob, at a cost of ``|ln scale| / size_prior`` for the footprint and ``/ height_prior`` for
    the height (``size_prior`` 0 turns scaling off). The size word is then the nearest catalogue size's.

    With ``white_balance``, each frame's colours are first rescaled per channel so that the table (pixels
    at ``table_z``; at least ``min_table_pixels`` of them) reads ``table_rgb``, as under the light the
    colour classifier is calibrated for; only when that evidence is trustworthy (a uniform surface, a gain
    within :data:`~groundsight.perception.colors.BALANCE_LIMITS`: see
    :func:`~groundsight.perception.colors.balance_gain`). The percept records per camera whether it was applied.
    """

    table_z: float = 0.0
    min_height: float = 0.003
    max_height: float = 0.30
    min_pixels: int = 25
    close_kernel: int = 3
    top_percentile: float = 97.0
    elevation_tolerance: float = 0.003
    reject_cost: float = 14.0
    fuse_distance: float = 0.03
    min_confidence: float = 0.15
    lifted_height: float = 0.025
    floating_min_confidence: float = 0.6
    fragment_confidence: float = 0.3
    white_balance: bool = True
    table_rgb: tuple[float, float, float] = TABLE_RGB
    min_table_pixels: int = 2000
    workspace: tuple[tuple[float, float], ...] | None = None
    merge_slack: float = 0.5
    merge_reach: float = 0.02
    content_cost: float = 7.0
    size_prior: float = 0.1
    height_prior: float = 0.25
    size_range: tuple[float, float] = (0.6, 1.6)
    fit_plane: bool = True
    plane: tuple[float, float, float, float] | None = None
    plane_snap: float = 0.0015
    keep_out: tuple[tuple[tuple[float, float, float], tuple[float, float, float]], ...] = ()
    lift_rgb: bool = False
    tall_jump: float = 0.03


@dataclass
class _Blob:
    """One connected component of one colour in one frame, with its measures."""

    camera: str
    label: int
    pixels: int
    box: tuple[int, int, int, int]
    points: np.ndarray  # Nx3 world points
    edge_xy: np.ndarray  # Mx2 world x, y of the outline pixels (the footprint's hull comes from these)
    rgb_sample: np.ndarray  # up to 256 RGB pixels
    top: float = 0.0
    rect: tuple = ()
    length: float = 0.0
    width: float = 0.0
    yaw: float = 0.0
    fill: float = 1.0
    hollow: float | None = None
    centre: tuple[float, float] = (0.0, 0.0)  # footprint centre: the circle's for a round one, else the rect's
    radius: float = 0.0  # radius of the circle fitted to a round footprint (without a handle)
    core_fill: float = 1.0  # fill ratio of the footprint without what sticks out of that circle
    handle: float = 0.0  # how far the footprint sticks out of that circle
    dome: float | None = None  # median z near the footprint's centre minus median z of the ring around it
    flat: float = 1.0  # share of the footprint (in the table plane) within _FLAT_BAND of the top
    cover: float = 1.0  # share of the footprint's area (circle or rectangle) that any point falls on
    sphere: tuple[np.ndarray, float, float] | None = None  # sphere fit (centre, radius, rms) of a small round blob
    clipped: bool = False  # reaches up to max_height: part of something taller (the arm), not an object
    split: bool = False  # a piece of a same-coloured component that _split_raised cut apart on purpose
    type: str = ""
    size: str = ""
    dims: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the model's (length, width, height), scaled if off-catalogue
    cost: float = math.inf
    margin: float = 0.0
    bottom: float = 0.0
    extra_xy: np.ndarray | None = field(default=None, repr=False)
    confidence: float = 0.0

    @property
    def color(self) -> str:
        return COLOR_NAMES[self.label]


def _over(blob: _Blob, below: _Blob, margin: float = 0.01) -> bool:
    """True if ``blob``'s footprint centre lies over ``below``'s footprint (grown by ``margin``)."""
    d = np.asarray(blob.rect[0], dtype=np.float64) - np.asarray(below.rect[0], dtype=np.float64)
    c, s = math.cos(below.yaw), math.sin(below.yaw)
    u, v = d[0] * c + d[1] * s, -d[0] * s + d[1] * c
    return abs(u) <= below.length / 2 + margin and abs(v) <= below.width / 2 + margin


def _inside(blob: _Blob, host: _Blob, margin: float) -> bool:
    """True if (almost) all of ``blob``'s points lie over ``host``'s footprint (grown by ``margin``)."""
    if host.fill < _ROUNDISH:  # a round host: its circle
        d = np.hypot(*(blob.points[:, :2] - np.asarray(host.centre)).T)
        return bool(np.mean(d <= host.radius + margin) >= 0.95)
    rel = blob.points[:, :2] - np.asarray(host.rect[0], dtype=np.float64)
    c, s = math.cos(host.yaw), math.sin(host.yaw)
    u, v = rel[:, 0] * c + rel[:, 1] * s, -rel[:, 0] * s + rel[:, 1] * c
    within = (np.abs(u) <= host.length / 2 + margin) & (np.abs(v) <= host.width / 2 + margin)
    return bool(np.mean(within) >= 0.95)


def _merge(parts: list[_Blob]) -> _Blob:
    """One blob from several components of one colour in one frame."""
    boxes = np.array([b.box for b in parts])
    return _Blob(
        camera=parts[0].camera,
        label=parts[0].label,
        pixels=sum(b.pixels for b in parts),
        box=(int(boxes[:, 0].min()), int(boxes[:, 1].min()), int(boxes[:, 2].max()), int(boxes[:, 3].max())),
        points=np.concatenate([b.points for b in parts]),
        edge_xy=np.concatenate([b.edge_xy for b in parts]),
        rgb_sample=np.concatenate([b.rgb_sample for b in parts]),
    )


class ClassicalPercept(Percept):
    """A classical percept: the objects, and per camera what became of the white balance (``"applied"`` with
    the gain, or why it was not: ``"not needed"``, ``"reference not uniform ..."``, ``"gain ... outside ..."``)."""

    white_balance: dict[str, str] = {}
    support: dict[str, str] = {}
    lifted: list[str] = []
    """Cameras whose frames had no depth: their objects were lifted onto the support plane from colour alone."""
    """Per camera, the support plane used: ``"fitted: ..."`` (from the depth) or ``"prior: <why>"``."""


class ClassicalPerceiver:
    """Colour/shape segmentation of RGB-D frames into typed, coloured 3D objects (OpenCV, CPU only).

    Needs depth and the camera pose (``Frame.T_world_cam``), and a table plane at ``config.table_z``.

    Args:
        config: tuning; defaults suit the tabletop world.
        colors: the colour classifier (default calibration if None).
    """

    name = "classical"

    def __init__(self, config: ClassicalConfig | None = None, colors: ColorClassifier | None = None) -> None:
        self.config = config or ClassicalConfig()
        self.colors = colors or default_classifier()
        self._kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (self.config.close_kernel, self.config.close_kernel))
        self._ray_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._balance_notes: dict[str, str] = {}
        self._support_notes: dict[str, str] = {}
        self._to_world: np.ndarray | None = None  # levelled frame -> world, while a frame is detected

    # ------------------------------------------------------------------ public

    def perceive(self, frames: Sequence[Frame]) -> Percept:
        """Detect the objects seen in ``frames`` (fused by 3D proximity when there are several)."""
        frames = list(frames)
        if not frames:
            raise PerceptionError("classical perceiver got no frames")
        usable = [f for f in frames if f.depth is not None]
        flat = [f for f in frames if f.depth is None and self.config.lift_rgb]
        if not usable and not flat:
            raise PerceptionError(
                f"classical perceiver needs depth; camera(s) {', '.join(f.camera for f in frames)} have none"
                " (with a calibration, RGB-only frames are lifted onto its support plane)"
            )
        for f in frames:
            if f.depth is None and not self.config.lift_rgb:
                log.warning("camera %r has no depth; skipped by the classical perceiver", f.camera)
        self._balance_notes, self._support_notes = {}, {}
        per_frame = [self.detect(f) for f in usable] + [self.detect_rgb(f) for f in flat]
        objects = per_frame[0] if len(per_frame) == 1 else fuse(per_frame, self.config.fuse_distance, vote_type=True)
        return ClassicalPercept(
            objects=assign_ids(objects),
            cameras=[f.camera for f in frames],
            perceiver=self.name,
            t=frames_time(frames),
            white_balance=dict(self._balance_notes),
            support=dict(self._support_notes),
            lifted=[f.camera for f in flat],
        )

    def detect(self, frame: Frame) -> list[SceneObject]:
        """Objects seen in one RGB-D frame (ids not yet assigned: ``<color>_<type>`` for all)."""
        excluded = self._excluded(frame)
        frame, self._to_world = self._levelled(frame, excluded)
        height = self._height(frame)
        frame = self._balanced(frame, height)
        if excluded is not None:
            height = np.where(excluded, np.float32(-1.0), height)
        blobs = self._segment(frame, height)
        for blob in blobs:
            self._measure(blob)
            self._classify(blob)
        blobs = self._merge_splits(blobs)
        calibrated = self._balance_notes.get(frame.camera, "").startswith(("applied", "not needed"))
        for blob in blobs:  # white, gray, black; brown, beige: by the lit face unless the light is the calibrated one
            blob.label = self.colors.refine(blob.label, blob.rgb_sample, calibrated)
        self._complete_supports(blobs)
        kept = []
        for blob in blobs:
            if blob.clipped:
                log.debug(
                    "dropped %s component of %d px in %s: cut off at max_height", blob.color, blob.pixels, blob.camera
                )
                continue
            if blob.cost > self.config.reject_cost:
                log.debug(
                    "dropped %s component of %d px in %s: no model fits (cost %.1f)",
                    blob.color,
                    blob.pixels,
                    blob.camera,
                    blob.cost,
                )
                continue
            blob.confidence = self._confidence(blob)
            if blob.confidence >= self.config.min_confidence:
                kept.append(blob)
        kept = self._drop_fragments(kept)
        grounded = self._grounded(kept)
        out = []
        for blob in kept:
            if not self._in_workspace(blob):
                log.debug("dropped %s %s in %s: outside the workspace", blob.color, blob.type, blob.camera)
                continue
            if id(blob) not in grounded and blob.confidence < self.config.floating_min_confidence:
                log.debug(
                    "dropped %s %s at %.2f m in %s: floating and unsure (confidence %.2f)",
                    blob.color,
                    blob.type,
                    blob.bottom,
                    blob.camera,
                    blob.confidence,
                )
                continue
            out.append(self._unlevelled(self._to_object(blob)))
        return out

    def detect_rgb(self, frame: Frame) -> list[SceneObject]:
        """Objects in one RGB-only frame, lifted onto the prior support plane (needs a calibrated pose)."""
        from groundsight.perception.perceivers.rgb_lift import detect_rgb

        cfg = self.config
        plane = Plane.from_coefficients(cfg.plane) if cfg.plane is not None else Plane.horizontal(cfg.table_z)
        self._support_notes[frame.camera] = f"prior: no depth; objects lifted onto {plane.describe()}"
        self._balance_notes[frame.camera] = "off (no depth to find the table by)"
        return detect_rgb(self, frame, plane)

    def _excluded(self, frame: Frame) -> np.ndarray | None:
        """Pixels that are never an object: the frame's ``robot_mask`` and what lies in a ``keep_out`` box."""
        mask = None if frame.robot_mask is None else frame.robot_mask.astype(bool)
        if not self.config.keep_out or frame.depth is None:
            return mask
        world = frame.points_world().reshape(*frame.depth.shape, 3)
        inside = np.zeros(frame.depth.shape, dtype=bool)
        for lo, hi in self.config.keep_out:
            inside |= np.all((world >= np.asarray(lo)) & (world <= np.asarray(hi)), axis=2)
        return inside if mask is None else mask | inside

    def _levelled(self, frame: Frame, excluded: np.ndarray | None) -> tuple[Frame, np.ndarray | None]:
        """``frame`` re-posed so that its support plane is level at ``table_z``, and the transform back to the
        world (None when the plane is the level one at ``table_z`` already)."""
        cfg = self.config
        prior = Plane.from_coefficients(cfg.plane) if cfg.plane is not None else Plane.horizontal(cfg.table_z)
        if not cfg.fit_plane or frame.depth is None:
            plane, note = prior, "prior: fitting off" if frame.depth is not None else "prior: no depth"
        else:
            step = 6
            keep = np.zeros(frame.depth.shape, dtype=bool)
            keep[::step, ::step] = True
            keep &= np.isfinite(frame.depth) & (frame.depth > 0)
            if excluded is not None:
                keep &= ~excluded
            plane, note = fit_plane(frame.points_world(keep), prior)
        self._support_notes[frame.camera] = note
        level = Plane.horizontal(cfg.table_z)
        if plane.tilt_deg(level) < 0.3 and abs(plane.offset - level.offset) < cfg.plane_snap:
            return frame, None
        leveller = plane.leveller(cfg.table_z)
        return replace(frame, T_world_cam=leveller @ frame.T_world_cam), np.linalg.inv(leveller)

    def _unlevelled(self, obj: SceneObject) -> SceneObject:
        """``obj`` (measured in the levelled frame) in world coordinates."""
        if self._to_world is None:
            return obj
        position = self._to_world[:3, :3] @ np.asarray(obj.position) + self._to_world[:3, 3]
        turn = math.atan2(self._to_world[1, 0], self._to_world[0, 0])
        return obj.model_copy(update={"position": tuple(float(v) for v in position), "yaw": float(obj.yaw + turn)})

    def _in_workspace(self, blob: _Blob) -> bool:
        """True if ``blob``'s footprint centre lies in the configured workspace polygon (or there is none)."""
        polygon = self.config.workspace
        if polygon is None:
            return True
        contour = np.asarray(polygon, dtype=np.float32).reshape(-1, 1, 2)
        centre = (float(blob.centre[0]), float(blob.centre[1]))
        if self._to_world is not None:
            world = self._to_world @ np.array([centre[0], centre[1], self.config.table_z, 1.0])
            centre = (float(world[0]), float(world[1]))
        return cv2.pointPolygonTest(contour, centre, False) >= 0

    def _merge_splits(self, blobs: list[_Blob]) -> list[_Blob]:
        """Merge the parts of one object that a light split into two colour names (a gray ball's lit top read
        as white, a shaded orange side as brown, a bowl's lit rim around its shaded inside).

        A smaller blob is merged into a larger one it lies on (within ``merge_reach`` of its footprint: a ball's
        lit cap leaves its shaded flank outside; no higher than its top) when the union is explained at least as
        well as the larger part alone and better than the smaller; an object on another one stands higher, and
        one that a container or plate holds is smaller than it and explained on its own (``content_cost``):
        neither is merged. It is merged into a larger one that it rings or overlaps (both on the table, each
        within the other's footprint, or footprints of about one size whose centres lie within half a footprint:
        a bowl's back and front walls seen obliquely; the larger no higher: a bowl's rim seen from above around
        its inside, the two lit halves of a cylinder) unless the union fits worse than both parts: two objects
        cannot stand in one place, and what a bowl holds lies inside it, not around it.
        The union keeps the larger part's colour.
        """
        cfg = self.config
        order = sorted(blobs, key=lambda b: -b.pixels)
        out: list[_Blob] = []
        for blob in order:
            host, ring = self._split_host(blob, out)
            if host is not None:
                union = _merge([host, blob])
                self._measure(union)
                self._classify(union)
                holder = not _MODELS[host.type].stacks or _MODELS[host.type].hollow_min is not None
                smaller = blob.length < 0.8 * host.length  # what a bowl, plate or tray holds fits inside it
                content = holder and smaller and blob.cost <= cfg.content_cost and not ring
                if ring:  # two grounded parts in one place: one object, unless the union fits worse than both
                    better = union.cost <= max(host.cost, blob.cost) + cfg.merge_slack
                else:
                    better = union.cost <= host.cost + cfg.merge_slack and union.cost < blob.cost
                if better and not content and not union.clipped:
                    log.debug("merged %s part into %s %s in %s", blob.color, host.color, host.type, blob.camera)
                    out[out.index(host)] = union
                    continue
            out.append(blob)
        return out

    def _split_host(self, blob: _Blob, larger: list[_Blob]) -> tuple[_Blob | None, bool]:
        """The larger blob of another colour in ``blob``'s camera that ``blob`` may be a part of, and whether
        ``blob`` rings it (see :meth:`_merge_splits`); ``(None, False)`` if none."""
        cfg = self.config
        for big in larger:
            if big.camera != blob.camera or big.pixels < blob.pixels:
                continue
            if big.label == blob.label and (big.split or blob.split):
                continue  # same-coloured parts that _split_raised cut apart on purpose
            grounded = max(big.bottom, blob.bottom) < cfg.lifted_height
            together = _inside(big, blob, margin=0.005) and _inside(blob, big, margin=cfg.merge_reach)
            similar = min(big.length, blob.length) >= 0.8 * max(big.length, blob.length)
            overlap = similar and math.dist(big.centre, blob.centre) < 0.5 * min(big.length, blob.length)
            if grounded and big.top < blob.top + 0.006 and (together or overlap):
                return big, True
            lies_on = (
                blob.top < big.top + 0.006
                and _inside(blob, big, margin=cfg.merge_reach)
                and float(np.mean(blob.points[:, 2] > big.bottom + cfg.table_z + 0.003)) > 0.9
            )
            if lies_on:
                return big, False
        return None, False

    def _drop_fragments(self, blobs: list[_Blob]) -> list[_Blob]:
        """Drop unsure, small blobs that are a patch of a larger object's surface in another colour.

        A highlight or a shadow can give part of an object's surface another colour name. Such a patch lies
        within the object's footprint and between its bottom and top (an object under another one does
        not), and no model explains it well.
        """
        cfg = self.config
        out = []
        for blob in blobs:
            if blob.confidence >= cfg.fragment_confidence:
                out.append(blob)
                continue
            host = next(
                (
                    other
                    for other in blobs
                    if other is not blob
                    and other.confidence >= 2 * blob.confidence
                    and other.pixels >= 2 * blob.pixels
                    and blob.top < other.top + 0.006
                    and float(np.mean(blob.points[:, 2] > other.bottom + cfg.table_z + 0.003)) > 0.9
                    and _inside(blob, other, margin=0.005)
                ),
                None,
            )
            if host is None:
                out.append(blob)
            else:
                log.debug(
                    "dropped %s %s (confidence %.2f) in %s: a patch of the %s %s",
                    blob.color,
                    blob.type,
                    blob.confidence,
                    blob.camera,
                    host.color,
                    host.type,
                )
        return out

    def _grounded(self, blobs: list[_Blob]) -> set[int]:
        """Ids of blobs that rest on the table or, through a chain of supports, on blobs that do."""
        lifted = self.config.lifted_height
        grounded = {id(b) for b in blobs if b.bottom < lifted}
        changed = True
        while changed:
            changed = False
            for blob in blobs:
                if id(blob) in grounded:
                    continue
                for below in blobs:
                    if id(below) in grounded and abs(below.top - blob.bottom) <= 0.015 and _over(blob, below):
                        grounded.add(id(blob))
                        changed = True
                        break
        return grounded

    # ------------------------------------------------------------ segmentation

    def _rays(self, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
        """Per-pixel world-z factor and the camera pose's translation, cached per camera geometry."""
        k = frame.intrinsics
        key = (k, frame.depth.shape, frame.T_world_cam.tobytes())  # type: ignore[union-attr]
        hit = self._ray_cache.get(key)
        if hit is None:
            h, w = frame.depth.shape  # type: ignore[union-attr]
            u = (np.arange(w, dtype=np.float64) - k.cx) / k.fx
            v = (np.arange(h, dtype=np.float64) - k.cy) / k.fy
            r = frame.T_world_cam[:3, :3]
            zfac = (r[2, 0] * u[None, :] + r[2, 1] * v[:, None] + r[2, 2]).astype(np.float32)
            hit = (zfac, frame.T_world_cam[:3, 3].astype(np.float64))
            if len(self._ray_cache) > 16:
                self._ray_cache.clear()
            self._ray_cache[key] = hit
        return hit

    def _points(self, frame: Frame, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """World points of the given pixels."""
        k = frame.intrinsics
        z = frame.depth[rows, cols].astype(np.float64)  # type: ignore[index]
        cam = np.stack([(cols - k.cx) * z / k.fx, (rows - k.cy) * z / k.fy, z], axis=1)
        return cam @ frame.T_world_cam[:3, :3].T + frame.T_world_cam[:3, 3]

    def _height(self, frame: Frame) -> np.ndarray:
        """Height of every pixel above the table plane (HxW float32)."""
        zfac, t = self._rays(frame)
        return frame.depth * zfac + np.float32(t[2] - self.config.table_z)  # type: ignore[operator]

    def _balanced(self, frame: Frame, height: np.ndarray) -> Frame:
        """``frame`` with its colours rescaled so that the table reads as under the calibration light.

        The table top is a horizontal surface of known colour, lit like the tops of the objects on it: a
        brighter, dimmer or tinted light shows on it first. Frames that show too little table are kept.
        """
        cfg = self.config
        if not cfg.white_balance:
            self._balance_notes[frame.camera] = "off"
            return frame
        table = np.abs(height[::4, ::4]) < cfg.min_height
        if np.count_nonzero(table) < cfg.min_table_pixels // 16:
            self._balance_notes[frame.camera] = "too little table in view"
            return frame
        gain, note = balance_gain(frame.rgb[::4, ::4][table], cfg.table_rgb)
        if gain is None:
            self._balance_notes[frame.camera] = note
            log.debug("camera %r: no white balance (%s)", frame.camera, note)
            return frame
        self._balance_notes[frame.camera] = f"applied: 1/{np.round(gain, 3).tolist()}"
        log.debug("camera %r: colours balanced by 1/%s against the table", frame.camera, np.round(gain, 3))
        rgb = np.clip(frame.rgb.astype(np.float32) / gain.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
        return replace(frame, rgb=rgb)

    def _segment(self, frame: Frame, height: np.ndarray) -> list[_Blob]:
        """Foreground by ``height`` (above the table), split into connected components of one colour each."""
        cfg = self.config
        fg = (height > cfg.min_height) & (height < cfg.max_height)
        if cfg.tall_jump > 0 and frame.depth is not None:
            fg &= ~self._part_of_tall(frame.depth, height)
        n, regions, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
        blobs: list[_Blob] = []
        for region in range(1, n):
            if stats[region, cv2.CC_STAT_AREA] < cfg.min_pixels:
                continue
            x0, y0, w, h = (int(v) for v in stats[region, :4])
            inside = regions[y0 : y0 + h, x0 : x0 + w] == region
            labels = self.colors.classify_image(frame.rgb[y0 : y0 + h, x0 : x0 + w], inside)
            present = np.bincount(labels[inside], minlength=256)
            for label in np.flatnonzero(present[: len(COLOR_NAMES)] >= cfg.min_pixels):
                blobs += self._components(frame, int(label), labels, inside, (x0, y0))
        return blobs

    def _part_of_tall(self, depth: np.ndarray, height: np.ndarray) -> np.ndarray:
        """Pixels of a surface that continues, without a jump in depth, up beyond ``max_height``: a robot's
        base and lower links, whose upper links rise out of the foreground (HxW bool).

        An object in front of the arm is cut off from it by a jump in depth of more than ``tall_jump``; one
        on the table is cut off by the table, which is not above it."""
        cfg = self.config
        solid = height > cfg.min_height
        if not (height >= cfg.max_height).any():
            return np.zeros_like(solid)
        d = np.where(solid, depth, np.float32(0.0)).astype(np.float32)
        jump = cv2.dilate(d, self._kernel) - cv2.erode(np.where(solid, d, np.float32(1e3)), self._kernel)
        smooth = (solid & (jump < cfg.tall_jump)).astype(np.uint8)
        n, parts = cv2.connectedComponents(smooth, connectivity=8)
        tall = np.zeros(n, dtype=bool)
        tall[np.unique(parts[smooth.astype(bool) & (height >= cfg.max_height)])] = True
        tall[0] = False
        return tall[parts]

    def _components(
        self, frame: Frame, label: int, labels: np.ndarray, inside: np.ndarray, origin: tuple[int, int]
    ) -> list[_Blob]:
        """Connected components of colour ``label`` inside one foreground region (cropped to its box)."""
        cfg = self.config
        own = labels == label
        mask = own.astype(np.uint8)
        if cfg.close_kernel > 1:
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._kernel)
            mask &= (own | (labels == UNKNOWN)) & inside
        n, cc, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        out = []
        for i in range(1, n):
            if stats[i, cv2.CC_STAT_AREA] < cfg.min_pixels:
                continue
            x, y, w, h = (int(v) for v in stats[i, :4])
            sub = cc[y : y + h, x : x + w] == i
            ox, oy = origin[0] + x, origin[1] + y
            rr, cols = np.nonzero(sub)
            points = self._points(frame, rr + oy, cols + ox)
            pieces = self._split_raised(sub, rr, cols, points) if len(rr) >= 4 * cfg.min_pixels else [sub]
            for piece in pieces:
                if piece is not sub:
                    rr, cols = np.nonzero(piece)
                    if len(rr) < cfg.min_pixels:
                        continue
                    points = self._points(frame, rr + oy, cols + ox)
                blob = self._blob(frame, label, piece, rr, cols, points, (ox, oy))
                blob.split = len(pieces) > 1
                out.append(blob)
        return out

    def _blob(
        self,
        frame: Frame,
        label: int,
        mask: np.ndarray,
        rr: np.ndarray,
        cols: np.ndarray,
        points: np.ndarray,
        origin: tuple[int, int],
    ) -> _Blob:
        """A blob from a component mask (cropped at ``origin``) and its pixels' world points."""
        ox, oy = origin
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        edge = np.concatenate([c.reshape(-1, 2) for c in contours])
        step = max(1, len(rr) // 256)
        return _Blob(
            camera=frame.camera,
            label=label,
            pixels=len(rr),
            box=(ox + int(cols.min()), oy + int(rr.min()), ox + int(cols.max()) + 1, oy + int(rr.max()) + 1),
            points=points,
            edge_xy=self._points(frame, edge[:, 1] + oy, edge[:, 0] + ox)[:, :2],
            rgb_sample=frame.rgb[rr[::step] + oy, cols[::step] + ox],
        )

    def _split_raised(self, mask: np.ndarray, rr: np.ndarray, cols: np.ndarray, points: np.ndarray) -> list[np.ndarray]:
        """Split blocks off a same-coloured component they touch (a red block in a red bowl, on a red
        block, or seen against a red neighbour).

        A block shows as a flat, square patch of a block's size, raised above what surrounds it. The
        pixels whose world points lie in that block's 3D box become their own piece; the rest stays.
        Returns ``[mask]`` when there is nothing to split.
        """
        z = np.zeros(mask.shape, np.float32)
        z[rr, cols] = points[:, 2]
        hi = cv2.dilate(np.where(mask, z, np.float32(-1.0)), self._kernel)
        lo = cv2.erode(np.where(mask, z, np.float32(10.0)), self._kernel)
        flat = (mask & (hi - lo < 0.005)).astype(np.uint8)
        n, patches, stats, _ = cv2.connectedComponentsWithStats(flat, connectivity=8)
        if n <= 2:
            return [mask]
        index = np.full(mask.shape, -1, np.int64)
        index[rr, cols] = np.arange(len(rr))
        sides = [m.sizes[s][0] for m in CATALOGUE if m.type == "block" for s in m.sizes]
        rest = mask.copy()
        pieces: list[np.ndarray] = []
        boxes: list[tuple[np.ndarray, float, float, float]] = []
        for p in range(1, n):
            if stats[p, cv2.CC_STAT_AREA] < 4 * self.config.min_pixels:
                continue
            patch = patches == p
            pts = points[index[patch]]
            rect = cv2.minAreaRect(np.ascontiguousarray(pts[:, :2], dtype=np.float32))
            length, width = max(rect[1]), min(rect[1])
            if not (min(sides) - 0.008 <= width <= length <= max(sides) + 0.008 and length < 1.3 * width):
                continue
            if not self._square_patch(patch, pts, rect):
                continue  # the top of a ball or a cylinder, the rim of a mug: round, not a block's face
            top = float(np.median(pts[:, 2]))
            ring = cv2.dilate(patch.astype(np.uint8), self._kernel, iterations=3).astype(bool) & mask & ~patch
            if not ring.any() or np.mean(z[ring] < top - 0.008) < 0.3:
                continue
            side = min(sides, key=lambda s: abs(s - (length + width) / 2))
            corners = cv2.boxPoints(rect).astype(np.float64)
            edge = corners[1] - corners[0]
            yaw = math.atan2(edge[1], edge[0])
            d = points[:, :2] - np.asarray(rect[0])
            u = d[:, 0] * math.cos(yaw) + d[:, 1] * math.sin(yaw)
            v = -d[:, 0] * math.sin(yaw) + d[:, 1] * math.cos(yaw)
            half = side / 2 + 0.003
            z_ok = (points[:, 2] > top - side + 0.004) & (points[:, 2] < top + 0.004)  # not a wall above it
            in_box = (np.abs(u) < half) & (np.abs(v) < half) & z_ok
            piece = np.zeros_like(mask)
            piece[rr[in_box], cols[in_box]] = True
            piece &= rest
            remainder = rest & ~piece
            if np.count_nonzero(remainder) < 2 * self.config.min_pixels:
                continue
            pieces.append(piece)
            boxes.append((np.asarray(rect[0], dtype=np.float64), yaw, side, top))
            rest = remainder
        if not pieces:
            return [mask]
        n, parts = cv2.connectedComponents(rest.astype(np.uint8), connectivity=8)
        out = []
        for k in range(1, n):
            part = parts == k
            owner = self._owning_box(points[index[part]], boxes) if np.count_nonzero(part) < 150 else None
            if owner is None:
                out.append(part)
            else:  # a sliver of the block's own side (seen by an oblique camera) goes back to the block
                pieces[owner] |= part
        return pieces + out

    @staticmethod
    def _owning_box(pts: np.ndarray, boxes: list[tuple[np.ndarray, float, float, float]]) -> int | None:
        """Index of the block box (centre, yaw, side, top) that holds all of ``pts``, or None."""
        for i, (centre, yaw, side, top) in enumerate(boxes):
            d = pts[:, :2] - centre
            u = d[:, 0] * math.cos(yaw) + d[:, 1] * math.sin(yaw)
            v = -d[:, 0] * math.sin(yaw) + d[:, 1] * math.cos(yaw)
            half = side / 2 + 0.004
            z_ok = (pts[:, 2] > top - side - 0.003) & (pts[:, 2] < top + 0.004)
            if np.all((np.abs(u) < half) & (np.abs(v) < half) & z_ok):
                return i
        return None

    @staticmethod
    def _square_patch(patch: np.ndarray, pts: np.ndarray, rect: tuple) -> bool:
        """True if a flat patch is a solid square (a block's top), not a disc or a ring."""
        hull = cv2.convexHull(np.ascontiguousarray(pts[:, :2], dtype=np.float32))
        fill = float(cv2.contourArea(hull)) / max(rect[1][0] * rect[1][1], 1e-9)
        contours, _ = cv2.findContours(patch.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        pixel_hull = cv2.convexHull(np.concatenate([c.reshape(-1, 2) for c in contours]))
        solidity = np.count_nonzero(patch) / max(cv2.contourArea(pixel_hull), 1.0)
        return fill >= _ROUNDISH and solidity >= 0.75

    # ---------------------------------------------------------------- measures

    def _measure(self, blob: _Blob) -> None:
        cfg = self.config
        z = blob.points[:, 2] - cfg.table_z
        blob.top = float(np.percentile(z, cfg.top_percentile))
        blob.clipped = bool(np.mean(z > cfg.max_height - 0.005) > 0.02)
        xy = blob.edge_xy if blob.extra_xy is None else np.concatenate([blob.edge_xy, blob.extra_xy])
        xy32 = np.ascontiguousarray(xy, dtype=np.float32)
        hull = cv2.convexHull(xy32)
        rect = cv2.minAreaRect(hull)
        corners = cv2.boxPoints(rect).astype(np.float64)
        e1, e2 = corners[1] - corners[0], corners[2] - corners[1]
        l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
        long_edge = e1 if l1 >= l2 else e2
        blob.rect = rect
        blob.length, blob.width = max(l1, l2), min(l1, l2)
        blob.yaw = math.atan2(long_edge[1], long_edge[0])
        area = max(blob.length * blob.width, 1e-9)
        blob.fill = float(cv2.contourArea(hull)) / area
        c = np.asarray(rect[0], dtype=np.float64)
        blob.centre, blob.radius = (float(c[0]), float(c[1])), blob.width / 2
        blob.core_fill, blob.handle = blob.fill, 0.0
        if blob.fill < _ROUNDISH and len(xy) >= 12:
            self._measure_round(blob, xy)
            c = np.asarray(blob.centre, dtype=np.float64)
        # Hollowness: how far the middle of the footprint lies below the top (own points only).
        d = blob.points[:, :2] - c
        cos, sin = math.cos(blob.yaw), math.sin(blob.yaw)
        u = d[:, 0] * cos + d[:, 1] * sin
        v = -d[:, 0] * sin + d[:, 1] * cos
        inner = (np.abs(u) < 0.3 * blob.length) & (np.abs(v) < 0.3 * blob.width)
        if blob.handle > 0.006:  # a mug: its handle makes the rectangle longer than the cup
            inner = np.hypot(d[:, 0], d[:, 1]) < 0.6 * blob.radius
        blob.hollow = float(blob.top - np.median(z[inner])) if np.count_nonzero(inner) >= 10 else None
        # Flatness: how much of the footprint is at the top (in the table plane, so that side faces seen
        # at the edge of the image hardly count): all of it for a block or a cylinder, a cap for a ball.
        occupied, at_top = _occupancy(blob.points[:, :2], z > blob.top - _FLAT_BAND)
        blob.flat = at_top / max(occupied, 1)
        # Cover: a deep cup seen from the side shows its rim and walls but nothing inside them.
        area = math.pi * blob.radius**2 if blob.fill < _ROUNDISH else blob.length * blob.width
        blob.cover = min(occupied * _FLAT_CELL**2 / max(area, 1e-9), 1.5)
        # Dome: a ball's middle is higher than the ring around it; a flat top's is not.
        rel = np.hypot(d[:, 0], d[:, 1]) / max(blob.radius, 1e-3)
        middle, ring = z[rel < 0.35], z[(rel > 0.55) & (rel < 0.8)]
        blob.dome = float(np.median(middle) - np.median(ring)) if len(middle) >= 8 and len(ring) >= 8 else None

    def _measure_round(self, blob: _Blob, xy: np.ndarray) -> None:
        """Circle, handle and fill of a round footprint (outline points ``xy``)."""
        centre, radius = _fit_circle(xy)
        out = np.hypot(*(xy - centre).T) - radius
        blob.centre, blob.radius = (float(centre[0]), float(centre[1])), float(radius)
        # A handle sticks out of the circle: on the outline from above, inside the outline when it faces
        # an oblique camera, so every point counts (but a stray few do not).
        every = np.concatenate([xy, blob.points[:, :2]])
        beyond = np.hypot(*(every - centre).T) - radius
        k = min(3, len(beyond))
        blob.handle = max(float(np.partition(beyond, len(beyond) - k)[len(beyond) - k]), 0.0)
        core = xy[out < 0.003]
        if len(core) >= 6:
            hull = cv2.convexHull(np.ascontiguousarray(core, dtype=np.float32))
            side = cv2.minAreaRect(hull)[1]
            blob.core_fill = float(cv2.contourArea(hull)) / max(side[0] * side[1], 1e-9)
        if radius < _BALL_MAX and len(blob.points) >= 20:  # could be a ball: fit a sphere to the surface
            r0 = max(blob.length / 2, 0.01)
            sample = blob.points[:: max(1, len(blob.points) // 600)]
            blob.sphere = _fit_sphere(sample, r0, np.array([centre[0], centre[1], blob.top - r0]))

    def _fitted_cost(
        self, blob: _Blob, model: ShapeModel, size: str, scale: bool = True
    ) -> tuple[float, tuple[float, float, float]]:
        """Cost of ``blob`` as ``model`` at catalogue ``size``, or at that size scaled to the blob if that costs
        less with the size prior (sizes are priors, not gates: a 0.114 m bowl is a small bowl, scaled);
        returns the cost and the dimensions it was scored at."""
        nominal = model.sizes[size]
        cost = self._model_cost(blob, model, size)
        if not scale or model.handle > 0 or self.config.size_prior <= 0:
            return cost, nominal
        length, width, height = nominal
        if model.domed and blob.sphere is not None:
            k_xy = 2 * blob.sphere[1] / length
        else:
            k_xy = (blob.length + blob.width) / (length + width)
        k_xy = float(np.clip(k_xy, *self.config.size_range))
        k_z = k_xy if model.domed else float(np.clip(blob.top / height, self.config.size_range[0], 1.0))
        scaled = (length * k_xy, width * k_xy, height * k_z)
        prior = abs(math.log(k_xy)) / self.config.size_prior + abs(math.log(k_z)) / self.config.height_prior
        cost_scaled = self._model_cost(blob, model, size, dims=scaled, hollow_scale=k_z) + prior
        return (cost_scaled, scaled) if cost_scaled < cost else (cost, nominal)

    def _model_cost(
        self,
        blob: _Blob,
        model: ShapeModel,
        size: str,
        dims: tuple[float, float, float] | None = None,
        hollow_scale: float = 1.0,
    ) -> float:
        length, width, height = dims or model.sizes[size]
        tol = 0.006 + 0.04 * length
        if model.handle > 0:  # the cup is measured without its handle, which is scored by itself
            cost = (abs(blob.length - length - model.handle) + abs(blob.width - width)) / tol
            cost += abs(2 * blob.radius - length) / tol
            cost += abs(blob.core_fill - _FILL_ROUND) / 0.06
            cost += min(abs(blob.handle - model.handle) / 0.004, 5.0)
            worst = max(abs(blob.width - width) / width, abs(blob.length - length - model.handle) / length)
        elif model.domed and blob.sphere is not None:  # a ball: sized by the sphere through its surface
            diameter, rms = 2 * blob.sphere[1], blob.sphere[2]
            cost = 2 * abs(diameter - length) / tol + min(rms / 0.001, 6.0)
            cost += abs(blob.fill - _FILL_ROUND) / 0.06
            worst = abs(diameter - length) / length
        else:
            cost = (abs(blob.length - length) + abs(blob.width - width)) / tol
            cost += abs(blob.fill - (_FILL_ROUND if model.round else _FILL_RECT)) / 0.06
            cost += 3.0 if model.domed else 0.0  # no sphere fits: hardly a ball
            worst = max(abs(blob.width - width) / width, abs(blob.length - length) / length)
        # Far too small or too large a footprint for the model: a fragment (of the arm, of an occluded
        # object) or clutter, not this object.
        cost += max(worst - 0.4, 0.0) / 0.04
        dz = blob.top - height
        if dz < -0.004:  # lower than the model: it cannot be this object (resting on anything)
            cost += (-dz - 0.004) / 0.003
        elif not model.stacks:  # containers and plates normally stand on the table
            cost += max(dz - 0.005, 0.0) / 0.02
        if blob.hollow is not None:
            if model.hollow_min is not None:
                cost += min(max(model.hollow_min - blob.hollow, 0.0) / 0.008, 6.0)
            else:
                cost += min(abs(blob.hollow - model.hollow_depth * hollow_scale) / 0.008, 6.0)
        elif model.hollow_min is not None:  # middle unseen: a cup seen from the side shows no inside
            cost += min(max(blob.cover - _HOLLOW_COVER, 0.0) / 0.08, 5.0)
        elif model.stacks and not model.domed:  # ... a flat top would show there
            cost += min(max(_HOLLOW_COVER - blob.cover, 0.0) / 0.08, 4.0)
        if model.hollow_depth == 0 and model.hollow_min is None:
            if blob.dome is not None:
                expected = _DOME * height / 2 if model.domed else 0.0
                cost += min(abs(blob.dome - expected) / 0.0025, 4.0)
            if model.domed:
                cost += min(max(blob.flat - _cap_share(height / 2) - 0.1, 0.0) / 0.08, 6.0)
            elif model.stacks:
                cost += min(max(0.6 - blob.flat, 0.0) / 0.08, 4.0)
        return cost

    def _classify(
        self, blob: _Blob, types: Sequence[str] | None = None, prefer: str | None = None, scale: bool = True
    ) -> None:
        """Best (type, size) for ``blob`` among ``types`` (all by default); ``prefer`` wins near-ties (1.0).
        ``scale``: models may be scaled off the catalogue's sizes (see :meth:`_fitted_cost`)."""
        models = [m for m in CATALOGUE if types is None or m.type in types]
        rows = ((*self._fitted_cost(blob, m, s, scale), m.type, s) for m in models for s in m.sizes)
        scored = sorted(rows, key=_by_cost)
        if prefer is not None:
            favourite = next((row for row in scored if row[2] == prefer), None)
            if favourite is not None and favourite[0] <= scored[0][0] + 1.0:
                scored.remove(favourite)
                scored.insert(0, favourite)
        best_cost, dims, best_type, best_size = scored[0]
        second = next((row[0] for row in scored[1:] if row[2] != best_type), math.inf)
        blob.type, blob.size, blob.cost, blob.dims = best_type, best_size, best_cost, dims
        blob.margin = max(second - best_cost, 0.0)
        height = dims[2]
        lifted = blob.top - height
        blob.bottom = lifted if lifted > self.config.elevation_tolerance else 0.0

    def _complete_supports(self, blobs: list[_Blob]) -> None:
        """Complete blocks that carry another block: they are mostly hidden under it.

        The visible parts of such a block (a rim around the upper block, its side faces) may fall apart
        into several components; those of one colour are merged. The footprint is completed with the
        square under the upper block.
        """
        for top in list(blobs):
            if top not in blobs or top.type != "block" or top.bottom < 0.025:
                continue
            centre = np.asarray(top.rect[0], dtype=np.float64)
            side_top = top.dims[0]
            under: dict[int, list[_Blob]] = {}
            for below in blobs:
                if below is top or abs(below.top - top.bottom) > 0.012:
                    continue
                if not _MODELS[below.type].stacks and below.cost < 4.0:
                    continue  # a well-explained plate, bowl or tray needs no completion
                gap = np.min(np.hypot(*(below.points[:, :2] - centre).T))
                if gap <= side_top * 0.75 + 0.015:
                    under.setdefault(below.label, []).append(below)
            for parts in under.values():
                below = parts[0] if len(parts) == 1 else _merge(parts)
                if len(parts) > 1:
                    for part in parts:
                        blobs.remove(part)
                    blobs.append(below)
                side = max(min(side_top, below.top), 0.02)
                half = side / 2
                c, s = math.cos(top.yaw), math.sin(top.yaw)
                square = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
                rot = np.array([[c, -s], [s, c]])
                below.extra_xy = square @ rot.T + centre
                self._measure(below)
                # What carries a block and is hidden under it: a block (most likely) or a cylinder.
                self._classify(below, types=_SUPPORTS, prefer="block", scale=False)  # its footprint is assumed
                log.debug(
                    "completed %s %s (%d parts) under %s %s", below.color, below.type, len(parts), top.color, top.type
                )

    # ------------------------------------------------------------------ output

    def _confidence(self, blob: _Blob) -> float:
        """How sure the detection is, in [0, 1]: model fit, margin to the next type, colour clarity."""
        fit = math.exp(-0.12 * blob.cost)
        decisive = 1.0 - math.exp(-0.5 * blob.margin)
        colour = self.colors.confidence(blob.rgb_sample)
        return float(np.clip(fit * (0.5 + 0.5 * decisive) * (0.5 + 0.5 * colour), 0.0, 1.0))

    def _to_object(self, blob: _Blob) -> SceneObject:
        model = _MODELS[blob.type]
        top = blob.top + self.config.table_z
        bottom = blob.bottom + self.config.table_z
        if model.domed:  # a ball: the sphere of its size through its visible surface
            r = blob.dims[2] / 2
            fit = blob.sphere or _fit_sphere(blob.points, r, np.array([blob.centre[0], blob.centre[1], top - r]))
            if fit is not None:
                cx, cy, cz = (float(v) for v in fit[0])
                top, bottom = cz + r, cz - r
            else:  # the fit went astray (too few points): keep the footprint's measures
                cx, cy = blob.centre
            ex = ey = 2 * r
            yaw = 0.0
        elif model.round:
            xy = blob.points[:, :2]
            if blob.extra_xy is not None:
                xy = np.concatenate([xy, blob.extra_xy])
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            cx, cy = (lo + hi) / 2
            ex, ey = hi - lo
            yaw = 0.0  # a round footprint has no direction (a mug's handle is inside its box)
        else:
            cx, cy = blob.rect[0]
            yaw = blob.yaw
            if blob.type == "block" or abs(blob.length - blob.width) < 0.004:
                yaw = (yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4
            else:
                yaw = (yaw + math.pi / 2) % math.pi - math.pi / 2
            c, s = abs(math.cos(yaw)), abs(math.sin(yaw))
            ex = blob.length * c + blob.width * s
            ey = blob.length * s + blob.width * c
            if blob.type == "block":
                ex = ey = blob.length * (c + s) * 0.5 + blob.width * (c + s) * 0.5
        return SceneObject(
            id=f"{blob.color}_{blob.type}",
            type=blob.type,
            color=blob.color,
            size=blob.size,
            position=(float(cx), float(cy), float((top + bottom) / 2)),
            extent=(float(ex), float(ey), float(top - bottom)),
            yaw=float(yaw),
            confidence=round(blob.confidence, 4),
            evidence=(Evidence(camera=blob.camera, box=blob.box, pixels=blob.pixels),),
        )
