"""Instruction parsing for the pick-and-place family.

Grammar (case-insensitive, punctuation ignored)::

    instruction := [polite] verb referent preposition referent
    verb        := put | place | move | set | drop | stack
    referent    := [the | a | an] [colour] noun
    preposition := in | into | inside [of] | on | onto | on top of | upon

Nouns come from the knowledge graph (labels and synonyms, e.g. cube = block), colours from
:data:`COLOR_WORDS`. A word outside this language raises :class:`InstructionError` naming it: the agent
refuses rather than guesses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

COLOR_WORDS: dict[str, str] = {
    **{c: c for c in ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "white", "gray")},
    "grey": "gray",
    "violet": "purple",
}
VERBS = frozenset({"put", "place", "move", "set", "drop", "stack"})
POLITE = frozenset({"please", "could", "can", "would", "you", "kindly"})
ARTICLES = frozenset({"the", "a", "an"})
PREPOSITIONS: dict[tuple[str, ...], str] = {
    ("on", "top", "of"): "on",
    ("inside", "of"): "inside",
    ("into",): "inside",
    ("inside",): "inside",
    ("in",): "inside",
    ("onto",): "on",
    ("upon",): "on",
    ("on",): "on",
}

Relation = Literal["inside", "on"]


class InstructionError(ValueError):
    """The instruction is outside the language; ``word`` names the offending word when there is one."""

    def __init__(self, message: str, word: str | None = None) -> None:
        super().__init__(message)
        self.word = word


class Referent(BaseModel):
    """A description of one object: its type and, optionally, its colour."""

    model_config = ConfigDict(frozen=True)

    type: str
    color: str | None = None

    @property
    def text(self) -> str:
        return f"the {self.color + ' ' if self.color else ''}{self.type}"


class Goal(BaseModel):
    """A symbolic goal: put ``object`` ``relation`` ``target``."""

    model_config = ConfigDict(frozen=True)

    relation: Relation
    object: Referent
    target: Referent

    @property
    def text(self) -> str:
        return f"{self.relation}({self.object.text}, {self.target.text})"


def _referent(words: list[str], type_words: Mapping[str, str], role: str) -> Referent:
    words = [w for w in words if w not in ARTICLES]
    if not words:
        raise InstructionError(f"the instruction names no {role}")
    *adjectives, noun = words
    singular = noun[:-1] if noun.endswith("s") and noun[:-1] in type_words else noun
    if singular not in type_words:
        if singular in COLOR_WORDS:
            raise InstructionError(f"the {role} '{' '.join(words)}' has a colour but no object word")
        raise InstructionError(f"I don't know the object word '{noun}'", word=noun)
    color = None
    for adj in adjectives:
        if adj not in COLOR_WORDS:
            raise InstructionError(f"I don't know the word '{adj}'", word=adj)
        if color is not None:
            raise InstructionError(f"the {role} has two colours: '{color}' and '{COLOR_WORDS[adj]}'", word=adj)
        color = COLOR_WORDS[adj]
    return Referent(type=type_words[singular], color=color)


def parse_instruction(text: str, type_words: Mapping[str, str]) -> Goal:
    """Parse ``text`` into a :class:`Goal`; ``type_words`` maps every known noun to its object type."""
    words = re.findall(r"[a-z]+", text.lower())
    while words and words[0] in POLITE:
        words.pop(0)
    if not words:
        raise InstructionError("the instruction is empty")
    if words[0] not in VERBS:
        raise InstructionError(f"I don't know how to '{words[0]}': say put, place or move", word=words[0])
    rest = words[1:]
    for i in range(len(rest)):
        for phrase, relation in PREPOSITIONS.items():
            if tuple(rest[i : i + len(phrase)]) == phrase:
                obj = _referent(rest[:i], type_words, "object to move")
                target = _referent(rest[i + len(phrase) :], type_words, "destination")
                return Goal(relation=relation, object=obj, target=target)
    raise InstructionError("the instruction says where to put nothing: use in, into, on or onto")
