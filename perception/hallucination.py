"""Hallucination metrics against ground truth: POPE-style yes/no polls and CHAIR.

Both are computed from object lists alone, so any perceiver can be scored against any truth (simulator truth
in the benchmarks). An object here is anything with ``type``, ``color`` and ``position`` (x, y, z in metres):
a :class:`~perception.objects.SceneObject`, a :class:`~perception.perceivers.oracle.TruthObject`, a
``groundsight.sim.truth.ObjectTruth`` or a :class:`LabelledObject`.

- **POPE** (Li et al. 2023, "Evaluating object hallucination in large vision-language models"): for each scene,
  ask "is there a <colour> <type>?" for every colour-type pair present (the positives) and for as many absent
  pairs (the negatives). Negatives are sampled three ways: ``random`` (any absent pair), ``popular`` (the absent
  pairs most frequent over the whole dataset) and ``adversarial`` (absent pairs that share the colour or the type
  of a present object). A perceiver answers *yes* when its percept holds an object of that colour and type.
  :class:`PopeCounts` gives accuracy, precision, recall, F1 and the yes-ratio.
- **CHAIR** (Rohrbach et al. 2018, "Object hallucination in image captioning"): CHAIR_i is the fraction of
  perceived objects that match no true object (same colour and type, xy distance below ``max_xy``), CHAIR_s the
  fraction of scenes with at least one such object (:class:`ChairCounts`).

Everything is a pure function; sampling takes an explicit :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from groundsight.perception.colors import BASE_COLOR_NAMES
from groundsight.perception.perceivers.classical import CATALOGUE

Split = Literal["random", "popular", "adversarial"]
SPLITS: tuple[Split, ...] = ("random", "popular", "adversarial")
"""The three POPE negative-sampling strategies."""

Pair = tuple[str, str]
"""A ``(colour, type)`` pair: what a POPE question asks about."""

TYPE_NAMES: tuple[str, ...] = tuple(m.type for m in CATALOGUE)
"""The object types perception knows (default vocabulary of the polls)."""

CHAIR_MAX_XY = 0.05
"""xy distance (metres) within which a perceived object of a true object's colour and type is not hallucinated."""


class Labelled(Protocol):
    """Anything with a type, a colour and a 3D position."""

    @property
    def type(self) -> str: ...

    @property
    def color(self) -> str: ...

    @property
    def position(self) -> tuple[float, float, float]: ...


@dataclass(frozen=True)
class LabelledObject:
    """A minimal ground-truth or perceived object."""

    type: str
    color: str
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class PopeQuestion:
    """ "Is there a <color> <type>?" and its true answer."""

    color: str
    type: str
    present: bool

    @property
    def text(self) -> str:
        """The question in words."""
        return f"is there a {self.color} {self.type}?"


def pairs_of(objects: Iterable[Labelled]) -> set[Pair]:
    """The ``(colour, type)`` pairs of ``objects``."""
    return {(o.color, o.type) for o in objects}


def pair_popularity(scenes: Iterable[Iterable[Labelled]]) -> list[Pair]:
    """Colour-type pairs ordered by the number of scenes they occur in (most frequent first; ties by name)."""
    counts: Counter[Pair] = Counter()
    for scene in scenes:
        counts.update(pairs_of(scene))
    return sorted(counts, key=lambda p: (-counts[p], p))


def pope_questions(
    truths: Sequence[Labelled],
    split: Split,
    rng: np.random.Generator,
    *,
    colors: Sequence[str] = BASE_COLOR_NAMES,
    types: Sequence[str] = TYPE_NAMES,
    popularity: Sequence[Pair] = (),
    negatives: int | None = None,
) -> list[PopeQuestion]:
    """The POPE questions of one scene: one positive per present pair, then the sampled negatives.

    Args:
        truths: the scene's true objects.
        split: how negatives are sampled (see the module docstring).
        rng: the random stream (seed it per scene and split for reproducible polls).
        colors: colour vocabulary of the absent pairs.
        types: type vocabulary of the absent pairs.
        popularity: pairs ordered most frequent first over the dataset (:func:`pair_popularity`); needed by
            ``popular`` (pairs never seen in the dataset are not asked).
        negatives: number of negatives (default: as many as positives, POPE's balanced setting); fewer when
            the split has fewer candidates.

    Raises:
        ValueError: an unknown split.
    """
    present = pairs_of(truths)
    positives = [PopeQuestion(c, t, True) for c, t in sorted(present)]
    k = len(positives) if negatives is None else negatives
    universe = sorted({(c, t) for c in colors for t in types} | set(popularity))
    absent = [p for p in universe if p not in present]
    if split == "random":
        candidates = absent
    elif split == "popular":
        chosen = [p for p in popularity if p not in present][:k]
        return positives + [PopeQuestion(c, t, False) for c, t in chosen]
    elif split == "adversarial":
        colours_here = {c for c, _ in present}
        types_here = {t for _, t in present}
        candidates = [p for p in absent if p[0] in colours_here or p[1] in types_here]
    else:
        raise ValueError(f"unknown POPE split {split!r}; known: {', '.join(SPLITS)}")
    k = min(k, len(candidates))
    picks = sorted(int(i) for i in rng.choice(len(candidates), size=k, replace=False)) if k else []
    return positives + [PopeQuestion(*candidates[i], False) for i in picks]


