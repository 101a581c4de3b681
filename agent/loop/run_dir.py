"""A run directory is owned by one run at a time: an advisory lock, usable-directory checks, torn-tail repair.

Two ``groundsight run --out D`` at once would interleave their robot journals and traces; the second gets a
one-line :class:`RunDirError` instead. The lock is an ``flock`` on ``D/.lock``: the kernel releases it when the
process dies (kill -9 included), so a killed run never leaves the directory locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".lock"


class RunDirError(ValueError):
    """The run directory cannot be used (busy with another run, not a directory, not writable)."""


@contextlib.contextmanager
def locked_run_dir(out: Path) -> Iterator[Path]:
    """Create ``out`` if needed and hold its lock for the block; :class:`RunDirError` if another run holds it or
    the directory cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RunDirError(f"{out}: cannot be used as a run directory: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
            raise RunDirError(f"{out}: in use by another groundsight run (pid {holder}); use another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield out
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def trim_torn_tail(path: Path) -> None:
    """Cut a JSON-lines file after its last complete line (a kill in mid-write leaves a torn last line)."""
    if not path.exists():
        return
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with open(path, "r+b") as fh:
            fh.truncate(end)
