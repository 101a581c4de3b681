"""Perceive a real camera feed: frames -> percept -> scene graph, an annotated video, and a grounded plan.

:func:`run_camera` reads a :class:`~perception.frame.CameraSource` (a device, a video file, a stream or an
image folder) until it ends or ``max_frames`` frames were read, perceives every frame with a perceiver that
needs no simulator, and writes into ``out_dir``:

- ``scene_graph.jsonl``: one JSON object per frame: ``frame``, ``t``, ``camera``, ``objects`` (each a
  :class:`~perception.objects.SceneObject` dump), ``relations`` (``[subject, relation, object]`` triples) and
  ``error`` (why this frame could not be perceived, e.g. no depth; null otherwise);
- ``annotated.mp4``: each frame with the perceived objects' boxes and labels;
- ``summary.json``: the :class:`CameraSummary`.

With ``fuse=True`` every frame's percept is fed to a :class:`~perception.tracking.Tracker` and the fused
objects (voted attributes, smoothed boxes, stable ids; a phantom seen in one frame is not reported once a
second frame came) are what ``scene_graph.jsonl``, the video and the grounding use. Off by default.

With an instruction, the newest percept is grounded with the rules reasoner and the verifier and the plan the
agent *would* execute is reported (or the check that failed); nothing is moved. A camera that stops mid-stream
ends the run with the reason recorded; the output files are always closed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
from pydantic import BaseModel

from groundsight.knowledge import KnowledgeBase
from groundsight.perception.frame import CameraError, CameraSource, Frame
from groundsight.perception.objects import Percept
from groundsight.perception.perceivers import PERCEIVERS, make_perceiver
from groundsight.perception.perceivers.base import Perceiver, PerceptionError
from groundsight.perception.scene_graph import scene_relations
from groundsight.perception.sources import EndOfStream
from groundsight.perception.tracking import Tracker, TrackerConfig
from groundsight.reasoning.reasoner import RulesReasoner
from groundsight.reasoning.verifier import Verifier, decide
from groundsight.sim.video import H264Writer

log = logging.getLogger(__name__)

CAMERA_PERCEIVERS: tuple[str, ...] = tuple(p for p in PERCEIVERS if p != "oracle")
"""Registered perceivers usable on a real feed (``oracle`` needs simulator truth)."""


def camera_perceiver(name: str) -> Perceiver:
    """The perceiver called ``name`` for a real feed; ``ValueError`` (one line) if unknown or simulator-only."""
    if "oracle" in name.split(":"):
        raise ValueError(
            f"perceiver {name!r} needs simulator truth and cannot run on a camera feed "
            f"(usable: {', '.join(CAMERA_PERCEIVERS)})"
        )
    return make_perceiver(name)


VIDEO_FPS = 10.0
"""Frame rate written into ``annotated.mp4``."""

Triple = tuple[str, str, str]
"""One scene-graph relation: ``(subject id, relation, object id)``."""


class CameraSummary(BaseModel):
    """What one camera run did."""

    source: str
    perception: str
    frames: int
    perceived_frames: int
    status: Literal["ended", "max_frames", "camera_error"]
    reason: str
    fps: float
    wall_time_s: float
    objects_last: list[str] = []
    instruction: str | None = None
    plan: list[str] = []
    plan_line: str | None = None
    failed_check: str | None = None
    outputs: list[str] = []
    fused: bool = False


class _Annotator:
    """Writes ``annotated.mp4`` (H.264) at the first frame's size; always closable."""

    def __init__(self, path: Path) -> None:
        self.writer = H264Writer(path, fps=VIDEO_FPS)

    def write(self, frame: Frame, percept: Percept | None, note: str | None) -> None:
        bgr = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR)
        if percept is not None:
            for obj in percept.objects:
                for ev in obj.evidence:
                    if ev.camera != frame.camera:
                        continue
                    x0, y0, x1, y1 = ev.box
                    cv2.rectangle(bgr, (x0, y0), (x1 - 1, y1 - 1), (0, 255, 0), 2)
                    label = f"{obj.id} {obj.confidence:.2f}"
                    cv2.putText(bgr, label, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3)
                    cv2.putText(bgr, label, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        if note:
            cv2.putText(bgr, note[:80], (6, bgr.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255), 1)
        self.writer.write(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))  # H.264 so browsers play it (mp4v fallback)

    def close(self) -> None:
        self.writer.close()


