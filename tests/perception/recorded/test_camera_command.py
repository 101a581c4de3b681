"""``groundsight camera --source bag:PATH`` / ``lerobot:PATH`` as a user runs it: topics listed when none is named,
objects found and an instruction grounded on the recorded frames."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from groundsight.perception.frame import Frame
from tests.perception.recorded.bags import DEPTH, RGB, write_folder, write_ros2_bag
from tests.perception.recorded.lerobot_data import write_dataset

EXE = shutil.which("groundsight", path=str(Path(sys.executable).parent)) or "groundsight"


def _camera(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, "camera", *args], capture_output=True, text=True, timeout=300)


def test_camera_on_a_bag(rendered: tuple[list, list[Frame]], tmp_path: Path) -> None:
    bag = write_ros2_bag(tmp_path / "bag", rendered[1][:2], "mcap")
    listing = _camera("--source", f"bag:{bag}", "--out", str(tmp_path / "out"))
    assert listing.returncode == 2
    assert listing.stderr.strip().endswith(
        f"image topics: {RGB} (sensor_msgs/Image, 2 messages); {DEPTH} (sensor_msgs/Image, 2 messages)"
    )
    out = tmp_path / "out"
    args = ["--source", f"bag:{bag}", "--rgb-topic", RGB, "--depth-topic", DEPTH, "--out", str(out)]
    done = _camera(*args, "--instruction", "put the red block in the blue bowl")
    assert done.returncode == 0, done.stderr
    assert "frames: 2 (2 perceived)" in done.stdout and "pick(red_block)" in done.stdout
    last = json.loads((out / "scene_graph.jsonl").read_text().splitlines()[-1])
    assert {"red_block", "blue_bowl", "green_block"} <= {o["id"] for o in last["objects"]}


def test_camera_on_a_lerobot_dataset(rendered: tuple[list, list[Frame]], tmp_path: Path) -> None:
    frames = rendered[1][:2]
    calibration = tmp_path / "calibration.yaml"
    calibration.write_text(write_folder(frames, tmp_path / "folder").to_yaml())
    root = write_dataset(tmp_path / "ds", [frames])
    out = tmp_path / "out"
    done = _camera(
        "--source", f"lerobot:{root}", "--camera-key", "top", "--calibration", str(calibration), "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "frames: 2 (2 perceived)" in done.stdout
    bad = _camera("--source", f"lerobot:{root}", "--episode", "3", "--out", str(out))
    assert bad.returncode == 2 and "--episode: " in bad.stderr and "has no episode 3" in bad.stderr
