"""Simulated cameras (real PyBullet TinyRenderer, DIRECT): named cameras, intrinsics and poses, jitter.

The geometric checks back-project a known object's pixels with each frame's own intrinsics and
``T_world_cam`` and compare them with simulator truth.
"""

from __future__ import annotations

import math

import numpy as np
import pybullet as p
import pytest

from groundsight.perception.frame import Frame
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.camera import CAMERAS, HAND_LINK, CameraConfig, CameraJitter, SimCamera, camera_config
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import World

BLOCK_SIDE = 0.05


def _aim_wrist_at(world: World, x: float, y: float, z: float = 0.25, yaw: float = 0.0) -> None:
    """Put the hand (pointing down) above (x, y) by resetting the arm's joints to an IK solution."""
    solution = world.robot.solve_ik((x, y, z), yaw)
    world.robot.reset(solution.joints)


def _block_world(camera: str, x: float, y: float, **kwargs) -> tuple[World, ObjectTruth]:
    world = World(cameras=[camera], **kwargs)
    world.add_object(ObjectSpec("block", "block", "red", "medium", x, y, 0.3))
    world.settle()
    if camera == "wrist":
        _aim_wrist_at(world, x - 0.02, y + 0.02)
    return world, world.truth()[0]


def _box_distance(points: np.ndarray, truth: ObjectTruth) -> np.ndarray:
    """Distance of each point from the object's true box (0 inside)."""
    centre, half = np.asarray(truth.position), np.asarray(truth.extent) / 2
    outside = np.maximum(np.abs(points - centre) - half, 0.0)
    return np.linalg.norm(outside, axis=1)


def _project(frame: Frame, point: np.ndarray) -> np.ndarray:
    """Pixel (u, v) of a world point through the frame's own pose and intrinsics."""
    cam = np.linalg.inv(frame.T_world_cam) @ np.append(point, 1.0)
    k = frame.intrinsics
    return np.array([k.fx * cam[0] / cam[2] + k.cx, k.fy * cam[1] / cam[2] + k.cy])


def _check_geometry(frame: Frame, truth: ObjectTruth, tolerance: float = 0.01) -> None:
    """The object's pixels back-project onto its true box; its top face's centre projects onto its pixels."""
    mask = frame.segmentation == truth.body
    assert np.count_nonzero(mask) > 200, f"{frame.camera}: the object is hardly in view"
    points = frame.points_world(mask)
    assert _box_distance(points, truth).max() < 0.003, f"{frame.camera}: pixels back-project off the object"
    top_z = truth.position[2] + truth.extent[2] / 2
    top = points[:, 2] > top_z - 0.002
    top_centre = np.array([truth.position[0], truth.position[1], top_z])
    error = np.linalg.norm(points[top].mean(axis=0) - top_centre)
    assert error < tolerance, f"{frame.camera}: top face back-projects {error * 1000:.1f} mm off"
    rows, cols = np.nonzero(mask)
    pixel = np.array([cols[top].mean(), rows[top].mean()])
    assert np.linalg.norm(_project(frame, top_centre) - pixel) < 1.5, f"{frame.camera}: intrinsics or pose off"


# ----------------------------------------------------------------------------- names and selection


def test_named_cameras() -> None:
    assert list(CAMERAS)[0] == "top" and set(CAMERAS) == {"top", "front", "wrist"}
    assert camera_config("top") == CameraConfig()
    assert camera_config("wrist").mount_link == HAND_LINK
    with pytest.raises(ValueError, match="unknown camera 'side' \\(known: top, front, wrist\\)"):
        camera_config("side")


def test_world_has_only_the_top_camera_by_default() -> None:
    with World() as world:
        assert [c.name for c in world.cameras] == ["top"]
        assert world.camera("top") is world.cameras[0]
        with pytest.raises(KeyError, match="no camera 'front'"):
            world.camera("front")


