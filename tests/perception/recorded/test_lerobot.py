"""LeRobot datasets (v2.1 and v3.0 layouts) written from simulator frames with pyarrow and PyAV: read back as a
camera source, perceived like the same frames as an image folder, objects near simulator truth."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from groundsight.perception.frame import CameraError, CameraSource, Frame
from groundsight.perception.perceivers import ClassicalPerceiver
from groundsight.perception.recorded.lerobot import LeRobotSource
from groundsight.perception.sources import ImageFolderSource, open_source
from tests.perception.recorded.bags import write_folder
from tests.perception.recorded.lerobot_data import write_dataset
from tests.perception.recorded.test_bag import precision_recall, read_all


@pytest.mark.parametrize("version", ["v2.1", "v3.0"])
def test_dataset_perceived_like_the_image_folder_and_near_truth(
    version: str, rendered: tuple[list, list[Frame]], tmp_path: Path
) -> None:
    truth, frames = rendered
    calibration = write_folder(frames, tmp_path / "folder")
    root = write_dataset(tmp_path / "ds", [frames[:2], frames[2:]], version)
    source = LeRobotSource(root, camera_key="top", calibration=calibration)
    assert isinstance(source, CameraSource) and len(source) == 3
    from_dataset = read_all(source)
    assert [f.t for f in from_dataset] == pytest.approx([0.0, 0.1, 0.0])  # two episodes
    first = from_dataset[0]
    assert np.abs(first.rgb.astype(int) - frames[0].rgb).mean() < 2.0  # H.264 lossless, yuv420p rounding only
    assert np.abs(first.depth - frames[0].depth).max() < 6e-4 and np.allclose(first.T_world_cam, frames[0].T_world_cam)
    for t in truth:
        obj = next(o for o in ClassicalPerceiver().perceive([first]).objects if o.id == t.id)
        assert math.dist(obj.position, t.position) < 0.01
    folder = read_all(ImageFolderSource(tmp_path / "folder", calibration))
    assert precision_recall(from_dataset, truth) == precision_recall(folder, truth) == (1.0, 1.0)


@pytest.mark.parametrize("version", ["v2.1", "v3.0"])
def test_one_episode_and_the_source_spec(version: str, rendered: tuple[list, list[Frame]], tmp_path: Path) -> None:
    _, frames = rendered
    root = write_dataset(tmp_path / "ds", [frames[:2], frames[2:]], version)
    source = open_source(f"lerobot:{root}", episode=1)
    assert isinstance(source, LeRobotSource) and len(source) == 1
    frame = source.read()
    assert np.abs(frame.rgb.astype(int) - frames[2].rgb).mean() < 2.0
    assert frame.intrinsics.fx == frame.rgb.shape[1]  # no calibration: the documented default guess


def test_dataset_errors(rendered: tuple[list, list[Frame]], tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="LeRobot dataset folder not found"):
        LeRobotSource(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CameraError, match=r"meta/info.json: \(file\): not found"):
        LeRobotSource(tmp_path / "empty")
    root = write_dataset(tmp_path / "ds", [rendered[1][:1]])
    with pytest.raises(
        CameraError, match=r"--camera-key: wrist is not a camera of .* \(cameras: observation.images.top\)"
    ):
        LeRobotSource(root, camera_key="wrist")
    with pytest.raises(CameraError, match="--episode: .* has no episode 5"):
        LeRobotSource(root, episode=5)
    info = json.loads((root / "meta/info.json").read_text())
    del info["fps"]
    (root / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(CameraError, match=r"info.json: fps: "):
        LeRobotSource(root)
