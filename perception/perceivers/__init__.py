"""Perceivers: frames in, :class:`~perception.objects.Percept` out, chosen by name.

- ``classical``: OpenCV colour/shape segmentation of RGB-D frames (CPU, no downloads).
- ``oracle``: simulator truth through a :class:`TruthSource` (the upper bound).
"""

from __future__ import annotations

from perception.perceivers.base import Perceiver, PerceptionError, assign_ids
from perception.perceivers.classical import CATALOGUE, ClassicalConfig, ClassicalPerceiver, ShapeModel
from perception.perceivers.oracle import OraclePerceiver, TruthObject, TruthSource

PERCEIVERS: tuple[str, ...] = ("classical", "oracle")
"""Names :func:`make_perceiver` knows."""


def make_perceiver(name: str, truth: TruthSource | None = None) -> Perceiver:
    """The perceiver called ``name``.

    Args:
        name: one of :data:`PERCEIVERS`.
        truth: the source of truth; required by ``oracle``, ignored by the others.

    Raises:
        ValueError: unknown name, or ``oracle`` without a truth source.
    """
    if name == "classical":
        return ClassicalPerceiver()
    if name == "oracle":
        if truth is None:
            raise ValueError("perceiver 'oracle' needs a truth source (make_perceiver('oracle', truth=...))")
        return OraclePerceiver(truth)
    raise ValueError(f"unknown perceiver {name!r}; known: {', '.join(PERCEIVERS)}")


__all__ = [
    "CATALOGUE",
    "PERCEIVERS",
    "ClassicalConfig",
    "ClassicalPerceiver",
    "OraclePerceiver",
    "Perceiver",
    "PerceptionError",
    "ShapeModel",
    "TruthObject",
    "TruthSource",
    "assign_ids",
    "make_perceiver",
]
