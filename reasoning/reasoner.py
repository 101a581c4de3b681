"""The deterministic rules reasoner: grammar, referents over the scene graph, knowledge graph, symbolic plan.

Its chain of thought is a list of typed :class:`~reasoning.thought.ThoughtStep`: describe the scene, parse
the instruction into a :class:`~reasoning.logical_form.Program`, resolve every noun phrase (with the
evidence of each object it binds), consult the knowledge graph, state the goal as ground atoms, and plan
with pyperplan. :meth:`RulesReasoner.think_program` is the part after parsing; the LLM reasoner calls it
with the program and bindings a language model proposed, so both reasoners' claims reach the verifier in
the same form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from groundsight.knowledge import KnowledgeBase
from groundsight.perception.objects import Percept
from groundsight.reasoning.language import InstructionError, Lexicon, parse
from groundsight.reasoning.logical_form import (
    HandOver,
    Lift,
    NounPhrase,
    Program,
    Put,
    Shift,
    Sort,
    Stack,
    paraphrase,
)
from groundsight.reasoning.pddl import make_action
from groundsight.reasoning.placement import PlanStep
from groundsight.reasoning.predicates import Atom, atom
from groundsight.reasoning.referents import Resolver, stacking_order
from groundsight.reasoning.task_planner import Action, PlanningError, check_plan, initial_state, plan
from groundsight.reasoning.thought import Binding, EvidenceRef, Thought, ThoughtStep
from groundsight.reasoning.verifier import REACH, describe

Relations = Sequence[tuple[str, str, str]]


def _evidence(percept: Percept, ids: Sequence[str]) -> list[EvidenceRef]:
    return [EvidenceRef(object_id=i, evidence=percept.by_id(i).evidence) for i in ids]


def plan_step(action: Action) -> PlanStep:
    """The plan step of a planner action, with its preconditions and effects as text."""
    return PlanStep(
        skill=action.skill,
        object=action.object,
        relation=action.relation,
        target=action.target,
        preconditions=tuple(a.text for a in action.preconditions),
        effects=tuple(a.text for a in action.add),
    )


class RulesReasoner:
    """Instruction -> program -> bindings -> knowledge -> goal -> plan, as an explicit chain of typed steps."""

    name = "rules"

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.lexicon = Lexicon(nouns={**kb.type_words(), **kb.class_words()})

    def parse(self, instruction: str) -> Program:
        """Parse an instruction with the knowledge base's vocabulary."""
        return parse(instruction, self.lexicon)

    # ---- the chain of thought ----------------------------------------------------------------------
    def think(
        self,
        instruction: str,
        percept: Percept,
        relations: Relations = (),
        answers: Mapping[str, list[str]] | None = None,
        holding: str | None = None,
    ) -> Thought:
        """Build the chain of thought for ``instruction`` over ``percept``.

        ``answers`` maps a binding key to the objects a person chose when asked which one was meant.
        """
        thought = Thought(steps=[self.describe(percept, relations)])
        try:
            program = self.parse(instruction)
        except InstructionError as exc:
            thought.parse_error = str(exc)
            thought.steps.append(ThoughtStep(kind="parse", text=f"I cannot understand the instruction: {exc}."))
            return thought
        return self.think_program(program, percept, relations, thought=thought, answers=answers, holding=holding)

    def describe(self, percept: Percept, relations: Relations = ()) -> ThoughtStep:
        """The first step: what is in view, and how things rest on each other."""
        seen = "; ".join(
            f"{o.description} ({o.id}) at x={o.position[0]:.2f}, y={o.position[1]:+.2f}" for o in percept.objects
        )
        rel_text = ", ".join(f"{r}({a}, {b})" for a, r, b in relations if r in ("on", "inside"))
        return ThoughtStep(
            kind="describe",
            text=f"I see {len(percept.objects)} objects: {seen or 'none'}."
            + (f" Relations: {rel_text}." if rel_text else ""),
            evidence=_evidence(percept, [o.id for o in percept.objects]),
        )

    def think_program(
        self,
        program: Program,
        percept: Percept,
        relations: Relations = (),
        *,
        thought: Thought | None = None,
        claims: Mapping[str, list[str]] | None = None,
        answers: Mapping[str, list[str]] | None = None,
        holding: str | None = None,
    ) -> Thought:
        """Resolve, consult the knowledge graph, ground the goal and plan, for an already parsed program.

        ``claims`` are the objects a language model said each binding key denotes; they are recorded on the
        bindings for the verifier to check, never used in place of the resolution.
        """
        thought = thought if thought is not None else Thought(steps=[self.describe(percept, relations)])
        thought.program = program
        thought.steps.append(ThoughtStep(kind="parse", text=f"The instruction means: {paraphrase(program)}."))
        resolver = Resolver(percept, self.kb)
        grounding = _Grounding(resolver, percept, claims or {}, answers or {})
        try:
            thought.goal = [grounding.command(i, cmd) for i, cmd in enumerate(program.steps, start=1)]
        except _NoGoal as exc:
            thought.goal_error = str(exc)
        thought.bindings = grounding.bindings
        thought.steps.extend(grounding.steps)
        if any(b.problem != "ok" for b in thought.bindings) or thought.goal_error:
            if thought.goal_error:
                thought.steps.append(ThoughtStep(kind="goal", text=f"I cannot state the goal: {thought.goal_error}."))
            return thought
        thought.steps.append(self._knowledge(thought.goal_atoms, percept))
        stages = "; then ".join(", ".join(a.text for a in stage) for stage in thought.goal)
        thought.steps.append(ThoughtStep(kind="goal", text=f"Goal: {stages}."))
        return self.replan(thought, percept, relations, holding)

    def replan(
        self, thought: Thought, percept: Percept, relations: Relations = (), holding: str | None = None
    ) -> Thought:
        """Plan (again) from the current scene to the thought's goal, stage by stage, and check the plan."""
        kinds = self.kinds(percept)
        state = init = initial_state(kinds, relations, holding)
        actions: list[Action] = []
        done: list[Atom] = []
        thought = thought.model_copy(update={"plan": [], "plan_error": None, "plan_problems": []})
        try:
            for stage in thought.goal:
                if any(a.predicate == "displaced" for a in stage):
                    stage_plan = _shift_plan(state, stage)  # a pick and a place on the table where it should go
                else:
                    done = [*done, *stage]
                    stage_plan = plan(state, done, kinds)
                for action in stage_plan:
                    state = state.difference(action.delete).union(action.add)
                actions.extend(stage_plan)
        except PlanningError as exc:
            thought.plan_error = str(exc)
            thought.steps = [*thought.steps, ThoughtStep(kind="plan", text=f"I find no plan: {exc}.")]
            return thought
        thought.plan_problems = check_plan(init, actions, done)
        thought.plan = [plan_step(a) for a in actions]
        text = (
            "The goal already holds; nothing to do."
            if not actions
            else "Plan: " + " -> ".join(s.text for s in thought.plan) + "."
        )
        facts = [f"{o}: {', '.join(sorted(k))}" for o, k in sorted(kinds.items())]
        thought.steps = [*thought.steps, ThoughtStep(kind="plan", text=text, facts=facts)]
        return thought

    def kinds(self, percept: Percept) -> dict[str, frozenset[str]]:
        """What the knowledge graph says each perceived object affords (graspable, container, support)."""
        out: dict[str, frozenset[str]] = {}
        for obj in percept.objects:
            kinds = {
                "graspable": bool(self.kb.graspable(obj.type)),
                "container": bool(self.kb.affords(obj.type, "inside")),
                "support": bool(self.kb.affords(obj.type, "on")),
            }
            out[obj.id] = frozenset(k for k, v in kinds.items() if v)
        return out

    def _knowledge(self, atoms: Sequence[Atom], percept: Percept) -> ThoughtStep:
        facts: list[str] = []
        for a in atoms:
            if a.predicate in ("inside", "on"):
                facts.extend(self.kb.affords(percept.by_id(a.args[1]).type, a.predicate).facts)
            facts.extend(self.kb.graspable(percept.by_id(a.args[0]).type).facts)
        facts = list(dict.fromkeys(facts))
        return ThoughtStep(kind="knowledge", text=f"The knowledge graph says: {'; '.join(facts)}.", facts=facts)


