"""A run directory logged to a Rerun recording (``.rrd``), for scrubbing through an episode in the Rerun viewer
(``rerun FILE.rrd``). Needs ``rerun-sdk`` (``pip install 'groundsight[rerun]'``).

On the ``step`` timeline (the graph step of each ``trace.jsonl`` record):

- ``camera/<name>/image``: every look's stored frame, with ``camera/<name>/image/boxes`` the perceiver's 2D boxes
  (scaled from the camera's pixels to the stored frame) labelled with the object ids;
- ``world/objects``: the perceived objects as 3D boxes in the world frame (centre, extent, yaw), labelled;
- ``world/hand``: the robot hand's commanded grasp or release point after each robot call;
- ``reasoning/thought``: each chain-of-thought step as a ``TextLog``; ``reasoning/checks``: each check (ok or
  FAIL with its reason); ``robot/calls``: each robot call and its outcome; ``episode/status``: the end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2

from groundsight.agent.recording.episode import RecordingError, _read_jsonl

COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 80, 220),
    "yellow": (230, 210, 40),
    "pink": (240, 120, 180),
    "brown": (140, 90, 40),
    "orange": (240, 140, 30),
    "purple": (140, 60, 180),
    "white": (240, 240, 240),
    "gray": (128, 128, 128),
    "cyan": (30, 180, 190),
    "magenta": (215, 30, 180),
    "black": (25, 25, 25),
    "beige": (225, 195, 145),
}
"""Display colour of every colour name (``groundsight.perception.colors.COLOR_NAMES``) in the Rerun viewer."""


def _rerun() -> Any:
    try:
        import rerun
    except ImportError:
        raise RecordingError("rerun-sdk is not installed; install it with: pip install 'groundsight[rerun]'") from None
    return rerun


def _camera_width(camera: str) -> int | None:
    from groundsight.sim.camera import camera_config

    try:
        return camera_config(camera).width
    except ValueError:
        return None


def _log_look(rr: Any, rec: Any, run_dir: Path, record: dict[str, Any]) -> None:
    objects = (record.get("percept") or {}).get("objects", [])
    for name in record.get("frame_files") or []:
        bgr = cv2.imread(str(run_dir / name), cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        camera = Path(name).stem.split("_", 2)[-1]
        rec.log(f"camera/{camera}/image", rr.Image(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
        width = _camera_width(camera)
        scale = bgr.shape[1] / width if width else 1.0
        boxes, labels = [], []
        for obj in objects:
            for ev in obj.get("evidence", []):
                if ev.get("camera") == camera and ev.get("box"):
                    boxes.append([v * scale for v in ev["box"]])
                    labels.append(obj["id"])
        rec.log(
            f"camera/{camera}/image/boxes",
            rr.Boxes2D(array=boxes, array_format=rr.Box2DFormat.XYXY, labels=labels)
            if boxes
            else rr.Clear(recursive=False),
        )
    if objects:
        rec.log(
            "world/objects",
            rr.Boxes3D(
                centers=[o["position"] for o in objects],
                sizes=[o["extent"] for o in objects],
                rotation_axis_angles=[rr.RotationAxisAngle(axis=(0, 0, 1), radians=o.get("yaw", 0.0)) for o in objects],
                colors=[COLOURS.get(o.get("color", ""), (180, 180, 180)) for o in objects],
                labels=[o["id"] for o in objects],
            ),
        )


def _log_text(rr: Any, rec: Any, record: dict[str, Any]) -> None:
    thought = record.get("thought") or {}
    for step in thought.get("steps", []):
        rec.log("reasoning/thought", rr.TextLog(f"{step.get('kind', '')}: {step.get('text', '')}", level="INFO"))
    for check in [*(record.get("screen") or []), *(record.get("checks") or [])]:
        mark = "ok" if check.get("passed") else "FAIL"
        line = f"[{mark}] {check.get('name')}: {check.get('claim')}"
        reason = "" if check.get("passed") else f" -- {check.get('reason', '')}"
        rec.log("reasoning/checks", rr.TextLog(line + reason, level="INFO" if check.get("passed") else "WARN"))
    if record.get("status"):
        rec.log("episode/status", rr.TextLog(f"episode {record['status']}", level="INFO"))


def _log_calls(rr: Any, rec: Any, calls: list[dict[str, Any]]) -> None:
    for call in calls:
        outcome = call.get("outcome", {})
        text = f"{call.get('method')}({json.dumps(call.get('args'))}): {'ok' if outcome.get('ok') else 'FAILED'}"
        text += f" {outcome.get('message', '')}".rstrip()
        rec.log("robot/calls", rr.TextLog(text, level="INFO" if outcome.get("ok") else "WARN"))
        detail = outcome.get("detail", {})
        point = detail.get("released_at") or detail.get("release") or detail.get("grasp")
        if point:
            rec.log("world/hand", rr.Points3D([point], radii=0.01, labels=[call.get("method", "")]))


def log_rerun(run_dir: str | Path, rrd_path: str | Path) -> Path:
    """Log the run directory ``run_dir`` (see :mod:`agent.recording.episode`) to ``rrd_path``; returns the path.

    Raises:
        RecordingError: ``rerun-sdk`` is missing, or the run directory has no ``trace.jsonl``.
    """
    rr = _rerun()
    run_dir, rrd_path = Path(run_dir), Path(rrd_path)
    if not (run_dir / "trace.jsonl").is_file():
        raise RecordingError(f"{run_dir / 'trace.jsonl'}: (file): not found (is {run_dir} a run directory?)")
    records = _read_jsonl(run_dir / "trace.jsonl")
    calls = _read_jsonl(run_dir / "robot.jsonl")
    rrd_path.parent.mkdir(parents=True, exist_ok=True)
    rec = rr.RecordingStream("groundsight")
    rec.save(str(rrd_path))
    rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
    done = 0
    for i, record in enumerate(records):
        rec.set_time("step", sequence=int(record.get("step", i)))
        if record.get("frame_files") or record.get("percept"):
            _log_look(rr, rec, run_dir, record)
        _log_text(rr, rec, record)
        made = int(record.get("robot_calls", done) or done)
        _log_calls(rr, rec, calls[done:made])
        done = max(done, made)
    _log_calls(rr, rec, calls[done:])
    rec.flush()
    rec.disconnect()
    return rrd_path
