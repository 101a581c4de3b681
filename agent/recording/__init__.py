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
