"""The typed logical form of an instruction: what the grammar produces and what an LLM must answer with.

A :class:`Program` is a list of commands carried out in order ("first ..., then ..."). Every command names
objects with :class:`NounPhrase` descriptions; a noun phrase says which objects it may denote (type or
category, colour, size, negated colours, relations to other objects, a superlative or ordinal) and how many
(:attr:`NounPhrase.quantity`). Resolving phrases against a perceived scene is
:mod:`groundsight.reasoning.referents`' job; this module only describes.

Example: "Put the block that is left of the bowl on the plate" is ::

    Program(steps=[Put(object=NounPhrase(noun="block", relations=[RelationFilter(relation="left_of",
        other=NounPhrase(noun="bowl"))]), relation="on", target=NounPhrase(noun="plate"))])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Relation = Literal["inside", "on", "left_of", "right_of", "in_front_of", "behind", "near"]
"""Where one object is relative to another; the geometry is :mod:`groundsight.perception.relations`."""
PLACE_RELATIONS: tuple[str, ...] = ("inside", "on", "left_of", "right_of", "in_front_of", "behind", "near")
Size = Literal["small", "medium", "large"]
Ranking = Literal[
    "leftmost",
    "rightmost",
    "frontmost",
    "backmost",
    "largest",
    "smallest",
    "nearest",
    "farthest",
    "lightest",
    "darkest",
]
"""Orders of a superlative. ``nearest``/``farthest`` are measured to :attr:`Superlative.reference` (the robot
when it is None); left is +y and front is toward the robot, as everywhere in groundsight; ``lightest`` /
``darkest`` order by the lightness of the perceived colour."""
Quantity = Literal["the", "any", "all"]
"""``the``: exactly :attr:`NounPhrase.count` objects (one by default) fit, else the agent asks or refuses;
``any``: choose that many of those that fit; ``all``: every object that fits (at least one)."""


class Superlative(BaseModel):
    """ "the leftmost", "the second ... from the right" (rank 2, rightmost), "nearest the plate"."""

    model_config = ConfigDict(frozen=True)

    ranking: Ranking
    rank: int = Field(1, ge=1, description="1 for the -most one, 2 for the second, ...")
    reference: NounPhrase | None = Field(None, description="what nearest/farthest is measured to; None: the robot")


class RelationFilter(BaseModel):
    """ "that is left of the bowl", "behind the tray", "that is not on the plate"."""

    model_config = ConfigDict(frozen=True)

    relation: Relation
    other: NounPhrase
    negated: bool = False


class NounPhrase(BaseModel):
    """A description of one or more objects."""

    model_config = ConfigDict(frozen=True)

    noun: str | None = Field(
        None,
        description="object type or knowledge-graph class word, singular (block, bowl, kitchenware, container); "
        "None for 'thing', 'object', 'one'",
    )
    color: str | None = Field(None, description="canonical colour word (red, ..., gray, cyan, magenta, black, beige)")
    not_colors: tuple[str, ...] = Field((), description="colours it must not have ('that is not red')")
    size: Size | None = None
    relations: tuple[RelationFilter, ...] = ()
    superlative: Superlative | None = None
    quantity: Quantity = "the"
    count: int | None = Field(None, ge=1, description="how many; None: one, or all for a plural 'the'/'all'")
    plural: bool = False
    excluding: tuple[NounPhrase, ...] = Field(
        (), description="objects it must not be ('all blocks except the red one', 'the other block')"
    )
    text: str = Field("", description="the words of the instruction it came from, for messages")

    def describe(self) -> str:
        """The phrase as text: its own words when known, else rebuilt from the fields."""
        if self.text:
            return self.text
        words = ["the"] if self.quantity == "the" else (["all"] if self.quantity == "all" else ["a"])
        if self.count:
            words.append(str(self.count))
        if self.superlative:
            words.append(self.superlative.ranking)
        words += [w for w in (self.size, self.color) if w]
        words.append((self.noun or "object") + ("s" if self.plural else ""))
        words += [f"that is not {c}" for c in self.not_colors]
        words += [
            f"{'not ' if r.negated else ''}{r.relation.replace('_', ' ')} {r.other.describe()}" for r in self.relations
        ]
        words += [f"except {e.describe()}" for e in self.excluding]
        return " ".join(words)

    def canonical(self) -> str:
        """The phrase rebuilt from its fields only (the instruction's own words left out), with every field
        that changes what it denotes: ``the 2 blocks``, ``any 1 ball``, ``the rank 2 rightmost cylinder``."""
        words = [self.quantity]
        if self.count:
            words.append(str(self.count))
        if self.superlative:
            sup = self.superlative
            words.append((f"rank {sup.rank} " if sup.rank > 1 else "") + sup.ranking)
        words += [w for w in (self.size, self.color) if w]
        words.append((self.noun or "object") + ("s" if self.plural else ""))
        if self.superlative and self.superlative.reference is not None:
            words.append(f"to ({self.superlative.reference.canonical()})")
        words += [f"not {c}" for c in self.not_colors]
        words += [f"{'not ' if r.negated else ''}{r.relation} ({r.other.canonical()})" for r in self.relations]
        words += [f"except ({e.canonical()})" for e in self.excluding]
        return " ".join(words)


class Put(BaseModel):
    """Put the objects ``relation`` the target (in, on, left of, ...)."""

    kind: Literal["put"] = "put"
    object: NounPhrase
    relation: Relation
    target: NounPhrase


class HandOver(BaseModel):
    """Hand the object to the person ("give me", "hand me", "pass me")."""

    kind: Literal["handover"] = "handover"
    object: NounPhrase


Direction = Literal["left", "right", "forward", "backward"]
"""Which way a :class:`Shift` moves an object: left is +y, forward is away from the robot (+x)."""
DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (0.0, 1.0),
    "right": (0.0, -1.0),
    "forward": (1.0, 0.0),
    "backward": (-1.0, 0.0),
}
"""Unit vector (x, y) of each direction, in the world frame."""


class Shift(BaseModel):
    """Move the object ``distance`` metres ``direction`` ("push the red block 10 cm to the left")."""

    kind: Literal["shift"] = "shift"
    object: NounPhrase
    direction: Direction
    distance: float = Field(gt=0.0, le=0.3, description="metres, at most 30 cm")

    def offset(self) -> tuple[float, float]:
        """The displacement (dx, dy) in metres."""
        ux, uy = DIRECTIONS[self.direction]
        return (ux * self.distance, uy * self.distance)


class Lift(BaseModel):
    """Pick the object up and hold it ("lift the red block", "pick up the ball"): the program's last command."""

    kind: Literal["lift"] = "lift"
    object: NounPhrase


class Stack(BaseModel):
    """Build a tower; ``order`` lists the objects from the bottom up.

    Each level is one object, except at most one phrase with quantity ``all`` ("stack the blocks", "... with
    the blue one at the bottom"): it stands for every object it fits that no other level names, stacked in
    :func:`~reasoning.referents.stacking_order` (the largest at the bottom, then the nearest the robot).
    """

    kind: Literal["stack"] = "stack"
    order: list[NounPhrase] = Field(min_length=1)

    @model_validator(mode="after")
    def _levels(self) -> Stack:
        rest = [p for p in self.order if p.quantity == "all"]
        if len(rest) > 1:
            raise ValueError("a stack has at most one 'all' level (the rest of the objects)")
        if len(self.order) < 2 and not rest:
            raise ValueError("a stack needs at least two objects")
        return self


class Sort(BaseModel):
    """Put each of ``objects`` ``relation`` the one of ``containers`` that shares its ``key``."""

    kind: Literal["sort"] = "sort"
    objects: NounPhrase
    relation: Literal["inside", "on"]
    containers: NounPhrase
    key: Literal["color"] = "color"


Command = Annotated[Put | HandOver | Lift | Shift | Stack | Sort, Field(discriminator="kind")]


class Program(BaseModel):
    """An instruction's meaning: commands carried out in order."""

    steps: list[Command] = Field(min_length=1)

    @model_validator(mode="after")
    def _lift_last(self) -> Program:
        if any(isinstance(c, Lift) for c in self.steps[:-1]):
            raise ValueError("a lift holds the object: it must be the last command")
        return self


def paraphrase(program: Program, phrase: Callable[[NounPhrase], str] = NounPhrase.describe) -> str:
    """The program in words, each noun phrase written by ``phrase`` (its own words by default)."""
    parts = []
    for cmd in program.steps:
        if isinstance(cmd, Put):
            parts.append(f"put {phrase(cmd.object)} {cmd.relation.replace('_', ' ')} {phrase(cmd.target)}")
        elif isinstance(cmd, HandOver):
            parts.append(f"hand over {phrase(cmd.object)}")
        elif isinstance(cmd, Lift):
            parts.append(f"lift {phrase(cmd.object)}")
        elif isinstance(cmd, Shift):
            parts.append(f"move {phrase(cmd.object)} {cmd.direction} by {cmd.distance * 100:g} cm")
        elif isinstance(cmd, Stack):
            parts.append("stack " + ", then ".join(phrase(p) for p in cmd.order) + " (bottom up)")
        else:
            parts.append(f"put each of {phrase(cmd.objects)} {cmd.relation} {phrase(cmd.containers)} of its colour")
    return "; then ".join(parts)


def canonical(program: Program) -> str:
    """The program in words built from its fields only, one line: what the paraphrase corpus compares."""
    return paraphrase(program, NounPhrase.canonical)


def meaning(program: Program) -> dict:
    """The program as plain data without the instruction's own words (``text``), for comparing readings."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "text"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(program.model_dump(mode="json"))  # type: ignore[return-value]


Superlative.model_rebuild()
RelationFilter.model_rebuild()
NounPhrase.model_rebuild()
