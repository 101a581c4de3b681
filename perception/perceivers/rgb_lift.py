"""Objects from an RGB-only frame with a calibration: segmented in colour, lifted onto the support plane.

Without depth, an object's place comes from geometry alone (the camera's calibrated pose and the support
plane it stands on):

1. **Table colours.** Every pixel whose ray meets the support plane (inside the workspace polygon, when one
   is given) is binned by CIELAB colour; a bin that holds a fair share of those pixels *spread across the
   image* is the table's (a checkered floor has two such colours), together with its neighbours and its
   darker shades (shadows). An object's pixels are compact, the table's are not.
2. **Foreground.** Pixels of no table colour, not the robot (``Frame.robot_mask``), cleaned by an opening,
   split by colour name into connected components as in the RGB-D path; a component the image's border cuts
   is not lifted (its bottom edge or width may be outside the image).
3. **Lifting.** Each component's pixel rays are met with the plane. Seen from the camera's foot on the
   plane, the component's nearest ground point is the object's bottom edge, its lateral extent the
   footprint's width, and the footprint is taken as deep as wide (round or square): the centre is half a
   width beyond the bottom edge. The farthest ground point is where the ray over the object's far top edge
   lands, which gives the height (``h = H (1 - (near + width) / far)``, ``H`` the camera's height above the
   plane), clipped to what objects measure.
4. **Parts** of one object that the light named in two colours (their footprints' centres within half a
   width, or the smaller's pixel box half covered by the larger's) are one object: the larger part's.
5. **Type** from the width, the height and the shape of the footprint (a wide low one is a bowl; tall and
   narrow, a cylinder; square, a block; round, a ball), **confidence** half what the colour alone would give:
   position and type are estimates, not measurements.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy as np

from groundsight.perception.colors import COLOR_NAMES, UNKNOWN
from groundsight.perception.frame import Frame
from groundsight.perception.objects import Evidence, SceneObject
from groundsight.perception.support import Plane

if TYPE_CHECKING:
    from groundsight.perception.perceivers.classical import ClassicalPerceiver

LAB_STEP = (16, 8, 8)
"""Bin sizes of OpenCV's 8-bit CIELAB (L, a, b) for the table's colours."""
TABLE_SHARE = 0.01
"""A colour bin is the table's when it holds at least this share of the plane's pixels ..."""
TABLE_SPREAD = 0.12
"""... spread across at least this share of the image's diagonal (standard deviation of its pixels' places)."""
MIN_PIXELS = 120
"""Smallest component that is lifted (pixels)."""
HEIGHT_RANGE = (0.02, 0.12)
"""Heights an RGB-only object may be given (metres)."""
WIDTH_RANGE = (0.02, 0.20)
"""Footprint widths an RGB-only object may have (metres); wider or narrower components are not objects."""
CONFIDENCE_FACTOR = 0.5
"""An RGB-only detection's confidence is this times its colour's clarity."""


def detect_rgb(perceiver: ClassicalPerceiver, frame: Frame, plane: Plane) -> list[SceneObject]:
    """Objects in an RGB-only ``frame`` whose pose is calibrated, standing on ``plane`` (world)."""
    cfg = perceiver.config
    leveller = plane.leveller(0.0)
    pose = leveller @ frame.T_world_cam
    ground, hits = _ground(frame, pose)
    on_plane = hits & _in_polygon(ground, cfg.workspace, leveller)
    if frame.robot_mask is not None:
        on_plane &= ~frame.robot_mask.astype(bool)
    if np.count_nonzero(on_plane) < 1000:
        return []
    fg = on_plane & ~_table_colours(frame.rgb, on_plane)
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    labels = perceiver.colors.classify_image(frame.rgb, fg)
    to_world = np.linalg.inv(leveller)
    camera = pose[:3, 3]
    out = []
    for label in range(len(COLOR_NAMES)):
        mask = (fg & (labels == label)).astype(np.uint8)
        if np.count_nonzero(mask) < MIN_PIXELS or label == UNKNOWN:
            continue
        n, cc, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for i in range(1, n):
            x, y, w, h = (int(val) for val in stats[i, :4])
            if (
                stats[i, cv2.CC_STAT_AREA] < MIN_PIXELS
                or x == 0
                or y == 0
                or x + w == fg.shape[1]
                or y + h == fg.shape[0]
            ):
                continue  # too small, or cut by the image's border: no bottom edge or width to lift from
            rows, cols = np.nonzero(cc == i)
            obj = _lift(perceiver, frame, label, rows, cols, ground[rows, cols], camera, to_world)
            if obj is not None:
                out.append(obj)
    return _absorb_parts(out)


def _absorb_parts(objects: list[SceneObject]) -> list[SceneObject]:
    """Drop a smaller detection whose footprint centre lies within a larger one's footprint, or whose pixel box
    the larger one's covers by half or more: a part of the same object that the light gave another colour
    name (a lit cap, a shaded side). Without depth, what a bowl holds (or an object half hidden behind
    another) cannot be told from such a part and is absorbed too."""
    kept: list[SceneObject] = []
    for obj in sorted(objects, key=lambda o: -o.evidence[0].pixels):
        host = next(
            (
                big
                for big in kept
                if math.dist(big.position[:2], obj.position[:2]) < 0.5 * max(big.extent[0], obj.extent[0])
                or _box_cover(obj.evidence[0].box, big.evidence[0].box) >= 0.5
            ),
            None,
        )
        if host is None:
            kept.append(obj)
    return kept


def _box_cover(small: tuple[int, int, int, int], big: tuple[int, int, int, int]) -> float:
    """Share of pixel box ``small`` that pixel box ``big`` covers."""
    w = min(small[2], big[2]) - max(small[0], big[0])
    h = min(small[3], big[3]) - max(small[1], big[1])
    area = max((small[2] - small[0]) * (small[3] - small[1]), 1)
    return max(w, 0) * max(h, 0) / area


def _ground(frame: Frame, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where every pixel's ray meets the level plane z = 0 of ``pose``'s frame (HxWx2), and where it does."""
    k = frame.intrinsics
    h, w = frame.rgb.shape[:2]
    u = (np.arange(w, dtype=np.float64) - k.cx) / k.fx
    v = (np.arange(h, dtype=np.float64) - k.cy) / k.fy
    rays = np.stack(np.broadcast_arrays(u[None, :], v[:, None], np.ones((h, w))), axis=-1) @ pose[:3, :3].T
    origin = pose[:3, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -origin[2] / rays[..., 2]
    hits = np.isfinite(t) & (t > 0) & (origin[2] > 0)
    ground = origin[:2] + np.where(hits[..., None], t[..., None], 0.0) * rays[..., :2]
    return ground, hits


def _in_polygon(ground: np.ndarray, polygon: tuple | None, leveller: np.ndarray) -> np.ndarray:
    """Pixels whose ground point lies in the world ``polygon`` (all when there is none)."""
    if polygon is None:
        return np.ones(ground.shape[:2], dtype=bool)
    world = np.asarray(polygon, dtype=np.float64)
    level = np.column_stack([world, np.zeros(len(world)), np.ones(len(world))]) @ leveller.T
    path = np.round(level[:, :2] * 1000).astype(np.int32).reshape(-1, 1, 2)  # millimetres
    lo = np.minimum(path.reshape(-1, 2).min(axis=0), 0) - 1
    pts = np.round(ground * 1000).astype(np.int64)
    size = (path.reshape(-1, 2).max(axis=0) - lo + 2).astype(int)
    canvas = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillPoly(canvas, [path - lo], 1)
    x, y = pts[..., 0] - lo[0], pts[..., 1] - lo[1]
    inside = (x >= 0) & (y >= 0) & (x < size[0]) & (y < size[1])
    out = np.zeros(ground.shape[:2], dtype=bool)
    out[inside] = canvas[y[inside], x[inside]] > 0
    return out


def _table_colours(rgb: np.ndarray, on_plane: np.ndarray) -> np.ndarray:
    """Pixels of the table's colours (see the module docstring), HxW bool."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    bins = (lab // np.asarray(LAB_STEP, dtype=np.uint8)).astype(np.int32)
    shape = tuple(256 // s + 1 for s in LAB_STEP)
    flat = np.ravel_multi_index((bins[..., 0], bins[..., 1], bins[..., 2]), shape)
    rows, cols = np.nonzero(on_plane)
    keys = flat[rows, cols]
    count = np.bincount(keys, minlength=int(np.prod(shape)))
    spread_r = np.sqrt(np.maximum(_bin_mean(keys, rows**2, count) - _bin_mean(keys, rows, count) ** 2, 0))
    spread_c = np.sqrt(np.maximum(_bin_mean(keys, cols**2, count) - _bin_mean(keys, cols, count) ** 2, 0))
    diagonal = math.hypot(*rgb.shape[:2])
    table = (count >= TABLE_SHARE * len(keys)) & (np.hypot(spread_r, spread_c) >= TABLE_SPREAD * diagonal)
    grid = table.reshape(shape)
    grown = cv2.dilate(grid.reshape(shape[0], -1).astype(np.uint8), np.ones((3, 1), np.uint8)).reshape(shape)
    grown = np.maximum(grown, _neighbours_ab(grid))
    for lower in range(1, 4):  # shadows: the same chromaticity, darker
        grown[:-lower] |= grid[lower:]
    return grown.astype(bool).reshape(-1)[flat]


def _bin_mean(keys: np.ndarray, values: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Mean of ``values`` per bin ``keys`` (0 for empty bins)."""
    total = np.bincount(keys, weights=values.astype(np.float64), minlength=len(count))
    return total / np.maximum(count, 1)


def _neighbours_ab(grid: np.ndarray) -> np.ndarray:
    """``grid`` grown by one bin in a and b (uint8)."""
    out = grid.astype(np.uint8)
    for da in (-1, 0, 1):
        for db in (-1, 0, 1):
            out |= np.roll(np.roll(grid, da, axis=1), db, axis=2).astype(np.uint8)
    return out


def _lift(
    perceiver: ClassicalPerceiver,
    frame: Frame,
    label: int,
    rows: np.ndarray,
    cols: np.ndarray,
    ground: np.ndarray,
    camera: np.ndarray,
    to_world: np.ndarray,
) -> SceneObject | None:
    """One component lifted onto the plane (see the module docstring), or None if it is no object."""
    foot = camera[:2]
    rel = ground - foot
    axis = rel.mean(axis=0)
    radial = float(np.linalg.norm(axis))
    u = axis / radial if radial > 1e-6 else np.array([1.0, 0.0])
    v = np.array([-u[1], u[0]])
    ru, rv = rel @ u, rel @ v
    near, far = np.percentile(ru, [1, 99])
    low = ru <= near + 0.4 * (far - near)  # the lower part: bottom and sides, least stretched by perspective
    left, right = np.percentile(rv[low] if np.count_nonzero(low) >= 20 else rv, [1, 99])
    width = float(right - left)
    if not WIDTH_RANGE[0] <= width <= WIDTH_RANGE[1]:
        return None
    height_cam = float(camera[2])
    reach = near + width
    height = height_cam * (1.0 - reach / far) if far > 1e-6 else HEIGHT_RANGE[0]
    if height > 1.5 * HEIGHT_RANGE[1]:
        return None  # far taller than any object: a part of the robot, a wall
    height = float(np.clip(height, *HEIGHT_RANGE))
    centre = foot + (near + width / 2) * u + (left + right) / 2 * v
    kind = _type(width, height, ground)
    world = to_world @ np.array([centre[0], centre[1], height / 2, 1.0])
    turn = math.atan2(to_world[1, 0], to_world[0, 0])
    colour = perceiver.colors.confidence(
        frame.rgb[rows[:: max(1, len(rows) // 256)], cols[:: max(1, len(cols) // 256)]]
    )
    return SceneObject(
        id=f"{COLOR_NAMES[label]}_{kind}",
        type=kind,
        color=COLOR_NAMES[label],
        size=_size(kind, width),
        position=(float(world[0]), float(world[1]), float(world[2])),
        extent=(width, width, height),
        yaw=float(turn),
        confidence=round(float(np.clip(CONFIDENCE_FACTOR * colour, 0.0, 1.0)), 4),
        evidence=(
            Evidence(
                camera=frame.camera,
                box=(int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1),
                pixels=len(rows),
            ),
        ),
    )


def _type(width: float, height: float, ground: np.ndarray) -> str:
    """A type word from the footprint's width, the height and how square the ground points' hull is."""
    if width >= 0.085:
        return "bowl"
    if height >= 1.2 * width:
        return "cylinder"
    hull = cv2.convexHull(np.ascontiguousarray(ground, dtype=np.float32))
    rect = cv2.minAreaRect(hull)
    fill = float(cv2.contourArea(hull)) / max(rect[1][0] * rect[1][1], 1e-9)
    return "block" if fill >= 0.9 else "ball"


def _size(kind: str, width: float) -> str:
    """The catalogue size nearest to ``width`` for ``kind``."""
    from groundsight.perception.perceivers.classical import CATALOGUE

    model = next(m for m in CATALOGUE if m.type == kind)
    return min(model.sizes, key=lambda s: abs(model.sizes[s][0] - width))
