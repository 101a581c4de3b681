"""Camera calibration files (YAML): intrinsics, distortion, camera pose and depth scale.

The format, every field in metres or pixels::

    intrinsics:                 # required: pinhole intrinsics of the images as they are stored
      width: 640
      height: 480
      fx: 579.4
      fy: 579.4
      cx: 320.0
      cy: 240.0
    distortion: [0, 0, 0, 0, 0] # optional: OpenCV k1, k2, p1, p2, k3 (default all zero: no undistortion)
    T_world_cam:                # optional: 4x4 pose of the camera in the world frame (default identity)
      - [1, 0, 0, 0.52]         #   it maps a point in OpenCV camera coordinates (x right, y down,
      - [0, -1, 0, 0.0]         #   z forward along the optical axis) to world coordinates; last row 0 0 0 1,
      - [0, 0, -1, 1.0]         #   rotation part orthonormal with determinant +1
      - [0, 0, 0, 1]
    depth_scale: 0.001          # optional: metres per depth unit (default 0.001: 16-bit PNG in millimetres)
    workspace:                  # optional: the workspace polygon in the table plane (world x, y in metres, at
      - [0.25, -0.35]           #   least 3 vertices); nothing outside it is an object (a perceiver that
      - [0.80, -0.35]           #   takes it, e.g. ClassicalConfig(workspace=...), drops what lies outside)
      - [0.80, 0.35]
      - [0.25, 0.35]
    support_plane: [0, 0, 1, 0]  # optional: the table plane a x + b y + c z + d = 0 (world; default z = 0), the
                                #   prior around which each frame's plane is fitted from depth, and the plane
                                #   RGB-only frames are lifted onto
    keep_out:                   # optional: world boxes that are never an object (the robot's base and reach, a
      - {min: [-0.2, -0.2, 0.0], max: [0.15, 0.2, 1.2]}   # fixture); min <= max on every axis

:func:`load_calibration` reports every problem as one line ``FILE: FIELD: PROBLEM`` (:class:`CalibrationError`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from groundsight.inputs import InputFileError, load_yaml_file
from groundsight.perception.frame import CameraIntrinsics
from groundsight.perception.validation import describe_error, field_path


class CalibrationError(InputFileError):
    """A calibration file is invalid. ``str()`` is one line: ``FILE: FIELD: PROBLEM``."""


MAX_IMAGE_SIDE = 16384
"""Largest image width or height a calibration may declare, in pixels."""


class IntrinsicsSpec(BaseModel):
    """Pinhole intrinsics in pixels."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    width: int = Field(gt=0, le=MAX_IMAGE_SIDE)
    height: int = Field(gt=0, le=MAX_IMAGE_SIDE)
    fx: float = Field(gt=0)
    fy: float = Field(gt=0)
    cx: float
    cy: float


