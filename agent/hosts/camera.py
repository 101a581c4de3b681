"""A ready camera source for a user's own PyBullet world: renders from their client, returns groundsight Frames.

    >>> camera = PyBulletCamera(client_id, fov_deg=45, width=640, height=480,
    ...                         eye=(0, 0, 0.9), target=(0, 0, 0), up=(1, 0, 0))   # doctest: +SKIP
    >>> frame = camera.read()  # RGB, depth in metres, K, T_world_cam (OpenCV convention)

The pose is given in the host's world frame (``eye``/``target``/``up``, or a 4x4 ``T_world_cam`` in the
OpenCV convention: x right, y down, z along the optical axis). ``world_from_host`` maps the host's world
frame to the frame the agent reasons in (the robot base at the origin, z up, the table top at z = 0); frames
report their pose in that frame. Bodies listed in ``hide`` (a goal marker, a ghost) are made invisible while
the camera renders and restored afterwards: a host's markers are not objects, and the host exports them as
named places instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pybullet as p

from groundsight.perception.frame import CameraIntrinsics, Frame
from groundsight.sim.camera import CameraConfig, SimCamera

Vec3 = tuple[float, float, float]


def _pose_from_matrix(T_world_cam: np.ndarray) -> tuple[Vec3, Vec3, Vec3]:  # noqa: N803 - the usual name
    """Eye, a target one metre along the optical axis, and up (-y of the OpenCV camera) of a 4x4 pose."""
    t = np.asarray(T_world_cam, dtype=np.float64)
    if t.shape != (4, 4):
        raise ValueError(f"T_world_cam must be a 4x4 matrix, not {t.shape}")
    eye, forward, down = t[:3, 3], t[:3, 2], t[:3, 1]

    def vec(v: np.ndarray) -> Vec3:
        return (float(v[0]), float(v[1]), float(v[2]))

    return vec(eye), vec(eye + forward), vec(-down)


def _fov_of(intrinsics: CameraIntrinsics) -> float:
    """The vertical field of view (degrees) of centred pinhole intrinsics; ValueError when they are not."""
    k = intrinsics
    if abs(k.fx - k.fy) > 0.01 * k.fy:
        raise ValueError(f"intrinsics: fx={k.fx} and fy={k.fy} differ; PyBullet renders square pixels")
    if abs(k.cx - k.width / 2) > 1.5 or abs(k.cy - k.height / 2) > 1.5:
        raise ValueError(f"intrinsics: principal point ({k.cx}, {k.cy}) is not the image centre; PyBullet renders one")
    return math.degrees(2 * math.atan((k.height / 2) / k.fy))


class PyBulletCamera:
    """An RGB-D :class:`~groundsight.perception.frame.CameraSource` rendering from any PyBullet client.

    Args:
        client_id: the host's PyBullet client (``physicsClientId``).
        intrinsics: pinhole intrinsics (square pixels, centred principal point); or give ``fov_deg``.
        fov_deg: vertical field of view in degrees (used when ``intrinsics`` is None).
        width, height: image size in pixels (taken from ``intrinsics`` when given).
        eye, target, up: the camera pose in the host's world frame; or give ``T_world_cam``.
        T_world_cam: 4x4 camera pose (OpenCV convention) in the host's world frame.
        near, far: clipping planes in metres (depth is converted with them).
        name: the camera's name in frames and traces.
        world_from_host: 4x4 transform from the host's world frame to the agent's (default: the same frame).
        hide: body ids made invisible while rendering (goal markers, ghosts).
        clock: returns the time stamped on each frame.
    """

    def __init__(
        self,
        client_id: int,
        intrinsics: CameraIntrinsics | None = None,
        fov_deg: float = 45.0,
        width: int = 640,
        height: int = 480,
        eye: Vec3 | None = None,
        target: Vec3 | None = None,
        up: Vec3 = (0.0, 0.0, 1.0),
        T_world_cam: np.ndarray | None = None,  # noqa: N803 - the usual name
        near: float = 0.05,
        far: float = 3.0,
        name: str = "pybullet",
        world_from_host: np.ndarray | None = None,
        hide: Sequence[int] = (),
        clock: Callable[[], float] = lambda: 0.0,
    ) -> None:
        if T_world_cam is not None:
            eye, target, up = _pose_from_matrix(T_world_cam)
        if eye is None or target is None:
            raise ValueError("PyBulletCamera needs a pose: eye and target (and up), or T_world_cam")
        if intrinsics is not None:
            fov_deg, width, height = _fov_of(intrinsics), intrinsics.width, intrinsics.height
        config = CameraConfig(
            name=name, eye=eye, target=target, up=up, fov_deg=fov_deg, width=width, height=height, near=near, far=far
        )
        self._camera = SimCamera(client_id, config, clock=clock)
        self.client = client_id
        self.name = name
        self.intrinsics = self._camera.intrinsics
        self.world_from_host = np.eye(4) if world_from_host is None else np.asarray(world_from_host, dtype=np.float64)
        self.hide = list(hide)

    @property
    def T_world_cam(self) -> np.ndarray:  # noqa: N802 - the usual name
        """The camera's pose in the agent's frame."""
        return self.world_from_host @ self._camera.T_world_cam

    def read(self) -> Frame:
        """Render the host's scene (hidden bodies left out) and return the frame in the agent's frame."""
        saved = [(body, self._colours(body)) for body in self.hide]
        try:
            for body, colours in saved:
                for link, rgba in colours:
                    p.changeVisualShape(body, link, rgbaColor=[*rgba[:3], 0.0], physicsClientId=self.client)
            frame = self._camera.read()
        finally:
            for body, colours in saved:
                for link, rgba in colours:
                    p.changeVisualShape(body, link, rgbaColor=list(rgba), physicsClientId=self.client)
        return Frame(
            rgb=frame.rgb,
            depth=frame.depth,
            intrinsics=frame.intrinsics,
            T_world_cam=self.world_from_host @ frame.T_world_cam,
            t=frame.t,
            camera=frame.camera,
            segmentation=None,  # the host's body ids mean nothing to the agent
        )

    def _colours(self, body: int) -> list[tuple[int, tuple[float, ...]]]:
        """(link, rgba) of every visual shape of ``body``."""
        return [(int(s[1]), tuple(s[7])) for s in p.getVisualShapeData(body, physicsClientId=self.client)]


def translation(offset: Vec3) -> np.ndarray:
    """A 4x4 transform that moves points by ``offset`` (e.g. the host's robot base to the origin)."""
    t = np.eye(4)
    t[:3, 3] = offset
    return t
