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
