"""POPE and CHAIR hallucination metrics on hand-built scenes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from groundsight.perception.hallucination import (
    ChairCounts,
    LabelledObject,
    PopeCounts,
    PopeQuestion,
    answers_yes,
    chair,
    hallucinated,
    pair_popularity,
    pope,
    pope_questions,
)

COLORS = ("red", "green", "blue", "yellow")
TYPES = ("block", "ball", "bowl")


def obj(color: str, kind: str, x: float = 0.5, y: float = 0.0) -> LabelledObject:
    return LabelledObject(type=kind, color=color, position=(x, y, 0.02))


SCENE = [obj("red", "block", 0.4, 0.1), obj("green", "ball", 0.6, -0.1)]


def ask(split: str, seed: int = 0, **kw) -> list[PopeQuestion]:
    return pope_questions(SCENE, split, np.random.default_rng(seed), colors=COLORS, types=TYPES, **kw)  # type: ignore[arg-type]


def test_positives_are_the_present_pairs_and_negatives_balance_them() -> None:
    for split in ("random", "adversarial"):
        qs = ask(split)
        assert [(q.color, q.type) for q in qs if q.present] == [("green", "ball"), ("red", "block")]
        negatives = [(q.color, q.type) for q in qs if not q.present]
        assert len(negatives) == 2 and len(set(negatives)) == 2
        assert not set(negatives) & {("green", "ball"), ("red", "block")}


def test_adversarial_negatives_share_a_colour_or_a_type() -> None:
    for seed in range(10):
        for q in ask("adversarial", seed, negatives=6):
            if not q.present:
                assert q.color in {"red", "green"} or q.type in {"block", "ball"}
    absent_only = [q for q in ask("adversarial", 0, negatives=50) if not q.present]
    assert ("blue", "bowl") not in {(q.color, q.type) for q in absent_only}  # shares nothing with the scene


def test_popular_negatives_follow_dataset_frequency() -> None:
    popularity = pair_popularity(
        [[obj("blue", "bowl")], [obj("blue", "bowl"), obj("red", "block")], [obj("red", "ball")]]
    )
    assert popularity == [("blue", "bowl"), ("red", "ball"), ("red", "block")]  # ties by name
    negatives = [(q.color, q.type) for q in ask("popular", popularity=popularity) if not q.present]
    assert negatives == [("blue", "bowl"), ("red", "ball")]  # red block is present here: skipped


def test_sampling_is_seeded() -> None:
    assert ask("random", 7, negatives=4) == ask("random", 7, negatives=4)
    with pytest.raises(ValueError, match="unknown POPE split"):
        ask("sideways")


def test_pope_counts_metrics() -> None:
    questions = [
        PopeQuestion("red", "block", True),
        PopeQuestion("green", "ball", True),
        PopeQuestion("blue", "bowl", False),
        PopeQuestion("yellow", "ball", False),
    ]
    perceived = [obj("red", "block"), obj("blue", "bowl")]  # missed green ball, hallucinated blue bowl
    assert answers_yes(perceived, questions[0]) and not answers_yes(perceived, questions[1])
    c = PopeCounts().add(questions, perceived)
    assert (c.tp, c.fn, c.fp, c.tn) == (1, 1, 1, 1)
    assert c.accuracy == 0.5 and c.precision == 0.5 and c.recall == 0.5 and c.f1 == 0.5 and c.yes_ratio == 0.5
    perfect = pope([(SCENE, SCENE)] * 3, "random", colors=COLORS, types=TYPES)
    assert perfect.row() == {"accuracy": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0, "yes_ratio": 0.5}
    silent = pope([([], SCENE)], "adversarial", colors=COLORS, types=TYPES)
    assert silent.yes_ratio == 0.0 and silent.recall == 0.0 and silent.f1 == 0.0 and silent.precision == 1.0
    assert math.isnan(PopeCounts().accuracy)


def test_chair_counts_hallucinated_objects_and_scenes() -> None:
    truths = SCENE
    good = [obj("red", "block", 0.42, 0.1), obj("green", "ball", 0.6, -0.1)]
    recoloured = [obj("blue", "block", 0.4, 0.1)]  # right place, wrong colour
    moved = [obj("red", "block", 0.4, 0.2), obj("green", "ball", 0.6, -0.1)]  # 10 cm off
    assert hallucinated(good, truths) == []
    assert hallucinated(recoloured, truths) == recoloured
    assert hallucinated(moved, truths) == [moved[0]]
    c = chair([(good, truths), (recoloured, truths), (moved, truths), ([], truths)])
    assert (c.objects, c.hallucinated, c.scenes, c.scenes_hallucinated) == (5, 2, 4, 2)
    assert c.chair_i == pytest.approx(0.4) and c.chair_s == pytest.approx(0.5)
    assert ChairCounts().chair_i == 0.0 and ChairCounts().chair_s == 0.0
