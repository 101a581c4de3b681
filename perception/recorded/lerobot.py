"""A LeRobot dataset (a local folder) as a camera source, read with pyarrow and PyAV, without the ``lerobot`` package.

Both published layouts are read (``meta/info.json``'s ``codebase_version``):

- v2.0 / v2.1: ``meta/episodes.jsonl`` (``episode_index``, ``length``), one parquet file per episode at
  ``data_path`` (``data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet``) and one mp4 per camera and
  episode at ``video_path`` (``videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4``);
- v3.0: ``meta/episodes/chunk-*/file-*.parquet`` (``episode_index``, ``length``, ``data/chunk_index``,
  ``data/file_index``, ``videos/{key}/chunk_index``, ``videos/{key}/file_index``, ``videos/{key}/from_timestamp``),
  several episodes per data file and per video file.

A camera key is a feature of dtype ``video`` (decoded with PyAV) or ``image`` (PNG/JPEG bytes in the parquet
column). Depth, when the dataset has it, is an ``image`` feature holding 16-bit PNGs (default key: the camera
key plus ``_depth``), converted to metres with the calibration's ``depth_scale``. LeRobot datasets carry no camera
geometry: intrinsics and pose come from a calibration file (without one, the default pinhole guess and the
identity pose of :mod:`perception.sources`). Frame times are the parquet ``timestamp`` column.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from groundsight.perception.calibration import Calibration
from groundsight.perception.frame import CameraError, Frame
from groundsight.perception.recorded import require
from groundsight.perception.sources import EndOfStream, _intrinsics_for, _pose, _Undistorter
from groundsight.perception.validation import describe_error, field_path

IMAGE_PREFIX = "observation.images."
DEPTH_SUFFIX = "_depth"


class LeRobotInfo(BaseModel):
    """The fields of ``meta/info.json`` this reader uses (others are allowed and ignored)."""

    model_config = ConfigDict(extra="allow")

    codebase_version: str
    fps: float
    features: dict[str, dict[str, Any]]
    data_path: str
    video_path: str | None = None
    chunks_size: int = 1000

    @property
    def v3(self) -> bool:
        """True for the v3 layout (several episodes per file)."""
        return int(self.codebase_version.lstrip("v").split(".")[0]) >= 3

    def keys(self, dtype: str) -> list[str]:
        """Feature names of one dtype (``video`` or ``image``)."""
        return [k for k, f in self.features.items() if f.get("dtype") == dtype]


def load_info(root: Path) -> LeRobotInfo:
    """``meta/info.json`` validated; :class:`CameraError` ``FILE: FIELD: PROBLEM`` when it is not usable."""
    path = root / "meta" / "info.json"
    if not path.is_file():
        raise CameraError(f"{path}: (file): not found (is {root} a LeRobot dataset folder?)")
    try:
        return LeRobotInfo.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise CameraError(f"{path}: line {exc.lineno}: {exc.msg}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        raise CameraError(f"{path}: {field_path(error['loc'])}: {describe_error(error)}") from None


def load_episodes(root: Path, info: LeRobotInfo) -> list[dict[str, Any]]:
    """One dict per episode (``episode_index``, ``length``, and v3's file locations), by episode index."""
    if info.v3:
        pq = require("pyarrow.parquet", "lerobot")
        files = sorted((root / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
        rows = [row for f in files for row in pq.read_table(f).to_pylist()]
    else:
        path = root / "meta" / "episodes.jsonl"
        if not path.is_file():
            raise CameraError(f"{path}: (file): not found")
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted(rows, key=lambda r: r["episode_index"])


def _fill(template: str, info: LeRobotInfo, episode: dict[str, Any], key: str | None, kind: str) -> str:
    index = int(episode["episode_index"])
    if info.v3:
        prefix = f"videos/{key}/" if kind == "video" else "data/"
        chunk, file = int(episode.get(prefix + "chunk_index", 0)), int(episode.get(prefix + "file_index", 0))
        return template.format(video_key=key, chunk_index=chunk, file_index=file)
    return template.format(episode_chunk=index // info.chunks_size, episode_index=index, video_key=key)


def decode_video(path: Path, start_s: float = 0.0, count: int | None = None) -> Iterator[np.ndarray]:
    """RGB frames of an mp4 from ``start_s`` on (``count`` of them, or all), decoded with PyAV."""
    av = require("av", "lerobot")
    if not path.is_file():
        raise CameraError(f"{path}: video not found")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 30)
        taken = 0
        for frame in container.decode(stream):
            if frame.time is not None and frame.time < start_s - 0.5 / rate:
                continue
            if count is not None and taken >= count:
                return
            taken += 1
            yield frame.to_ndarray(format="rgb24")


def _image_bytes(cell: Any) -> np.ndarray:
    data = cell.get("bytes") if isinstance(cell, dict) else cell
    if data is None:
        raise CameraError("image cell holds no bytes")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise CameraError("cannot decode an image cell")
    return image


class LeRobotSource:
    """Frames of one camera of a local LeRobot dataset; see the module docstring.

    Args:
        path: the dataset folder (holding ``meta/info.json``).
        camera_key: feature name (``observation.images.top``) or its last part (``top``); may be omitted when the
            dataset has one camera.
        episode: one episode index, or None for all episodes in order.
        calibration: intrinsics, pose and depth scale for the camera.
        depth_key: ``image`` feature with 16-bit depth PNGs (default: ``<camera_key>_depth`` when present).
    """

    def __init__(
        self,
        path: str | Path,
        camera_key: str | None = None,
        episode: int | None = None,
        calibration: Calibration | None = None,
        depth_key: str | None = None,
        name: str | None = None,
    ) -> None:
        self.root = Path(path)
        if not self.root.is_dir():
            raise CameraError(f"LeRobot dataset folder not found: {self.root}")
        self.info = load_info(self.root)
        self.camera_key = self._camera_key(camera_key)
        self.depth_key = depth_key or (self.camera_key + DEPTH_SUFFIX)
        if self.depth_key not in self.info.keys("image"):
            if depth_key is not None:
                raise CameraError(f"--depth-key: {depth_key} is not an image feature of {self.root}")
            self.depth_key = None
        episodes = load_episodes(self.root, self.info)
        if episode is not None:
            episodes = [e for e in episodes if int(e["episode_index"]) == episode]
            if not episodes:
                raise CameraError(f"--episode: {self.root} has no episode {episode}")
        self.episodes = episodes
        self.calibration = calibration
        self.name = name or self.camera_key.removeprefix(IMAGE_PREFIX)
        self.frame_count = sum(int(e["length"]) for e in episodes)
        self._undistort = _Undistorter(calibration)
        self._pose = _pose(calibration)
        self._scale = calibration.depth_scale if calibration is not None else 0.001
        self._frames = self._iterate()
        self.frames_read = 0

    def __len__(self) -> int:
        return self.frame_count

    def _camera_key(self, key: str | None) -> str:
        cameras = [k for k in self.info.keys("video") + self.info.keys("image") if not k.endswith(DEPTH_SUFFIX)]
        if key is None:
            if len(cameras) == 1:
                return cameras[0]
            raise CameraError(f"{self.root}: name a camera with --camera-key (cameras: {', '.join(cameras) or 'none'})")
        for candidate in (key, IMAGE_PREFIX + key):
            if candidate in cameras:
                return candidate
        raise CameraError(f"--camera-key: {key} is not a camera of {self.root} (cameras: {', '.join(cameras)})")

    def _rows(self, episode: dict[str, Any]) -> list[dict[str, Any]]:
        pq = require("pyarrow.parquet", "lerobot")
        path = self.root / _fill(self.info.data_path, self.info, episode, None, "data")
        if not path.is_file():
            raise CameraError(f"{path}: episode data not found")
        table = pq.read_table(path)
        if self.info.v3:
            index = table.column("episode_index").to_numpy()
            table = table.filter(index == int(episode["episode_index"]))
        return table.to_pylist()

    def _colour(self, episode: dict[str, Any], rows: list[dict[str, Any]]) -> Iterator[np.ndarray]:
        if self.info.features[self.camera_key]["dtype"] == "image":
            return (cv2.cvtColor(_image_bytes(r[self.camera_key]), cv2.COLOR_BGR2RGB) for r in rows)
        if self.info.video_path is None:
            raise CameraError(f"{self.root / 'meta' / 'info.json'}: video_path: missing for video features")
        path = self.root / _fill(self.info.video_path, self.info, episode, self.camera_key, "video")
        start = float(episode.get(f"videos/{self.camera_key}/from_timestamp", 0.0)) if self.info.v3 else 0.0
        return decode_video(path, start, len(rows))

    def _iterate(self) -> Iterator[Frame]:
        for episode in self.episodes:
            rows = self._rows(episode)
            for i, rgb in enumerate(self._colour(episode, rows)):
                t = float(rows[i].get("timestamp", i / self.info.fps)) if i < len(rows) else i / self.info.fps
                depth = None
                if self.depth_key is not None and i < len(rows):
                    depth = _image_bytes(rows[i][self.depth_key]).astype(np.float32) * np.float32(self._scale)
                yield self._frame(rgb, depth, t)

    def _frame(self, rgb: np.ndarray, depth: np.ndarray | None, t: float) -> Frame:
        h, w = rgb.shape[:2]
        k = _intrinsics_for(self.calibration, w, h)
        if depth is not None:
            if depth.shape != (h, w):
                raise CameraError(f"{self.name}: depth is {depth.shape[1]}x{depth.shape[0]}, colour is {w}x{h}")
            depth = self._undistort(depth, k, nearest=True)
        rgb = self._undistort(np.ascontiguousarray(rgb), k)
        return Frame(rgb=rgb, depth=depth, intrinsics=k, T_world_cam=self._pose, t=t, camera=self.name)

    def read(self) -> Frame:
        """The next frame of the selected episodes; :class:`EndOfStream` after the last one."""
        frame = next(self._frames, None)
        if frame is None:
            raise EndOfStream(f"{self.name}: end of stream after {self.frames_read} frames")
        self.frames_read += 1
        return frame