def ground(
    instruction: str, percept: Percept, relations: list[Triple], frame: Frame, kb: KnowledgeBase
) -> tuple[list[str], str, str | None]:
    """Ground ``instruction`` on ``percept``: ``(plan step texts, plan line, failed check name or None)``."""
    kb.set_scene(percept.objects, relations)
    thought = RulesReasoner(kb).think(instruction, percept, relations)
    checks = Verifier(kb).check(thought, percept, [frame])
    failed = decide(checks)
    if failed is not None:
        verdict = {"refuse": "would refuse", "ask": "would ask", "reperceive": "would look again"}[failed.on_fail]
        return [], f"plan: none ({verdict}) -- check {failed.name} failed: {failed.reason}", failed.name
    steps = [s.text for s in thought.plan]
    if not steps:
        return [], "plan: nothing to do -- the goal already holds", None
    return steps, "plan: " + " -> ".join(steps) + " (not executed)", None


@dataclass
class _Tally:
    """What the frame loop has done so far: counts, why it stopped, and the newest perceived frame."""

    frames: int = 0
    perceived: int = 0
    status: str = "ended"
    reason: str = "end of stream"
    last: tuple[Percept, list[Triple], Frame] | None = None
    errors_seen: set[str] = field(default_factory=set)

    def final_reason(self) -> str:
        """Why the run stopped, plus the first perception error when no frame at all was perceived."""
        if self.errors_seen and self.perceived == 0:
            return f"{self.reason}; no frame perceived: {min(self.errors_seen)}"
        return self.reason


def _read_frame(source: CameraSource, tally: _Tally) -> Frame | None:
    """The next frame, or None when the source ended or failed (why is recorded in ``tally``)."""
    try:
        return source.read()
    except EndOfStream as exc:
        tally.status, tally.reason = "ended", str(exc)
    except CameraError as exc:
        tally.status, tally.reason = "camera_error", str(exc)
        log.warning("camera stopped: %s", exc)
    return None


def _perceive_frame(
    perceiver: Perceiver, tracker: Tracker | None, frame: Frame, tally: _Tally
) -> tuple[Percept | None, list[Triple], str | None]:
    """``(percept, relations, error)`` of one frame (fused over time with ``tracker``); a perception error is
    returned as text and logged once per distinct message."""
    percept: Percept | None = None
    try:
        percept = perceiver.perceive([frame])
        if tracker is not None:
            tracker.update(percept)
            percept = tracker.percept()
        relations = scene_relations(percept.objects)
    except PerceptionError as exc:
        error = str(exc)
        if error not in tally.errors_seen:
            tally.errors_seen.add(error)
            log.warning("frame %d not perceived: %s", tally.frames, error)
        return percept, [], error
    tally.perceived += 1
    tally.last = (percept, relations, frame)
    return percept, relations, None


def _scene_record(
    index: int, frame: Frame, percept: Percept | None, relations: list[Triple], error: str | None
) -> dict[str, object]:
    """One line of ``scene_graph.jsonl``."""
    return {
        "frame": index,
        "t": frame.t,
        "camera": frame.camera,
        "objects": [o.model_dump(mode="json") for o in percept.objects] if percept else [],
        "relations": [list(r) for r in relations],
        "error": error,
    }


