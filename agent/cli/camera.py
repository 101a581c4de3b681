"""``groundsight camera``: perceive a real camera feed (no simulator, nothing moves)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from groundsight.agent.cli.app import bad_input, console, err, vlm_server_options


def _quiet_opencv() -> None:
    """OpenCV and FFmpeg chatter stays off unless -v."""
    import os

    import cv2

    if not logging.getLogger().isEnabledFor(logging.INFO):
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def _length(src: Any) -> int | None:
    try:
        return len(src)
    except TypeError:
        return None


def _open_inputs(
    source: str,
    calibration: Path | None,
    perception: str,
    max_frames: int | None,
    server: dict[str, Any] | None = None,
    recorded: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    """The perceiver, calibration and open frame source; one-line errors for each bad option.

    ``recorded`` holds the options of a ``bag:`` / ``lerobot:`` source (``rgb_topic``, ``camera_key``, ...)."""
    from groundsight.agent.loop.live_camera import camera_perceiver
    from groundsight.perception.calibration import CalibrationError, configure_perceiver, load_calibration
    from groundsight.perception.frame import CameraError
    from groundsight.perception.sources import open_source

    try:
        if server:
            from groundsight.perception.perceivers import make_perceiver

            perceiver = make_perceiver(perception, **server)
        else:
            perceiver = camera_perceiver(perception)
    except ValueError as exc:
        raise bad_input(f"--perception: {exc}") from None
    if max_frames is not None and max_frames < 1:
        raise bad_input(f"--max-frames: must be at least 1, got {max_frames}")
    try:
        calib = load_calibration(calibration) if calibration is not None else None
    except CalibrationError as exc:
        raise bad_input(str(exc)) from None
    if calib is not None:  # the workspace, support plane and keep-out boxes; RGB-only frames are lifted
        configure_perceiver(perceiver, calib)
    try:
        src = open_source(source, calib, **(recorded or {}))
    except CameraError as exc:
        raise bad_input(f"--source: {exc}") from None
    return perceiver, calib, src


def _print_camera_summary(summary: Any, out: Path) -> None:
    console.print(
        f"frames: {summary.frames} ({summary.perceived_frames} perceived), {summary.fps:.1f} fps; {summary.reason}",
        markup=False,
    )
    if summary.objects_last:
        console.print("last frame: " + ", ".join(summary.objects_last), markup=False)
    console.print(f"wrote {out / 'scene_graph.jsonl'} and {out / 'annotated.mp4'}", markup=False)
    if summary.plan_line:
        print(summary.plan_line)


def camera(
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="Device index (0), video file, rtsp/http URL, image folder, bag:PATH (ROS 1/2) or lerobot:PATH.",
        ),
    ],
    calibration: Annotated[
        Path | None,
        typer.Option(help="Calibration YAML (intrinsics, distortion, pose, workspace, support plane, keep-out)."),
    ] = None,
    perception: Annotated[str, typer.Option(help="Perceiver that needs no simulator: classical.")] = "classical",
    instruction: Annotated[str | None, typer.Option(help="Ground this instruction; report the plan only.")] = None,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/camera"),
    max_frames: Annotated[
        int | None, typer.Option(help="Stop after N frames (default: until the source ends).")
    ] = None,
    fuse: Annotated[
        bool, typer.Option("--fuse", help="Fuse percepts over frames (tracker); report fused objects.")
    ] = False,
    rgb_topic: Annotated[str | None, typer.Option(help="bag: colour image topic (omit to list them).")] = None,
    depth_topic: Annotated[str | None, typer.Option(help="bag: depth image topic, aligned to colour.")] = None,
    info_topic: Annotated[str | None, typer.Option(help="bag: CameraInfo topic (default: beside colour).")] = None,
    world_frame: Annotated[str | None, typer.Option(help="bag: TF frame of the pose (default: the root).")] = None,
    camera_key: Annotated[str | None, typer.Option(help="lerobot: camera feature, e.g. top.")] = None,
    episode: Annotated[int | None, typer.Option(help="lerobot: one episode (default: all).")] = None,
    vlm_base_url: Annotated[
        str | None, typer.Option(help="vlm-server: an OpenAI-compatible server with image input (its /v1 URL).")
    ] = None,
    vlm_model: Annotated[str | None, typer.Option(help="vlm-server: the model name the server serves.")] = None,
) -> None:
    """Perceive a real camera feed; write OUT/scene_graph.jsonl, OUT/annotated.mp4 and OUT/summary.json.

    With --instruction, prints the plan the agent would execute (nothing moves).
    Exit code: 0 ran (a camera that stops mid-stream is reported, not an error), 2 bad input (including a source
    that gives no usable frame at all: empty, unreadable or wrong-size images).
    """
    _quiet_opencv()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from groundsight.agent.loop.live_camera import run_camera

    server = vlm_server_options(perception, vlm_base_url, vlm_model)
    recorded = {
        "rgb_topic": rgb_topic,
        "depth_topic": depth_topic,
        "info_topic": info_topic,
        "world_frame": world_frame,
        "camera_key": camera_key,
        "episode": episode,
    }
    perceiver, calib, src = _open_inputs(source, calibration, perception, max_frames, server, recorded=recorded)
    console.print(f"[bold]camera[/] {source} (perception {perception})", markup=True, highlight=False)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, TextColumn("{task.fields[fps]:.1f} fps"), console=err) as progress:
        total = max_frames if max_frames is not None else getattr(src, "frame_count", None) or _length(src)
        task = progress.add_task("frames", total=total, fps=0.0)

        def show(i: int, frame: Any, percept: Any, fps: float) -> None:
            progress.update(task, advance=1, fps=fps)

        try:
            summary = run_camera(
                src, calib, perception, instruction, out, max_frames, on_frame=show, perceiver=perceiver, fuse=fuse
            )
        finally:
            close = getattr(src, "close", None)
            if close is not None:
                close()
    _print_camera_summary(summary, out)
    if summary.status == "camera_error" and summary.perceived_frames == 0:
        raise bad_input(f"--source {source}: no usable frame: {summary.reason}")
