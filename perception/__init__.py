"""Perception: frames, camera sources, perceivers and the scene graph.

This package depends on no other groundsight package. The simulator feeds it through the
:class:`~perception.frame.CameraSource` protocol and, for the oracle perceiver, through the
:class:`~perception.perceivers.oracle.TruthSource` protocol.
"""

from groundsight.perception.frame import CameraIntrinsics, CameraSource, Frame
from groundsight.perception.objects import Evidence, Percept, SceneObject

__all__ = ["CameraIntrinsics", "CameraSource", "Evidence", "Frame", "Percept", "SceneObject"]