class KeepOutBox(BaseModel):
    """An axis-aligned world box (metres) that is never an object: the robot's base and reach, a fixture."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    min: list[float] = Field(min_length=3, max_length=3, description="[x, y, z] of the lower corner")
    max: list[float] = Field(min_length=3, max_length=3, description="[x, y, z] of the upper corner")

    @field_validator("max")
    @classmethod
    def _above_min(cls, v: list[float], info: Any) -> list[float]:
        lo = info.data.get("min")
        if lo is not None and any(a > b for a, b in zip(lo, v, strict=True)):
            raise ValueError(f"must be >= min on every axis, got min {lo} and max {v}")
        return v

    def as_tuple(self) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """``((x0, y0, z0), (x1, y1, z1))``."""
        return (tuple(self.min), tuple(self.max))  # type: ignore[return-value]


class Calibration(BaseModel):
    """One camera's calibration; see the module docstring for the file format."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    intrinsics: IntrinsicsSpec
    distortion: list[float] = Field(default_factory=lambda: [0.0] * 5, min_length=5, max_length=5)
    T_world_cam: list[list[float]] = Field(  # noqa: N815 - the usual name
        default_factory=lambda: np.eye(4).tolist(),
        description="4x4 camera pose in the world frame, OpenCV camera convention",
    )
    depth_scale: float = Field(default=0.001, gt=0, description="metres per depth unit")
    workspace: list[list[float]] | None = Field(
        default=None,
        description="workspace polygon in the table plane (world x, y, metres); nothing outside is an object",
    )

    support_plane: list[float] | None = Field(
        default=None,
        min_length=4,
        max_length=4,
        description="table plane [a, b, c, d] of a x + b y + c z + d = 0 in world coordinates (default z = 0)",
    )
    keep_out: list[KeepOutBox] = Field(default_factory=list, description="world boxes that are never an object")

    @field_validator("support_plane")
    @classmethod
    def _valid_plane(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and not any(abs(c) > 1e-9 for c in v[:3]):
            raise ValueError("the normal [a, b, c] must not be zero")
        if v is not None and abs(v[2]) < 0.5 * float(np.linalg.norm(v[:3])):
            raise ValueError("the plane must face up (|c| at least half the normal's length: tilted under 60 deg)")
        return v

    @field_validator("workspace")
    @classmethod
    def _valid_workspace(cls, v: list[list[float]] | None) -> list[list[float]] | None:
        if v is not None and len(v) < 3:
            raise ValueError(f"needs at least 3 vertices [x, y], got {len(v)}")
        if v is not None and any(len(vertex) != 2 for vertex in v):
            raise ValueError("every vertex must be [x, y] (world metres in the table plane)")
        return v

    @field_validator("T_world_cam")
    @classmethod
    def _valid_pose(cls, v: list[list[float]]) -> list[list[float]]:
        m = np.asarray(v, dtype=float) if all(len(row) == 4 for row in v) else None
        if m is None or m.shape != (4, 4):
            raise ValueError("must be a 4x4 matrix (4 rows of 4 numbers)")
        if not np.allclose(m[3], [0, 0, 0, 1], atol=1e-6):
            raise ValueError(f"last row must be [0, 0, 0, 1], got {m[3].tolist()}")
        r = m[:3, :3]
        with np.errstate(all="ignore"):  # huge entries overflow; they are refused just below
            proper = np.allclose(r.T @ r, np.eye(3), atol=1e-3) and np.linalg.det(r) > 0
        if not proper:
            raise ValueError("rotation part is not a proper rotation (orthonormal, determinant +1)")
        return v

    @property
    def camera_intrinsics(self) -> CameraIntrinsics:
        """The intrinsics as a :class:`~perception.frame.CameraIntrinsics`."""
        i = self.intrinsics
        return CameraIntrinsics(i.width, i.height, i.fx, i.fy, i.cx, i.cy)

    @property
    def pose(self) -> np.ndarray:
        """``T_world_cam`` as a 4x4 float array."""
        return np.asarray(self.T_world_cam, dtype=float)

    @property
    def dist_coeffs(self) -> np.ndarray:
        """Distortion coefficients as OpenCV expects them."""
        return np.asarray(self.distortion, dtype=float)

    @property
    def distorted(self) -> bool:
        """True when any distortion coefficient is non-zero (images need undistorting)."""
        return any(abs(c) > 0 for c in self.distortion)

    def perception_options(self) -> dict[str, Any]:
        """What a perceiver that takes them (``ClassicalConfig``) gets from this calibration: the workspace
        polygon, the support plane (prior of the fit, plane of RGB-only lifting) and the keep-out boxes."""
        return {
            "workspace": None if self.workspace is None else tuple(tuple(v) for v in self.workspace),
            "plane": None if self.support_plane is None else tuple(self.support_plane),
            "keep_out": tuple(box.as_tuple() for box in self.keep_out),
            "lift_rgb": True,
        }

    def to_yaml(self) -> str:
        """This calibration as YAML text in the file format."""
        return yaml.safe_dump(self.model_dump(), sort_keys=False)


def configure_perceiver(perceiver: Any, calibration: Calibration) -> list[str]:
    """Give ``perceiver`` (or the perceiver it wraps) the calibration's :meth:`~Calibration.perception_options`
    when its ``config`` is a dataclass that has those fields; returns the names of the options applied."""
    target = getattr(perceiver, "inner", perceiver)
    config = getattr(target, "config", None)
    if config is None or not dataclasses.is_dataclass(config):
        return []
    fields = {f.name for f in dataclasses.fields(config)}
    options = {k: v for k, v in calibration.perception_options().items() if k in fields}
    if options:
        target.config = dataclasses.replace(config, **options)
    return sorted(options)


def parse_calibration(data: Any, path: str | Path = "<calibration>") -> Calibration:
    """Validate already-loaded YAML data; raise :class:`CalibrationError` with a one-line message."""
    if not isinstance(data, dict):
        raise CalibrationError(path, "(top level)", "must be a mapping (intrinsics, distortion, T_world_cam, ...)")
    try:
        return Calibration.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise CalibrationError(path, field_path(error["loc"]), describe_error(error)) from None


def load_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration YAML file; :class:`CalibrationError` (one line) on any problem."""
    try:
        data = load_yaml_file(path)
    except InputFileError as exc:
        raise CalibrationError(exc.path, exc.field, exc.problem) from None
    return parse_calibration(data, path)