def test_world_selects_cameras_by_name_or_config() -> None:
    side = CameraConfig(name="side", eye=(0.9, 0.4, 0.7), target=(0.5, 0.0, 0.0), up=(0, 0, 1))
    with World(cameras=["front", "wrist", "top", side]) as world:
        assert [c.name for c in world.cameras] == ["front", "wrist", "top", "side"]
        frames = [c.read() for c in world.cameras]
    for frame in frames:
        assert frame.rgb.shape == (480, 640, 3) and frame.depth.shape == (480, 640)
        assert frame.segmentation is not None
        rotation = frame.T_world_cam[:3, :3]
        assert np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-6) and np.linalg.det(rotation) > 0
    with pytest.raises(ValueError, match="unique"):
        World(cameras=["top", "top"])
    with pytest.raises(ValueError, match="unknown camera"):
        World(cameras=["top", "ceiling"])


def test_a_mounted_camera_needs_a_body() -> None:
    client = p.connect(p.DIRECT)
    try:
        with pytest.raises(ValueError, match="mounted on link 8"):
            SimCamera(client, camera_config("wrist"))
    finally:
        p.disconnect(client)


# ----------------------------------------------------------------------------- geometry


@pytest.mark.parametrize(
    ("camera", "x", "y"),
    [("top", 0.45, 0.1), ("top", 0.68, -0.24), ("front", 0.5, 0.1), ("front", 0.38, -0.22), ("wrist", 0.5, 0.05)],
)
def test_pixels_back_project_onto_the_object(camera: str, x: float, y: float) -> None:
    world, truth = _block_world(camera, x, y)
    with world:
        _check_geometry(world.cameras[0].read(), truth)


def test_top_camera_looks_straight_down() -> None:
    with World() as world:
        frame = world.cameras[0].read()
    optical_axis = frame.T_world_cam[:3, 2]
    assert optical_axis == pytest.approx((0, 0, -1), abs=1e-6)
    assert frame.T_world_cam[:3, 3] == pytest.approx(CameraConfig().eye, abs=1e-6)
    assert frame.camera == "top"


def test_front_camera_faces_the_robot_across_the_table() -> None:
    with World(cameras=["front"]) as world:
        frame = world.cameras[0].read()
    eye, axis = frame.T_world_cam[:3, 3], frame.T_world_cam[:3, 2]
    assert eye[0] > 1.0 and eye[2] > 0.4  # beyond the far edge of the workspace, above the table
    assert axis[0] < -0.5 and axis[2] < -0.4  # looking back toward the robot and down
    # The whole workspace is in view: its corners project into the image.
    for x in (0.32, 0.72):
        for y in (-0.28, 0.28):
            u, v = _project(frame, np.array([x, y, 0.0]))
            assert 0 <= u < 640 and 0 <= v < 480, (x, y, u, v)


def test_wrist_camera_moves_with_the_hand() -> None:
    with World(cameras=["wrist"]) as world:
        world.add_object(ObjectSpec("block", "block", "red", "medium", 0.4, -0.1, 0.2))
        world.add_object(ObjectSpec("other", "block", "blue", "medium", 0.6, 0.15, 0.5))
        world.settle()
        camera = world.cameras[0]
        truth = world.truth_by_id()
        offsets = []
        for (x, y), target in (((0.38, -0.08), "block"), ((0.58, 0.17), "other")):
            _aim_wrist_at(world, x, y, yaw=0.4)
            frame = camera.read()
            hand = p.getLinkState(
                world.robot.body, HAND_LINK, computeForwardKinematics=True, physicsClientId=world.client
            )
            t_world_hand = np.eye(4)
            t_world_hand[:3, :3] = np.reshape(p.getMatrixFromQuaternion(hand[5]), (3, 3))
            t_world_hand[:3, 3] = hand[4]
            offsets.append(np.linalg.inv(t_world_hand) @ frame.T_world_cam)
            assert np.allclose(camera.T_world_cam, frame.T_world_cam)
            _check_geometry(frame, truth[target])
            assert frame.T_world_cam[2, 2] < -0.9  # the hand points down, so does the camera
    assert np.allclose(offsets[0], offsets[1], atol=1e-5)  # rigidly mounted on the hand


