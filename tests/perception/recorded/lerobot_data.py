"""Test data: simulator frames stored as a LeRobot dataset (v2.1 or v3.0 layout) with pyarrow and PyAV: the
colour camera as an H.264 video, depth as 16-bit PNGs in an ``image`` column."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from groundsight.perception.frame import Frame
from groundsight.sim.video import H264Writer

CAMERA = "observation.images.top"
DEPTH = CAMERA + "_depth"


def _features(frame: Frame) -> dict:
    h, w = frame.rgb.shape[:2]
    return {
        CAMERA: {"dtype": "video", "shape": [h, w, 3], "names": ["height", "width", "channels"]},
        DEPTH: {"dtype": "image", "shape": [h, w, 1], "names": ["height", "width", "channels"]},
        "observation.state": {"dtype": "float32", "shape": [2], "names": None},
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        "frame_index": {"dtype": "int64", "shape": [1], "names": None},
        "episode_index": {"dtype": "int64", "shape": [1], "names": None},
        "index": {"dtype": "int64", "shape": [1], "names": None},
        "task_index": {"dtype": "int64", "shape": [1], "names": None},
    }


def _table(frames: list[Frame], episode: int, start: int, fps: int) -> pa.Table:
    depth = [
        {"bytes": cv2.imencode(".png", np.round(f.depth * 1000).astype(np.uint16))[1].tobytes(), "path": None}
        for f in frames
    ]
    n = len(frames)
    return pa.table(
        {
            DEPTH: pa.array(depth, pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
            "observation.state": pa.array([[0.0, 0.0]] * n, pa.list_(pa.float32(), 2)),
            "timestamp": pa.array([i / fps for i in range(n)], pa.float32()),
            "frame_index": pa.array(range(n), pa.int64()),
            "episode_index": pa.array([episode] * n, pa.int64()),
            "index": pa.array(range(start, start + n), pa.int64()),
            "task_index": pa.array([0] * n, pa.int64()),
        }
    )


def _video(path: Path, frames: list[Frame], fps: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with H264Writer(path, fps=fps, crf=0) as writer:  # crf 0: lossless in colour, so only yuv420p rounding is left
        for frame in frames:
            writer.write(frame.rgb)


def write_dataset(root: Path, episodes: list[list[Frame]], version: str = "v2.1", fps: int = 10) -> Path:
    """A LeRobot dataset with one episode per list of frames."""
    (root / "meta").mkdir(parents=True)
    info = {
        "codebase_version": version,
        "robot_type": "sim",
        "fps": fps,
        "chunks_size": 1000,
        "features": _features(episodes[0][0]),
        "total_episodes": len(episodes),
        "total_frames": sum(map(len, episodes)),
    }
    if version.startswith("v2"):
        info["data_path"] = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
        info["video_path"] = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
        start, rows = 0, []
        for i, frames in enumerate(episodes):
            (root / "data/chunk-000").mkdir(parents=True, exist_ok=True)
            pq.write_table(_table(frames, i, start, fps), root / f"data/chunk-000/episode_{i:06d}.parquet")
            _video(root / f"videos/chunk-000/{CAMERA}/episode_{i:06d}.mp4", frames, fps)
            rows.append({"episode_index": i, "tasks": ["look"], "length": len(frames)})
            start += len(frames)
        (root / "meta/episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        info["data_path"] = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
        info["video_path"] = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
        tables, rows, start = [], [], 0
        for i, frames in enumerate(episodes):
            tables.append(_table(frames, i, start, fps))
            rows.append(
                {
                    "episode_index": i,
                    "length": len(frames),
                    "tasks": ["look"],
                    "data/chunk_index": 0,
                    "data/file_index": 0,
                    "dataset_from_index": start,
                    "dataset_to_index": start + len(frames),
                    f"videos/{CAMERA}/chunk_index": 0,
                    f"videos/{CAMERA}/file_index": 0,
                    f"videos/{CAMERA}/from_timestamp": start / fps,
                    f"videos/{CAMERA}/to_timestamp": (start + len(frames)) / fps,
                }
            )
            start += len(frames)
        (root / "data/chunk-000").mkdir(parents=True)
        pq.write_table(pa.concat_tables(tables), root / "data/chunk-000/file-000.parquet")
        _video(root / f"videos/{CAMERA}/chunk-000/file-000.mp4", [f for e in episodes for f in e], fps)
        (root / "meta/episodes/chunk-000").mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), root / "meta/episodes/chunk-000/file-000.parquet")
    (root / "meta/info.json").write_text(json.dumps(info, indent=2))
    return root
