"""Speed of the knowledge base: construction (with OWL-RL closure), set_scene and validate_state.

Each number is the median over ``--repeats`` runs (construction: fewer, it is the slow one), in milliseconds,
on a six-object scene (two blocks, a ball, a bowl, a plate, a mug) with four relations. The first
validate_state call also pays for importing pyshacl; it is reported separately.

Usage::

    python -m benchmarks.knowledge_speed [--repeats 50]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

from groundsight.knowledge import KnowledgeBase


@dataclass(frozen=True)
class Obj:
    """A perceived object, as much of it as the knowledge base reads."""

    id: str
    type: str
    color: str
    position: tuple[float, float, float]
    extent: tuple[float, float, float] = (0.05, 0.05, 0.05)
    confidence: float = 0.9


SCENE = [
    Obj("red_block", "block", "red", (0.5, 0.1, 0.025)),
    Obj("blue_block", "block", "blue", (0.5, 0.1, 0.075)),
    Obj("green_ball", "ball", "green", (0.4, -0.1, 0.025)),
    Obj("white_bowl", "bowl", "white", (0.6, 0.0, 0.025)),
    Obj("white_plate", "plate", "white", (0.4, 0.2, 0.007)),
    Obj("red_mug", "mug", "red", (0.6, -0.2, 0.04)),
]
RELATIONS = [
    ("blue_block", "on", "red_block"),
    ("green_ball", "inside", "white_bowl"),
    ("red_block", "left_of", "white_bowl"),
    ("red_mug", "on", "white_plate"),
]


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    construct = _median_ms(KnowledgeBase, max(5, args.repeats // 5))
    kb = KnowledgeBase()
    start = time.perf_counter()
    kb.validate_state(SCENE, RELATIONS)
    first_validate = (time.perf_counter() - start) * 1000
    rows = [
        ("KnowledgeBase() (parse + OWL-RL closure)", construct),
        ("set_scene, 6 objects, 4 relations", _median_ms(lambda: kb.set_scene(SCENE, RELATIONS), args.repeats)),
        (
            "validate_state, 6 objects, 4 relations",
            _median_ms(lambda: kb.validate_state(SCENE, RELATIONS), args.repeats),
        ),
        ("validate_state, first call (imports pyshacl)", first_validate),
        ("objects_of_class('kitchenware')", _median_ms(lambda: kb.objects_of_class("kitchenware"), args.repeats)),
    ]
    print(f"{'operation':<48} {'ms (median)':>12}")
    for name, ms in rows:
        print(f"{name:<48} {ms:>12.2f}")
    print(f"triples: ontology after closure {len(kb.ontology)}, query graph with scene {len(kb.graph)}")


if __name__ == "__main__":
    main()