def test_frames_carry_the_simulated_time() -> None:
    with World() as world:
        assert world.cameras[0].read().t == 0.0
        world.step(240)
        assert world.cameras[0].read().t == pytest.approx(1.0)


# ----------------------------------------------------------------------------- jitter


def test_a_jitter_with_everything_off_changes_nothing() -> None:
    with World() as world:
        world.add_object(ObjectSpec("ball", "ball", "white", "large", 0.5, 0.0))
        world.settle()
        plain = world.cameras[0].read()
        jittered = SimCamera(world.client, CameraConfig(jitter=CameraJitter(seed=0)), clock=world.time).read()
    assert np.array_equal(plain.rgb, jittered.rgb)  # a jitter with everything off changes nothing
    assert np.array_equal(plain.T_world_cam, jittered.T_world_cam)


def test_lighting_jitter_is_seeded_and_shared_by_the_cameras() -> None:
    def frames(seed: int) -> list[Frame]:
        with World(cameras=["top", "front"], jitter=CameraJitter(seed=seed, lighting=True)) as world:
            world.add_object(ObjectSpec("cube", "block", "white", "large", 0.5, 0.0, 0.4))
            world.settle()
            return [c.read() for c in world.cameras]

    with World(cameras=["top", "front"]) as world:
        world.add_object(ObjectSpec("cube", "block", "white", "large", 0.5, 0.0, 0.4))
        world.settle()
        plain = [c.read() for c in world.cameras]
    first, again, other = frames(1), frames(1), frames(2)
    for a, b, c, d in zip(first, again, other, plain, strict=True):
        assert np.array_equal(a.rgb, b.rgb)  # same seed, same light
        assert not np.array_equal(a.rgb, c.rgb)  # another seed, another light
        assert not np.array_equal(a.rgb, d.rgb)
        assert np.array_equal(a.depth, d.depth) and np.array_equal(a.T_world_cam, d.T_world_cam)
    # One light for the scene: the table, seen by both cameras, changes brightness the same way.
    table = [np.median(f.rgb[(f.segmentation == 0)].astype(float)) for f in (*first, *plain)]
    assert table[0] / table[2] == pytest.approx(table[1] / table[3], rel=0.05)


def test_pose_jitter_moves_the_camera_and_frames_report_where_it_is() -> None:
    jitter = CameraJitter(seed=3, pose_translation=0.02, pose_rotation_deg=3.0)
    world, truth = _block_world("top", 0.45, 0.05, jitter=jitter)
    with world:
        frame = world.cameras[0].read()
        _check_geometry(frame, truth)
    nominal = CameraConfig()
    moved = frame.T_world_cam[:3, 3] - np.asarray(nominal.eye)
    assert 0 < np.abs(moved).max() <= 0.02 + 1e-9
    turned = math.degrees(math.acos(np.clip(-frame.T_world_cam[2, 2], -1, 1)))
    assert 0 < turned <= 3.0 + 1e-6


def test_miscalibrated_pose_jitter_reports_the_nominal_pose() -> None:
    jitter = CameraJitter(seed=3, pose_translation=0.02, pose_rotation_deg=3.0, miscalibrated=True)
    world, truth = _block_world("top", 0.45, 0.05, jitter=jitter)
    with world:
        frame = world.cameras[0].read()
    assert frame.T_world_cam[:3, 3] == pytest.approx(CameraConfig().eye, abs=1e-6)
    points = frame.points_world(frame.segmentation == truth.body)
    assert _box_distance(points, truth).max() > 0.003  # what a calibration error does to 3D


def test_wrist_camera_pose_jitter_is_in_the_hand_frame() -> None:
    jitter = CameraJitter(seed=5, pose_translation=0.005, pose_rotation_deg=2.0)
    world, truth = _block_world("wrist", 0.5, 0.05, jitter=jitter)
    with world:
        _check_geometry(world.cameras[0].read(), truth)
