"""Quiet PyBullet: its C code prints (a build banner at import, argv lines on connect) straight to the file
descriptors, past ``sys.stdout`` and ``sys.stderr``. The one place groundsight silences them."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType


@contextlib.contextmanager
def silenced_fds(*fds: int) -> Iterator[None]:
    """Point file descriptors ``fds`` (default 1 and 2) at /dev/null for the block, then restore them."""
    fds = fds or (1, 2)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    try:
        with open(os.devnull, "w") as devnull:
            for fd in fds:
                os.dup2(devnull.fileno(), fd)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in zip(fds, saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def import_pybullet_quietly() -> ModuleType:
    """Import ``pybullet`` once with file descriptor 2 pointed at /dev/null; return the module."""
    if "pybullet" not in sys.modules:
        with silenced_fds(2):
            import pybullet  # noqa: F401
    return sys.modules["pybullet"]
