"""Shared fixtures. Everything here is real: PyBullet in DIRECT mode, rdflib, OpenCV, LangGraph."""

from __future__ import annotations

import pytest

from groundsight.knowledge import KnowledgeBase
from groundsight.perception.objects import Evidence, SceneObject


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return KnowledgeBase()


def make_object(oid: str, type_: str, color: str, x: float, y: float, z: float | None = None, size=None):
    """A perceived object with a plausible box for its type, resting on the table unless ``z`` is given."""
    dims = {
        "block": (0.05, 0.05, 0.05),
        "bowl": (0.16, 0.16, 0.05),
        "plate": (0.2, 0.2, 0.015),
        "tray": (0.26, 0.19, 0.03),
        "ball": (0.05, 0.05, 0.05),
        "cylinder": (0.05, 0.05, 0.07),
        "mug": (0.06, 0.06, 0.08),
    }
    extent = size or dims[type_]
    zc = extent[2] / 2 if z is None else z
    ev = (Evidence(camera="top", box=(0, 0, 20, 20), pixels=300),)
    return SceneObject(
        id=oid, type=type_, color=color, position=(x, y, zc), extent=extent, confidence=0.95, evidence=ev
    )
