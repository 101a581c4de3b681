"""Camera frames and the camera-source protocol.

Camera coordinates follow the OpenCV convention: x right, y down, z forward along the optical axis.
``Frame.T_world_cam`` maps a point in those camera coordinates to the world frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics in pixels."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - the usual name
        """3x3 camera matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Frame:
    """One RGB-D observation.

    Attributes:
        rgb: HxWx3 uint8 image.
        depth: HxW float32 depth in metres along the optical axis, or None for an RGB-only camera.
        intrinsics: pinhole intrinsics of this image.
        T_world_cam: 4x4 pose of the camera (OpenCV convention) in the world frame.
        t: timestamp in seconds (simulated time for the simulator).
        camera: name of the camera that produced the frame.
        segmentation: optional HxW int32 instance ids; only a simulator can provide it.
        robot_mask: optional HxW bool, True where the robot itself shows (its links at their current poses,
            from a simulator or a robot interface): never an object.
    """

    rgb: np.ndarray
    depth: np.ndarray | None
    intrinsics: CameraIntrinsics
    T_world_cam: np.ndarray
    t: float = 0.0
    camera: str = "camera"
    segmentation: np.ndarray | None = field(default=None, repr=False)
    robot_mask: np.ndarray | None = field(default=None, repr=False)

    def points_world(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Back-project depth pixels (all, or those in ``mask``) to an Nx3 array of world points."""
        if self.depth is None:
            raise ValueError(f"camera {self.camera!r} has no depth; cannot back-project")
        v, u = np.nonzero(mask) if mask is not None else np.indices(self.depth.shape).reshape(2, -1)
        z = self.depth[v, u].astype(np.float64)
        k = self.intrinsics
        cam = np.stack([(u - k.cx) * z / k.fx, (v - k.cy) * z / k.fy, z, np.ones_like(z)])
        return (self.T_world_cam @ cam)[:3].T

    def height_map(self) -> np.ndarray:
        """World z of every pixel (HxW), from depth."""
        return self.points_world()[:, 2].reshape(self.depth.shape)  # type: ignore[union-attr]


@runtime_checkable
class CameraSource(Protocol):
    """Anything that yields frames: a simulated camera, a USB camera, a video file, an image folder."""

    name: str

    def read(self) -> Frame:
        """Return the newest frame, or raise ``CameraError`` with a one-line reason."""
        ...


class CameraError(RuntimeError):
    """A camera could not deliver a frame (stopped, missing, stalled)."""
