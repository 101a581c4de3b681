"""``groundsight camera`` as a user runs it: a video file, an RGB-D image folder, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from tests.agent.cli.test_cli import cli
from tests.perception.test_sources import write_rgbd_folder, write_video


@pytest.fixture(scope="module")
def rgbd(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("rgbd")
    _, calib = write_rgbd_folder(root / "frames", n=2)
    return root / "frames", calib


def frame_count(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    try:
        return int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()


def _codec(path: Path) -> str:
    import av

    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.name


def test_camera_on_video_file(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    write_video(video, n=8)
    out = tmp_path / "out"
    result = cli("camera", "--source", str(video), "--out", str(out), "--instruction", "Put the red block in the bowl.")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [json.loads(line) for line in (out / "scene_graph.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in lines] == list(range(8))
    assert "needs depth" in lines[0]["error"]  # an RGB-only video cannot be perceived by the classical perceiver
    assert frame_count(out / "annotated.mp4") == 8
    assert _codec(out / "annotated.mp4") == "h264"  # plays in a browser
    assert "fps" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("plan: none")


def test_camera_on_rgbd_folder_with_instruction(tmp_path: Path, rgbd: tuple[Path, Path]) -> None:
    folder, calib = rgbd
    out = tmp_path / "out"
    args = ["camera", "--source", str(folder), "--calibration", str(calib), "--out", str(out)]
    result = cli(*args, "--instruction", "Put the red block in the blue bowl.", "--max-frames", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "plan: pick(red_block) -> place(red_block, inside, blue_bowl) (not executed)"
    )
    lines = [json.loads(line) for line in (out / "scene_graph.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and {"red_block", "blue_bowl", "green_block"} == {o["id"] for o in lines[1]["objects"]}
    assert frame_count(out / "annotated.mp4") == 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "ended" and summary["fps"] > 0


def test_camera_max_frames(tmp_path: Path, rgbd: tuple[Path, Path]) -> None:
    folder, calib = rgbd
    result = cli(
        "camera", "--source", str(folder), "--calibration", str(calib), "--out", str(tmp_path), "--max-frames", "1"
    )
    assert result.returncode == 0, result.stderr
    assert len((tmp_path / "scene_graph.jsonl").read_text().splitlines()) == 1


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: ["--source", str(d / "missing.mp4")], "error: --source: source not found: "),
        (lambda d: ["--source", str(d), "--calibration", str(d / "bad.yaml")], "bad.yaml: intrinsics.fx: "),
        (lambda d: ["--source", str(d), "--calibration", str(d / "none.yaml")], "none.yaml: (file): cannot read"),
        (
            lambda d: ["--source", str(d), "--perception", "oracle"],
            "error: --perception: perceiver 'oracle' needs simulator truth",
        ),
        (lambda d: ["--source", str(d / "empty")], "error: --source: no images"),
        (lambda d: ["--source", str(d / "cut.mp4")], "error: --source: cannot open video source"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, make, expected: str) -> None:
    (tmp_path / "bad.yaml").write_text("intrinsics: {width: 64, height: 48, fx: zero, fy: 5, cx: 1, cy: 1}\n")
    (tmp_path / "empty").mkdir()
    write_video(tmp_path / "clip.mp4", n=8)
    (tmp_path / "cut.mp4").write_bytes((tmp_path / "clip.mp4").read_bytes()[:1000])  # a truncated download
    cv2.imwrite(str(tmp_path / "0.png"), cv2.UMat(8, 10, cv2.CV_8UC3).get())
    result = cli("camera", *make(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "out").exists()


def _with(calib: Path, tmp_path: Path, **fields) -> Path:
    """A copy of calibration ``calib`` with ``fields`` set."""
    import yaml

    data = yaml.safe_load(calib.read_text())
    data.update(fields)
    path = tmp_path / "calibration.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _objects(out: Path) -> list[set[str]]:
    return [
        {o["id"] for o in json.loads(line)["objects"]} for line in (out / "scene_graph.jsonl").read_text().splitlines()
    ]


def test_camera_takes_the_calibrations_workspace(tmp_path: Path, rgbd: tuple[Path, Path]) -> None:
    """The red block (x 0.45, y -0.12) lies outside the workspace y >= 0: it is not an object."""
    folder, calib = rgbd
    half = _with(calib, tmp_path, workspace=[[0.25, 0.0], [0.8, 0.0], [0.8, 0.35], [0.25, 0.35]])
    out = tmp_path / "out"
    result = cli("camera", "--source", str(folder), "--calibration", str(half), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert _objects(out) == [{"blue_bowl", "green_block"}] * 2


def test_camera_lifts_an_rgb_only_folder_with_a_calibration(tmp_path: Path, rgbd: tuple[Path, Path]) -> None:
    """Colour images alone, with the calibration: the objects are found (lifted onto the table plane)."""
    folder, calib = rgbd
    rgb_only = tmp_path / "rgb"
    rgb_only.mkdir()
    for image in sorted(folder.glob("*.png")):
        if not image.stem.endswith("_depth"):
            (rgb_only / image.name).write_bytes(image.read_bytes())
    out = tmp_path / "out"
    result = cli("camera", "--source", str(rgb_only), "--calibration", str(calib), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    records = [json.loads(line) for line in (out / "scene_graph.jsonl").read_text().splitlines()]
    assert all("error" not in r or not r["error"] for r in records), records[0]
    colours = {o["color"] for o in records[0]["objects"]}
    assert {"red", "blue", "green"} <= colours, records[0]["objects"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"keep_out": [{"min": [0, 0, 0], "max": [-1, 1, 1]}]}, "keep_out[0].max: must be >= min on every axis"),
        ({"support_plane": [0, 0, 0, 1]}, "support_plane: the normal [a, b, c] must not be zero"),
        ({"support_plane": [1, 0, 0.1, 0]}, "support_plane: the plane must face up"),
    ],
)
def test_bad_calibration_fields_exit_2_with_one_line(
    tmp_path: Path, rgbd: tuple[Path, Path], fields: dict, expected: str
) -> None:
    folder, calib = rgbd
    bad = _with(calib, tmp_path, **fields)
    result = cli("camera", "--source", str(folder), "--calibration", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
