"""Simulated RGB-D cameras that produce :class:`perception.Frame` objects."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet as p

from perception.frame import CameraIntrinsics, Frame

# OpenGL camera (y up, looking along -z) to OpenCV camera (y down, looking along +z).
_GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])


@dataclass(frozen=True)
class CameraConfig:
    """A fixed camera: where it is, where it looks, and its image."""

    name: str = "top"
    eye: tuple[float, float, float] = (0.52, 0.0, 1.0)
    target: tuple[float, float, float] = (0.52, 0.0, 0.0)
    up: tuple[float, float, float] = (1.0, 0.0, 0.0)
    fov_deg: float = 45.0
    width: int = 640
    height: int = 480
    near: float = 0.05
    far: float = 3.0


class SimCamera:
    """A fixed simulated RGB-D camera; implements :class:`perception.CameraSource`."""

    def __init__(self, client: int, config: CameraConfig | None = None, clock=lambda: 0.0) -> None:
        self.client = client
        self.config = config or CameraConfig()
        self.name = self.config.name
        self._clock = clock
        c = self.config
        self._view = p.computeViewMatrix(c.eye, c.target, c.up, physicsClientId=client)
        self._proj = p.computeProjectionMatrixFOV(c.fov_deg, c.width / c.height, c.near, c.far, physicsClientId=client)
        fy = (c.height / 2) / math.tan(math.radians(c.fov_deg) / 2)
        # TinyRenderer's principal point, measured by projecting known points (see tests/test_perception.py)
        self.intrinsics = CameraIntrinsics(c.width, c.height, fy, fy, c.width / 2, c.height / 2 - 1)
        view = np.asarray(self._view, dtype=np.float64).reshape(4, 4).T  # world -> GL camera
        self.T_world_cam = np.linalg.inv(view) @ _GL_TO_CV

    def read(self) -> Frame:
        """Render the scene and return an RGB-D frame with the simulator's instance segmentation."""
        c = self.config
        _, _, rgba, depth_buf, seg = p.getCameraImage(
            c.width,
            c.height,
            viewMatrix=self._view,
            projectionMatrix=self._proj,
            renderer=p.ER_TINY_RENDERER,
            physicsClientId=self.client,
        )
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(c.height, c.width, 4)[:, :, :3].copy()
        d = np.asarray(depth_buf, dtype=np.float32).reshape(c.height, c.width)
        depth = (c.far * c.near / (c.far - (c.far - c.near) * d)).astype(np.float32)
        segmentation = np.asarray(seg, dtype=np.int32).reshape(c.height, c.width)
        return Frame(
            rgb=rgb,
            depth=depth,
            intrinsics=self.intrinsics,
            T_world_cam=self.T_world_cam,
            t=self._clock(),
            camera=self.name,
            segmentation=segmentation,
        )
