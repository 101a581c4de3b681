"""Episodes out: scripted-solver and agent runs recorded as a LeRobot v2.1 dataset (read back with `datasets`,
PyAV and groundsight's own LeRobot source) and logged to a Rerun .rrd (read back with the Rerun SDK)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from groundsight.agent.recording import log_rerun, record_lerobot
from groundsight.agent.recording.episode import RecordingError, episode_from_run_dir
from groundsight.agent.recording.lerobot_writer import ACTION_NAMES, SKILLS
from groundsight.agent.tasks.scenario import load_scenario
from groundsight.perception.recorded.lerobot import LeRobotSource

SCENARIO = "pick_place/red_block_in_blue_bowl"
SOLVED = ["pick_place/red_block_in_blue_bowl", "pick_place/yellow_cube_onto_green_plate"]
EXE = shutil.which("groundsight", path=str(Path(sys.executable).parent)) or "groundsight"
SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
INFO_KEYS = {
    "codebase_version",
    "robot_type",
    "total_episodes",
    "total_frames",
    "total_tasks",
    "total_videos",
    "total_chunks",
    "chunks_size",
    "fps",
    "splits",
    "data_path",
    "video_path",
    "features",
}


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    """``groundsight solve A B --seeds 2 --record lerobot DIR``: four demonstrations of two tasks in one dataset."""
    root = tmp_path_factory.mktemp("solve")
    files = [str(SCENARIOS / f"{name}.yaml") for name in SOLVED]
    args = [*files, "--seeds", "2", "--out", str(root / "solve"), "--record", "lerobot", str(root / "dataset")]
    done = subprocess.run([EXE, "solve", *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "wrote 4 episodes to the LeRobot dataset" in done.stdout and "solve: 4/4 episodes passed" in done.stdout
    runs = [root / "solve/episodes" / f"{name}/seed{seed}" for name in SOLVED for seed in range(2)]
    return runs, root / "dataset"


def test_dataset_layout_and_info_follow_lerobot_v21(solved: tuple[list[Path], Path]) -> None:
    runs, root = solved
    info = json.loads((root / "meta/info.json").read_text())
    assert set(info) == INFO_KEYS and info["codebase_version"] == "v2.1"
    lengths = [len(episode_from_run_dir(r).steps) for r in runs]
    assert info["total_episodes"] == 4 and info["total_frames"] == sum(lengths) and info["total_tasks"] == 2
    assert info["splits"] == {"train": "0:4"} and info["chunks_size"] == 1000
    video = info["features"]["observation.images.top"]
    assert video["dtype"] == "video" and video["names"] == ["height", "width", "channels"]
    assert video["info"]["video.codec"] == "h264" and video["info"]["video.pix_fmt"] == "yuv420p"
    assert info["features"]["action"]["shape"] == [len(ACTION_NAMES)]
    for i in range(4):
        assert (root / info["data_path"].format(episode_chunk=0, episode_index=i)).is_file()
        assert (
            root / info["video_path"].format(episode_chunk=0, video_key="observation.images.top", episode_index=i)
        ).is_file()
    episodes = [json.loads(line) for line in (root / "meta/episodes.jsonl").read_text().splitlines()]
    instructions = [load_scenario(name).instruction for name in SOLVED]
    assert [e["length"] for e in episodes] == lengths
    assert [e["tasks"] for e in episodes] == [[instructions[0]]] * 2 + [[instructions[1]]] * 2  # one per run
    assert all(e["success"] for e in episodes)
    assert [json.loads(line) for line in (root / "meta/tasks.jsonl").read_text().splitlines()] == [
        {"task_index": i, "task": task} for i, task in enumerate(instructions)
    ]
    stats = [json.loads(line) for line in (root / "meta/episodes_stats.jsonl").read_text().splitlines()]
    assert [s["episode_index"] for s in stats] == [0, 1, 2, 3]
    assert np.asarray(stats[0]["stats"]["observation.images.top"]["mean"]).shape == (3, 1, 1)


def test_dataset_loads_with_datasets_and_actions_match_the_journal(solved: tuple[list[Path], Path]) -> None:
    from datasets import load_dataset

    runs, root = solved
    data = load_dataset("parquet", data_files=str(root / "data/chunk-000/*.parquet"), split="train")
    rows = sorted(data, key=lambda r: r["index"])
    assert [r["index"] for r in rows] == list(range(len(rows)))
    first = [r for r in rows if r["episode_index"] == 0]
    calls = [json.loads(line) for line in (runs[0] / "robot.jsonl").read_text().splitlines()]
    assert len(first) == len(calls) + 1
    for row, call in zip(first, [*calls, None], strict=True):
        method = call["method"] if call else "stop"
        assert SKILLS[int(np.argmax(row["action"][: len(SKILLS)]))] == method
        assert json.loads(row["action.json"])["method"] == method
    assert first[0]["action.json"] and json.loads(first[0]["action.json"])["args"] == calls[0]["args"]
    assert first[1]["observation.state"][0] == 1.0  # holding after the pick
    assert [r["next.done"] for r in first] == [False] * len(calls) + [True] and first[-1]["next.success"]


def test_videos_decode_and_read_back_frame_for_frame(solved: tuple[list[Path], Path]) -> None:
    runs, root = solved
    for i, run in enumerate(runs):
        path = root / f"videos/chunk-000/observation.images.top/episode_{i:06d}.mp4"
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        steps = episode_from_run_dir(run).steps
        assert len(decoded) == len(steps)
        source = LeRobotSource(root, camera_key="top", episode=i)
        for step, video_frame in zip(steps, decoded, strict=True):
            frame = source.read()
            jpeg = cv2.cvtColor(cv2.imread(str(step.image)), cv2.COLOR_BGR2RGB)
            assert np.array_equal(frame.rgb, video_frame)
            assert np.abs(frame.rgb.astype(int) - jpeg).mean() < 3.0


def test_appending_keeps_indices_and_tasks(solved: tuple[list[Path], Path], tmp_path: Path) -> None:
    runs, _ = solved
    root = record_lerobot(runs[:1], tmp_path / "ds")
    record_lerobot(runs[1:], root)
    info = json.loads((root / "meta/info.json").read_text())
    assert info["total_episodes"] == 4 and info["total_tasks"] == 2
    import pyarrow.parquet as pq

    second = pq.read_table(root / "data/chunk-000/episode_000001.parquet").to_pydict()
    assert second["episode_index"][0] == 1 and second["index"][0] == len(episode_from_run_dir(runs[0]).steps)


@pytest.fixture(scope="module")
def agent_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``groundsight run SCENARIO --record lerobot DIR --rerun-save FILE.rrd``: the run directory (DIR and FILE
    beside it)."""
    root = tmp_path_factory.mktemp("agent")
    scenario = str(SCENARIOS / f"{SCENARIO}.yaml")
    args = ["--out", str(root / "run"), "--record", "lerobot", str(root / "ds"), "--rerun-save", str(root / "run.rrd")]
    done = subprocess.run([EXE, "run", scenario, *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "wrote 1 episode to the LeRobot dataset" in done.stdout and "wrote Rerun recording" in done.stdout
    return root / "run"


def test_agent_run_recorded_as_dataset(agent_run: Path) -> None:
    root = agent_run.parent / "ds"
    episode = json.loads((root / "meta/episodes.jsonl").read_text().splitlines()[0])
    assert episode["success"] and episode["tasks"] == [load_scenario(SCENARIO).instruction]
    calls = (agent_run / "robot.jsonl").read_text().splitlines()
    assert episode["length"] == len(calls) + 1 and len(LeRobotSource(root)) == episode["length"]


@pytest.mark.parametrize("command", ["run", "eval", "solve"])
def test_unknown_record_format_is_a_one_line_error(command: str, tmp_path: Path) -> None:
    scenario = str(SCENARIOS / f"{SCENARIO}.yaml")
    done = subprocess.run(
        [EXE, command, scenario, "--out", str(tmp_path / "out"), "--record", "rlds", str(tmp_path / "ds")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and done.stderr.strip() == "error: --record: unknown format 'rlds' (known: lerobot)"
    assert not (tmp_path / "ds").exists()


def test_rerun_recording_opens_with_the_sdk_reader(agent_run: Path, tmp_path: Path) -> None:
    import rerun as rr

    path = agent_run.parent / "run.rrd"  # written by run --rerun-save
    assert log_rerun(agent_run, tmp_path / "again.rrd").stat().st_size > 0
    chunks = rr.chunk.RrdReader(path).stream().to_chunks()
    entities = {c.entity_path for c in chunks}
    expected = {"/camera/top/image", "/camera/top/image/boxes", "/world/objects", "/reasoning/thought"}
    assert expected | {"/reasoning/checks", "/robot/calls", "/episode/status"} <= entities

    def texts(entity: str) -> list[str]:
        out = []
        for chunk in chunks:
            if chunk.entity_path == entity:
                batch = chunk.to_record_batch()
                assert "step" in batch.schema.names  # on the step timeline
                out += [t for cell in batch.column("TextLog:text").to_pylist() if cell for t in cell]
        return out

    assert any(t.startswith("[ok] ") for t in texts("/reasoning/checks"))
    assert any(t.startswith("pick(") for t in texts("/robot/calls"))
    assert texts("/episode/status") == ["episode succeeded"]
    first_look = json.loads((agent_run / "trace.jsonl").read_text().splitlines()[0])
    boxes = next(c for c in chunks if c.entity_path == "/world/objects").to_record_batch()
    labels = [label for cell in boxes.column("Boxes3D:labels").to_pylist() if cell for label in cell]
    assert sorted(labels[: len(first_look["percept"]["objects"])]) == sorted(
        o["id"] for o in first_look["percept"]["objects"]
    )


def test_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RecordingError, match=r"summary.json: \(file\): not found"):
        record_lerobot([tmp_path], tmp_path / "ds")
    monkeypatch.setitem(sys.modules, "rerun", None)
    with pytest.raises(RecordingError) as info:
        log_rerun(tmp_path, tmp_path / "x.rrd")
    assert str(info.value) == "rerun-sdk is not installed; install it with: pip install 'groundsight[rerun]'"
