"""ROS 1 (``.bag``) and ROS 2 (folder with ``metadata.yaml``: sqlite3 or MCAP storage) bags as a camera source.

Read with the ``rosbags`` library (no ROS installation; ``pip install 'groundsight[ros]'``), through its
``AnyReader``. What is read:

- colour: ``sensor_msgs/Image`` (``rgb8``, ``bgr8``, ``rgba8``, ``bgra8``, ``mono8``) or ``sensor_msgs/CompressedImage``
  (JPEG or PNG);
- depth (optional, registered to the colour image, same size): ``sensor_msgs/Image`` ``16UC1`` / ``mono16``
  (millimetres, or the calibration's ``depth_scale``) or ``32FC1`` (metres), or ``CompressedImage`` from
  ``compressed_depth_image_transport`` (format ``"...; compressedDepth png"``); each colour image is paired with
  the depth image nearest in header time, if within ``max_pair_dt`` seconds;
- intrinsics: ``sensor_msgs/CameraInfo`` (``K``, and ``D`` when non-zero, undistorted with OpenCV); by default
  the ``camera_info`` topic beside the colour topic;
- pose: ``T_world_cam`` composed along ``/tf_static`` and ``/tf`` from ``world_frame`` (default: the root of the
  camera's TF tree) to the colour image's ``header.frame_id``, which must be an optical frame (REP 103: x right,
  y down, z forward, e.g. ``camera_color_optical_frame``). Dynamic transforms are taken at the latest stamp at or
  before the image's.

A calibration file, when given, overrides the intrinsics and the pose. Without a colour topic the source does
not open: :class:`~perception.frame.CameraError` lists the bag's image topics (see :func:`image_topics`).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from groundsight.perception.calibration import Calibration
from groundsight.perception.frame import CameraError, CameraIntrinsics, Frame
from groundsight.perception.recorded import require
from groundsight.perception.sources import EndOfStream, _Undistorter

log = logging.getLogger(__name__)

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
TF_MESSAGE = "tf2_msgs/msg/TFMessage"
IMAGE_TYPES = (IMAGE, COMPRESSED)
TF_TOPICS = ("/tf", "/tf_static")


@dataclass(frozen=True, order=True)
class TopicListing:
    """One image topic of a bag."""

    topic: str
    msgtype: str
    count: int

    def __str__(self) -> str:
        return f"{self.topic} ({self.msgtype.replace('/msg/', '/')}, {self.count} messages)"


def _open_reader(path: Path) -> Any:
    highlevel = require("rosbags.highlevel", "ros")
    stores = require("rosbags.typesys", "ros")
    if not path.exists():
        raise CameraError(f"bag not found: {path}")
    try:
        reader = highlevel.AnyReader([path], default_typestore=stores.get_typestore(stores.Stores.LATEST))
        reader.open()
    except Exception as exc:  # rosbags raises several unrelated types for unreadable bags
        raise CameraError(f"{path}: not a readable ROS bag: {exc}") from None
    return reader


def image_topics(path: str | Path) -> list[TopicListing]:
    """The bag's ``Image`` and ``CompressedImage`` topics with their message counts."""
    reader = _open_reader(Path(path))
    try:
        return sorted(
            TopicListing(c.topic, c.msgtype, c.msgcount) for c in reader.connections if c.msgtype in IMAGE_TYPES
        )
    finally:
        reader.close()


def stamp_seconds(msg: Any) -> float:
    """A message's ``header.stamp`` in seconds."""
    stamp = msg.header.stamp
    return stamp.sec + stamp.nanosec * 1e-9


def _reshape(msg: Any, dtype: np.dtype, channels: int) -> np.ndarray:
    dtype = np.dtype(dtype).newbyteorder(">" if getattr(msg, "is_bigendian", 0) else "<")
    raw = np.frombuffer(bytes(msg.data), dtype=np.uint8).reshape(msg.height, msg.step)
    row = raw[:, : msg.width * channels * dtype.itemsize].copy().view(dtype)
    image = row.reshape(msg.height, msg.width, channels) if channels > 1 else row.reshape(msg.height, msg.width)
    return image.astype(dtype.newbyteorder("="))


COLOUR_ENCODINGS = {
    "rgb8": (3, None),
    "bgr8": (3, cv2.COLOR_BGR2RGB),
    "rgba8": (4, cv2.COLOR_RGBA2RGB),
    "bgra8": (4, cv2.COLOR_BGRA2RGB),
    "mono8": (1, cv2.COLOR_GRAY2RGB),
    "8uc3": (3, cv2.COLOR_BGR2RGB),
}


