"""Classical RGB-D perception with OpenCV: depth foreground, colour split, shape models.

Pipeline for one frame:

1. **Foreground by height.** Every pixel's depth is back-projected to a world height; pixels more than
   ``min_height`` above the table plane (``table_z``) and below ``max_height`` are foreground. The table
   itself never is, whatever its colour.
2. **Colour split.** Foreground pixels are labelled with the nearest reference colour
   (:mod:`perception.colors`); each colour's mask is closed and split into connected components; those
   smaller than ``min_pixels`` are dropped. A block in a bowl or on a plate is therefore its own component
   and leaves a hole in the container's.
3. **Geometry.** Each component's pixels are back-projected to world points. The footprint is
   ``cv2.minAreaRect`` of the points' x, y (centre, length, width, yaw), the top a high percentile of z,
   the fill ratio (convex hull area / rectangle area) tells round from rectangular, and the depth of the
   footprint's centre below the top tells hollow (bowl, tray) from flat (block, plate).
4. **Type and size.** Each (type, size) of the :data:`CATALOGUE` scores how well it explains those
   measures; the best wins and its score sets the confidence. Components no model explains (an arm, a
   hand, clutter) are dropped.
5. **Support.** An object rests on the table unless its top is clearly higher than its model's height:
   then its bottom is ``top - height`` (a block in a bowl, on a plate, on another block). A block that
   carries another block is mostly hidden; its footprint is completed with the part under the block on
   top.
6. **Several cameras** are fused by 3D proximity of same-coloured detections.

Objects are named ``<color>_<type>``, numbered left to right (from the robot) when a name repeats.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from perception.colors import COLOR_NAMES, UNKNOWN, ColorClassifier, default_classifier
from perception.frame import Frame
from perception.objects import Evidence, Percept, SceneObject
from perception.perceivers.base import PerceptionError, assign_ids, frames_time

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShapeModel:
    """What the classical perceiver knows about one object type.

    Attributes:
        type: the type word.
        round: footprint is a circle (else a rectangle).
        hollow_depth: how far below the top the middle of the footprint lies (0 for a flat top).
        sizes: size word -> nominal (length, width, height) in metres; length >= width.
    """

    type: str
    round: bool
    hollow_depth: float
    sizes: dict[str, tuple[float, float, float]]


CATALOGUE: tuple[ShapeModel, ...] = (
    ShapeModel("block", False, 0.0, {"small": (0.04, 0.04, 0.04), "medium": (0.05, 0.05, 0.05), "large": (0.06, 0.06, 0.06)}),
    ShapeModel("bowl", True, 0.044, {"small": (0.13, 0.13, 0.05), "medium": (0.16, 0.16, 0.05), "large": (0.19, 0.19, 0.05)}),
    ShapeModel("plate", True, 0.0, {"small": (0.16, 0.16, 0.015), "medium": (0.20, 0.20, 0.015), "large": (0.24, 0.24, 0.015)}),
    ShapeModel("tray", False, 0.022, {"small": (0.20, 0.15, 0.03), "medium": (0.26, 0.19, 0.03), "large": (0.30, 0.22, 0.03)}),
)
"""The object models the classical perceiver recognises (dimensions of the tabletop object catalogue)."""

_FILL_ROUND = 0.79  # hull area / min-area rectangle area of a circle (pi / 4) or a 16-gon
_FILL_RECT = 0.97
_MODELS = {m.type: m for m in CATALOGUE}


@dataclass(frozen=True)
class ClassicalConfig:
    """Tuning of :class:`ClassicalPerceiver` (metres and pixels)."""

    table_z: float = 0.0
    min_height: float = 0.003
    max_height: float = 0.30
    min_pixels: int = 25
    close_kernel: int = 3
    top_percentile: float = 97.0
    elevation_tolerance: float = 0.003
    reject_cost: float = 14.0
    fuse_distance: float = 0.03


@dataclass
class _Blob:
    """One connected component of one colour in one frame, with its measures."""

    camera: str
    label: int
    pixels: int
    box: tuple[int, int, int, int]
    points: np.ndarray  # Nx3 world points
    rgb_sample: np.ndarray  # up to 256 RGB pixels
    top: float = 0.0
    rect: tuple = ()
    length: float = 0.0
    width: float = 0.0
    yaw: float = 0.0
    fill: float = 1.0
    hollow: float | None = None
    type: str = ""
    size: str = ""
    cost: float = math.inf
    margin: float = 0.0
    bottom: float = 0.0
    extra_xy: np.ndarray | None = field(default=None, repr=False)

    @property
    def color(self) -> str:
        return COLOR_NAMES[self.label]


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
        self._kernel = cv2.getStructuringElement(
            cv2.MORPH_RECT, (self.config.close_kernel, self.config.close_kernel)
        )
        self._ray_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    # ------------------------------------------------------------------ public

    def perceive(self, frames: Sequence[Frame]) -> Percept:
        """Detect the objects seen in ``frames`` (fused by 3D proximity when there are several)."""
        frames = list(frames)
        if not frames:
            raise PerceptionError("classical perceiver got no frames")
        usable = [f for f in frames if f.depth is not None]
        if not usable:
            raise PerceptionError(
                f"classical perceiver needs depth; camera(s) {', '.join(f.camera for f in frames)} have none"
            )
        for f in frames:
            if f.depth is None:
                log.warning("camera %r has no depth; skipped by the classical perceiver", f.camera)
        per_frame = [self.detect(f) for f in usable]
        objects = per_frame[0] if len(per_frame) == 1 else self._fuse(per_frame)
        return Percept(
            objects=assign_ids(objects),
            cameras=[f.camera for f in frames],
            perceiver=self.name,
            t=frames_time(frames),
        )

    def detect(self, frame: Frame) -> list[SceneObject]:
        """Objects seen in one RGB-D frame (ids not yet assigned: ``<color>_<type>`` for all)."""
        blobs = self._segment(frame)
        for blob in blobs:
            self._measure(blob)
            self._classify(blob)
        self._complete_supports(blobs)
        out = []
        for blob in blobs:
            if blob.cost > self.config.reject_cost:
                log.debug(
                    "dropped %s component of %d px in %s: no model fits (cost %.1f)",
                    blob.color,
                    blob.pixels,
                    blob.camera,
                    blob.cost,
                )
                continue
            out.append(self._to_object(blob))
        return out

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

    def _segment(self, frame: Frame) -> list[_Blob]:
        cfg = self.config
        depth = frame.depth
        zfac, t = self._rays(frame)
        height = depth * zfac + np.float32(t[2] - cfg.table_z)  # type: ignore[operator]
        fg = (height > cfg.min_height) & (height < cfg.max_height) & np.isfinite(depth)  # type: ignore[arg-type]
        if not fg.any():
            return []
        rows_any = np.flatnonzero(fg.any(axis=1))
        cols_any = np.flatnonzero(fg.any(axis=0))
        r0, r1 = max(rows_any[0] - 2, 0), rows_any[-1] + 3
        c0, c1 = max(cols_any[0] - 2, 0), cols_any[-1] + 3
        fg_c = fg[r0:r1, c0:c1]
        labels = self.colors.classify_image(frame.rgb[r0:r1, c0:c1], fg_c)
        present = np.bincount(labels[fg_c], minlength=256)
        blobs: list[_Blob] = []
        for label in range(len(COLOR_NAMES)):
            if present[label] < cfg.min_pixels:
                continue
            mask = (labels == label).astype(np.uint8)
            if cfg.close_kernel > 1:
                mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._kernel)
                mask &= fg_c
                mask &= (labels == label) | (labels == UNKNOWN)
            n, cc, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            for i in range(1, n):
                area = int(stats[i, cv2.CC_STAT_AREA])
                if area < cfg.min_pixels:
                    continue
                x, y, w, h = (int(v) for v in stats[i, :4])
                sub = cc[y : y + h, x : x + w] == i
                rr, cc_ = np.nonzero(sub)
                rows = rr + y + r0
                cols = cc_ + x + c0
                pts = self._points(frame, rows, cols)
                step = max(1, len(rows) // 256)
                blobs.append(
                    _Blob(
                        camera=frame.camera,
                        label=label,
                        pixels=area,
                        box=(x + c0, y + r0, x + c0 + w, y + r0 + h),
                        points=pts,
                        rgb_sample=frame.rgb[rows[::step], cols[::step]],
                    )
                )
        return blobs

    # ---------------------------------------------------------------- measures

    def _measure(self, blob: _Blob) -> None:
        cfg = self.config
        z = blob.points[:, 2] - cfg.table_z
        blob.top = float(np.percentile(z, cfg.top_percentile))
        xy = blob.points[:, :2]
        if blob.extra_xy is not None:
            xy = np.concatenate([xy, blob.extra_xy])
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
        # Hollowness: how far the middle of the footprint lies below the top (own points only).
        c = np.asarray(rect[0], dtype=np.float64)
        d = blob.points[:, :2] - c
        cos, sin = math.cos(blob.yaw), math.sin(blob.yaw)
        u = d[:, 0] * cos + d[:, 1] * sin
        v = -d[:, 0] * sin + d[:, 1] * cos
        inner = (np.abs(u) < 0.3 * blob.length) & (np.abs(v) < 0.3 * blob.width)
        blob.hollow = float(blob.top - np.median(z[inner])) if np.count_nonzero(inner) >= 10 else None

    def _model_cost(self, blob: _Blob, model: ShapeModel, size: str) -> float:
        length, width, height = model.sizes[size]
        tol = 0.006 + 0.04 * length
        cost = (abs(blob.length - length) + abs(blob.width - width)) / tol
        cost += abs(blob.fill - (_FILL_ROUND if model.round else _FILL_RECT)) / 0.06
        dz = blob.top - height
        if dz < -0.004:  # lower than the model: it cannot be this object (resting on anything)
            cost += (-dz - 0.004) / 0.003
        elif model.type != "block":  # containers and plates normally stand on the table
            cost += max(dz - 0.005, 0.0) / 0.02
        if blob.hollow is not None:
            cost += min(abs(blob.hollow - model.hollow_depth) / 0.008, 6.0)
        return cost

    def _classify(self, blob: _Blob) -> None:
        scored = sorted(
            (self._model_cost(blob, m, s), m.type, s) for m in CATALOGUE for s in m.sizes
        )
        best_cost, best_type, best_size = scored[0]
        second = next((c for c, t, _ in scored[1:] if t != best_type), math.inf)
        blob.type, blob.size, blob.cost = best_type, best_size, best_cost
        blob.margin = second - best_cost
        height = _MODELS[best_type].sizes[best_size][2]
        lifted = blob.top - height
        blob.bottom = lifted if lifted > self.config.elevation_tolerance else 0.0

    def _complete_supports(self, blobs: list[_Blob]) -> None:
        """Complete the footprint of blocks that carry another block (mostly hidden under it)."""
        for top in blobs:
            if top.type != "block" or top.bottom < 0.025:
                continue
            centre = np.asarray(top.rect[0], dtype=np.float64)
            side_top = _MODELS["block"].sizes[top.size][0]
            for below in blobs:
                if below is top or abs(below.top - top.bottom) > 0.012:
                    continue
                if below.type not in ("block", "") and below.cost < 4.0:
                    continue  # a well-explained plate, bowl or tray needs no completion
                gap = np.min(np.hypot(*(below.points[:, :2] - centre).T))
                if gap > side_top * 0.75 + 0.015:
                    continue
                side = max(min(side_top, below.top - below.bottom), 0.02)
                half = side / 2
                c, s = math.cos(top.yaw), math.sin(top.yaw)
                square = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
                rot = np.array([[c, -s], [s, c]])
                below.extra_xy = square @ rot.T + centre
                self._measure(below)
                self._classify(below)
                log.debug("completed %s %s under %s %s", below.color, below.type, top.color, top.type)

    # ------------------------------------------------------------------ output

    def _to_object(self, blob: _Blob) -> SceneObject:
        model = _MODELS[blob.type]
        top = blob.top + self.config.table_z
        bottom = blob.bottom + self.config.table_z
        if model.round:
            xy = blob.points[:, :2]
            if blob.extra_xy is not None:
                xy = np.concatenate([xy, blob.extra_xy])
            lo, hi = xy.min(axis=0), xy.max(axis=0)
            cx, cy = (lo + hi) / 2
            ex, ey = hi - lo
            yaw = 0.0
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
        fit = math.exp(-0.12 * blob.cost)
        decisive = 1.0 - math.exp(-0.5 * blob.margin)
        colour = self.colors.confidence(blob.rgb_sample)
        confidence = float(np.clip(fit * (0.5 + 0.5 * decisive) * (0.5 + 0.5 * colour), 0.0, 1.0))
        return SceneObject(
            id=f"{blob.color}_{blob.type}",
            type=blob.type,
            color=blob.color,
            size=blob.size,
            position=(float(cx), float(cy), float((top + bottom) / 2)),
            extent=(float(ex), float(ey), float(top - bottom)),
            yaw=float(yaw),
            confidence=round(confidence, 4),
            evidence=(Evidence(camera=blob.camera, box=blob.box, pixels=blob.pixels),),
        )

    # ------------------------------------------------------------------ fusion

    def _fuse(self, per_frame: list[list[SceneObject]]) -> list[SceneObject]:
        """Merge same-coloured detections from several cameras whose 3D centres are close."""
        flat = [o for objs in per_frame for o in objs]
        flat.sort(key=lambda o: (-o.confidence, o.color, o.type, o.position))
        clusters: list[list[SceneObject]] = []
        for obj in flat:
            for cluster in clusters:
                ref = cluster[0]
                if (
                    ref.color == obj.color
                    and math.dist(ref.position[:2], obj.position[:2]) < self.config.fuse_distance
                    and abs(ref.position[2] - obj.position[2]) < self.config.fuse_distance
                    and all(e.camera != obj.evidence[0].camera for m in cluster for e in m.evidence)
                ):
                    cluster.append(obj)
                    break
            else:
                clusters.append([obj])
        fused = []
        for cluster in clusters:
            weights = np.array([o.confidence * max(sum(e.pixels for e in o.evidence), 1) for o in cluster])
            weights = weights / weights.sum()
            votes: dict[str, float] = {}
            for o, w in zip(cluster, weights, strict=True):
                votes[o.type] = votes.get(o.type, 0.0) + float(w)
            best_type = max(sorted(votes), key=lambda t: votes[t])
            members = [o for o in cluster if o.type == best_type]
            mw = np.array([o.confidence * max(sum(e.pixels for e in o.evidence), 1) for o in members])
            mw = mw / mw.sum()
            pos = np.average([o.position for o in members], axis=0, weights=mw)
            ext = np.average([o.extent for o in members], axis=0, weights=mw)
            lead = members[0]
            fused.append(
                lead.model_copy(
                    update={
                        "position": tuple(float(v) for v in pos),
                        "extent": tuple(float(v) for v in ext),
                        "confidence": round(float(votes[best_type] * max(o.confidence for o in members)), 4),
                        "evidence": tuple(e for o in cluster for e in o.evidence),
                    }
                )
            )
        return fused
