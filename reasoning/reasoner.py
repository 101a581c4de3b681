"""The deterministic rules reasoner: grammar, scene graph and knowledge graph, then a symbolic plan."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge import KnowledgeBase
from perception.objects import Percept, SceneObject
from perception.relations import RELATIONS
from reasoning.instruction import Goal, InstructionError, Referent, parse_instruction
from reasoning.planner import plan_pick_place
from reasoning.thought import Binding, EvidenceRef, Thought, ThoughtStep


def matches(obj: SceneObject, referent: Referent) -> bool:
    """Does a perceived object fit a description (type, and colour when given)?"""
    return obj.type == referent.type and (referent.color is None or obj.color == referent.color)


def resolve(referent: Referent, percept: Percept, role: str) -> Binding:
    """All perceived objects that fit ``referent``."""
    return Binding(role=role, referent=referent, candidates=[o.id for o in percept.objects if matches(o, referent)])


def _evidence(percept: Percept, ids: Sequence[str]) -> list[EvidenceRef]:
    return [EvidenceRef(object_id=i, evidence=percept.by_id(i).evidence) for i in ids]


class RulesReasoner:
    """Instruction -> goal -> bindings -> knowledge -> plan, as an explicit chain of typed steps."""

    name = "rules"

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._type_words = kb.type_words()

    def parse(self, instruction: str) -> Goal:
        """Parse an instruction with the knowledge base's vocabulary."""
        return parse_instruction(instruction, self._type_words)

    def think(self, instruction: str, percept: Percept, relations: Sequence[tuple[str, str, str]] = ()) -> Thought:
        """Build the chain of thought for ``instruction`` over ``percept``."""
        thought = Thought()
        seen = "; ".join(
            f"{o.description} ({o.id}) at x={o.position[0]:.2f}, y={o.position[1]:+.2f}" for o in percept.objects
        )
        rel_text = ", ".join(f"{r}({a}, {b})" for a, r, b in relations if r in ("on", "inside"))
        thought.steps.append(
            ThoughtStep(
                kind="describe",
                text=f"I see {len(percept.objects)} objects: {seen or 'none'}."
                + (f" Relations: {rel_text}." if rel_text else ""),
                evidence=_evidence(percept, [o.id for o in percept.objects]),
            )
        )
        try:
            goal = self.parse(instruction)
        except InstructionError as exc:
            thought.parse_error = str(exc)
            thought.steps.append(ThoughtStep(kind="parse", text=f"I cannot parse the instruction: {exc}."))
            return thought
        thought.goal = goal
        thought.steps.append(
            ThoughtStep(
                kind="parse", text=f"The instruction asks to put {goal.object.text} {goal.relation} {goal.target.text}."
            )
        )
        for role, referent in (("object", goal.object), ("target", goal.target)):
            binding = resolve(referent, percept, role)
            thought.bindings.append(binding)
            n = len(binding.candidates)
            text = (
                f"{referent.text} is {binding.candidates[0]}."
                if n == 1
                else f"{referent.text} matches {n} objects{': ' + ', '.join(binding.candidates) if n else ''}."
            )
            thought.steps.append(
                ThoughtStep(kind="resolve", text=text, evidence=_evidence(percept, binding.candidates))
            )
        affords = self.kb.affords(goal.target.type, goal.relation)
        graspable = self.kb.graspable(goal.object.type)
        thought.steps.append(
            ThoughtStep(
                kind="knowledge",
                text=f"The knowledge graph says: {'; '.join(affords.facts + graspable.facts)}.",
                facts=[*affords.facts, *graspable.facts],
            )
        )
        obj_id = thought.binding("object").chosen  # type: ignore[union-attr]
        tgt_id = thought.binding("target").chosen  # type: ignore[union-attr]
        thought.steps.append(ThoughtStep(kind="goal", text=f"Goal: {goal.relation}({obj_id or '?'}, {tgt_id or '?'})."))
        if obj_id and tgt_id and obj_id != tgt_id:
            obj, tgt = percept.by_id(obj_id), percept.by_id(tgt_id)
            if RELATIONS[goal.relation](obj, tgt):
                thought.steps.append(ThoughtStep(kind="plan", text="The goal already holds; nothing to do."))
            else:
                thought.plan = plan_pick_place(obj, tgt, goal.relation)
                thought.steps.append(
                    ThoughtStep(kind="plan", text="Plan: " + " -> ".join(s.text for s in thought.plan) + ".")
                )
        return thought
