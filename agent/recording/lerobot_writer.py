"""Episodes out as a LeRobot dataset, codebase version v2.1 (the layout of ``lerobot`` 0.2/0.3):

::

    DIR/meta/info.json                 codebase_version, robot_type, fps, features, totals, path templates
    DIR/meta/episodes.jsonl            {"episode_index", "tasks": [instruction], "length", "success", ...}
    DIR/meta/episodes_stats.jsonl      {"episode_index", "stats": {feature: {min, max, mean, std, count}}}
    DIR/meta/tasks.jsonl               {"task_index", "task"}
    DIR/data/chunk-000/episode_000000.parquet
    DIR/videos/chunk-000/observation.images.top/episode_000000.mp4   (H.264, yuv420p)

One frame per decision (:mod:`agent.recording.episode`): the image the agent last saw before a robot call,
the robot state, and the call as the action. ``fps`` is therefore a decision rate, not a camera rate
(``timestamp = frame_index / fps``). The action is a fixed-length vector (:data:`ACTION_NAMES`: a one-hot of the
skill, then its arguments) and, in the string column ``action.json``, the call itself (method, arguments,
outcome). ``next.done`` is true on an episode's last frame and ``next.success`` there when the episode passed.
Writing into an existing dataset appends episodes. The ``lerobot`` package is not needed (pyarrow and PyAV).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from groundsight.agent.recording.episode import STATE_NAMES, EpisodeRecord, RecordingError, episode_from_run_dir
from groundsight.sim.video import H264Writer

CODEBASE_VERSION = "v2.1"
CHUNKS_SIZE = 1000
DATA_PATH = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
VIDEO_PATH = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
SKILLS = ("stop", "pick", "place", "handover", "home", "push")
"""The one-hot part of the action: ``stop`` ends the episode."""
ACTION_NAMES = (*(f"skill.{s}" for s in SKILLS), "x", "y", "z", "extent_x", "extent_y", "extent_z", "yaw", "distance")
"""``action``: skill one-hot; position (pick/place/push), extent (pick/push), yaw (pick) or push direction
(radians), push distance; zeros where a skill has no such argument."""
DEFAULT_FPS = 1


def encode_action(call: dict[str, Any] | None) -> np.ndarray:
    """A robot call (``method``, ``args``) as the fixed-length vector of :data:`ACTION_NAMES`."""
    vector = np.zeros(len(ACTION_NAMES), np.float32)
    method = call["method"] if call is not None else "stop"
    if method not in SKILLS:
        raise RecordingError(f"robot.jsonl: method: unknown skill {method!r} (known: {', '.join(SKILLS)})")
    vector[SKILLS.index(method)] = 1.0
    args = call["args"] if call is not None else []
    params = vector[len(SKILLS) :]
    if method in ("pick", "place", "push") and args:
        params[0:3] = args[0][:3]
    if method in ("pick", "push") and len(args) > 1:
        params[3:6] = args[1][:3]
    if method == "pick" and len(args) > 2:
        params[6] = args[2]
    if method == "push" and len(args) > 3:
        direction = args[2]
        params[6] = math.atan2(direction[1], direction[0]) if isinstance(direction, list) else direction
        params[7] = args[3]
    return vector


def _feature(dtype: str, names: Sequence[str] | None, shape: Sequence[int] = (1,)) -> dict[str, Any]:
    return {"dtype": dtype, "shape": list(shape), "names": list(names) if names is not None else None}


def features(camera_key: str, size: tuple[int, int], fps: int) -> dict[str, Any]:
    """The ``features`` of ``info.json`` (the LeRobot v2.1 schema) for one camera of ``size`` (width, height)."""
    video = _feature("video", ["height", "width", "channels"], (size[1], size[0], 3))
    video["info"] = {
        "video.fps": float(fps),
        "video.height": size[1],
        "video.width": size[0],
        "video.channels": 3,
        "video.codec": "h264",
        "video.pix_fmt": "yuv420p",
        "video.is_depth_map": False,
        "has_audio": False,
    }
    return {
        camera_key: video,
        "observation.state": _feature("float32", STATE_NAMES, (len(STATE_NAMES),)),
        "action": _feature("float32", ACTION_NAMES, (len(ACTION_NAMES),)),
        "action.json": _feature("string", None),
        "next.done": _feature("bool", None),
        "next.success": _feature("bool", None),
        "timestamp": _feature("float32", None),
        "frame_index": _feature("int64", None),
        "episode_index": _feature("int64", None),
        "index": _feature("int64", None),
        "task_index": _feature("int64", None),
    }


def _stats(values: np.ndarray) -> dict[str, list[Any]]:
    values = values.reshape(len(values), -1).astype(np.float64)
    return {
        "min": values.min(0).tolist(),
        "max": values.max(0).tolist(),
        "mean": values.mean(0).tolist(),
        "std": values.std(0).tolist(),
        "count": [len(values)],
    }


def _image_stats(images: list[np.ndarray]) -> dict[str, list[Any]]:
    """Per-channel stats of images scaled to [0, 1], shaped (3, 1, 1) as LeRobot stores them."""
    pixels = np.stack(images).reshape(-1, 3).astype(np.float64) / 255.0
    per = {"min": pixels.min(0), "max": pixels.max(0), "mean": pixels.mean(0), "std": pixels.std(0)}
    return {**{k: v.reshape(3, 1, 1).tolist() for k, v in per.items()}, "count": [len(images)]}


class LeRobotWriter:
    """Writes episodes into a LeRobot v2.1 dataset folder, appending when it exists already."""

    def __init__(
        self, root: str | Path, fps: int = DEFAULT_FPS, robot_type: str = "franka_panda", camera: str = "top"
    ) -> None:
        self.root = Path(root)
        self.fps = fps
        self.camera_key = f"observation.images.{camera}"
        self.robot_type = robot_type
        self.info: dict[str, Any] | None = None
        self.episodes: list[dict[str, Any]] = []
        self.tasks: dict[str, int] = {}
        self._load()

    def _load(self) -> None:
        meta = self.root / "meta"
        if not (meta / "info.json").is_file():
            return
        self.info = json.loads((meta / "info.json").read_text(encoding="utf-8"))
        if self.info.get("codebase_version") != CODEBASE_VERSION or self.camera_key not in self.info["features"]:
            raise RecordingError(
                f"{meta / 'info.json'}: codebase_version/features: not a groundsight {CODEBASE_VERSION} dataset "
                f"with {self.camera_key}; record into a new folder"
            )
        self.fps = self.info["fps"]
        rows = (meta / "episodes.jsonl").read_text(encoding="utf-8").splitlines()
        self.episodes = [json.loads(line) for line in rows if line.strip()]
        for line in (meta / "tasks.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                task = json.loads(line)
                self.tasks[task["task"]] = task["task_index"]

    @property
    def total_frames(self) -> int:
        return sum(e["length"] for e in self.episodes)

    def add(self, episode: EpisodeRecord) -> int:
        """Write one episode (parquet, video, stats); returns its episode index. Call :meth:`close` after."""
        pa, pq = _pyarrow()
        index = len(self.episodes)
        chunk = index // CHUNKS_SIZE
        images = [self._image(step.image) for step in episode.steps]
        size = (images[0].shape[1], images[0].shape[0])
        if self.info is None:
            self.info = self._new_info(size)
        task_index = self.tasks.setdefault(episode.task, len(self.tasks))
        n = len(episode.steps)
        start = self.total_frames
        actions = np.stack([encode_action(step.call) for step in episode.steps])
        states = np.array([step.state for step in episode.steps], np.float32)
        columns = {
            "observation.state": pa.array(states.tolist(), pa.list_(pa.float32(), len(STATE_NAMES))),
            "action": pa.array(actions.tolist(), pa.list_(pa.float32(), len(ACTION_NAMES))),
            "action.json": pa.array([json.dumps(s.call or {"method": "stop", "args": []}) for s in episode.steps]),
            "next.done": pa.array([i == n - 1 for i in range(n)]),
            "next.success": pa.array([i == n - 1 and episode.success for i in range(n)]),
            "timestamp": pa.array([i / self.fps for i in range(n)], pa.float32()),
            "frame_index": pa.array(range(n), pa.int64()),
            "episode_index": pa.array([index] * n, pa.int64()),
            "index": pa.array(range(start, start + n), pa.int64()),
            "task_index": pa.array([task_index] * n, pa.int64()),
        }
        data = self.root / DATA_PATH.format(episode_chunk=chunk, episode_index=index)
        data.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns), data)
        self._write_video(images, chunk, index)
        self.episodes.append(
            {
                "episode_index": index,
                "tasks": [episode.task],
                "length": n,
                "success": episode.success,
                "scenario": episode.scenario,
                "seed": episode.seed,
            }
        )
        stats = {k: _stats(np.asarray(columns[k].to_pylist(), dtype=np.float64)) for k in columns if k != "action.json"}
        stats[self.camera_key] = _image_stats(images)
        (self.root / "meta").mkdir(parents=True, exist_ok=True)
        with open(self.root / "meta" / "episodes_stats.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"episode_index": index, "stats": stats}) + "\n")
        return index

    def _image(self, path: Path) -> np.ndarray:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise RecordingError(f"{path}: (file): cannot read the frame")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if self.info is not None:
            shape = self.info["features"][self.camera_key]["shape"]
            if rgb.shape[:2] != (shape[0], shape[1]):
                rgb = cv2.resize(rgb, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        return rgb

    def _write_video(self, images: list[np.ndarray], chunk: int, index: int) -> None:
        path = self.root / VIDEO_PATH.format(episode_chunk=chunk, video_key=self.camera_key, episode_index=index)
        path.parent.mkdir(parents=True, exist_ok=True)
        with H264Writer(path, fps=self.fps, crf=18) as writer:
            for image in images:
                writer.write(image)
        if writer.codec != "h264":
            raise RecordingError(f"{path}: LeRobot videos must be H.264; install PyAV (pip install av)")

    def _new_info(self, size: tuple[int, int]) -> dict[str, Any]:
        if size[0] % 2 or size[1] % 2:
            raise RecordingError(f"frames are {size[0]}x{size[1]}; H.264 (yuv420p) needs even sizes")
        return {
            "codebase_version": CODEBASE_VERSION,
            "robot_type": self.robot_type,
            "fps": self.fps,
            "features": features(self.camera_key, size, self.fps),
        }

    def close(self) -> Path:
        """Write ``meta/info.json``, ``episodes.jsonl`` and ``tasks.jsonl``; returns the dataset folder."""
        if self.info is None:
            raise RecordingError(f"{self.root}: no episode to write")
        n = len(self.episodes)
        self.info.update(
            {
                "total_episodes": n,
                "total_frames": self.total_frames,
                "total_tasks": len(self.tasks),
                "total_videos": n,
                "total_chunks": math.ceil(n / CHUNKS_SIZE),
                "chunks_size": CHUNKS_SIZE,
                "splits": {"train": f"0:{n}"},
                "data_path": DATA_PATH,
                "video_path": VIDEO_PATH,
            }
        )
        order = ["codebase_version", "robot_type", "total_episodes", "total_frames", "total_tasks", "total_videos"]
        order += ["total_chunks", "chunks_size", "fps", "splits", "data_path", "video_path", "features"]
        meta = self.root / "meta"
        meta.mkdir(parents=True, exist_ok=True)
        (meta / "info.json").write_text(json.dumps({k: self.info[k] for k in order}, indent=4) + "\n", "utf-8")
        (meta / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in self.episodes), "utf-8")
        tasks = sorted(self.tasks.items(), key=lambda item: item[1])
        lines = "".join(json.dumps({"task_index": i, "task": t}) + "\n" for t, i in tasks)
        (meta / "tasks.jsonl").write_text(lines, "utf-8")
        return self.root


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise RecordingError("pyarrow is not installed; install it with: pip install 'groundsight[lerobot]'") from None
    return pa, pq


def record_lerobot(run_dirs: Iterable[str | Path], out_dir: str | Path, camera: str = "top") -> Path:
    """Append each run directory's episode to the LeRobot dataset ``out_dir`` (created if missing).

    Raises:
        RecordingError: a run directory lacks a file or frame (one line naming it).
    """
    episodes = [episode_from_run_dir(d, camera) for d in run_dirs]
    writer = LeRobotWriter(out_dir, camera=camera)
    for episode in episodes:
        writer.add(episode)
    return writer.close()
