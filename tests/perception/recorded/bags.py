"""Test data: a simulator scene rendered once and stored as an RGB-D image folder and as ROS 1 / ROS 2 bags
written with rosbags' own writers (the camera pose published on /tf_static through a two-link chain)."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
from rosbags.rosbag1 import Writer as Writer1
from rosbags.rosbag2 import StoragePlugin
from rosbags.rosbag2 import Writer as Writer2
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from scipy.spatial.transform import Rotation

from groundsight.perception.calibration import Calibration
from groundsight.perception.frame import Frame
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.world import World

SCENE = [
    ObjectSpec("red_block", "block", "red", "medium", 0.45, -0.12),
    ObjectSpec("blue_bowl", "bowl", "blue", "large", 0.60, 0.10),
    ObjectSpec("green_block", "block", "green", "small", 0.40, 0.15),
]
RGB, DEPTH, INFO = "/camera/color/image_raw", "/camera/depth/image_raw", "/camera/color/camera_info"
OPTICAL = "camera_color_optical_frame"
TF = "tf2_msgs/msg/TFMessage"
T_WORLD_BASE = np.array([[0.0, -1.0, 0.0, 0.1], [1.0, 0.0, 0.0, -0.2], [0.0, 0.0, 1.0, 0.05], [0, 0, 0, 1]])
"""world -> base_link: a quarter turn and an offset, so a wrong composition order moves every object."""


def render(n: int = 3) -> tuple[list, list[Frame]]:
    """Simulator truth and ``n`` top-camera frames of :data:`SCENE`."""
    with World() as world:
        for spec in SCENE:
            world.add_object(spec)
        world.settle()
        return world.truth(), [world.cameras[0].read() for _ in range(n)]


def write_folder(frames: list[Frame], folder: Path) -> Calibration:
    """The frames as ``00000N.png`` + ``00000N_depth.png`` (mm); returns the calibration."""
    folder.mkdir(parents=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:06d}.png"), cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(folder / f"{i:06d}_depth.png"), depth_mm(frame))
    k = frames[0].intrinsics
    return Calibration.model_validate(
        {
            "intrinsics": {"width": k.width, "height": k.height, "fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy},
            "T_world_cam": frames[0].T_world_cam.tolist(),
        }
    )


def depth_mm(frame: Frame) -> np.ndarray:
    return np.round(frame.depth * 1000.0).astype(np.uint16)


class _Messages:
    """Builds messages of one typestore (ROS 1 Noetic or ROS 2 Humble field names)."""

    def __init__(self, ros1: bool) -> None:
        self.ros1 = ros1
        self.store = get_typestore(Stores.ROS1_NOETIC if ros1 else Stores.ROS2_HUMBLE)
        if ros1:  # Noetic's store has no tf2_msgs; a real ROS 1 bag embeds the definition, as ours will
            self.store.register(get_types_from_msg("geometry_msgs/TransformStamped[] transforms", TF))
        self.t = self.store.types

    def header(self, t: float, frame_id: str) -> object:
        stamp = self.t["builtin_interfaces/msg/Time"](sec=int(t), nanosec=int(round((t % 1) * 1e9)))
        extra = {"seq": 0} if self.ros1 else {}
        return self.t["std_msgs/msg/Header"](stamp=stamp, frame_id=frame_id, **extra)

    def image(self, t: float, array: np.ndarray, encoding: str) -> object:
        h, w = array.shape[:2]
        data = np.ascontiguousarray(array).view(np.uint8).reshape(-1)
        step = data.size // h
        return self.t["sensor_msgs/msg/Image"](
            header=self.header(t, OPTICAL), height=h, width=w, encoding=encoding, is_bigendian=0, step=step, data=data
        )

    def compressed(self, t: float, data: bytes, fmt: str) -> object:
        return self.t["sensor_msgs/msg/CompressedImage"](
            header=self.header(t, OPTICAL), format=fmt, data=np.frombuffer(data, np.uint8)
        )

    def camera_info(self, t: float, frame: Frame) -> object:
        k = frame.intrinsics
        roi = self.t["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
        mats = {
            "d": np.zeros(5),
            "k": np.array([k.fx, 0, k.cx, 0, k.fy, k.cy, 0, 0, 1.0]),
            "r": np.eye(3).reshape(-1),
            "p": np.array([k.fx, 0, k.cx, 0, 0, k.fy, k.cy, 0, 0, 0, 1.0, 0]),
        }
        mats = {(name.upper() if self.ros1 else name): value for name, value in mats.items()}
        return self.t["sensor_msgs/msg/CameraInfo"](
            header=self.header(t, OPTICAL),
            height=k.height,
            width=k.width,
            distortion_model="plumb_bob",
            binning_x=0,
            binning_y=0,
            roi=roi,
            **mats,
        )

    def tf(self, t: float, pairs: list[tuple[str, str, np.ndarray]]) -> object:
        transforms = []
        for parent, child, m in pairs:
            x, y, z, w = Rotation.from_matrix(m[:3, :3]).as_quat()
            transform = self.t["geometry_msgs/msg/Transform"](
                translation=self.t["geometry_msgs/msg/Vector3"](x=m[0, 3], y=m[1, 3], z=m[2, 3]),
                rotation=self.t["geometry_msgs/msg/Quaternion"](x=x, y=y, z=z, w=w),
            )
            transforms.append(
                self.t["geometry_msgs/msg/TransformStamped"](
                    header=self.header(t, parent), child_frame_id=child, transform=transform
                )
            )
        return self.t["tf2_msgs/msg/TFMessage"](transforms=transforms)


def compressed_depth(depth_m: np.ndarray, float_depth: bool) -> tuple[bytes, str]:
    """compressed_depth_image_transport's payload: 12-byte config header, then a 16-bit PNG."""
    if not float_depth:
        png = cv2.imencode(".png", np.round(depth_m * 1000).astype(np.uint16))[1].tobytes()
        return struct.pack("<iff", 0, 0.0, 0.0) + png, "16UC1; compressedDepth png"
    quant_a, quant_b = 10000.0, -100.0  # value = A / depth + B
    value = np.where(depth_m > 0, quant_a / np.maximum(depth_m, 1e-6) + quant_b, 0)
    png = cv2.imencode(".png", np.round(value).astype(np.uint16))[1].tobytes()
    return struct.pack("<iff", 0, quant_a, quant_b) + png, "32FC1; compressedDepth png"


