"""Real camera sources on real files written with OpenCV: video files, RGB-D folders from the simulator,
calibration files, and sources that stop mid-stream."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from groundsight.agent.loop.live_camera import run_camera
from groundsight.perception.calibration import Calibration, CalibrationError, load_calibration
from groundsight.perception.frame import CameraError, CameraSource
from groundsight.perception.perceivers import ClassicalPerceiver
from groundsight.perception.sources import EndOfStream, ImageFolderSource, VideoSource, open_source
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.world import World

SCENE = [
    ObjectSpec("red_block", "block", "red", "medium", 0.45, -0.12),
    ObjectSpec("blue_bowl", "bowl", "blue", "large", 0.60, 0.10),
    ObjectSpec("green_block", "block", "green", "small", 0.40, 0.15),
]


def write_rgbd_folder(folder: Path, n: int = 3) -> tuple[list, Path]:
    """Render the scene with the simulator's top camera and store it as a real RGB-D camera would:
    ``00000N.png`` colour, ``00000N_depth.png`` 16-bit millimetres, and ``calibration.yaml`` beside the folder."""
    folder.mkdir(parents=True)
    with World() as world:
        for spec in SCENE:
            world.add_object(spec)
        world.settle()
        truth = world.truth()
        for i in range(n):
            frame = world.cameras[0].read()
            cv2.imwrite(str(folder / f"{i:06d}.png"), cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
            mm = np.round(frame.depth * 1000.0).astype(np.uint16)
            cv2.imwrite(str(folder / f"{i:06d}_depth.png"), mm)
        k = frame.intrinsics
        calib = Calibration.model_validate(
            {
                "intrinsics": {"width": k.width, "height": k.height, "fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy},
                "T_world_cam": frame.T_world_cam.tolist(),
            }
        )
    path = folder.parent / "calibration.yaml"
    path.write_text(calib.to_yaml())
    return truth, path


def write_video(path: Path, n: int = 12, size: tuple[int, int] = (160, 120)) -> None:
    """A short synthetic mp4: a red square moving across a gray background."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, size)
    assert writer.isOpened()
    for i in range(n):
        img = np.full((size[1], size[0], 3), 128, np.uint8)
        cv2.rectangle(img, (10 + 8 * i, 40), (40 + 8 * i, 70), (0, 0, 255), -1)  # BGR red
        writer.write(img)
    writer.release()


# ----------------------------------------------------------------------------- calibration


