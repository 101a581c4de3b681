"""Simulated RGB-D cameras that produce :class:`groundsight.perception.Frame` objects.

Three named cameras (:data:`CAMERAS`, picked by name with :func:`camera_config`):

- ``top``: fixed 1 m above the workspace, looking straight down (the default, and the one the agent and
  the perception accuracy targets use);
- ``front``: fixed across the table, facing the robot, looking down at the workspace at about 40 deg;
- ``wrist``: mounted on the Panda hand (link ``panda_hand``), looking along the gripper's approach axis;
  it moves with the end effector, its pose is read from the robot's link state every time it renders.

Every frame carries the intrinsics of its image and ``T_world_cam``, the camera's pose in the world
(OpenCV convention: x right, y down, z along the optical axis).

:class:`CameraJitter` (off by default, seeded) perturbs the light of every frame and the camera's pose,
for robustness runs. A frame always reports the pose the camera really had, unless ``miscalibrated``.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pybullet as p

from groundsight.perception.frame import CameraIntrinsics, Frame

log = logging.getLogger(__name__)

# OpenGL camera (y up, looking along -z) to OpenCV camera (y down, looking along +z).
_GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])

Vec3 = tuple[float, float, float]

DEFAULT_LIGHT_DIRECTION: Vec3 = (-50.0, 30.0, 100.0)
"""PyBullet TinyRenderer's light direction when none is given (z up), measured against its renders."""
DEFAULT_LIGHT = {"ambient": 0.6, "diffuse": 0.35, "specular": 0.05}
"""TinyRenderer's default light coefficients."""
HAND_LINK = 8
"""``panda_hand`` in ``franka_panda/panda.urdf`` (link 11 is the grasp target, 0.105 m further along z)."""


@dataclass(frozen=True)
class CameraJitter:
    """Seeded perturbations of a camera for robustness runs; everything is off by default.

    The light is a property of the scene: every camera with the same seed renders a frame taken at the
    same simulated time under the same light, and the light changes when simulated time moves on. The
    pose jitter differs from camera to camera (it is seeded by the seed and the camera's name).

    Attributes:
        seed: seed of the random draws (the same seed gives the same lights and poses).
        lighting: draw the light of every frame at random: its direction turned by up to
            ``light_direction_deg`` from the default, ambient and diffuse strength scaled by up to
            ``1 +- light_intensity``, and each colour channel of the light scaled by up to ``1 +- light_color``.
        pose_translation: the camera's position is moved by up to this much along each axis (metres),
            once, when the camera is built.
        pose_rotation_deg: ... and its orientation turned by up to this angle about a random axis.
        miscalibrated: frames report the nominal pose instead of the jittered one (a calibration error).
    """

    seed: int = 0
    lighting: bool = False
    light_direction_deg: float = 30.0
    light_intensity: float = 0.15
    light_color: float = 0.05
    pose_translation: float = 0.0
    pose_rotation_deg: float = 0.0
    miscalibrated: bool = False

    @property
    def moves_pose(self) -> bool:
        """True if the camera pose is perturbed."""
        return self.pose_translation > 0 or self.pose_rotation_deg > 0


@dataclass(frozen=True)
class CameraConfig:
    """A camera: where it is, where it looks, and its image.

    ``eye``, ``target`` and ``up`` are in the world frame for a fixed camera; for a camera mounted on a
    robot link (``mount_link`` set) they are in that link's frame and the camera moves with it.
    """

    name: str = "top"
    eye: Vec3 = (0.52, 0.0, 1.0)
    target: Vec3 = (0.52, 0.0, 0.0)
    up: Vec3 = (1.0, 0.0, 0.0)
    fov_deg: float = 45.0
    width: int = 640
    height: int = 480
    near: float = 0.05
    far: float = 3.0
    mount_link: int | None = None
    jitter: CameraJitter | None = None


CAMERAS: dict[str, CameraConfig] = {
    "top": CameraConfig(),
    "front": CameraConfig(name="front", eye=(1.22, 0.0, 0.62), target=(0.52, 0.0, 0.0), up=(0.0, 0.0, 1.0)),
    "wrist": CameraConfig(
        name="wrist",
        eye=(0.09, 0.0, -0.01),
        target=(0.0, 0.0, 0.40),
        up=(1.0, 0.0, 0.0),
        fov_deg=58.0,
        near=0.01,
        far=2.0,
        mount_link=HAND_LINK,
    ),
}
"""The named cameras; ``top`` is the default and comes first."""


