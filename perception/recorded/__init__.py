"""Recorded robot feeds as camera sources: ROS 1 / ROS 2 bags (:mod:`.bag`) and LeRobot datasets (:mod:`.lerobot`).

Both are optional: the bag reader needs ``rosbags`` (``pip install 'groundsight[ros]'``) and the LeRobot reader
needs PyAV and pyarrow.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from groundsight.perception.frame import CameraError


class MissingExtraError(CameraError):
    """An optional dependency is not installed; ``str()`` is one line naming the extra to install."""


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``pip install 'groundsight[EXTRA]'``."""
    try:
        return import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{module} is not installed; install it with: pip install 'groundsight[{extra}]'"
        ) from None


SPEC_PREFIXES = ("bag:", "lerobot:")
"""``--source`` prefixes of recorded feeds: ``bag:PATH`` and ``lerobot:PATH``."""

BAG_OPTIONS = ("rgb_topic", "depth_topic", "info_topic", "world_frame")
LEROBOT_OPTIONS = ("camera_key", "episode")
RECORDED_OPTIONS = BAG_OPTIONS + LEROBOT_OPTIONS
"""Keyword options of :func:`open_recorded` (those of the other kind, or None, are ignored)."""


def is_recorded_spec(source: object) -> bool:
    """Is ``source`` a ``bag:PATH`` or ``lerobot:PATH`` source spec?"""
    return isinstance(source, str) and source.startswith(SPEC_PREFIXES)


def open_recorded(spec: str, calibration: object = None, **options: object) -> object:
    """A :class:`~.bag.BagSource` for ``bag:PATH`` or a :class:`~.lerobot.LeRobotSource` for ``lerobot:PATH``."""
    kind, _, path = spec.partition(":")
    if not path:
        raise CameraError(f"{spec}: give a path after '{kind}:'")
    names = BAG_OPTIONS if kind == "bag" else LEROBOT_OPTIONS
    chosen = {k: v for k, v in options.items() if k in names and v is not None}
    if kind == "bag":
        from groundsight.perception.recorded.bag import BagSource

        return BagSource(path, calibration=calibration, **chosen)  # type: ignore[arg-type]
    from groundsight.perception.recorded.lerobot import LeRobotSource

    return LeRobotSource(path, calibration=calibration, **chosen)  # type: ignore[arg-type]
