"""Perceived scene objects: what a perceiver reports, with the evidence each claim rests on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Vec3 = tuple[float, float, float]


class Evidence(BaseModel):
    """Where in which image an object was seen."""

    model_config = ConfigDict(frozen=True)

    camera: str
    box: tuple[int, int, int, int] = Field(description="pixel box x0, y0, x1, y1 (exclusive end)")
    pixels: int = Field(ge=0, description="pixels of the object's mask inside the box")


class ObjectState(BaseModel):
    """What every object record shares: identity, attributes and the 3D box.

    ``position`` is the centre of the object's axis-aligned 3D box in the world frame and ``extent`` its
    full size along x, y, z, in metres. ``yaw`` is the footprint's rotation about z in radians.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    color: str
    size: str | None = None
    position: Vec3
    extent: Vec3
    yaw: float = 0.0

    @property
    def description(self) -> str:
        """Human words for this object, e.g. ``red block``."""
        return f"{self.color} {self.type}"


class SceneObject(ObjectState):
    """An object as perceived: an :class:`ObjectState` with a confidence and the evidence behind it."""

    confidence: float = Field(ge=0.0, le=1.0)
    evidence: tuple[Evidence, ...] = ()


class Percept(BaseModel):
    """Everything one perception pass produced."""

    objects: list[SceneObject]
    cameras: list[str]
    perceiver: str
    t: float = 0.0

    @property
    def ids(self) -> list[str]:
        """Ids of the objects, in order."""
        return [o.id for o in self.objects]

    def by_id(self, object_id: str) -> SceneObject:
        """The object with this id; ``KeyError`` if none."""
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(object_id)


class TruthObject(ObjectState):
    """The true state of one object, as the owner of the truth reports it to perception. ``body`` is the
    instance id the object has in ``Frame.segmentation`` (None if the frames carry no segmentation of it)."""

    body: int | None = None