def camera_config(name: str) -> CameraConfig:
    """The named camera's configuration; ``ValueError`` naming the known cameras if there is none."""
    try:
        return CAMERAS[name]
    except KeyError:
        raise ValueError(f"unknown camera {name!r} (known: {', '.join(CAMERAS)})") from None


def _rotation_about(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix about a unit ``axis`` (Rodrigues)."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)


def _random_turn(rng: np.random.Generator, max_angle: float) -> np.ndarray:
    """A rotation by a uniform angle in [0, max_angle] about a uniformly random axis."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    return _rotation_about(axis, float(rng.uniform(0.0, max_angle)))


def _jittered_pose(config: CameraConfig, rng: np.random.Generator) -> tuple[Vec3, Vec3, Vec3]:
    """Eye, target and up of ``config`` moved and turned by its jitter (in the frame they are given in)."""
    j = config.jitter
    assert j is not None
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (config.eye, config.target, config.up))
    turn = _random_turn(rng, math.radians(j.pose_rotation_deg))
    new_eye = eye + rng.uniform(-j.pose_translation, j.pose_translation, 3)
    new_target = new_eye + turn @ (target - eye)
    new_up = turn @ up

    def vec(v: np.ndarray) -> Vec3:
        return (float(v[0]), float(v[1]), float(v[2]))

    return vec(new_eye), vec(new_target), vec(new_up)


class SimCamera:
    """A simulated RGB-D camera, fixed or mounted on a robot link; implements :class:`perception.CameraSource`.

    Args:
        client: the PyBullet client to render.
        config: where the camera is and what it sees (default: the ``top`` camera).
        clock: returns the simulated time stamped on each frame.
        body: the robot body carrying a mounted camera (required when ``config.mount_link`` is set).
        mask_bodies: bodies whose pixels every frame marks in ``Frame.robot_mask`` (the robot: its links
            rendered where they are now), so that a perceiver never takes a link for an object.
    """

    def __init__(
        self,
        client: int,
        config: CameraConfig | None = None,
        clock: Callable[[], float] = lambda: 0.0,
        body: int | None = None,
        mask_bodies: tuple[int, ...] = (),
    ) -> None:
        self.client = client
        self.mask_bodies = tuple(mask_bodies)
        self.renderer = p.ER_TINY_RENDERER
        """PyBullet renderer; :class:`groundsight.sim.world.World` switches it to the EGL plugin's when one loads."""
        self.config = config or CameraConfig()
        self.name = self.config.name
        self._clock = clock
        self.body = body
        c = self.config
        if c.mount_link is not None and body is None:
            raise ValueError(f"camera {c.name!r} is mounted on link {c.mount_link} but was given no body")
        self._proj = p.computeProjectionMatrixFOV(c.fov_deg, c.width / c.height, c.near, c.far, physicsClientId=client)
        fy = (c.height / 2) / math.tan(math.radians(c.fov_deg) / 2)
        # TinyRenderer's principal point, measured by projecting known points (see tests/test_sim_cameras.py)
        self.intrinsics = CameraIntrinsics(c.width, c.height, fy, fy, c.width / 2, c.height / 2 - 1)
        j = c.jitter
        self._nominal = (c.eye, c.target, c.up)
        self._actual = self._nominal
        if j is not None and j.moves_pose:
            self._actual = _jittered_pose(c, np.random.default_rng([j.seed, 2, zlib.crc32(c.name.encode())]))
            log.debug("camera %r jittered: eye %s -> %s", c.name, c.eye, self._actual[0])
        if c.mount_link is None:
            self._view, self._T_world_cam = self._view_and_pose(self._actual, None)
            _, self._T_reported = self._view_and_pose(self._reported_pose(), None)

    # ------------------------------------------------------------------ pose

    @property
    def mounted(self) -> bool:
        """True if the camera moves with a robot link."""
        return self.config.mount_link is not None

    def _reported_pose(self) -> tuple[Vec3, Vec3, Vec3]:
        j = self.config.jitter
        return self._nominal if j is not None and j.miscalibrated else self._actual

    def _link_pose(self) -> np.ndarray:
        """4x4 world pose of the mounting link, from the robot's current link state."""
        state = p.getLinkState(
            self.body, self.config.mount_link, computeForwardKinematics=True, physicsClientId=self.client
        )
        t = np.eye(4)
        t[:3, :3] = np.asarray(p.getMatrixFromQuaternion(state[5]), dtype=np.float64).reshape(3, 3)
        t[:3, 3] = state[4]
        return t

    def _view_and_pose(self, pose: tuple[Vec3, Vec3, Vec3], link: np.ndarray | None) -> tuple[list[float], np.ndarray]:
        """PyBullet view matrix and ``T_world_cam`` (OpenCV) for eye/target/up (in the link frame if given)."""
        eye, target, up = (np.asarray(v, dtype=np.float64) for v in pose)
        if link is not None:
            eye = link[:3, :3] @ eye + link[:3, 3]
            target = link[:3, :3] @ target + link[:3, 3]
            up = link[:3, :3] @ up
        view = p.computeViewMatrix(eye.tolist(), target.tolist(), up.tolist(), physicsClientId=self.client)
        gl = np.asarray(view, dtype=np.float64).reshape(4, 4).T  # world -> GL camera
        return list(view), np.linalg.inv(gl) @ _GL_TO_CV

    @property
    def T_world_cam(self) -> np.ndarray:  # noqa: N802 - the usual name
        """The camera's pose as frames report it (for a mounted camera: where it is now)."""
        if not self.mounted:
            return self._T_reported
        return self._view_and_pose(self._reported_pose(), self._link_pose())[1]

    # ------------------------------------------------------------------ light

    def _light(self) -> dict[str, object]:
        """Light arguments of ``getCameraImage`` for the next frame (empty: TinyRenderer's default light)."""
        j = self.config.jitter
        if j is None or not j.lighting:
            return {}
        rng = np.random.default_rng([j.seed, 1, round(self._clock() * 1e6)])
        direction = np.asarray(DEFAULT_LIGHT_DIRECTION, dtype=np.float64)
        direction = _random_turn(rng, math.radians(j.light_direction_deg)) @ direction
        if direction[2] < 0.2 * np.linalg.norm(direction):  # keep the light above the table
            direction[2] = 0.2 * np.linalg.norm(direction)
        scale = 1.0 + rng.uniform(-j.light_intensity, j.light_intensity, 2)
        colour = 1.0 + rng.uniform(-j.light_color, j.light_color, 3)
        return {
            "lightDirection": direction.tolist(),
            "lightColor": colour.tolist(),
            "lightAmbientCoeff": DEFAULT_LIGHT["ambient"] * float(scale[0]),
            "lightDiffuseCoeff": DEFAULT_LIGHT["diffuse"] * float(scale[1]),
            "lightSpecularCoeff": DEFAULT_LIGHT["specular"],
        }

    # ------------------------------------------------------------------ frames

    def read(self) -> Frame:
        """Render the scene and return an RGB-D frame with the simulator's instance segmentation."""
        c = self.config
        if self.mounted:
            link = self._link_pose()
            view, _ = self._view_and_pose(self._actual, link)
            reported = self._view_and_pose(self._reported_pose(), link)[1]
        else:
            view, reported = self._view, self._T_reported
        _, _, rgba, depth_buf, seg = p.getCameraImage(
            c.width,
            c.height,
            viewMatrix=view,
            projectionMatrix=self._proj,
            renderer=self.renderer,
            physicsClientId=self.client,
            **self._light(),
        )
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(c.height, c.width, 4)[:, :, :3].copy()
        d = np.asarray(depth_buf, dtype=np.float32).reshape(c.height, c.width)
        depth = (c.far * c.near / (c.far - (c.far - c.near) * d)).astype(np.float32)
        segmentation = np.asarray(seg, dtype=np.int32).reshape(c.height, c.width)
        return Frame(
            rgb=rgb,
            depth=depth,
            intrinsics=self.intrinsics,
            T_world_cam=reported.copy(),
            t=self._clock(),
            camera=self.name,
            segmentation=segmentation,
            robot_mask=np.isin(segmentation, self.mask_bodies) if self.mask_bodies else None,
        )


def with_jitter(config: CameraConfig, jitter: CameraJitter | None) -> CameraConfig:
    """``config`` with ``jitter``; ``config`` unchanged (and its own jitter kept) if ``jitter`` is None."""
    return config if jitter is None else replace(config, jitter=jitter)
