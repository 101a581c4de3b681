"""Referring-expression resolution: which perceived objects a :class:`~reasoning.logical_form.NounPhrase` denotes.

Resolution runs over the perceived scene (positions, extents, colours, types) and the knowledge graph (which
types a class word such as "kitchenware" covers). Every step of it is written down in
:attr:`Resolution.notes` so the chain of thought can say *why* an object was chosen, and every fact from the
knowledge graph in :attr:`Resolution.facts`.

The outcome is one of:

* ``ok``: :attr:`Resolution.chosen` are the objects meant;
* ``absent``: nothing (or too few objects) fits: the agent refuses and says what it sees;
* ``ambiguous``: more objects fit than the phrase allows: the agent asks, naming the candidates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from groundsight.perception.colors import REFERENCE_ALBEDO
from groundsight.perception.objects import Percept, SceneObject
from groundsight.perception.relations import RELATIONS
from groundsight.reasoning.logical_form import NounPhrase, Superlative

TIE_DISTANCE = 0.015
"""Two objects whose superlative keys differ by less than this (m) are a tie: the agent asks."""
TIE_LIGHTNESS = 0.03
"""Two colours whose lightness differs by less than this (0 black .. 1 white) tie for lightest/darkest."""

Problem = Literal["ok", "absent", "ambiguous"]


class ClassVocabulary(Protocol):
    """What resolution needs from the knowledge base."""

    def types_of_class(self, word: str) -> list[str]: ...


class Resolution(BaseModel):
    """The objects a phrase denotes, and how they were found."""

    phrase: NounPhrase
    candidates: list[str] = Field(default_factory=list, description="objects that fit the description")
    chosen: list[str] = Field(default_factory=list, description="objects meant (empty unless problem is ok)")
    problem: Problem = "ok"
    reason: str = ""
    notes: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)


def describe(oid: str, percept: Percept) -> str:
    """An object as a person would name it: 'the red block', or with where it is when the scene holds more of
    its colour and type ('the blue block on the left', 'the red ball second from the right'); an object no
    longer in view is named by its colour and type ('the green ball')."""
    if oid not in percept.ids:
        words = [w for w in oid.split("_") if w.isalpha() and not w.startswith("new")]
        return "the " + " ".join(words) if words else "an object"
    obj = percept.by_id(oid)
    same = [o for o in percept.objects if (o.color, o.type) == (obj.color, obj.type)]
    noun = f"the {obj.color} {obj.type}"
    if len(same) < 2:
        return noun
    ys = [o.position[1] for o in same]
    xs = [o.position[0] for o in same]
    if max(ys) - min(ys) >= max(xs) - min(xs):
        order, first, last = sorted(same, key=lambda o: -o.position[1]), "on the left", "on the right"
    else:
        order, first, last = sorted(same, key=lambda o: o.position[0]), "in front", "at the back"
    rank = order.index(obj)
    if len(same) == 2 or rank in (0, len(same) - 1):
        return f"{noun} {first if rank == 0 else last}"
    ordinal = ("second", "third", "fourth", "fifth")[min(rank, 4) - 1]
    return f"{noun} {ordinal} from the {first.split()[-1]}"


def _distance_xy(a: SceneObject, point: Sequence[float]) -> float:
    return math.hypot(a.position[0] - point[0], a.position[1] - point[1])


def _footprint(o: SceneObject) -> float:
    return o.extent[0] * o.extent[1]


def lightness(color: str) -> float:
    """The relative luminance (0 black .. 1 white) of a perceived colour name's reference albedo; 0.5 for a
    name perception has no albedo for."""
    r, g, b = REFERENCE_ALBEDO.get(color, (0.5, 0.5, 0.5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _ranking_key(sup: Superlative, reference: SceneObject | None) -> Callable[[SceneObject], float]:
    """Ascending key: the first object in this order is the -most one."""
    point = reference.position if reference is not None else (0.0, 0.0)
    keys: dict[str, Callable[[SceneObject], float]] = {
        "leftmost": lambda o: -o.position[1],
        "rightmost": lambda o: o.position[1],
        "frontmost": lambda o: o.position[0],
        "backmost": lambda o: -o.position[0],
        "largest": lambda o: -_footprint(o) * o.extent[2],
        "smallest": lambda o: _footprint(o) * o.extent[2],
        "nearest": lambda o: _distance_xy(o, point),
        "farthest": lambda o: -_distance_xy(o, point),
        "lightest": lambda o: -lightness(o.color),
        "darkest": lambda o: lightness(o.color),
    }
    return keys[sup.ranking]


def _tie_scale(sup: Superlative) -> float:
    """Key difference below which two objects tie (volumes for size rankings, lightness for shades, metres
    otherwise)."""
    if sup.ranking in ("lightest", "darkest"):
        return TIE_LIGHTNESS
    return 1e-5 if sup.ranking in ("largest", "smallest") else TIE_DISTANCE


class Resolver:
    """Resolves noun phrases over one percept with a knowledge base's class vocabulary."""

    def __init__(self, percept: Percept, kb: ClassVocabulary) -> None:
        self.percept = percept
        self.kb = kb

    def resolve(self, phrase: NounPhrase, exclude: Sequence[str] = ()) -> Resolution:
        """All objects fitting ``phrase`` (minus ``exclude``), then the quantity decides which are meant."""
        res = Resolution(phrase=phrase)
        objs = self._filter(phrase, res, exclude)
        if objs is None:
            return res
        res.candidates = [o.id for o in objs]
        what = phrase.describe()
        if not objs:
            seen = ", ".join(o.description for o in self.percept.objects) or "nothing"
            res.problem, res.reason = "absent", f"I see no {_strip_article(what)} (I see: {seen})"
            return res
        want = phrase.count or 1
        if phrase.quantity == "all" or (phrase.quantity == "the" and phrase.plural and phrase.count is None):
            res.chosen = res.candidates
            res.notes.append(f"'{what}' means all {len(objs)}: {', '.join(res.candidates)}")
        elif phrase.quantity == "any":
            if len(objs) < want:
                res.problem = "absent"
                res.reason = f"'{what}' needs {want} objects but only {len(objs)} fit: {self._names(objs)}"
                return res
            # any of them will do: take the ones nearest the robot, which are the easiest to reach
            nearest = sorted(objs, key=lambda o: (round(_distance_xy(o, (0.0, 0.0)), 3), o.id))[:want]
            res.chosen = [o.id for o in nearest]
            res.notes.append(
                f"'{what}' lets me choose {want} of {len(objs)}; I take the nearest: {', '.join(res.chosen)}"
            )
        elif len(objs) == want:
            res.chosen = res.candidates
        elif len(objs) < want:
            res.problem = "absent"
            res.reason = f"'{what}' needs {want} objects but only {len(objs)} fit: {self._names(objs)}"
        else:
            res.problem = "ambiguous"
            res.reason = f"{len(objs)} objects fit '{what}': {self._names(objs)}"
        return res

    def _names(self, objs: Sequence[SceneObject]) -> str:
        """The objects as a person would name them ('the red block on the left and the blue ball')."""
        names = [describe(o.id, self.percept) for o in objs]
        return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)

    # ---- filters --------------------------------------------------------------------------------
    def _filter(self, phrase: NounPhrase, res: Resolution, exclude: Sequence[str]) -> list[SceneObject] | None:
        objs = [o for o in self.percept.objects if o.id not in exclude]
        if phrase.noun is not None:
            types = self.kb.types_of_class(phrase.noun)
            if types != [phrase.noun]:
                res.facts.append(f"{phrase.noun} covers {', '.join(types) or 'no object type'}")
            objs = [o for o in objs if o.type in types]
        if phrase.color is not None:
            objs = [o for o in objs if o.color == phrase.color]
        if phrase.not_colors:
            objs = [o for o in objs if o.color not in phrase.not_colors]
        if phrase.size is not None:
            objs = [o for o in objs if o.size == phrase.size]
        for rel in phrase.relations:
            others = self.resolve(rel.other.model_copy(update={"quantity": "all"}))
            res.facts.extend(others.facts)
            if others.problem != "ok":
                res.problem, res.reason = others.problem, others.reason
                return None
            related = [self.percept.by_id(i) for i in others.chosen]
            test = RELATIONS[rel.relation]
            objs = [o for o in objs if any(test(o, r) for r in related if r.id != o.id) != rel.negated]
            res.notes.append(
                f"{'not ' if rel.negated else ''}{rel.relation}({', '.join(others.chosen)}): "
                f"{', '.join(o.id for o in objs) or 'none'}"
            )
        if phrase.excluding:
            objs = self._exclude(phrase, objs, res)
        if phrase.superlative is not None and objs:
            return self._rank(phrase.superlative, objs, res)
        return objs

    def _exclude(self, phrase: NounPhrase, objs: list[SceneObject], res: Resolution) -> list[SceneObject]:
        """``all blocks except the red one``, ``the other block``: drop every object an excluded phrase fits
        (one that fits nothing excludes nothing)."""
        for other in phrase.excluding:
            excluded = self.resolve(other.model_copy(update={"quantity": "all", "count": None}))
            res.facts.extend(excluded.facts)
            gone = set(excluded.chosen)
            objs = [o for o in objs if o.id not in gone]
            res.notes.append(
                f"except {other.describe()} ({', '.join(sorted(gone)) or 'none seen'}): "
                f"{', '.join(o.id for o in objs) or 'none'}"
            )
        return objs

    def _rank(self, sup: Superlative, objs: list[SceneObject], res: Resolution) -> list[SceneObject] | None:
        reference = None
        if sup.reference is not None:
            ref = self.resolve(sup.reference)
            res.facts.extend(ref.facts)
            if ref.problem != "ok":
                res.problem, res.reason = ref.problem, ref.reason
                return None
            reference = self.percept.by_id(ref.chosen[0])
            objs = [o for o in objs if o.id != reference.id]
        key = _ranking_key(sup, reference)
        ordered = sorted(objs, key=lambda o: (key(o), o.id))
        if len(ordered) < sup.rank:
            return []
        pick = ordered[sup.rank - 1]
        ties = [o for o in ordered if o.id != pick.id and abs(key(o) - key(pick)) < _tie_scale(sup)]
        ordinal = "" if sup.rank == 1 else f"number {sup.rank} "
        to = f" to {reference.id}" if reference is not None else ""
        res.notes.append(f"ordered {sup.ranking}{to}: {', '.join(o.id for o in ordered)}; {ordinal}is {pick.id}")
        return [pick, *ties]


