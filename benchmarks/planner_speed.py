"""Planning time of the symbolic task planner (pyperplan, breadth-first search) on typical problems.

    python -m benchmarks.planner_speed [--repeats 7]

Prints, per problem, the plan length, the median wall time of ``search_plan()`` in ms over the repeats (each
call writes the PDDL, parses, grounds and searches afresh; ``plan()`` answers a repeated problem from its
cache) and the plan itself.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from groundsight.reasoning.predicates import Atom, atom
from groundsight.reasoning.task_planner import Action, initial_state
from groundsight.reasoning.task_planner import search_plan as plan

BLOCK = frozenset({"graspable", "support"})
BALL = frozenset({"graspable"})
BOWL = frozenset({"container"})
PLATE = frozenset({"support"})


def pick_place() -> list[Action]:
    kinds = {"red_block": BLOCK, "blue_bowl": BOWL}
    return plan(initial_state(kinds, []), [atom("inside", "red_block", "blue_bowl")], kinds)


def tower4() -> list[Action]:
    kinds = {f"b{i}": BLOCK for i in range(4)}
    goal = [atom("on", "b0", "b1"), atom("on", "b1", "b2"), atom("on", "b2", "b3")]
    return plan(initial_state(kinds, []), goal, kinds)


def sort3() -> list[Action]:
    colours = ("red", "green", "blue")
    kinds = {f"{c}_block": BLOCK for c in colours} | {f"{c}_bowl": BOWL for c in colours}
    goal = [atom("inside", f"{c}_block", f"{c}_bowl") for c in colours]
    return plan(initial_state(kinds, []), goal, kinds)


def three_on_plate() -> list[Action]:
    kinds = {"red_block": BLOCK, "blue_block": BLOCK, "yellow_block": BLOCK, "white_plate": PLATE}
    goal = [atom("on", f"{c}_block", "white_plate") for c in ("red", "blue", "yellow")]
    return plan(initial_state(kinds, []), goal, kinds)


def sequence3() -> list[Action]:
    """Three stages, each planned from the state after the earlier ones with all goals so far."""
    kinds = {"red_block": BLOCK, "blue_block": BLOCK, "green_block": BLOCK, "white_plate": PLATE, "yellow_bowl": BOWL}
    stages = [
        [atom("on", "red_block", "white_plate")],
        [atom("inside", "blue_block", "yellow_bowl")],
        [atom("on", "green_block", "red_block")],
    ]
    state = initial_state(kinds, [])
    goal: list[Atom] = []
    steps: list[Action] = []
    for stage in stages:
        goal += stage
        actions = plan(state, goal, kinds)
        for action in actions:
            state = (state - frozenset(action.delete)) | frozenset(action.add)
        steps += actions
    return steps


def mixed6() -> list[Action]:
    """Tower a-b-c to take apart; b into the bowl, a onto the plate, d onto a, c left of the bowl."""
    kinds = {"a": BLOCK, "b": BLOCK, "c": BLOCK, "d": BLOCK, "bowl": BOWL, "plate": PLATE}
    init = initial_state(kinds, [("b", "on", "a"), ("c", "on", "b")])
    goal = [atom("inside", "b", "bowl"), atom("on", "a", "plate"), atom("on", "d", "a"), atom("left_of", "c", "bowl")]
    return plan(init, goal, kinds)


PROBLEMS: dict[str, Callable[[], list[Action]]] = {
    "pick-place": pick_place,
    "4-block tower": tower4,
    "sort 3 pairs": sort3,
    "3 blocks on plate": three_on_plate,
    "3-stage sequence": sequence3,
    "6-object mixed": mixed6,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print("| problem | steps | median ms | plan |")
    print("|---|---|---|---|")
    for name, fn in PROBLEMS.items():
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            actions = fn()
            times.append((time.perf_counter() - start) * 1000)
        text = ", ".join(a.text for a in actions)
        print(f"| {name} | {len(actions)} | {statistics.median(times):.1f} | {text} |")


if __name__ == "__main__":
    main()
