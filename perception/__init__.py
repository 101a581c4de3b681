"""Perception: frames, camera sources, perceivers and the scene graph.

This package depends on no other groundsight package. The simulator feeds it through the
:class:`~perception.frame.CameraSource` protocol and, for the oracle perceiver, through the
:class:`~perception.perceivers.oracle.TruthSource` protocol.

The names below are imported when first used (numpy and pydantic load with them), so that a light submodule
such as :mod:`.perceivers.names` costs the command line nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from groundsight.perception.frame import CameraIntrinsics, CameraSource, Frame
    from groundsight.perception.objects import Evidence, Percept, SceneObject

_LAZY: dict[str, str] = {
    **dict.fromkeys(("CameraIntrinsics", "CameraSource", "Frame"), "frame"),
    **dict.fromkeys(("Evidence", "Percept", "SceneObject"), "objects"),
}


def __getattr__(name: str) -> Any:
    """The re-exported name from its submodule (PEP 562), imported on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["CameraIntrinsics", "CameraSource", "Evidence", "Frame", "Percept", "SceneObject"]
