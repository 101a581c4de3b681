"""Fusion of percepts over time and cameras with the Tracker."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from groundsight.perception.frame import CameraIntrinsics, Frame
from groundsight.perception.objects import Evidence, Percept, SceneObject
from groundsight.perception.tracking import Tracker, TrackerConfig


def det(
    color: str,
    kind: str,
    x: float,
    y: float,
    conf: float = 0.9,
    camera: str = "top",
    size: str | None = "medium",
) -> SceneObject:
    return SceneObject(
        id=f"{color}_{kind}",
        type=kind,
        color=color,
        size=size,
        position=(x, y, 0.025),
        extent=(0.05, 0.05, 0.05),
        confidence=conf,
        evidence=(Evidence(camera=camera, box=(10, 10, 20, 20), pixels=80),),
    )


def percept(*objects: SceneObject, camera: str = "top", t: float = 0.0) -> Percept:
    return Percept(objects=list(objects), cameras=[camera], perceiver="classical", t=t)


def test_attributes_converge_by_confidence_weighted_vote() -> None:
    tracker = Tracker()
    colours = ["red", "orange", "red", "orange", "red"]  # 3 of 5 say red
    for step, colour in enumerate(colours):
        jitter = 0.004 * (-1) ** step
        tracker.update(percept(det(colour, "block", 0.5 + jitter, 0.1), det("blue", "ball", 0.6, -0.1), t=step))
    fused = tracker.percept()
    assert [o.id for o in fused.objects] == ["blue_ball", "red_block"]
    block = fused.by_id("red_block")
    assert abs(block.position[0] - 0.5) < 0.004 and block.size == "medium"
    assert fused.t == 4 and fused.cameras == ["top"] and fused.perceiver == "tracked:classical"
    assert fused.by_id("blue_ball").confidence > block.confidence  # unanimous beats split votes
    # confidence beats count: two confident "orange" outweigh three doubtful "red"
    t2 = Tracker()
    for colour, conf in [("red", 0.2), ("orange", 0.9), ("red", 0.2), ("orange", 0.9), ("red", 0.2)]:
        t2.update(percept(det(colour, "block", 0.5, 0.1, conf)))
    assert [o.color for o in t2.percept().objects] == ["orange"]


def test_confidence_grows_with_hits_and_evidence_is_bounded() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1, max_evidence=3))
    seen = []
    for _ in range(6):
        tracker.update(percept(det("red", "block", 0.5, 0.1, conf=0.6)))
        seen.append(tracker.percept().objects[0])
    confidences = [o.confidence for o in seen]
    assert confidences == sorted(confidences) and confidences[-1] > 0.95 and confidences[0] == 0.6
    assert len(seen[-1].evidence) == 3
    assert tracker.tracks[0].hits == 6


def test_phantom_seen_once_does_not_survive_and_lost_tracks_drop() -> None:
    tracker = Tracker(TrackerConfig(min_hits=2, max_missed=2))
    for step in range(5):
        objs = [det("red", "block", 0.5, 0.1)]
        if step == 2:
            objs.append(det("purple", "bowl", 0.4, -0.2))  # a phantom
        tracker.update(percept(*objs))
    assert [o.id for o in tracker.percept().objects] == ["red_block"]
    for _ in range(3):
        tracker.update(percept())
    assert tracker.tracks == [] and tracker.percept().objects == []


def test_first_step_reports_everything_seen() -> None:
    tracker = Tracker()
    tracker.update(percept(det("red", "block", 0.5, 0.1)))
    assert [o.id for o in tracker.percept().objects] == ["red_block"]


def test_two_cameras_fuse_into_one_object_per_true_object() -> None:
    tracker = Tracker()
    for _ in range(2):
        top = percept(det("red", "block", 0.500, 0.10), det("red", "block", 0.50, -0.05), camera="top")
        front = percept(
            det("red", "block", 0.508, 0.103, camera="front"),
            det("red", "block", 0.49, -0.045, camera="front"),
            camera="front",
        )
        tracker.update([top, front])
    fused = tracker.percept()
    assert [o.id for o in fused.objects] == ["red_block_1", "red_block_2"]  # left (larger y) first
    assert fused.by_id("red_block_1").position[1] > 0.09
    assert {e.camera for e in fused.by_id("red_block_1").evidence} == {"top", "front"}
    assert sorted(fused.cameras) == ["front", "top"]
    assert all(t.hits == 2 and t.observations == 4 for t in tracker.tracks)


def test_same_type_is_preferred_and_tracking_is_deterministic() -> None:
    def run() -> Percept:
        tracker = Tracker()
        for step in range(4):
            # a ball and a block 3 cm apart, detected in swapped order and slightly moved
            objs = [det("red", "ball", 0.53 - 0.002 * step, 0.1), det("red", "block", 0.50 + 0.002 * step, 0.1)]
            tracker.update(percept(*(objs if step % 2 else objs[::-1])))
        return tracker.percept()

    first = run()
    assert [o.id for o in first.objects] == ["red_ball", "red_block"]
    assert first.by_id("red_ball").confidence == first.by_id("red_block").confidence
    assert first == run()


class _Source:
    """A finite fake camera of blank frames."""

    name = "fake"

    def __init__(self, n: int) -> None:
        self.n, self.i = n, 0

    def read(self) -> Frame:
        from groundsight.perception.sources import EndOfStream

        if self.i >= self.n:
            raise EndOfStream("end of stream")
        self.i += 1
        return Frame(
            rgb=np.zeros((32, 32, 3), np.uint8),
            depth=None,
            intrinsics=CameraIntrinsics(32, 32, 30.0, 30.0, 16.0, 16.0),
            T_world_cam=np.eye(4),
            t=float(self.i),
        )


class _Scripted:
    """Reports a red block every frame, orange in frame 1, and a phantom bowl in frame 2."""

    name = "scripted"

    def __init__(self) -> None:
        self.calls = 0

    def perceive(self, frames: list[Frame]) -> Percept:
        k = self.calls
        self.calls += 1
        objs = [det("orange" if k == 1 else "red", "block", 0.5, 0.1, camera="camera")]
        if k == 2:
            objs.append(det("purple", "bowl", 0.4, -0.2, camera="camera"))
        return Percept(objects=objs, cameras=["camera"], perceiver=self.name, t=frames[0].t)


def test_run_camera_fuses_over_frames(tmp_path: Path) -> None:
    from groundsight.agent.loop.live_camera import run_camera

    def objects(out: Path) -> list[list[str]]:
        lines = [json.loads(line) for line in (out / "scene_graph.jsonl").read_text().splitlines()]
        return [[o["id"] for o in r["objects"]] for r in lines]

    plain = run_camera(_Source(4), perceiver=_Scripted(), out_dir=tmp_path / "plain")
    assert not plain.fused
    assert objects(tmp_path / "plain") == [["red_block"], ["orange_block"], ["red_block", "purple_bowl"], ["red_block"]]
    fused = run_camera(_Source(4), perceiver=_Scripted(), out_dir=tmp_path / "fused", fuse=True)
    assert fused.fused and fused.perceived_frames == 4 and fused.objects_last == ["red_block"]
    assert objects(tmp_path / "fused") == [["red_block"], ["red_block"], ["red_block"], ["red_block"]]
