"""The symbolic domain of the robot's skills: typed actions, state progression, plan checking, and PDDL text.

Two views of one model live here:

* **Python semantics** (:func:`make_action`, :func:`apply`, :func:`check_plan`) are the reference. A state is a
  frozenset of :class:`~reasoning.predicates.Atom`: the static kinds (``graspable``, ``container``, ``support``)
  and the fluents ``on``, ``inside``, ``on_table``, ``clear``, ``holding``, ``hand_empty``, ``handed_over`` and the
  spatial atoms ``left_of``, ``right_of``, ``in_front_of``, ``behind``, ``near``.
* **PDDL text** (:func:`domain_pddl`, :func:`problem_pddl`) is a STRIPS compilation of the same model that
  pyperplan can search (no conditional effects or negative preconditions, so a few bookkeeping fluents are added;
  they never leave this module).

Skills: ``pick(o)`` (hand empty, ``o`` graspable and clear), ``place(o, relation, target)`` with relation in
``inside``, ``on``, ``table`` (target ``None``: a free table spot) or a spatial relation, and ``handover(o)``.
Stacking on a graspable support (a block) needs its top clear; a non-graspable support (plate, tray) and a
container take several objects (capacity is checked elsewhere). A spatial atom ``left_of(a, b)`` is made true
only by placing ``a`` beside ``b`` and false when ``a`` or ``b`` is picked up again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from groundsight.reasoning.predicates import Atom, atom

log = logging.getLogger(__name__)

KINDS = ("container", "graspable", "support")
SPATIAL = ("behind", "in_front_of", "left_of", "near", "right_of")
LOCATIONS = ("inside", "on", "on_table")
PLACE_RELATIONS = ("inside", "on", "table", *SPATIAL)
GOAL_ARITY = {
    "inside": 2,
    "on": 2,
    "on_table": 1,
    "holding": 1,
    "handed_over": 1,
    **dict.fromkeys(SPATIAL, 2),
}
"""Predicates a goal may use, with their arity."""
_PDDL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class Action(BaseModel):
    """One ground skill call with the atoms it needs and changes, in the state it was planned for."""

    model_config = ConfigDict(frozen=True)

    skill: Literal["pick", "place", "handover"]
    object: str
    relation: str | None = None
    target: str | None = None
    preconditions: tuple[Atom, ...]
    add: tuple[Atom, ...]
    delete: tuple[Atom, ...]

    @property
    def text(self) -> str:
        """``pick(red_block)``, ``place(red_block, inside, blue_bowl)``, ``place(x, table)``, ``handover(red_mug)``."""
        if self.skill != "place":
            return f"{self.skill}({self.object})"
        if self.target is None:
            return f"place({self.object}, {self.relation})"
        return f"place({self.object}, {self.relation}, {self.target})"

    def __str__(self) -> str:
        return self.text


# ---- Python semantics ---------------------------------------------------------------------------------------


def _sorted(atoms: Iterable[Atom]) -> tuple[Atom, ...]:
    return tuple(sorted(set(atoms), key=lambda a: (a.predicate, a.args)))


def kind_atoms(kinds: Mapping[str, frozenset[str]]) -> frozenset[Atom]:
    """The static atoms ``graspable(o)``, ``container(o)``, ``support(o)`` of ``kinds``; unknown kinds raise."""
    out = set()
    for obj in sorted(kinds):
        unknown = sorted(set(kinds[obj]) - set(KINDS))
        if unknown:
            raise ValueError(f"kinds[{obj}]: unknown kind '{unknown[0]}' (expected one of {', '.join(KINDS)})")
        out.update(atom(k, obj) for k in kinds[obj])
    return frozenset(out)


def location_atoms(state: frozenset[Atom], obj: str) -> tuple[Atom, ...]:
    """Where ``obj`` rests in ``state``: its ``on``, ``inside`` and ``on_table`` atoms, sorted."""
    return _sorted(a for a in state if a.predicate in LOCATIONS and a.args[0] == obj)


def make_action(
    state: frozenset[Atom], skill: str, obj: str, relation: str | None = None, target: str | None = None
) -> Action:
    """Ground a skill call in ``state``: its preconditions and effects there (where ``obj`` rests decides them).

    Raises ``ValueError`` for a call outside the vocabulary (unknown skill or relation, missing target).
    """
    if skill == "pick":
        where = location_atoms(state, obj) or (atom("on_table", obj),)
        pre = [atom("graspable", obj), atom("hand_empty"), atom("clear", obj), *where]
        add = [atom("holding", obj)]
        for loc in where:
            if loc.predicate == "on":
                under = loc.args[1]
                others = [a for a in state if a.predicate == "on" and a.args[1] == under and a.args[0] != obj]
                if not others:
                    add.append(atom("clear", under))
        spatial = [a for a in state if a.predicate in SPATIAL and obj in a.args]
        delete = [atom("hand_empty"), *where, *spatial]
        return Action(skill="pick", object=obj, preconditions=_sorted(pre), add=_sorted(add), delete=_sorted(delete))
    if skill == "handover":
        held = atom("holding", obj)
        return Action(
            skill="handover", object=obj, preconditions=(held,), add=(atom("handed_over", obj),), delete=(held,)
        )
    if skill != "place":
        raise ValueError(f"skill: unknown skill '{skill}' (expected pick, place or handover)")
    if relation not in PLACE_RELATIONS:
        raise ValueError(f"relation: unknown relation '{relation}' (expected one of {', '.join(PLACE_RELATIONS)})")
    if (relation == "table") != (target is None):
        raise ValueError(f"target: place(..., {relation}, ...) needs {'no' if relation == 'table' else 'a'} target")
    pre = [atom("holding", obj)]
    add = [atom("hand_empty")]
    delete = [atom("holding", obj)]
    if relation == "on":
        pre.append(atom("support", target))
        if atom("graspable", target) in state:  # a block's top holds one object; a plate or tray takes several
            pre.append(atom("clear", target))
        add.append(atom("on", obj, target))
        delete.append(atom("clear", target))
    elif relation == "inside":
        pre.append(atom("container", target))
        add.append(atom("inside", obj, target))
    else:
        add.append(atom("on_table", obj))
        if relation != "table":
            add.append(atom(relation, obj, target))
    return Action(
        skill="place",
        object=obj,
        relation=relation,
        target=target,
        preconditions=_sorted(pre),
        add=_sorted(add),
        delete=_sorted(delete),
    )


def apply(state: frozenset[Atom], action: Action) -> frozenset[Atom]:
    """STRIPS progression: ``(state - delete) | add``; preconditions are not checked (see :func:`check_plan`)."""
    return (state - frozenset(action.delete)) | frozenset(action.add)


def check_plan(init: frozenset[Atom], actions: Sequence[Action], goal: Sequence[Atom]) -> list[str]:
    """Validate a plan by plain Python progression (independent of pyperplan).

    Each step is grounded again from its skill call in the state it meets (so an action planned for another state
    is judged by where things are now). Returns ``[]`` if every precondition holds in turn and the goal holds at the
    end; otherwise one message per problem, e.g. ``step 2 place(a, on, b): precondition clear(b) does not hold``.
    Checking stops at the first step that fails (later steps would run from a state the robot cannot reach).
    """
    state = frozenset(init)
    for number, given in enumerate(actions, start=1):
        label = f"step {number} {given.text}"
        if given.target is not None and given.target == given.object:
            return [f"{label}: object and target are the same"]
        try:
            step = make_action(state, given.skill, given.object, given.relation, given.target)
        except ValueError as exc:
            return [f"{label}: {exc}"]
        missing = [p for p in step.preconditions if p not in state]
        if missing:
            return [f"{label}: precondition {p.text} does not hold" for p in missing]
        state = apply(state, step)
    return [f"goal {g.text} does not hold after the plan" for g in goal if g not in state]


def initial_state(
    kinds: Mapping[str, frozenset[str]], relations: Iterable[tuple[str, str, str]], holding: str | None = None
) -> frozenset[Atom]:
    """The planner's state from perceived relation triples ``(a, rel, b)`` and the object in the hand (if any).

    Keeps ``on``, ``inside`` and the spatial relations (others are ignored), one resting place per object (``on``
    before ``inside``, then by name), and derives ``on_table`` (resting on nothing), ``clear`` (nothing on it),
    ``hand_empty``/``holding`` and the static kind atoms. Raises ``ValueError`` naming an unknown object.
    """
    state = set(kind_atoms(kinds))
    if holding is not None:
        if holding not in kinds:
            raise ValueError(f"holding: unknown object '{holding}' (not in kinds)")
        state.add(atom("holding", holding))
    else:
        state.add(atom("hand_empty"))
    resting: dict[str, tuple[str, str]] = {}
    for a, rel, b in sorted(relations):
        if rel not in ("on", "inside", *SPATIAL):
            continue
        for name in (a, b):
            if name not in kinds:
                raise ValueError(f"relations: ({a}, {rel}, {b}): unknown object '{name}' (not in kinds)")
        if a in (b, holding):
            continue
        if rel in SPATIAL:
            state.add(atom(rel, a, b))
        elif a not in resting or (rel == "on" and resting[a][0] == "inside"):
            resting[a] = (rel, b)
    for a, (rel, b) in resting.items():
        state.add(atom(rel, a, b))
    for obj in kinds:
        if obj not in resting and obj != holding:
            state.add(atom("on_table", obj))
        if not any(rel == "on" and b == obj for rel, b in resting.values()):
            state.add(atom("clear", obj))
    return frozenset(state)


# ---- PDDL compilation ---------------------------------------------------------------------------------------

_PARAMS = {1: "?o - item", 2: "?o ?x - item"}


def _schema(name: str, params: str, pre: Sequence[str], add: Sequence[str], delete: Sequence[str]) -> str:
    effects = [*add, *(f"(not {d})" for d in delete)]
    return (
        f"  (:action {name}\n    :parameters ({params})\n"
        f"    :precondition (and {' '.join(pre)})\n    :effect (and {' '.join(effects)}))"
    )


def _schemas(kinds: Mapping[str, frozenset[str]] | None) -> list[str]:
    has = set(KINDS) if kinds is None else {k for ks in kinds.values() for k in ks}
    grasp = ["(graspable ?o)", "(movable ?o)", "(hand_empty)", "(clear ?o)"]
    out = [
        _schema("pick_from_table", _PARAMS[1], [*grasp, "(untagged ?o)", "(on_table ?o)"],
                ["(holding ?o)"], ["(hand_empty)", "(on_table ?o)"]),
        _schema("pick_from_on", _PARAMS[2], [*grasp, "(untagged ?o)", "(on ?o ?x)"],
                ["(holding ?o)", "(clear ?x)"], ["(hand_empty)", "(on ?o ?x)"]),
    ]  # fmt: skip
    if "container" in has:
        out.append(
            _schema("pick_from_inside", _PARAMS[2], [*grasp, "(untagged ?o)", "(inside ?o ?x)"],
                    ["(holding ?o)"], ["(hand_empty)", "(inside ?o ?x)"])
        )  # fmt: skip
    for rel in SPATIAL:
        out.append(
            _schema(f"pick_from_{rel}", _PARAMS[2], [*grasp, "(on_table ?o)", f"({rel} ?o ?x)"],
                    ["(holding ?o)", "(untagged ?o)"], ["(hand_empty)", "(on_table ?o)", f"({rel} ?o ?x)"])
        )  # fmt: skip
    place = ["(holding ?o)"]
    out.append(_schema("place_on_table", _PARAMS[1], place, ["(on_table ?o)", "(hand_empty)"], ["(holding ?o)"]))
    if "support" in has:
        out += [
            _schema("place_on_stack", _PARAMS[2], [*place, "(support ?x)", "(graspable ?x)", "(distinct ?o ?x)",
                    "(clear ?x)"], ["(on ?o ?x)", "(hand_empty)"], ["(holding ?o)", "(clear ?x)"]),
            _schema("place_on_surface", _PARAMS[2], [*place, "(support ?x)", "(fixed ?x)"],
                    ["(on ?o ?x)", "(hand_empty)"], ["(holding ?o)", "(clear ?x)"]),
        ]  # fmt: skip
    if "container" in has:
        out.append(
            _schema("place_inside", _PARAMS[2], [*place, "(container ?x)", "(distinct ?o ?x)"],
                    ["(inside ?o ?x)", "(hand_empty)"], ["(holding ?o)"])
        )  # fmt: skip
    for rel in SPATIAL:
        common = [*place, f"(want_{rel} ?o ?x)"]
        effect = ["(on_table ?o)", f"({rel} ?o ?x)", "(hand_empty)"]
        out += [
            _schema(f"place_{rel}_anchored", _PARAMS[2], [*common, "(anchored ?x)"], effect,
                    ["(holding ?o)", "(untagged ?o)"]),
            _schema(f"place_{rel}_first", _PARAMS[2], [*common, "(movable ?x)"], [*effect, "(anchored ?x)"],
                    ["(holding ?o)", "(untagged ?o)", "(movable ?x)"]),
        ]  # fmt: skip
    out.append(_schema("handover", _PARAMS[1], ["(holding ?o)"], ["(handed_over ?o)"], ["(holding ?o)"]))
    return out


def domain_pddl(kinds: Mapping[str, frozenset[str]] | None = None) -> str:
    """The STRIPS domain text; with ``kinds``, schemas that no object's kinds can use are left out.

    Bookkeeping fluents beside the public ones: ``movable(o)`` (may be picked: graspable, and nothing was placed
    beside it yet), ``anchored(x)`` (things may be placed beside it; it will not move again), ``untagged(o)``
    (no spatial atom names ``o`` as subject, so a plain pick deletes none). Statics: the kinds, ``fixed``
    (not graspable), ``distinct`` and ``want_<rel>`` (a spatial placement the goal asks for; placing beside anything
    else is no better than putting the object on the table, so it is not offered).
    """
    if kinds is not None:
        kind_atoms(kinds)
    spatial = " ".join(f"({r} ?o ?x - item) (want_{r} ?o ?x - item)" for r in SPATIAL)
    lines = [
        ";; groundsight skill domain (generated by reasoning/pddl.py)",
        "(define (domain groundsight)",
        "  (:requirements :strips :typing)",
        "  (:types item)",
        "  (:predicates (graspable ?o - item) (container ?o - item) (support ?o - item) (fixed ?o - item)",
        "    (distinct ?o ?x - item) (hand_empty) (holding ?o - item) (on_table ?o - item) (on ?o ?x - item)",
        "    (inside ?o ?x - item) (clear ?o - item) (handed_over ?o - item) (movable ?o - item)",
        f"    (anchored ?o - item) (untagged ?o - item) {spatial})",
        *_schemas(kinds),
        ")",
    ]
    return "\n".join(lines) + "\n"


def pddl_names(kinds: Mapping[str, frozenset[str]]) -> dict[str, str]:
    """Object id -> PDDL name (lower case); raises ``ValueError`` for an id that is not a PDDL name or collides."""
    names: dict[str, str] = {}
    seen: dict[str, str] = {}
    for obj in sorted(kinds):
        if not _PDDL_NAME.fullmatch(obj):
            raise ValueError(f"kinds: object id '{obj}' is not a PDDL name (letters, digits, _ and -)")
        name = obj.lower()
        if name in seen:
            raise ValueError(f"kinds: object ids '{seen[name]}' and '{obj}' differ only in case")
        seen[name] = obj
        names[obj] = name
    return names


def _fact(a: Atom, names: Mapping[str, str]) -> str:
    return "(" + " ".join([a.predicate, *(names[x] for x in a.args)]) + ")"


def problem_facts(
    init: frozenset[Atom], goal: Sequence[Atom], kinds: Mapping[str, frozenset[str]], keep_spatial: bool = True
) -> tuple[list[Atom], list[Atom]]:
    """The PDDL initial facts and goal facts (as atoms, sorted) for ``init`` and ``goal``.

    Spatial atoms of ``init`` are kept only when the goal names them (``keep_spatial``); their subject and
    reference are then held in place (not ``movable``). With ``keep_spatial=False`` they are dropped instead,
    so the planner places the object again if its reference has to move.
    """
    goal_set = set(goal)
    kept = {a for a in init if a.predicate in SPATIAL and a in goal_set} if keep_spatial else set()
    held_in_place = {x for a in kept for x in a.args}
    facts = {a for a in init if a.predicate in ("hand_empty", "holding", "handed_over", "clear", *LOCATIONS)}
    facts |= kept | kind_atoms(kinds)
    for obj in kinds:
        graspable = "graspable" in kinds[obj]
        if not graspable:
            facts.add(atom("fixed", obj))
        if graspable and obj not in held_in_place:
            facts.add(atom("movable", obj))
        else:
            facts.add(atom("anchored", obj))
        if not any(a.args[0] == obj for a in kept):
            facts.add(atom("untagged", obj))
    graspables = sorted(o for o in kinds if "graspable" in kinds[o])
    facts |= {atom("distinct", a, b) for a in graspables for b in kinds if a != b}
    facts |= {atom(f"want_{g.predicate}", *g.args) for g in goal_set if g.predicate in SPATIAL}
    return list(_sorted(facts)), list(_sorted(goal_set))


def problem_pddl(
    init: frozenset[Atom], goal: Sequence[Atom], kinds: Mapping[str, frozenset[str]], keep_spatial: bool = True
) -> str:
    """The PDDL problem text (objects, initial facts and goal sorted by name, so the text is deterministic)."""
    names = pddl_names(kinds)
    facts, goals = problem_facts(init, goal, kinds, keep_spatial)
    for a in [*facts, *goals]:
        for x in a.args:
            if x not in names:
                raise ValueError(f"atom {a.text}: unknown object '{x}' (not in kinds)")
    objects = " ".join(names[o] for o in sorted(kinds))
    init_text = "\n".join(f"    {_fact(a, names)}" for a in facts)
    goal_text = " ".join(_fact(a, names) for a in goals)
    return (
        ";; generated by reasoning/pddl.py\n(define (problem scene) (:domain groundsight)\n"
        f"  (:objects {objects} - item)\n  (:init\n{init_text})\n  (:goal (and {goal_text})))\n"
    )