def test_calibration_round_trip_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("intrinsics: {width: 640, height: 480, fx: 500, fy: 501, cx: 320, cy: 240}\n")
    calib = load_calibration(path)
    assert calib.distortion == [0.0] * 5 and not calib.distorted
    assert np.allclose(calib.pose, np.eye(4)) and calib.depth_scale == 0.001
    assert calib.camera_intrinsics.fy == 501
    path.write_text(calib.to_yaml())
    assert load_calibration(path) == calib


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("intrinsics: {width: 640, height: 480, fx: 500, fy: 500, cx: 320}\n", "intrinsics.cy: missing required field"),
        ("intrinsics: {width: 640, height: 480, fx: -5, fy: 500, cx: 1, cy: 1}\n", "intrinsics.fx: "),
        ("intrinsics: {width: 64, height: 48, fx: 5, fy: 5, cx: 1, cy: 1}\ndistortion: [0, 1]\n", "distortion: "),
        (
            "intrinsics: {width: 64, height: 48, fx: 5, fy: 5, cx: 1, cy: 1}\nT_world_cam: [[1, 0, 0], [0, 1, 0]]\n",
            "T_world_cam: must be a 4x4 matrix",
        ),
        (
            "intrinsics: {width: 64, height: 48, fx: 5, fy: 5, cx: 1, cy: 1}\n"
            "T_world_cam: [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]\n",
            "T_world_cam: rotation part is not a proper rotation",
        ),
        ("intrinsics: {width: 64, height: 48, fx: 5, fy: 5, cx: 1, cy: 1}\nfocal: 3\n", "focal: unknown field"),
        ("intrinsics: [width: 64\n", "line "),
        ("- 1\n- 2\n", "(top level): must be a mapping"),
    ],
)
def test_bad_calibration_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CalibrationError) as info:
        load_calibration(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ") and expected in message, message


def test_missing_calibration_file(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match=r"\(file\): cannot read"):
        load_calibration(tmp_path / "nope.yaml")


# ----------------------------------------------------------------------------- video


def test_video_file_reads_rgb_frames_then_end_of_stream(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    write_video(path, n=12)
    source = VideoSource(str(path))
    assert isinstance(source, CameraSource)
    frames = []
    with pytest.raises(EndOfStream, match="end of stream after 12 frames"):
        for _ in range(100):
            frames.append(source.read())
    assert len(frames) == 12
    first = frames[0]
    assert first.rgb.shape == (120, 160, 3) and first.depth is None
    r, g, b = first.rgb[55, 25].astype(int)  # inside the square: red in RGB order
    assert r > 200 and g < 60 and b < 60
    assert first.intrinsics.fx == 160 and first.intrinsics.cx == 80  # the documented default guess
    assert np.allclose(first.T_world_cam, np.eye(4))
    assert frames[-1].t > frames[0].t
    source.close()


def test_video_uses_calibration_and_undistorts(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    write_video(path, n=2)
    pose = np.eye(4)
    pose[:3, 3] = (0.5, 0.0, 1.0)
    calib = Calibration.model_validate(
        {
            "intrinsics": {"width": 320, "height": 240, "fx": 300, "fy": 300, "cx": 160, "cy": 120},
            "distortion": [-0.3, 0.1, 0, 0, 0],
            "T_world_cam": pose.tolist(),
        }
    )
    frame = VideoSource(str(path), calib).read()
    assert frame.intrinsics.fx == pytest.approx(150) and frame.intrinsics.cy == pytest.approx(60)  # scaled to 160x120
    assert np.allclose(frame.T_world_cam, pose)
    plain = VideoSource(str(path)).read()
    assert not np.array_equal(frame.rgb, plain.rgb)  # undistorted


def test_missing_and_truncated_video_files_are_camera_errors(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="video file not found"):
        VideoSource(str(tmp_path / "none.mp4"))
    good = tmp_path / "clip.mp4"
    write_video(good, n=12)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CameraError, match="cannot open video source"):
        VideoSource(str(cut))


class StoppingCapture:
    """Stands in for a USB camera or RTSP stream that delivers ``frames`` frames and then goes silent (no
    real device or network here). Every later read fails at once, as OpenCV's does after a read timeout."""

    opened = 0

    def __init__(self, frames: int) -> None:
        self.left = frames
        StoppingCapture.opened += 1

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.zeros((48, 64, 3), np.uint8)

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        pass


def test_device_that_stops_is_a_clear_error_after_bounded_reconnects() -> None:
    StoppingCapture.opened = 0
    caps = iter([StoppingCapture(3), StoppingCapture(0), StoppingCapture(0)])
    source = VideoSource(0, max_failures=4, reconnect=2, timeout_s=2.0, capture_factory=lambda s, t: next(caps))
    assert source.name == "device0"
    for _ in range(3):
        assert source.read().rgb.shape == (48, 64, 3)
    with pytest.raises(CameraError, match="stream stalled: no frame after 4 reads and 2 reconnects") as info:
        source.read()
    assert not isinstance(info.value, EndOfStream)
    assert StoppingCapture.opened == 3  # the first open and exactly two reconnects


def test_device_that_recovers_after_a_reconnect() -> None:
    caps = iter([StoppingCapture(1), StoppingCapture(5)])
    source = VideoSource("rtsp://camera.invalid/stream", capture_factory=lambda s, t: next(caps), max_failures=2)
    source.read()
    assert source.read().rgb.shape == (48, 64, 3)  # the second capture took over


def test_device_that_cannot_be_opened() -> None:
    class Closed(StoppingCapture):
        def isOpened(self) -> bool:  # noqa: N802
            return False

    with pytest.raises(CameraError, match="cannot open video source 7"):
        VideoSource(7, capture_factory=lambda s, t: Closed(0))


# ----------------------------------------------------------------------------- image folders


@pytest.fixture(scope="module")
def rgbd(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, Path, Path]:
    root = tmp_path_factory.mktemp("rgbd")
    truth, calib = write_rgbd_folder(root / "frames")
    return truth, root / "frames", calib


def test_image_folder_rgbd_perceived_near_simulator_truth(rgbd: tuple[list, Path, Path]) -> None:
    truth, folder, calib_path = rgbd
    source = ImageFolderSource(folder, load_calibration(calib_path))
    assert isinstance(source, CameraSource) and len(source) == 3
    frame = source.read()
    assert frame.depth is not None and frame.depth.dtype == np.float32
    assert 0.5 < float(np.median(frame.depth)) < 1.5  # metres, from millimetres
    percept = ClassicalPerceiver().perceive([frame])
    assert sorted(o.id for o in percept.objects) == sorted(t.id for t in truth)
    for t in truth:
        obj = next(o for o in percept.objects if o.id == t.id)
        error = math.dist(obj.position, t.position)
        assert error < 0.015, f"{t.id}: centre off by {error * 1000:.1f} mm"
    source.read(), source.read()
    with pytest.raises(EndOfStream, match="after 3 images"):
        source.read()


def test_depth_subfolder_and_rgb_only_images(tmp_path: Path) -> None:
    (tmp_path / "depth").mkdir()
    cv2.imwrite(str(tmp_path / "a.jpg"), np.zeros((8, 10, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "b.png"), np.zeros((8, 10, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "depth" / "b.png"), np.full((8, 10), 1500, np.uint16))
    source = ImageFolderSource(tmp_path)
    a, b = source.read(), source.read()
    assert a.depth is None and a.camera == tmp_path.name
    assert b.depth is not None and np.allclose(b.depth, 1.5) and b.t > a.t


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match=f"image folder not found: {tmp_path / 'none'}"):
        ImageFolderSource(tmp_path / "none")
    with pytest.raises(CameraError, match="no images"):
        ImageFolderSource(tmp_path)
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.zeros((8, 10, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "1_depth.png"), np.zeros((8, 10, 3), np.uint8))  # 8-bit colour: not depth
    source = ImageFolderSource(tmp_path)
    source.read()
    with pytest.raises(CameraError, match="not a single-channel 16-bit PNG"):
        source.read()
    (tmp_path / "2.png").unlink()  # the camera's files disappear mid-stream
    with pytest.raises(CameraError, match="cannot read image"):
        source.read()


def test_open_source_picks_the_kind(tmp_path: Path) -> None:
    write_video(tmp_path / "v.mp4", n=2)
    assert isinstance(open_source(str(tmp_path / "v.mp4")), VideoSource)
    cv2.imwrite(str(tmp_path / "0.png"), np.zeros((8, 10, 3), np.uint8))
    assert isinstance(open_source(str(tmp_path)), ImageFolderSource)
    with pytest.raises(CameraError, match="source not found"):
        open_source(str(tmp_path / "missing.mp4"))


# ----------------------------------------------------------------------------- run_camera


def test_run_camera_on_rgbd_folder_grounds_instruction(rgbd: tuple[list, Path, Path], tmp_path: Path) -> None:
    import json

    truth, folder, calib_path = rgbd
    calib = load_calibration(calib_path)
    seen: list[int] = []
    summary = run_camera(
        ImageFolderSource(folder, calib),
        calib,
        "classical",
        "Put the red block in the blue bowl.",
        tmp_path / "out",
        None,
        on_frame=lambda i, f, p, fps: seen.append(i),
    )
    assert seen == [0, 1, 2] and summary.frames == 3 and summary.perceived_frames == 3
    assert summary.status == "ended" and "end of stream" in summary.reason and summary.fps > 0
    assert (
        summary.plan
        and summary.plan == ["pick(red_block)", "place(red_block, inside, blue_bowl)"]
        and summary.failed_check is None
    )
    assert summary.plan_line == "plan: pick(red_block) -> place(red_block, inside, blue_bowl) (not executed)"
    lines = [json.loads(line) for line in (tmp_path / "out" / "scene_graph.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in lines] == [0, 1, 2]
    assert {o["id"] for o in lines[0]["objects"]} == {t.id for t in truth}
    assert lines[0]["error"] is None and isinstance(lines[0]["relations"], list)
    cap = cv2.VideoCapture(str(tmp_path / "out" / "annotated.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    cap.release()


def test_run_camera_records_a_camera_that_stops(tmp_path: Path) -> None:
    caps = iter([StoppingCapture(4), StoppingCapture(0)])
    source = VideoSource(1, max_failures=2, reconnect=1, capture_factory=lambda s, t: next(caps))
    summary = run_camera(source, None, "classical", "Put the red block in the blue bowl.", tmp_path, None)
    assert summary.status == "camera_error" and "stream stalled" in summary.reason
    assert summary.frames == 4 and summary.perceived_frames == 0  # RGB only: the classical perceiver needs depth
    assert summary.failed_check == "no_percept"
    assert len((tmp_path / "scene_graph.jsonl").read_text().splitlines()) == 4
    assert (tmp_path / "annotated.mp4").stat().st_size > 0


def test_run_camera_rejects_simulator_perceivers(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs simulator truth and cannot run on a camera feed"):
        run_camera(None, None, "oracle", out_dir=tmp_path)  # type: ignore[arg-type]