def stacking_order(percept: Percept, ids: Sequence[str]) -> list[str]:
    """The order in which to stack objects when the instruction gives none, bottom first: the largest (volume,
    to 10 cm^3) at the bottom, then the nearest the robot (to the mm), then by id; the same for the same scene."""

    def key(oid: str) -> tuple[float, float, str]:
        o = percept.by_id(oid)
        return (-round(_footprint(o) * o.extent[2] * 1e5), round(_distance_xy(o, (0.0, 0.0)), 3), oid)

    return sorted(ids, key=key)


def _strip_article(text: str) -> str:
    return re.sub(r"^(the|a|an|all|every|each|one)\s+", "", text)


# ---- answers to a clarification question -----------------------------------------------------------
_ANSWER_RANKINGS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("left",), "leftmost"),
    (("right",), "rightmost"),
    (("front", "closer", "nearer", "nearest", "closest"), "frontmost"),
    (("back", "behind", "farther", "further", "far", "rear"), "backmost"),
    (("large", "larger", "largest", "big", "bigger", "biggest"), "largest"),
    (("small", "smaller", "smallest", "little"), "smallest"),
    (("light", "lighter", "lightest"), "lightest"),
    (("dark", "darker", "darkest"), "darkest"),
)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def resolve_answer(answer: str, candidates: Sequence[SceneObject]) -> SceneObject | None:
    """Which candidate a person's answer picks: an object id, or words like "the left one", "the one in
    front", "the second", "the red one". None when the answer does not pick exactly one."""
    text = answer.strip().lower()
    for obj in candidates:
        if re.search(rf"\b{re.escape(obj.id.lower())}\b", text):
            return obj
    words = re.findall(r"[a-z0-9]+", text)
    pool = list(candidates)
    colours = {o.color for o in pool}
    named = [w for w in words if w in colours]
    if named:
        pool = [o for o in pool if o.color in named]
    for triggers, ranking in _ANSWER_RANKINGS:
        if any(w in triggers for w in words) and len(pool) > 1:
            key = _ranking_key(Superlative(ranking=ranking), None)  # type: ignore[arg-type]
            pool = sorted(pool, key=lambda o: (key(o), o.id))[:1]
    ordinal = next((_ORDINALS[w] for w in words if w in _ORDINALS), None)
    if ordinal is not None and len(pool) > 1 and ordinal <= len(pool):
        pool = [pool[ordinal - 1]]
    return pool[0] if len(pool) == 1 else None
