"""Named places a host world exports ("the target", "the blue target"), made objects the language can refer to.

A named place is a point of the host's world with a name; no camera sees it (a goal marker is hidden from
the cameras, or is not drawn at all). The agent reasons about it as a thin, flat pseudo-object of the scene:
its type is the name's noun (``target``), its colour the name's colour word (``blue``; ``unmarked`` when the
name has none). The knowledge graph learns the noun from a small Turtle file (:func:`places_turtle`): a place
on a surface is a support surface, so "put the block on the target" plans a placement there; a point in the
air (``surface=False``) is not, so the same instruction is refused with the knowledge graph's reason. Its
evidence is the host's word (camera :data:`~groundsight.reasoning.verifier.NAMED_PLACE`), which the verifier
accepts as grounding and which no re-measurement of the frames touches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator

from groundsight.perception.objects import Evidence, Percept, SceneObject
from groundsight.reasoning.language import COLOR_WORDS
from groundsight.reasoning.verifier import NAMED_PLACE

Vec3 = tuple[float, float, float]

PLACE_THICKNESS = 0.002
"""Height (m) of a place's pseudo-object: a mark on the surface, not something that stands on it."""
UNMARKED = "unmarked"
"""The colour of a place whose name gives none."""


class NamedPlace(BaseModel):
    """A place the host names, in the agent's frame (robot base at the origin, z up, table top at z = 0).

    Attributes:
        name: one noun, optionally after a colour word: ``target``, ``blue target``, ``goal``, ``zone``.
        position: the centre of the place's surface: where the bottom of an object put on it goes.
        size: its footprint (x, y) in metres; an object whose centre lies over it (give or take 1 cm) is on it.
        surface: False for a point in the air (nothing can be put on it; the agent refuses and says why).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    position: Vec3
    size: tuple[float, float] = Field((0.06, 0.06))
    surface: bool = True

    @field_validator("name")
    @classmethod
    def _one_noun(cls, name: str) -> str:
        words = name.lower().split()
        if not 1 <= len(words) <= 2 or not all(re.fullmatch(r"[a-z]+", w) for w in words):
            raise ValueError(f"place name {name!r} must be a noun, optionally after a colour: 'target', 'blue target'")
        if len(words) == 2 and words[0] not in COLOR_WORDS:
            raise ValueError(f"place name {name!r}: '{words[0]}' is not a colour word ({', '.join(COLOR_WORDS)})")
        return " ".join(words)

    @property
    def noun(self) -> str:
        """The noun the instruction uses for it (its type)."""
        return self.name.split()[-1]

    @property
    def color(self) -> str:
        """Its colour (canonical colour word), or :data:`UNMARKED`."""
        words = self.name.split()
        return COLOR_WORDS[words[0]] if len(words) == 2 else UNMARKED

    @property
    def id(self) -> str:
        """Its object id, named as perceivers name objects (``<color>_<type>``)."""
        return f"{self.color}_{self.noun}"

    def scene_object(self) -> SceneObject:
        """The pseudo-object the agent perceives it as."""
        x, y, z = self.position
        return SceneObject(
            id=self.id,
            type=self.noun,
            color=self.color,
            position=(x, y, z - PLACE_THICKNESS / 2),
            extent=(self.size[0], self.size[1], PLACE_THICKNESS),
            confidence=1.0,
            evidence=(Evidence(camera=NAMED_PLACE, box=(0, 0, 0, 0), pixels=0),),
        )


def check_places(places: Sequence[NamedPlace], known_words: Sequence[str]) -> None:
    """ValueError naming the problem: two places with one id, a noun the knowledge graph already uses for
    something else, or one noun both on a surface and in the air."""
    ids = [p.id for p in places]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"places: two places are called {', '.join(twice)}; give them different colours or nouns")
    taken = sorted({p.noun for p in places} & set(known_words))
    if taken:
        raise ValueError(f"places: {', '.join(taken)} already names an object type; call the place something else")
    for noun in {p.noun for p in places}:
        if len({p.surface for p in places if p.noun == noun}) > 1:
            raise ValueError(f"places: '{noun}' is both on a surface and in the air; use two nouns")


def places_turtle(places: Sequence[NamedPlace]) -> str:
    """Turtle declaring each place noun an object type: a support surface, or a point in the air."""
    lines = [
        "@prefix gs:   <https://groundsight.dev/ontology#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix owl:  <http://www.w3.org/2002/07/owl#> .",
        "",
    ]
    for noun in sorted({p.noun for p in places}):
        surface = next(p.surface for p in places if p.noun == noun)
        parent = "gs:SupportSurface" if surface else "gs:PhysicalObject"
        comment = (
            "A place on a surface that the host world names; objects can be put on it."
            if surface
            else "A point in the air that the host world names; nothing can be put on it, it would fall."
        )
        lines.append(
            f'gs:Place_{noun} a owl:Class, gs:ObjectType ; rdfs:subClassOf {parent} ; rdfs:label "{noun}" ;\n'
            f'    rdfs:comment "{comment}" .'
        )
    return "\n".join(lines) + "\n"


class PlacesPerceiver:
    """A perceiver that adds the host's named places to every percept of the perceiver it wraps."""

    def __init__(self, perceiver: object, places: Sequence[NamedPlace]) -> None:
        self.perceiver = perceiver
        self.name = str(getattr(perceiver, "name", "host"))
        self.places = [p.scene_object() for p in places]

    @property
    def injections(self) -> list:
        """What a wrapped ``noisy:`` perceiver injected (see :mod:`groundsight.perception.perceivers.noisy`)."""
        return list(getattr(self.perceiver, "injections", []))

    def perceive(self, frames: Sequence) -> Percept:
        """The wrapped perceiver's percept plus the places."""
        percept = self.perceiver.perceive(frames)  # type: ignore[attr-defined]
        ids = {p.id for p in self.places}
        seen = [o for o in percept.objects if o.id not in ids]
        return percept.model_copy(update={"objects": sorted([*seen, *self.places], key=lambda o: o.id)})
