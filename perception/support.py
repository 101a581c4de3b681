"""The support surface (the table top) as a plane fitted to the depth, with the calibration's plane as prior.

A plane is ``n . x + offset = 0`` in world coordinates, ``n`` a unit normal pointing up. :func:`fit_plane`
finds the plane that the most depth points lie on (RANSAC, seeded: the same frame gives the same plane) among
planes near the prior (tilted at most ``max_tilt_deg`` from it, within ``max_offset`` of it where the points
are), refines it by least squares on its inliers, and falls back to the prior, saying why, when too few points
support any plane. :meth:`Plane.leveller` gives the rigid transform that puts the plane at a given height,
level, so that a perceiver built for a horizontal table at ``z = table_z`` works on any table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Plane:
    """A plane ``normal . x + offset = 0`` (world metres); ``normal`` is a unit vector pointing up."""

    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    offset: float = 0.0

    @classmethod
    def horizontal(cls, z: float) -> Plane:
        """The level plane at height ``z``."""
        return cls((0.0, 0.0, 1.0), -float(z))

    @classmethod
    def from_coefficients(cls, coefficients: tuple[float, float, float, float]) -> Plane:
        """The plane ``a x + b y + c z + d = 0`` (normalised, turned to point up)."""
        n = np.asarray(coefficients[:3], dtype=np.float64)
        norm = float(np.linalg.norm(n))
        if norm == 0:
            raise ValueError("a plane needs a non-zero normal (a, b, c)")
        sign = 1.0 if n[2] >= 0 else -1.0
        return cls(tuple((sign * n / norm).tolist()), sign * float(coefficients[3]) / norm)  # type: ignore[arg-type]

    def height(self, points: np.ndarray) -> np.ndarray:
        """Signed distance of Nx3 ``points`` above the plane."""
        return points @ np.asarray(self.normal) + self.offset

    def tilt_deg(self, other: Plane) -> float:
        """Angle between this plane's normal and ``other``'s, in degrees."""
        cos = float(np.clip(np.dot(self.normal, other.normal), -1.0, 1.0))
        return math.degrees(math.acos(cos))

    def leveller(self, table_z: float) -> np.ndarray:
        """4x4 rigid transform from world to a frame where this plane is level at ``z = table_z``.

        The rotation is the smallest one that turns the normal to +z (a level plane gives a pure lift)."""
        n = np.asarray(self.normal, dtype=np.float64)
        axis = np.cross(n, [0.0, 0.0, 1.0])
        s, c = float(np.linalg.norm(axis)), float(n[2])
        rot = np.eye(3)
        if s > 1e-12:
            k = axis / s
            kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
            rot = np.eye(3) + s * kx + (1 - c) * kx @ kx
        out = np.eye(4)
        out[:3, :3] = rot
        out[2, 3] = self.offset + table_z  # (R x)_z = n . x, so a point on the plane lands at table_z
        return out

    def describe(self) -> str:
        """One line: normal and offset, rounded."""
        n = ", ".join(f"{v:+.4f}" for v in self.normal)
        return f"normal [{n}], offset {self.offset:+.4f} m"


def fit_plane(
    points: np.ndarray,
    prior: Plane,
    *,
    max_offset: float = 0.10,
    max_tilt_deg: float = 20.0,
    inlier: float = 0.004,
    iterations: int = 96,
    score_points: int = 2000,
    min_points: int = 200,
    min_share: float = 0.15,
    seed: int = 0,
) -> tuple[Plane, str]:
    """The support plane of Nx3 world ``points`` near ``prior``, and how it was found.

    Returns ``(plane, "fitted: ...")`` or ``(prior, "prior: <why>")`` when no plane near the prior holds at
    least ``min_points`` and ``min_share`` of the points near the prior. Candidates are scored on at most
    ``score_points`` of the points (drawn with the seed); the refit and the support count use all of them.
    Deterministic for given points.
    """
    pts = points[np.isfinite(points).all(axis=1)]
    near = pts[np.abs(prior.height(pts)) < max_offset]
    if len(near) < max(min_points, 3):
        return prior, f"prior: {len(near)} depth points near the calibration's plane"
    rng = np.random.default_rng(seed)
    trio = near[rng.integers(0, len(near), size=(iterations, 3))]
    normals = np.cross(trio[:, 1] - trio[:, 0], trio[:, 2] - trio[:, 0])
    norms = np.linalg.norm(normals, axis=1)
    ok = norms > 1e-9
    normals[ok] /= norms[ok, None]
    normals *= np.where(normals @ np.asarray(prior.normal) < 0, -1.0, 1.0)[:, None]
    ok &= normals @ np.asarray(prior.normal) >= math.cos(math.radians(max_tilt_deg))
    if not ok.any():
        return prior, "prior: no plane within the tilt limit"
    normals, anchors = normals[ok], trio[ok, 0]
    offsets = -np.einsum("ij,ij->i", normals, anchors)
    sample = near if len(near) <= score_points else near[rng.choice(len(near), score_points, replace=False)]
    counts = (np.abs(sample @ normals.T + offsets) < inlier).sum(axis=0)
    best = int(np.argmax(counts))
    inliers = near[np.abs(near @ normals[best] + offsets[best]) < inlier]
    plane = _refine(inliers, prior) if len(inliers) >= 3 else prior
    support = int(np.count_nonzero(np.abs(plane.height(near)) < inlier))
    if support < max(min_points, min_share * len(near)):
        return prior, f"prior: the best plane holds {support} of {len(near)} points near the calibration's"
    if plane.tilt_deg(prior) > max_tilt_deg:
        return prior, "prior: the refined plane tilts beyond the limit"
    return plane, f"fitted: {plane.describe()} ({support} of {len(near)} points)"


def _refine(inliers: np.ndarray, prior: Plane) -> Plane:
    """Least-squares plane through ``inliers``, its normal on the prior's side."""
    centre = inliers.mean(axis=0)
    normal = np.linalg.svd(inliers - centre, full_matrices=False)[2][2]
    if normal @ np.asarray(prior.normal) < 0:
        normal = -normal
    return Plane(tuple(normal.tolist()), -float(normal @ centre))  # type: ignore[arg-type]