def decode_colour(msg: Any, msgtype: str) -> np.ndarray:
    """An ``Image`` or ``CompressedImage`` message as HxWx3 uint8 RGB."""
    if msgtype == COMPRESSED:
        bgr = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CameraError(f"cannot decode compressed image (format {msg.format!r})")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    encoding = msg.encoding.lower()
    if encoding not in COLOUR_ENCODINGS:
        raise CameraError(f"colour encoding {msg.encoding!r} not supported (known: {', '.join(COLOUR_ENCODINGS)})")
    channels, conversion = COLOUR_ENCODINGS[encoding]
    image = _reshape(msg, np.uint8, channels)
    return np.ascontiguousarray(image if conversion is None else cv2.cvtColor(image, conversion))


def _compressed_depth(msg: Any, depth_scale: float) -> np.ndarray:
    """``compressed_depth_image_transport``: a 12-byte header (int32 format, float32 quantisation A, B), then PNG."""
    data = bytes(msg.data)
    header, png = data[:12], np.frombuffer(data[12:], np.uint8)
    raw = cv2.imdecode(png, cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise CameraError(f"cannot decode compressed depth image (format {msg.format!r})")
    if "32fc1" in msg.format.lower():  # inverse depth, quantised: depth = A / (value - B)
        quant_a, quant_b = np.frombuffer(header[4:12], "<f4")
        value = raw.astype(np.float32)
        with np.errstate(divide="ignore"):
            depth = np.where(value > 0, quant_a / (value - quant_b), 0.0)
        return depth.astype(np.float32)
    return raw.astype(np.float32) * np.float32(depth_scale)


def decode_depth(msg: Any, msgtype: str, depth_scale: float = 0.001) -> np.ndarray:
    """A depth message as HxW float32 metres (0 where there is no reading)."""
    if msgtype == COMPRESSED:
        if "compresseddepth" in msg.format.lower():
            return _compressed_depth(msg, depth_scale)
        raw = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_UNCHANGED)
        if raw is None or raw.ndim != 2:
            raise CameraError(f"cannot decode compressed depth image (format {msg.format!r})")
        return raw.astype(np.float32) * np.float32(depth_scale)
    encoding = msg.encoding.lower()
    if encoding in ("16uc1", "mono16"):
        return _reshape(msg, np.uint16, 1).astype(np.float32) * np.float32(depth_scale)
    if encoding == "32fc1":
        depth = _reshape(msg, np.float32, 1)
        return np.where(np.isfinite(depth), depth, 0.0).astype(np.float32)
    raise CameraError(f"depth encoding {msg.encoding!r} not supported (16UC1, mono16, 32FC1)")


