"""Import PyBullet without its build banner (its C code writes one to stderr at import)."""

from __future__ import annotations

import os
import sys
from types import ModuleType


def import_pybullet_quietly() -> ModuleType:
    """Import ``pybullet`` once with file descriptor 2 pointed at /dev/null; return the module."""
    if "pybullet" in sys.modules:
        return sys.modules["pybullet"]
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import pybullet  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return sys.modules["pybullet"]
