"""Episodes out: LeRobot datasets (:func:`record_lerobot`) and Rerun recordings (:func:`log_rerun`), both made
after an episode from its run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def record_lerobot(run_dirs: Any, out_dir: str | Path, camera: str = "top") -> Path:
    """See :func:`agent.recording.lerobot_writer.record_lerobot`."""
    from groundsight.agent.recording.lerobot_writer import record_lerobot as record

    return record(run_dirs, out_dir, camera)


def log_rerun(run_dir: str | Path, rrd_path: str | Path) -> Path:
    """See :func:`agent.recording.rerun_log.log_rerun`."""
    from groundsight.agent.recording.rerun_log import log_rerun as log

    return log(run_dir, rrd_path)


RECORD_FORMATS = ("lerobot",)
"""Formats ``--record FORMAT DIR`` writes."""


def record_target(record: tuple[str, Path] | None) -> Path | None:
    """The dataset folder of a ``--record FORMAT DIR`` option (None when not given).

    Raises:
        ValueError: an unknown format, as one line naming the option.
    """
    if record is None:
        return None
    fmt, folder = record
    if fmt not in RECORD_FORMATS:
        raise ValueError(f"--record: unknown format {fmt!r} (known: {', '.join(RECORD_FORMATS)})")
    return Path(folder)


def write_recordings(
    run_dirs: list[Path], record: tuple[str, Path] | None = None, rerun_save: Path | None = None
) -> list[str]:
    """What ``--record FORMAT DIR`` and ``--rerun-save FILE.rrd`` ask for, written from finished run directories.

    A run directory that cannot be recorded (an episode that crashed before its first look) is skipped with a
    line saying why. Returns the lines to print.

    Raises:
        ValueError: an unknown format, or a dataset folder that cannot take these episodes (one line).
    """
    from groundsight.agent.recording.episode import RecordingError, episode_from_run_dir

    lines: list[str] = []
    target = record_target(record)
    if target is not None:
        usable = []
        for run_dir in run_dirs:
            try:
                episode_from_run_dir(run_dir)
                usable.append(run_dir)
            except RecordingError as exc:
                lines.append(f"not recorded: {exc}")
        if usable:
            count = f"{len(usable)} episode" + ("s" if len(usable) != 1 else "")
            lines.append(f"wrote {count} to the LeRobot dataset {record_lerobot(usable, target)}")
    if rerun_save is not None:
        for run_dir in run_dirs:
            lines.append(f"wrote Rerun recording {log_rerun(run_dir, rerun_save)}")
    return lines
