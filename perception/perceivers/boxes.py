"""Pixel boxes <-> 3D boxes: lifting a 2D detection to the world with depth, projecting a 3D box back, and
fusing what several cameras saw.

Shared by the perceivers that report 2D boxes (``vlm``, ``detector``), those that fabricate evidence
(``noisy``) and, for fusion, ``classical``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from groundsight.perception.frame import Frame
from groundsight.perception.objects import SceneObject
from groundsight.perception.perceivers.base import PerceptionError

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class LiftedBox:
    """A pixel box lifted to the world: the centre and full size of its axis-aligned 3D box (metres)."""

    position: tuple[float, float, float]
    extent: tuple[float, float, float]
    pixels: int
    """Foreground pixels inside the box that the 3D box rests on (0 when lifted from the corners alone)."""


@dataclass(frozen=True)
class Detection2D:
    """One object a 2D model found in one frame: its type, colour, pixel box and confidence.

    Shared by the ``vlm`` perceivers (the model named it) and the ``detector`` (a query phrase found it).
    """

    type: str
    color: str | None
    """None: the model named no colour (it is read from the box's pixels)."""
    box: tuple[float, float, float, float]
    """x0, y0, x1, y1 in pixels (end exclusive), not yet clipped to the image."""
    confidence: float | None = None
    """None: the model gave none (the perceiver's default is used)."""
    point: tuple[float, float] | None = None
    """Where the model pointed (families that answer points, not boxes); ``box`` is then that point."""
    phrase: str = ""
    """The query phrase that found it (``detector``)."""


def clip_box(box: tuple[float, float, float, float], width: int, height: int) -> Box | None:
    """``box`` (x0, y0, x1, y1; end exclusive) rounded and clipped to the image; None if nothing is left."""
    x0, y0, x1, y1 = (round(float(v)) for v in box)
    x0, x1 = sorted((max(0, min(width, x0)), max(0, min(width, x1))))
    y0, y1 = sorted((max(0, min(height, y0)), max(0, min(height, y1))))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return (x0, y0, x1, y1)


def _backproject(frame: Frame, u: np.ndarray, v: np.ndarray, z: np.ndarray) -> np.ndarray:
    """World points (Nx3) of pixels ``u, v`` at depth ``z`` along the optical axis."""
    k = frame.intrinsics
    cam = np.stack([(u - k.cx) * z / k.fx, (v - k.cy) * z / k.fy, z, np.ones_like(z)])
    return (frame.T_world_cam @ cam)[:3].T


def lift_box(
    frame: Frame,
    box: Box,
    table_z: float = 0.0,
    min_height: float = 0.003,
    max_height: float = 0.30,
    min_pixels: int = 8,
) -> LiftedBox | None:
    """Lift a pixel box to a 3D box with the frame's depth.

    The box's *foreground* pixels are those whose depth puts them between ``min_height`` and ``max_height``
    above the table plane (the table around an object never is). Their median depth is the object's
    distance; they are back-projected to world points, whose robust x, y range (2nd to 98th percentile)
    gives the footprint and whose high percentile gives the top; the bottom is the table (objects are
    assumed to rest on it, as a 2D box cannot tell more). With fewer than ``min_pixels`` foreground
    pixels, the box's corners are back-projected at the median depth of the whole box instead (a flat
    footprint at that depth).

    Returns None when the frame has no depth or the box holds no valid depth at all.
    """
    if frame.depth is None:
        return None
    x0, y0, x1, y1 = box
    depth = frame.depth[y0:y1, x0:x1].astype(np.float64)
    if depth.size == 0:
        return None
    vv, uu = np.mgrid[y0:y1, x0:x1]
    u, v, z = uu.ravel().astype(np.float64), vv.ravel().astype(np.float64), depth.ravel()
    valid = np.isfinite(z) & (z > 0)
    if not np.any(valid):
        return None
    u, v, z = u[valid], v[valid], z[valid]
    pts = _backproject(frame, u, v, z)
    h = pts[:, 2] - table_z
    fg = (h > min_height) & (h < max_height)
    if int(np.count_nonzero(fg)) >= min_pixels:
        zf = z[fg]
        med = float(np.median(zf))
        # Keep the pixels near the median depth: what is far behind or in front is another object's.
        near = fg & (np.abs(z - med) < 0.15)
        p = pts[near] if np.count_nonzero(near) >= min_pixels else pts[fg]
        lo = np.percentile(p[:, :2], 2, axis=0)
        hi = np.percentile(p[:, :2], 98, axis=0)
        top = float(np.percentile(p[:, 2], 97))
        bottom = table_z
        cx, cy = (lo + hi) / 2
        ex, ey = np.maximum(hi - lo, 0.005)
        return LiftedBox(
            position=(float(cx), float(cy), (top + bottom) / 2),
            extent=(float(ex), float(ey), max(top - bottom, 0.005)),
            pixels=int(np.count_nonzero(fg)),
        )
    med = float(np.median(z))
    cu = np.array([x0, x1, x1, x0, (x0 + x1) / 2], dtype=np.float64)
    cv = np.array([y0, y0, y1, y1, (y0 + y1) / 2], dtype=np.float64)
    corners = _backproject(frame, cu, cv, np.full(5, med))
    lo, hi = corners[:4, :2].min(axis=0), corners[:4, :2].max(axis=0)
    zc = float(max(corners[4, 2], table_z))
    return LiftedBox(
        position=(float(corners[4, 0]), float(corners[4, 1]), zc),
        extent=(float(hi[0] - lo[0]), float(hi[1] - lo[1]), 0.005),
        pixels=0,
    )


def project_box(frame: Frame, position: tuple[float, float, float], extent: tuple[float, float, float]) -> Box | None:
    """Pixel box (clipped to the image) of an axis-aligned 3D box seen by ``frame``'s camera.

    None if any corner lies behind the camera or the box falls outside the image.
    """
    c = np.asarray(position, dtype=np.float64)
    half = np.asarray(extent, dtype=np.float64) / 2
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
    corners = c + signs * half
    cam = np.linalg.inv(frame.T_world_cam) @ np.column_stack([corners, np.ones(8)]).T
    z = cam[2]
    if np.any(z <= 1e-6):
        return None
    k = frame.intrinsics
    u = k.fx * cam[0] / z + k.cx
    v = k.fy * cam[1] / z + k.cy
    return clip_box((u.min(), v.min(), u.max() + 1, v.max() + 1), k.width, k.height)


def fuse(per_frame: Sequence[Sequence[SceneObject]], distance: float, *, vote_type: bool = False) -> list[SceneObject]:
    """Merge the views of one object seen by several cameras into one object.

    Objects are taken surest first; each joins the first cluster whose lead (its surest member) it matches
    and that holds no view from its camera, or starts a cluster. The merged object is the lead with the
    members' weighted mean position and extent and every member's evidence.

    Args:
        per_frame: the objects seen by each camera.
        distance: how close (metres) two views' centres must be to be one object.
        vote_type: False (2D-box perceivers): views match when colour and type agree and their centres are
            closer than ``distance``; weights are the confidences; the merged confidence is the best one.
            True (classical): views match on colour alone, horizontal distance and height difference each
            under ``distance``; the type is voted (confidence squared times pixels), the views of that type
            are merged (weights confidence times pixels), and the confidence is the winning vote's share
            times its best view's.
    """
    order = _surest_first_then_place if vote_type else _surest_first
    matches = _same_colour_nearby if vote_type else _same_name_nearby
    flat = sorted((o for objs in per_frame for o in objs), key=order)
    clusters: list[list[SceneObject]] = []
    for obj in flat:
        for cluster in clusters:
            if matches(cluster[0], obj, distance) and all(
                e.camera != obj.evidence[0].camera for m in cluster for e in m.evidence
            ):
                cluster.append(obj)
                break
        else:
            clusters.append([obj])
    return [_merge_by_type_vote(c) if vote_type else _merge(c) for c in clusters]


def _surest_first(obj: SceneObject) -> tuple[float, str, str]:
    """Sort key: surest first, then by name (ties keep the cameras' order)."""
    return (-obj.confidence, obj.color, obj.type)


def _surest_first_then_place(obj: SceneObject) -> tuple[float, str, str, tuple[float, float, float]]:
    """Sort key: surest first, then by name, then by position."""
    return (-obj.confidence, obj.color, obj.type, obj.position)


def _same_name_nearby(lead: SceneObject, obj: SceneObject, distance: float) -> bool:
    """Same colour and type, 3D centres closer than ``distance``."""
    return (lead.color, lead.type) == (obj.color, obj.type) and math.dist(lead.position, obj.position) < distance


def _same_colour_nearby(lead: SceneObject, obj: SceneObject, distance: float) -> bool:
    """Same colour, horizontal distance and height difference each under ``distance`` (any type)."""
    return (
        lead.color == obj.color
        and math.dist(lead.position[:2], obj.position[:2]) < distance
        and abs(lead.position[2] - obj.position[2]) < distance
    )


def _merged(
    lead: SceneObject,
    members: Sequence[SceneObject],
    weights: np.ndarray,
    confidence: float,
    evidence_of: Sequence[SceneObject],
) -> SceneObject:
    """``lead`` with the members' weighted mean position and extent, ``confidence`` and all evidence."""
    pos = np.average([o.position for o in members], axis=0, weights=weights)
    ext = np.average([o.extent for o in members], axis=0, weights=weights)
    return lead.model_copy(
        update={
            "position": tuple(float(v) for v in pos),
            "extent": tuple(float(v) for v in ext),
            "confidence": confidence,
            "evidence": tuple(e for o in evidence_of for e in o.evidence),
        }
    )


def _merge(cluster: Sequence[SceneObject]) -> SceneObject:
    """One object of views that agree on colour and type, weighted by confidence."""
    weights = np.array([max(o.confidence, 1e-3) for o in cluster])
    return _merged(cluster[0], cluster, weights, max(o.confidence for o in cluster), cluster)


def _pixels(obj: SceneObject) -> int:
    """Pixels of all the object's evidence (at least 1)."""
    return max(sum(e.pixels for e in obj.evidence), 1)


def _merge_by_type_vote(cluster: Sequence[SceneObject]) -> SceneObject:
    """One object of same-coloured views: the type most views vote for (a sure view counts more than a large
    one: a cup seen from the side is big but unsure), merged from the views of that type."""
    weights = np.array([o.confidence**2 * _pixels(o) for o in cluster])
    weights = weights / weights.sum()
    votes: dict[str, float] = {}
    for o, w in zip(cluster, weights, strict=True):
        votes[o.type] = votes.get(o.type, 0.0) + float(w)
    best_type = max(sorted(votes), key=lambda t: votes[t])
    members = [o for o in cluster if o.type == best_type]
    member_weights = np.array([o.confidence * _pixels(o) for o in members])
    member_weights = member_weights / member_weights.sum()
    confidence = round(float(votes[best_type] * max(o.confidence for o in members)), 4)
    return _merged(members[0], members, member_weights, confidence, cluster)


def torch_dtype(name: str | None, device: str, who: str) -> Any:
    """The torch dtype called ``name`` (default: bfloat16 on cuda, float32 elsewhere); one-line error if unknown."""
    import torch

    name = name or ("bfloat16" if device.startswith("cuda") else "float32")
    dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if name not in dtypes:
        raise PerceptionError(f"{who}: unknown dtype {name!r}; known: {', '.join(dtypes)}")
    return dtypes[name]


def load_pretrained(processor_cls: Any, model_cls: Any, path: str, device: str, dtype: str | None, who: str):
    """Processor and model from a local folder or hub id via ``from_pretrained``, on ``device``, in eval
    mode; any failure becomes one :class:`PerceptionError` line naming ``who`` and the path."""
    from transformers.utils import logging as hf_logging

    torch_type = torch_dtype(dtype, device, who)
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a "Loading weights" bar per episode would bury the run's own output
    try:
        processor = processor_cls.from_pretrained(path)
        model = model_cls.from_pretrained(path, dtype=torch_type)
        model.to(device)
        model.eval()
    except Exception as exc:  # noqa: BLE001 - any loading failure becomes one clear line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PerceptionError(f"{who}: cannot load model {path!r}: {first}") from exc
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    return processor, model