def transform_matrix(transform: Any) -> np.ndarray:
    """A ``geometry_msgs/Transform`` as a 4x4 matrix."""
    t, q = transform.translation, transform.rotation
    x, y, z, w = q.x, q.y, q.z, q.w
    n = np.sqrt(x * x + y * y + z * z + w * w) or 1.0
    x, y, z, w = x / n, y / n, z / n, w / n
    m = np.eye(4)
    m[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    m[:3, 3] = (t.x, t.y, t.z)
    return m


class TfTree:
    """Transforms from ``/tf`` and ``/tf_static``: child frame -> (parent, stamped 4x4 ``T_parent_child``)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.stamps: dict[str, list[float]] = {}
        self.poses: dict[str, list[np.ndarray]] = {}

    def add(self, transform_stamped: Any, static: bool) -> None:
        """Record one ``TransformStamped`` (a static one holds at every time)."""
        child = transform_stamped.child_frame_id.lstrip("/")
        self.parent[child] = transform_stamped.header.frame_id.lstrip("/")
        t = float("-inf") if static else stamp_seconds(transform_stamped)
        stamps, poses = self.stamps.setdefault(child, []), self.poses.setdefault(child, [])
        i = bisect.bisect_right(stamps, t)
        stamps.insert(i, t)
        poses.insert(i, transform_matrix(transform_stamped.transform))

    def _at(self, child: str, t: float) -> np.ndarray:
        i = bisect.bisect_right(self.stamps[child], t) - 1
        return self.poses[child][max(i, 0)]

    def chain(self, frame: str) -> list[str]:
        """``frame`` and its ancestors up to the root."""
        frames = [frame]
        while frames[-1] in self.parent and len(frames) < 64:
            frames.append(self.parent[frames[-1]])
        return frames

    def lookup(self, world: str | None, frame: str, t: float) -> np.ndarray:
        """``T_world_frame`` at time ``t``; ``world=None`` means the root of ``frame``'s tree."""
        frame = frame.lstrip("/")
        chain = self.chain(frame)
        world = chain[-1] if world is None else world.lstrip("/")
        if world not in chain:
            raise CameraError(f"no TF chain from {world!r} to {frame!r} (the chain is {' <- '.join(chain)})")
        pose = np.eye(4)
        for child in chain[: chain.index(world)]:
            pose = self._at(child, t) @ pose
        return pose


def intrinsics_from_info(msg: Any) -> tuple[CameraIntrinsics, list[float]]:
    """``CameraInfo`` (ROS 2 ``k``/``d`` or ROS 1 ``K``/``D``) as intrinsics and five distortion coefficients."""
    k = np.asarray(msg.k if hasattr(msg, "k") else msg.K, dtype=float).reshape(3, 3)
    d = [float(v) for v in (msg.d if hasattr(msg, "d") else msg.D)]
    if k[0, 0] <= 0 or k[1, 1] <= 0:
        raise CameraError("camera_info: K has no focal length (uncalibrated camera)")
    k_intr = CameraIntrinsics(
        int(msg.width), int(msg.height), *(float(v) for v in (k[0, 0], k[1, 1], k[0, 2], k[1, 2]))
    )
    return k_intr, (d + [0.0] * 5)[:5]


def _connection(reader: Any, topic: str, types: tuple[str, ...], option: str) -> Any:
    found = [c for c in reader.connections if c.topic == topic]
    if not found:
        raise CameraError(f"{option}: topic {topic} is not in the bag")
    if found[0].msgtype not in types:
        raise CameraError(f"{option}: topic {topic} is {found[0].msgtype}, expected {' or '.join(types)}")
    return found[0]


def _default_info_topic(reader: Any, rgb_topic: str) -> str | None:
    infos = [c.topic for c in reader.connections if c.msgtype == CAMERA_INFO]
    sibling = rgb_topic.rsplit("/", 1)[0] + "/camera_info"
    if sibling in infos:
        return sibling
    return infos[0] if len(infos) == 1 else None


class BagSource:
    """Frames from a ROS 1 or ROS 2 bag; see the module docstring for what is read and how.

    Args:
        path: a ROS 2 bag folder (sqlite3 or MCAP), a ``.mcap`` / ``.db3`` file in such a folder, or a ROS 1
            ``.bag`` file.
        rgb_topic: colour image topic (required; without it :class:`CameraError` lists the image topics).
        depth_topic: depth image topic, registered to the colour image (optional).
        info_topic: ``CameraInfo`` topic (default: ``camera_info`` beside the colour topic, or the only one).
        world_frame: TF frame the pose is expressed in (default: the root of the camera's TF tree).
        calibration: overrides intrinsics and pose when given; its ``depth_scale`` scales 16-bit depth.
        max_pair_dt: largest colour/depth header-time difference (s) still paired.
    """

    def __init__(
        self,
        path: str | Path,
        rgb_topic: str | None = None,
        depth_topic: str | None = None,
        info_topic: str | None = None,
        world_frame: str | None = None,
        calibration: Calibration | None = None,
        max_pair_dt: float = 0.05,
        name: str | None = None,
    ) -> None:
        self.path = Path(path)
        if self.path.suffix in (".mcap", ".db3") and self.path.is_file():
            self.path = self.path.parent
        if rgb_topic is None:
            listing = image_topics(self.path)
            topics = "; ".join(map(str, listing)) or "none"
            raise CameraError(f"{self.path}: name a colour topic with --rgb-topic; image topics: {topics}")
        self.calibration = calibration
        self.world_frame = world_frame
        self.max_pair_dt = max_pair_dt
        self.depth_scale = calibration.depth_scale if calibration is not None else 0.001
        self.name = name or rgb_topic.strip("/").replace("/", "_")
        self._reader = _open_reader(self.path)
        self._rgb = _connection(self._reader, rgb_topic, IMAGE_TYPES, "--rgb-topic")
        self._depth = _connection(self._reader, depth_topic, IMAGE_TYPES, "--depth-topic") if depth_topic else None
        info = info_topic or _default_info_topic(self._reader, rgb_topic)
        self._info = _connection(self._reader, info, (CAMERA_INFO,), "--info-topic") if info else None
        self.frame_count = self._rgb.msgcount
        self.tf = self._read_tf()
        self.intrinsics, distortion = self._read_intrinsics()
        self._undistort = _Undistorter(self._undistort_calibration(distortion))
        self._depth_index = self._index_depth()
        self._messages: Iterator[tuple[Any, int, bytes]] | None = self._reader.messages(connections=[self._rgb])
        self.frames_read = 0

    def __len__(self) -> int:
        return self.frame_count

    def _deserialize(self, connection: Any, raw: bytes) -> Any:
        return self._reader.deserialize(raw, connection.msgtype)

    def _read_tf(self) -> TfTree:
        tree = TfTree()
        connections = [c for c in self._reader.connections if c.topic in TF_TOPICS and c.msgtype == TF_MESSAGE]
        for connection, _, raw in self._reader.messages(connections=connections) if connections else ():
            for transform in self._deserialize(connection, raw).transforms:
                tree.add(transform, static=connection.topic == "/tf_static")
        return tree

    def _read_intrinsics(self) -> tuple[CameraIntrinsics | None, list[float]]:
        if self.calibration is not None:
            return self.calibration.camera_intrinsics, list(self.calibration.distortion)
        if self._info is None:
            log.warning("%s: no CameraInfo topic and no calibration; guessing intrinsics", self.path)
            return None, [0.0] * 5
        for connection, _, raw in self._reader.messages(connections=[self._info]):
            return intrinsics_from_info(self._deserialize(connection, raw))
        return None, [0.0] * 5

    def _undistort_calibration(self, distortion: list[float]) -> Calibration | None:
        if not any(distortion) or self.intrinsics is None:
            return None
        k = self.intrinsics
        intr = {"width": k.width, "height": k.height, "fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy}
        return Calibration.model_validate({"intrinsics": intr, "distortion": distortion})

    def _index_depth(self) -> tuple[list[float], list[int]]:
        """Header time and bag time of every depth message, sorted by header time."""
        if self._depth is None:
            return [], []
        pairs = sorted(
            (stamp_seconds(self._deserialize(c, raw)), bag_t) for c, bag_t, raw in self._reader.messages([self._depth])
        )
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def _depth_near(self, t: float) -> np.ndarray | None:
        stamps, bag_times = self._depth_index
        if not stamps:
            return None
        i = bisect.bisect_left(stamps, t)
        best = min((j for j in (i - 1, i) if 0 <= j < len(stamps)), key=lambda j: abs(stamps[j] - t))
        if abs(stamps[best] - t) > self.max_pair_dt:
            log.debug("%s: no depth within %.3f s of %.3f", self.name, self.max_pair_dt, t)
            return None
        stop = bag_times[best] + 1
        for connection, _, raw in self._reader.messages([self._depth], start=bag_times[best], stop=stop):
            msg = self._deserialize(connection, raw)
            if abs(stamp_seconds(msg) - stamps[best]) < 1e-9:
                return decode_depth(msg, connection.msgtype, self.depth_scale)
        return None

    def _pose(self, frame_id: str, t: float) -> np.ndarray:
        if self.calibration is not None:
            return self.calibration.pose
        if not frame_id.strip("/"):
            raise CameraError(f"{self.name}: image has no header.frame_id and no calibration gives the pose")
        return self.tf.lookup(self.world_frame, frame_id, t)

    def read(self) -> Frame:
        """The next colour image with its paired depth; :class:`EndOfStream` after the last one."""
        if self._messages is None:
            raise CameraError(f"{self.name}: bag is closed")
        item = next(self._messages, None)
        if item is None:
            raise EndOfStream(f"{self.name}: end of stream after {self.frames_read} frames")
        connection, _, raw = item
        msg = self._deserialize(connection, raw)
        self.frames_read += 1
        t = stamp_seconds(msg)
        rgb = decode_colour(msg, connection.msgtype)
        h, w = rgb.shape[:2]
        k = self.intrinsics or CameraIntrinsics(w, h, float(w), float(w), w / 2.0, h / 2.0)
        if (k.width, k.height) != (w, h):
            raise CameraError(f"{self.name}: image is {w}x{h} but the intrinsics are for {k.width}x{k.height}")
        depth = self._depth_near(t)
        if depth is not None and depth.shape != (h, w):
            raise CameraError(
                f"{self.name}: depth is {depth.shape[1]}x{depth.shape[0]}, colour is {w}x{h} (record aligned depth)"
            )
        if depth is not None:
            depth = self._undistort(depth, k, nearest=True)
        pose = self._pose(msg.header.frame_id, t)
        return Frame(rgb=self._undistort(rgb, k), depth=depth, intrinsics=k, T_world_cam=pose, t=t, camera=self.name)

    def close(self) -> None:
        """Close the bag."""
        if self._messages is not None:
            self._messages = None
            self._reader.close()

    def __enter__(self) -> BagSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