def _perceive_stream(
    source: CameraSource,
    perceiver: Perceiver,
    tracker: Tracker | None,
    out: Path,
    annotator: _Annotator,
    max_frames: int | None,
    on_frame: Callable[[int, Frame, Percept | None, float], None] | None,
) -> _Tally:
    """Read, perceive, record and annotate frames until the source stops or ``max_frames`` were read."""
    tally = _Tally()
    start = time.perf_counter()
    with open(out / "scene_graph.jsonl", "w", encoding="utf-8") as fh:
        while max_frames is None or tally.frames < max_frames:
            frame = _read_frame(source, tally)
            if frame is None:
                break
            percept, relations, error = _perceive_frame(perceiver, tracker, frame, tally)
            fh.write(json.dumps(_scene_record(tally.frames, frame, percept, relations, error)) + "\n")
            annotator.write(frame, percept, error)
            tally.frames += 1
            if on_frame is not None:
                on_frame(tally.frames - 1, frame, percept, tally.frames / max(time.perf_counter() - start, 1e-9))
        else:
            tally.status, tally.reason = "max_frames", f"stopped after --max-frames {max_frames}"
    return tally


def _ground_newest(summary: CameraSummary, instruction: str, last: tuple[Percept, list[Triple], Frame] | None) -> None:
    """Fill the summary's plan fields by grounding ``instruction`` on the newest perceived frame."""
    if last is None:
        summary.plan_line = "plan: none -- no frame was perceived, nothing to ground the instruction on"
        summary.failed_check = "no_percept"
        return
    steps, line, failed = ground(instruction, *last, kb=KnowledgeBase())
    summary.plan, summary.plan_line, summary.failed_check = steps, line, failed


def run_camera(
    source: CameraSource,
    calibration: object | None = None,
    perception: str = "classical",
    instruction: str | None = None,
    out_dir: str | Path = "runs/camera",
    max_frames: int | None = None,
    on_frame: Callable[[int, Frame, Percept | None, float], None] | None = None,
    perceiver: Perceiver | None = None,
    fuse: bool = False,
    tracker_config: TrackerConfig | None = None,
) -> CameraSummary:
    """Perceive ``source`` frame by frame; write the scene graphs and the annotated video; ground an instruction.

    Args:
        source: an opened camera source (see :func:`groundsight.perception.sources.open_source`).
        calibration: the calibration the source was opened with; recorded only (the source applies it).
        perception: perceiver name from :data:`CAMERA_PERCEIVERS`.
        instruction: if given, grounded on the newest percept; the plan is reported, not executed.
        out_dir: output folder (created).
        max_frames: stop after this many frames (None: until the source ends).
        on_frame: called after each frame with ``(index, frame, percept or None, fps so far)``.
        perceiver: an already built perceiver (overrides ``perception``).
        fuse: fuse the percepts over time with a :class:`~perception.tracking.Tracker` and report the fused
            objects instead of each frame's own (a frame that cannot be perceived leaves the tracks as they are).
        tracker_config: the tracker's settings when ``fuse`` (default :class:`TrackerConfig`).

    Raises:
        ValueError: an unknown or simulator-only perceiver name.
    """
    del calibration  # applied by the source
    if perceiver is None:
        perceiver = camera_perceiver(perception)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    annotator = _Annotator(out / "annotated.mp4")
    tracker = Tracker(tracker_config) if fuse else None
    start = time.perf_counter()
    try:
        tally = _perceive_stream(source, perceiver, tracker, out, annotator, max_frames, on_frame)
    finally:
        annotator.close()
    wall = time.perf_counter() - start
    summary = CameraSummary(
        source=getattr(source, "name", str(source)),
        perception=perceiver.name,
        frames=tally.frames,
        perceived_frames=tally.perceived,
        status=tally.status,  # type: ignore[arg-type]
        reason=tally.final_reason(),
        fps=tally.frames / wall if wall > 0 else 0.0,
        wall_time_s=wall,
        objects_last=[o.id for o in tally.last[0].objects] if tally.last else [],
        instruction=instruction,
        outputs=[str(out / "scene_graph.jsonl"), str(out / "annotated.mp4")],
        fused=fuse,
    )
    if instruction:
        _ground_newest(summary, instruction, tally.last)
    (out / "summary.json").write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return summary
