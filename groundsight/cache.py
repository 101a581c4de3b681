"""groundsight's on-disk cache of derived data (a knowledge base's closure, the colour lookup table), so a new
process reads in milliseconds what it would otherwise recompute for most of a second.

Everything here is derived, named by a hash of what it is derived from, stored in a plain data format (JSON,
``.npy`` without pickles, so reading it runs no code) and written atomically. A missing, unreadable or damaged
entry is computed afresh; a folder that cannot be written is left alone. The folder is ``$GROUNDSIGHT_CACHE``
(default ``$XDG_CACHE_HOME/groundsight`` or ``~/.cache/groundsight``); ``GROUNDSIGHT_CACHE=off`` turns it off.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def cache_dir() -> Path | None:
    """Where cached data is stored, or None when the cache is off."""
    chosen = os.environ.get("GROUNDSIGHT_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "groundsight"


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write`` into a temporary file that replaces it at once; do nothing on an OS error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".tmp", delete=False) as out:
            try:
                write(out)
            except BaseException:
                os.unlink(out.name)
                raise
        os.replace(out.name, path)
    except OSError:
        return
