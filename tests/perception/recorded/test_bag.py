"""ROS 2 (sqlite3, MCAP) and ROS 1 bags written with rosbags from simulator frames: read back as a camera source,
perceived with the classical perceiver, and compared with simulator truth and with the same frames as a folder."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from groundsight.perception.frame import CameraError, CameraSource, Frame
from groundsight.perception.perceivers import ClassicalPerceiver
from groundsight.perception.recorded.bag import BagSource, image_topics
from groundsight.perception.sources import EndOfStream, ImageFolderSource, open_source
from tests.perception.recorded.bags import DEPTH, INFO, RGB, write_folder, write_ros1_bag, write_ros2_bag

WRITERS = {
    "ros2-sqlite3": lambda path, frames, **kinds: write_ros2_bag(path, frames, "sqlite3", **kinds),
    "ros2-mcap": lambda path, frames, **kinds: write_ros2_bag(path, frames, "mcap", **kinds),
    "ros1": lambda path, frames, **kinds: write_ros1_bag(path.with_suffix(".bag"), frames, **kinds),
}


def precision_recall(frames: list[Frame], truth: list, tolerance: float = 0.03) -> tuple[float, float]:
    """Per-frame detections matched to truth by id within ``tolerance`` metres, summed over frames."""
    perceiver, hits, seen = ClassicalPerceiver(), 0, 0
    for frame in frames:
        objects = perceiver.perceive([frame]).objects
        seen += len(objects)
        by_id = {t.id: t for t in truth}
        hits += sum(o.id in by_id and math.dist(o.position, by_id[o.id].position) < tolerance for o in objects)
    return hits / max(seen, 1), hits / (len(truth) * len(frames))


def read_all(source: CameraSource) -> list[Frame]:
    frames = []
    with pytest.raises(EndOfStream):
        for _ in range(100):
            frames.append(source.read())
    return frames


@pytest.mark.parametrize("kind", list(WRITERS))
def test_bag_perceived_like_the_image_folder_and_near_truth(
    kind: str, rendered: tuple[list, list[Frame]], tmp_path: Path
) -> None:
    truth, frames = rendered
    bag = WRITERS[kind](tmp_path / "bag", frames)
    source = BagSource(bag, rgb_topic=RGB, depth_topic=DEPTH)
    assert isinstance(source, CameraSource) and len(source) == 3
    from_bag = read_all(source)
    assert len(from_bag) == 3 and from_bag[1].t == pytest.approx(1.2)
    first = from_bag[0]
    assert np.allclose(first.T_world_cam, frames[0].T_world_cam, atol=1e-9)  # world <- base_link <- optical
    assert first.intrinsics == frames[0].intrinsics  # from CameraInfo K
    assert np.array_equal(first.rgb, frames[0].rgb) and np.abs(first.depth - frames[0].depth).max() < 6e-4
    for t in truth:
        obj = next(o for o in ClassicalPerceiver().perceive([first]).objects if o.id == t.id)
        assert math.dist(obj.position, t.position) < 0.01, f"{t.id} off by {math.dist(obj.position, t.position)}"
    calibration = write_folder(frames, tmp_path / "folder")
    folder = read_all(ImageFolderSource(tmp_path / "folder", calibration))
    assert precision_recall(from_bag, truth) == precision_recall(folder, truth)
    assert precision_recall(from_bag, truth)[1] == 1.0
    source.close()


@pytest.mark.parametrize(
    ("colour", "depth", "depth_tolerance"),
    [("bgr8", "32FC1", 1e-6), ("jpeg", "compressedDepth", 6e-4), ("png", "compressedDepth32", 1e-3)],
)
def test_colour_and_depth_encodings(
    colour: str, depth: str, depth_tolerance: float, rendered: tuple[list, list[Frame]], tmp_path: Path
) -> None:
    _, frames = rendered
    bag = write_ros2_bag(tmp_path / "bag", frames[:1], "mcap", colour=colour, depth=depth)
    frame = BagSource(bag, rgb_topic=RGB, depth_topic=DEPTH, info_topic=INFO).read()
    valid = frames[0].depth > 0
    assert np.abs(frame.depth - frames[0].depth)[valid].max() < depth_tolerance
    rgb_error = np.abs(frame.rgb.astype(int) - frames[0].rgb).mean()
    assert rgb_error < (3.0 if colour == "jpeg" else 1e-9)


def test_topics_listed_when_none_named_and_bad_topics(rendered: tuple[list, list[Frame]], tmp_path: Path) -> None:
    bag = write_ros2_bag(tmp_path / "bag", rendered[1][:1])
    assert [t.topic for t in image_topics(bag)] == [RGB, DEPTH]
    with pytest.raises(CameraError, match=r"--rgb-topic; image topics: /camera/color/image_raw \(sensor_msgs/Image"):
        BagSource(bag)
    with pytest.raises(CameraError, match="--depth-topic: topic /nope is not in the bag"):
        BagSource(bag, rgb_topic=RGB, depth_topic="/nope")
    with pytest.raises(CameraError, match="--rgb-topic: topic /camera/color/camera_info is sensor_msgs/msg/CameraInfo"):
        BagSource(bag, rgb_topic=INFO)
    with pytest.raises(CameraError, match="no TF chain from 'map'"):
        BagSource(bag, rgb_topic=RGB, world_frame="map").read()
    with pytest.raises(CameraError, match="bag not found"):
        BagSource(tmp_path / "missing", rgb_topic=RGB)


def test_world_frame_and_open_source_spec(rendered: tuple[list, list[Frame]], tmp_path: Path) -> None:
    frames = rendered[1][:1]
    bag = write_ros2_bag(tmp_path / "bag", frames)
    in_base = BagSource(bag, rgb_topic=RGB, world_frame="base_link").read()
    from tests.perception.recorded.bags import T_WORLD_BASE

    assert np.allclose(T_WORLD_BASE @ in_base.T_world_cam, frames[0].T_world_cam, atol=1e-9)
    source = open_source(f"bag:{bag}", rgb_topic=RGB, depth_topic=DEPTH)
    assert isinstance(source, BagSource) and source.read().depth is not None


def test_missing_rosbags_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "rosbags.highlevel", None)
    with pytest.raises(CameraError) as info:
        BagSource(tmp_path, rgb_topic=RGB)
    assert str(info.value) == "rosbags.highlevel is not installed; install it with: pip install 'groundsight[ros]'"


def test_recorded_options_rejected_for_other_sources(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="--rgb-topic applies to bag: and lerobot: sources only"):
        open_source(str(tmp_path), rgb_topic=RGB)


def _stamped(parent: str, child: str, t: float, x: float) -> object:
    from types import SimpleNamespace as NS

    stamp = NS(sec=int(t), nanosec=int(round((t % 1) * 1e9)))
    transform = NS(translation=NS(x=x, y=0.0, z=0.0), rotation=NS(x=0.0, y=0.0, z=0.0, w=1.0))
    return NS(header=NS(stamp=stamp, frame_id=parent), child_frame_id=child, transform=transform)


def test_dynamic_tf_is_taken_at_the_latest_stamp_before_the_image() -> None:
    from groundsight.perception.recorded.bag import TfTree

    tree = TfTree()
    tree.add(_stamped("world", "base", 0.0, 1.0), static=True)
    for t, x in ((1.0, 0.1), (2.0, 0.2), (3.0, 0.3)):
        tree.add(_stamped("base", "/cam", t, x), static=False)
    assert tree.lookup(None, "cam", 2.5)[0, 3] == pytest.approx(1.2)
    assert tree.lookup("world", "cam", 3.0)[0, 3] == pytest.approx(1.3)
    assert tree.lookup("base", "cam", 0.5)[0, 3] == pytest.approx(0.1)  # before the first: the first
    assert tree.chain("cam") == ["cam", "base", "world"]


def test_calibration_overrides_camera_info_and_tf(rendered: tuple[list, list[Frame]], tmp_path: Path) -> None:
    from groundsight.perception.calibration import Calibration

    frames = rendered[1][:1]
    bag = write_ros1_bag(tmp_path / "r.bag", frames)
    pose = np.eye(4)
    pose[:3, 3] = (0.5, 0.0, 1.0)
    k = frames[0].intrinsics
    intrinsics = {"width": k.width, "height": k.height, "fx": 500.0, "fy": 500.0, "cx": k.cx, "cy": k.cy}
    calibration = Calibration.model_validate(
        {"intrinsics": intrinsics, "T_world_cam": pose.tolist(), "depth_scale": 0.002}
    )
    frame = BagSource(bag, rgb_topic=RGB, depth_topic=DEPTH, calibration=calibration).read()
    assert np.allclose(frame.T_world_cam, pose) and frame.intrinsics.fx == 500.0
    assert np.allclose(frame.depth, np.round(frames[0].depth * 1000) * 0.002, atol=1e-6)  # 16UC1 in calibration units