def _shift_plan(state: frozenset[Atom], stage: Sequence[Atom]) -> list[Action]:
    """The plan of a shift ("push the red block 10 cm to the left"): pick the object, place it on the table (the
    agent releases it at its old place plus the offset, see ``agent.loop.graph``); no search needed."""
    actions: list[Action] = []
    for a in stage:
        for skill, relation in (("pick", None), ("place", "table")):
            action = make_action(state, skill, a.args[0], relation)
            state = state.difference(action.delete).union(action.add)
            actions.append(action)
    return actions


class _NoGoal(ValueError):
    """The bindings are fine but give no goal (e.g. a sort with no partner of some colour)."""


class _Grounding:
    """Resolves a program's phrases into bindings, and its commands into goal atoms."""

    def __init__(
        self,
        resolver: Resolver,
        percept: Percept,
        claims: Mapping[str, list[str]],
        answers: Mapping[str, list[str]],
    ) -> None:
        self.resolver = resolver
        self.percept = percept
        self.claims = claims
        self.answers = answers
        self.bindings: list[Binding] = []
        self.steps: list[ThoughtStep] = []

    def bind(self, key: str, role: str, phrase: NounPhrase, exclude: Sequence[str] = ()) -> list[str]:
        """Resolve one phrase; returns the chosen ids (empty when it did not resolve)."""
        res = self.resolver.resolve(phrase, exclude)
        binding = Binding(
            key=key,
            role=role,  # type: ignore[arg-type]
            phrase=phrase,
            candidates=res.candidates,
            chosen=res.chosen,
            problem=res.problem,
            reason=res.reason,
            claimed=self.claims.get(key),
        )
        answer = self.answers.get(key)
        if answer is not None and res.problem == "ambiguous" and set(answer) <= set(res.candidates):
            binding = binding.model_copy(update={"chosen": list(answer), "problem": "ok", "answer": ", ".join(answer)})
        self.bindings.append(binding)
        if binding.problem == "ok":
            said = " (as you told me)" if binding.answer else ""
            text = f"{phrase.describe()} is {', '.join(binding.chosen)}{said}"
        else:
            text = f"{phrase.describe()}: {res.reason}"
        notes = f" ({'; '.join(res.notes)})" if res.notes else ""
        self.steps.append(
            ThoughtStep(
                kind="resolve",
                text=text + notes + ".",
                evidence=_evidence(self.percept, binding.chosen or binding.candidates),
                facts=res.facts,
            )
        )
        return binding.chosen

    def command(self, i: int, cmd: Put | HandOver | Lift | Shift | Stack | Sort) -> list[Atom]:
        key = f"step{i}"
        if isinstance(cmd, Put):
            targets = self.bind(f"{key}.target", "target", cmd.target)
            objects = self.bind(f"{key}.object", "object", cmd.object, exclude=targets)
            if len(targets) > 1:
                raise _NoGoal(f"'{cmd.target.describe()}' must be one object, not {len(targets)}")
            return [atom(cmd.relation, o, t) for o in objects for t in targets]
        if isinstance(cmd, HandOver):
            objects = self.bind(f"{key}.object", "object", cmd.object)
            if len(objects) > 1:
                raise _NoGoal(f"I can hand over one object at a time, and '{cmd.object.describe()}' is {len(objects)}")
            return [atom("handed_over", o) for o in objects]
        if isinstance(cmd, Shift):
            return self._shift(key, cmd)
        if isinstance(cmd, Lift):
            objects = self.bind(f"{key}.object", "object", cmd.object)
            if len(objects) > 1:
                raise _NoGoal(f"I can hold one object at a time, and '{cmd.object.describe()}' is {len(objects)}")
            return [atom("holding", o) for o in objects]
        if isinstance(cmd, Stack):
            return self._stack(key, cmd)
        return self._sort(key, cmd)

    def _shift(self, key: str, cmd: Shift) -> list[Atom]:
        """``displaced(o)``: the object ends ``cmd.offset()`` from where it is, within the arm's reach."""
        objects = self.bind(f"{key}.object", "object", cmd.object)
        if len(objects) > 1:
            raise _NoGoal(f"I move one object at a time by a distance, and '{cmd.object.describe()}' is {len(objects)}")
        for oid in objects:
            (x, y, _), (dx, dy) = self.percept.by_id(oid).position, cmd.offset()
            reach = (x + dx) ** 2 + (y + dy) ** 2
            if not REACH[0] ** 2 <= reach <= REACH[1] ** 2:
                raise _NoGoal(
                    f"{cmd.distance * 100:g} cm {cmd.direction} of where it is, {describe(oid, self.percept)} would be "
                    f"{reach**0.5:.2f} m from the robot base; the arm reaches {REACH[0]:.2f}-{REACH[1]:.2f} m"
                )
        return [atom("displaced", o) for o in objects]

    def _stack(self, key: str, cmd: Stack) -> list[Atom]:
        """The tower's ``on`` atoms, bottom up. Each level is one object; an ``all`` level ("stack the blocks")
        is every object its phrase fits that no other level names, in :func:`stacking_order`, bound last."""
        levels: dict[int, list[str]] = {}
        rest = [j for j, phrase in enumerate(cmd.order, start=1) if phrase.quantity == "all"]
        for j, phrase in sorted(enumerate(cmd.order, start=1), key=lambda jp: jp[0] in rest):
            named = [i for ids in levels.values() for i in ids]
            ids = self.bind(f"{key}.order{j}", "object" if j > 1 else "target", phrase, exclude=named)
            if j in rest:
                ids = stacking_order(self.percept, ids)
            elif len(ids) > 1:
                raise _NoGoal(f"each level of the tower is one object; '{phrase.describe()}' is {len(ids)}")
            levels[j] = ids
        chosen = [i for j in sorted(levels) for i in levels[j]]
        if rest and len(chosen) < 2 and all(levels.values()):
            raise _NoGoal(f"a stack needs at least two objects, and I see {len(chosen)} that fits")
        return [atom("on", top, below) for below, top in zip(chosen, chosen[1:], strict=False)]

    def _sort(self, key: str, cmd: Sort) -> list[Atom]:
        """Each object ``relation`` the one container of its colour."""
        containers = self.bind(f"{key}.containers", "target", cmd.containers)
        objects = self.bind(f"{key}.objects", "object", cmd.objects, exclude=containers)
        atoms = []
        for oid in objects:
            colour = self.percept.by_id(oid).color
            partners = [c for c in containers if self.percept.by_id(c).color == colour]
            if len(partners) != 1:
                what = cmd.containers.noun or "container"
                raise _NoGoal(
                    f"{len(partners) or 'no'} {what}{'s' if len(partners) != 1 else ''} of "
                    f"{describe(oid, self.percept)}'s colour ({colour})"
                    + (f": {', '.join(describe(c, self.percept) for c in partners)}" if partners else "")
                )
            atoms.append(atom(cmd.relation, oid, partners[0]))
        return atoms
