"""Symbolic task planning with pyperplan over the PDDL compilation of the skill domain (:mod:`reasoning.pddl`).

:func:`plan` parses the domain and problem PDDL text with pyperplan's Python API (a domain once per process),
grounds them, sorts the ground operators by name and runs breadth-first search. Breadth-first search over a fixed
operator order returns the *first* shortest plan in that order, so the plan is optimal in length and the same in
every process, whatever ``PYTHONHASHSEED`` is (pyperplan's own operator list comes from sets). The plan is mapped
back to typed :class:`~reasoning.pddl.Action` objects and checked again by plain Python progression.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pyperplan import grounding
from pyperplan.pddl.parser import Parser
from pyperplan.search import breadth_first_search

from groundsight.reasoning.pddl import (
    GOAL_ARITY,
    LOCATIONS,
    SPATIAL,
    Action,
    apply,
    check_plan,
    domain_pddl,
    initial_state,
    kind_atoms,
    make_action,
    pddl_names,
    problem_pddl,
)
from groundsight.reasoning.predicates import Atom

__all__ = [
    "Action",
    "PlanningError",
    "apply",
    "check_plan",
    "domain_pddl",
    "initial_state",
    "plan",
    "problem_pddl",
]

log = logging.getLogger(__name__)
_MOVES = ("holding", "handed_over", *LOCATIONS, *SPATIAL)
"""Goal predicates about where their first argument is; only a graspable object can be made to satisfy them."""


class PlanningError(ValueError):
    """No plan reaches the goal; the message is one line saying why."""


class _Quiet:
    """Silence pyperplan, which logs through the root logger at INFO."""

    def __enter__(self) -> None:
        self._level = logging.root.manager.disable
        logging.disable(logging.INFO)

    def __exit__(self, *exc: object) -> None:
        logging.disable(self._level)


def _placement_sets(obj: str, goals: list[Atom]) -> bool:
    """Can one placement of ``obj`` (its last) make all ``goals`` about its whereabouts true together?"""
    preds = sorted(g.predicate for g in goals)
    if len(goals) <= 1:
        return True
    return len(goals) == 2 and preds[1] == "on_table" and preds[0] in SPATIAL


def _precheck(init: frozenset[Atom], goal: Sequence[Atom], kinds: Mapping[str, frozenset[str]]) -> None:
    """Raise :class:`PlanningError` for goals that no search can reach, naming the simple cause."""
    for g in goal:
        arity = GOAL_ARITY.get(g.predicate)
        if arity is None:
            raise PlanningError(f"goal {g.text}: unsupported predicate '{g.predicate}'")
        if len(g.args) != arity:
            raise PlanningError(f"goal {g.text}: '{g.predicate}' takes {arity} argument(s)")
        for x in g.args:
            if x not in kinds:
                raise PlanningError(f"goal {g.text}: unknown object '{x}'")
        if g in init:
            continue
        why = ""
        obj = g.args[0]
        if len(g.args) == 2 and g.args[0] == g.args[1]:
            why = f"{obj} cannot be {g.predicate} itself"
        elif g.predicate in _MOVES and "graspable" not in kinds[obj]:
            why = f"{obj} is not graspable"
        elif g.predicate == "on" and "support" not in kinds[g.args[1]]:
            why = f"{g.args[1]} is not a support surface"
        elif g.predicate == "inside" and "container" not in kinds[g.args[1]]:
            why = f"{g.args[1]} is not a container"
        if why:
            raise PlanningError(f"no plan makes {g.text} true: {why}")
    by_object: dict[str, list[Atom]] = {}
    for g in sorted(set(goal), key=lambda a: (a.predicate, a.args)):
        if g.predicate in _MOVES:
            by_object.setdefault(g.args[0], []).append(g)
    for obj, goals in sorted(by_object.items()):
        if all(g in init for g in goals) or _placement_sets(obj, goals):
            continue
        first, second = goals[0], goals[1]
        raise PlanningError(f"contradictory goals: {first.text} and {second.text} ({obj} can be put in one place)")
    handed = sorted({g.args[0] for g in goal if g.predicate in ("handed_over", "holding") and g not in init})
    if len(handed) > 1:
        raise PlanningError(
            f"contradictory goals: the one hand cannot end holding or handing over {' and '.join(handed)}"
        )
    under = {g.args[0]: g.args[1] for g in goal if g.predicate in ("on", "inside")}
    for start in sorted(under):
        seen, x = [start], under[start]
        while x in under and x not in seen:
            seen.append(x)
            x = under[x]
        if x == start:
            cycle = ", ".join(f"{g.text}" for g in sorted(goal, key=lambda a: a.args) if g.args[0] in seen)
            raise PlanningError(f"contradictory goals: {cycle} form a cycle")


_SCHEMA_RANK = ("pick", "place_on_table", "place_inside", "place_on_surface", "place_on_stack", "place", "handover")


def _operator_key(op: object) -> tuple[int, str]:
    """Tie-break among equally short plans: picks, then putting down on the table (so a blocking object is set
    aside on the table rather than stacked somewhere), inside, on, beside, handover; then by name."""
    name = op.name  # type: ignore[attr-defined]
    schema = name.strip("()").split()[0]
    return next(i for i, prefix in enumerate(_SCHEMA_RANK) if schema.startswith(prefix)), name


def _search(
    init: frozenset[Atom], goal: Sequence[Atom], kinds: Mapping[str, frozenset[str]], keep_spatial: bool
) -> tuple[list[str] | None, int]:
    """Run pyperplan on the PDDL text; the plan as ground operator names (``None`` if none) and the operator count."""
    with _Quiet():
        problem = _parse_problem(_parse_domain(domain_pddl(kinds)), problem_pddl(init, goal, kinds, keep_spatial))
        task = grounding.ground(problem)
        task.operators.sort(key=_operator_key)  # pyperplan builds this list from sets: fix the order
        solution = breadth_first_search(task)
    if solution is None:
        return None, len(task.operators)
    return [op.name for op in solution], len(task.operators)


@functools.lru_cache(maxsize=32)
def _parse_domain(text: str) -> Any:
    """pyperplan's domain parsed from PDDL text, once per process for each text (grounding only reads it)."""
    parser = Parser(None)
    parser.domInput = text
    return parser.parse_domain(read_from_file=False)