def answers_yes(perceived: Iterable[Labelled], question: PopeQuestion) -> bool:
    """A perceiver's answer: yes if its percept holds an object of the asked colour and type."""
    return any(o.color == question.color and o.type == question.type for o in perceived)


@dataclass
class PopeCounts:
    """Confusion counts of yes/no answers, accumulated over scenes."""

    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def add(self, questions: Iterable[PopeQuestion], perceived: Sequence[Labelled]) -> PopeCounts:
        """Ask ``questions`` of one scene's ``perceived`` objects and count the answers; returns ``self``."""
        for q in questions:
            yes = answers_yes(perceived, q)
            if q.present:
                self.tp += yes
                self.fn += not yes
            else:
                self.fp += yes
                self.tn += not yes
        return self

    @property
    def total(self) -> int:
        """Questions asked."""
        return self.tp + self.fp + self.tn + self.fn

    @property
    def accuracy(self) -> float:
        """Correct answers / questions (nan when none)."""
        return (self.tp + self.tn) / self.total if self.total else math.nan

    @property
    def precision(self) -> float:
        """True yes / all yes (1 when the perceiver never said yes, as nothing it claimed was wrong)."""
        yes = self.tp + self.fp
        return self.tp / yes if yes else 1.0

    @property
    def recall(self) -> float:
        """True yes / positives (nan when no positives)."""
        pos = self.tp + self.fn
        return self.tp / pos if pos else math.nan

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0 when both are 0)."""
        p, r = self.precision, self.recall
        if math.isnan(r):
            return math.nan
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def yes_ratio(self) -> float:
        """Yes answers / questions (nan when none)."""
        return (self.tp + self.fp) / self.total if self.total else math.nan

    def row(self) -> dict[str, float]:
        """The metrics by name."""
        return {
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "yes_ratio": self.yes_ratio,
        }


def pope(
    scenes: Sequence[tuple[Sequence[Labelled], Sequence[Labelled]]],
    split: Split,
    seed: int = 0,
    *,
    colors: Sequence[str] = BASE_COLOR_NAMES,
    types: Sequence[str] = TYPE_NAMES,
    popularity: Sequence[Pair] | None = None,
) -> PopeCounts:
    """POPE over ``(perceived, truths)`` scenes for one split; scene ``i`` samples with seed ``[seed, i]``.

    ``popularity`` defaults to :func:`pair_popularity` over the truths of ``scenes``.
    """
    if popularity is None:
        popularity = pair_popularity(truths for _, truths in scenes)
    counts = PopeCounts()
    for i, (perceived, truths) in enumerate(scenes):
        rng = np.random.default_rng([seed, i, SPLITS.index(split)])
        questions = pope_questions(truths, split, rng, colors=colors, types=types, popularity=popularity)
        counts.add(questions, perceived)
    return counts


def hallucinated(
    perceived: Sequence[Labelled], truths: Sequence[Labelled], max_xy: float = CHAIR_MAX_XY
) -> list[Labelled]:
    """The perceived objects that match no true object (same colour and type, xy distance below ``max_xy``)."""
    return [
        o
        for o in perceived
        if not any(
            t.color == o.color and t.type == o.type and math.dist(o.position[:2], t.position[:2]) < max_xy
            for t in truths
        )
    ]


@dataclass
class ChairCounts:
    """CHAIR counts, accumulated over scenes."""

    objects: int = 0
    hallucinated: int = 0
    scenes: int = 0
    scenes_hallucinated: int = 0

    def add(
        self, perceived: Sequence[Labelled], truths: Sequence[Labelled], max_xy: float = CHAIR_MAX_XY
    ) -> ChairCounts:
        """Count one scene; returns ``self``."""
        bad = len(hallucinated(perceived, truths, max_xy))
        self.objects += len(perceived)
        self.hallucinated += bad
        self.scenes += 1
        self.scenes_hallucinated += bad > 0
        return self

    @property
    def chair_i(self) -> float:
        """Hallucinated objects / perceived objects (0 when nothing was perceived)."""
        return self.hallucinated / self.objects if self.objects else 0.0

    @property
    def chair_s(self) -> float:
        """Scenes with a hallucinated object / scenes (0 when no scenes)."""
        return self.scenes_hallucinated / self.scenes if self.scenes else 0.0


def chair(scenes: Iterable[tuple[Sequence[Labelled], Sequence[Labelled]]], max_xy: float = CHAIR_MAX_XY) -> ChairCounts:
    """CHAIR over ``(perceived, truths)`` scenes."""
    counts = ChairCounts()
    for perceived, truths in scenes:
        counts.add(perceived, truths, max_xy)
    return counts


__all__ = [
    "CHAIR_MAX_XY",
    "SPLITS",
    "TYPE_NAMES",
    "ChairCounts",
    "Labelled",
    "LabelledObject",
    "Pair",
    "PopeCounts",
    "PopeQuestion",
    "Split",
    "answers_yes",
    "chair",
    "hallucinated",
    "pair_popularity",
    "pope",
    "pope_questions",
]