def bag_messages(
    frames: list[Frame], m: _Messages, colour: str = "rgb8", depth: str = "16UC1"
) -> list[tuple[str, str, float, object]]:
    """(topic, msgtype, time, message) for every frame; depth stamped 10 ms later than colour."""
    t_base_cam = np.linalg.inv(T_WORLD_BASE) @ frames[0].T_world_cam
    tf = [("world", "base_link", T_WORLD_BASE), ("base_link", OPTICAL, t_base_cam)]
    out: list[tuple[str, str, float, object]] = [("/tf_static", "tf2_msgs/msg/TFMessage", 1.0, m.tf(1.0, tf))]
    for i, frame in enumerate(frames):
        t = 1.0 + 0.1 * (i + 1)
        out.append((INFO, "sensor_msgs/msg/CameraInfo", t, m.camera_info(t, frame)))
        if colour in ("jpeg", "png"):
            data = cv2.imencode(f".{colour}", cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))[1].tobytes()
            out.append((RGB, "sensor_msgs/msg/CompressedImage", t, m.compressed(t, data, colour)))
        else:
            rgb = frame.rgb if colour == "rgb8" else cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR)
            out.append((RGB, "sensor_msgs/msg/Image", t, m.image(t, rgb, colour)))
        td = t + 0.01
        if depth == "16UC1":
            out.append((DEPTH, "sensor_msgs/msg/Image", td, m.image(td, depth_mm(frame), "16UC1")))
        elif depth == "32FC1":
            out.append((DEPTH, "sensor_msgs/msg/Image", td, m.image(td, frame.depth.astype(np.float32), "32FC1")))
        else:
            data, fmt = compressed_depth(frame.depth, float_depth=depth == "compressedDepth32")
            out.append((DEPTH, "sensor_msgs/msg/CompressedImage", td, m.compressed(td, data, fmt)))
    return out


def write_ros2_bag(path: Path, frames: list[Frame], storage: str = "sqlite3", **kinds: str) -> Path:
    """A ROS 2 bag (folder) with sqlite3 or mcap storage."""
    m = _Messages(ros1=False)
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    with Writer2(path, version=9, storage_plugin=plugin) as writer:
        connections: dict[str, object] = {}
        for topic, msgtype, t, msg in bag_messages(frames, m, **kinds):
            if topic not in connections:
                connections[topic] = writer.add_connection(topic, msgtype, typestore=m.store)
            writer.write(connections[topic], int(t * 1e9), m.store.serialize_cdr(msg, msgtype))
    return path


def write_ros1_bag(path: Path, frames: list[Frame], **kinds: str) -> Path:
    """A ROS 1 ``.bag`` file."""
    m = _Messages(ros1=True)
    with Writer1(path) as writer:
        connections: dict[str, object] = {}
        for topic, msgtype, t, msg in bag_messages(frames, m, **kinds):
            if topic not in connections:
                connections[topic] = writer.add_connection(topic, msgtype, typestore=m.store)
            writer.write(connections[topic], int(t * 1e9), m.store.serialize_ros1(msg, msgtype))
    return path