def _parse_problem(domain: Any, text: str) -> Any:
    """pyperplan's problem parsed from PDDL text over an already parsed ``domain``."""
    parser = Parser(None)
    parser.probInput = text
    return parser.parse_problem(domain, read_from_file=False)


def _to_action(state: frozenset[Atom], op_name: str, ids: Mapping[str, str]) -> Action:
    """Map a ground operator name such as ``(place_left_of_first a b)`` to the typed skill call in ``state``."""
    schema, *args = op_name.strip("()").split()
    objs = [ids[a] for a in args]
    if schema.startswith("pick_from_"):
        return make_action(state, "pick", objs[0])
    if schema == "handover":
        return make_action(state, "handover", objs[0])
    if schema == "place_on_table":
        return make_action(state, "place", objs[0], "table")
    if schema in ("place_on_stack", "place_on_surface"):
        return make_action(state, "place", objs[0], "on", objs[1])
    if schema == "place_inside":
        return make_action(state, "place", objs[0], "inside", objs[1])
    relation = schema.removeprefix("place_").rsplit("_", 1)[0]
    return make_action(state, "place", objs[0], relation, objs[1])


_PLANS: dict[tuple[frozenset[Atom], tuple[Atom, ...], frozenset[tuple[str, frozenset[str]]]], list[Action] | str] = {}
"""Plans (or the reason none exists) by problem: :func:`plan` is a pure function of its arguments, and the agent
asks the same problem at every re-plan, every seed of a scenario and every episode an eval worker runs."""
_MAX_PLANS = 512


def plan(init: frozenset[Atom], goal: Sequence[Atom], kinds: Mapping[str, frozenset[str]]) -> list[Action]:
    """:func:`search_plan`, answered once per process for each problem (the actions are immutable)."""
    key = (frozenset(init), tuple(goal), frozenset((k, frozenset(v)) for k, v in kinds.items()))
    if key not in _PLANS:
        try:
            found: list[Action] | str = search_plan(init, goal, kinds)
        except PlanningError as exc:
            found = str(exc)
        if len(_PLANS) >= _MAX_PLANS:
            del _PLANS[next(iter(_PLANS))]
        _PLANS[key] = found
    found = _PLANS[key]
    if isinstance(found, str):
        raise PlanningError(found)
    return list(found)


def search_plan(init: frozenset[Atom], goal: Sequence[Atom], kinds: Mapping[str, frozenset[str]]) -> list[Action]:
    """A shortest sequence of skill calls from ``init`` that makes every atom of ``goal`` true.

    ``[]`` when the goal already holds. Deterministic: among shortest plans, the first in the order of ground
    operator names. Spatial goal atoms already true are first kept by leaving their objects in place; only if
    that has no plan is the search repeated allowing them to be moved and placed again. Raises
    :class:`PlanningError` with a one-line reason.
    """
    state = frozenset(init) | kind_atoms(kinds)
    goal = list(dict.fromkeys(goal))
    _precheck(state, goal, kinds)
    if all(g in state for g in goal):
        return []
    names = pddl_names(kinds)
    ids = {v: k for k, v in names.items()}
    ops, n_ops = _search(state, goal, kinds, keep_spatial=True)
    if ops is None and any(g in state for g in goal if g.predicate in SPATIAL):
        ops, n_ops = _search(state, goal, kinds, keep_spatial=False)
    if ops is None:
        raise PlanningError(_explain_failure(state, goal, kinds, n_ops))
    actions = []
    for op in ops:
        action = _to_action(state, op, ids)
        actions.append(action)
        state = apply(state, action)
    problems = check_plan(frozenset(init) | kind_atoms(kinds), actions, goal)
    if problems:  # the PDDL compilation and the Python semantics disagree: a bug, never a silent bad plan
        raise PlanningError(f"internal: the plan found fails validation: {problems[0]}")
    log.debug("plan for %s: %s", ", ".join(g.text for g in goal), ", ".join(a.text for a in actions))
    return actions


def _explain_failure(state: frozenset[Atom], goal: list[Atom], kinds: Mapping[str, frozenset[str]], n_ops: int) -> str:
    """Name a goal atom that has no plan even alone, else say the atoms cannot hold together."""
    pending = [g for g in sorted(goal, key=lambda a: (a.predicate, a.args)) if g not in state]
    if len(pending) > 1:
        for g in pending:
            ops, _ = _search(state, [g], kinds, keep_spatial=False)
            if ops is None:
                return f"no plan makes {g.text} true: search exhausted"
    text = ", ".join(g.text for g in pending)
    together = " together" if len(pending) > 1 else ""
    return f"no plan makes {text} true{together}: search exhausted ({n_ops} ground operators)"
