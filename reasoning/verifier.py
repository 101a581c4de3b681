"""The verifier: every claim of a chain of thought is checked before the robot moves.

Each check has a name that appears in the trace. A claim is checked against (a) the percept's evidence
and geometry, (b) the knowledge graph, and (c) the plan's symbolic preconditions. A failed check says what
the agent does next (:data:`reasoning.thought.Outcome`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from knowledge import KnowledgeBase
from perception.frame import Frame
from perception.objects import Evidence, Percept, SceneObject
from perception.relations import RELATIONS
from reasoning.planner import PlanStep
from reasoning.thought import Binding, CheckResult, Thought

GRIPPER_MAX_WIDTH = 0.075
"""Widest object (m) the parallel gripper can close on."""
REACH = (0.25, 0.80)
"""Horizontal distance (m) from the robot base within which a top-down grasp or placement is possible
for the Panda; the robot's skills check exact reachability again with inverse kinematics."""
MIN_CONFIDENCE = 0.5
MIN_EVIDENCE_PIXELS = 30

ColourProbe = Callable[[Frame, Evidence, str], str | None]
"""Re-measures a claimed colour in a piece of image evidence: None if the pixels support it, else what
they show instead (see :func:`perception.evidence.colour_contradiction`)."""


def _where(obj: SceneObject) -> str:
    return f"{obj.id} at x={obj.position[0]:.2f}, y={obj.position[1]:+.2f}"


def clarification_question(binding: Binding, percept: Percept) -> str:
    """A question that names every candidate, e.g. 'Which blue bowl do you mean: the left one ...?'"""
    objs = [percept.by_id(c) for c in binding.candidates]
    noun = binding.referent.text.removeprefix("the ")
    if len(objs) == 2:
        a, b = sorted(objs, key=lambda o: -o.position[1])
        if abs(a.position[1] - b.position[1]) > 0.05:
            return f"Which {noun} do you mean: the one on the left ({_where(a)}) or the one on the right ({_where(b)})?"
        near, far = sorted(objs, key=lambda o: o.position[0])
        return f"Which {noun} do you mean: the one in front ({_where(near)}) or the one behind ({_where(far)})?"
    return f"Which {noun} do you mean: " + ", ".join(_where(o) for o in objs) + "?"


class Verifier:
    """Checks a :class:`Thought` against the percept, the knowledge base and the plan's preconditions."""

    def __init__(self, kb: KnowledgeBase, colour_probe: ColourProbe | None = None) -> None:
        self.kb = kb
        self.colour_probe = colour_probe

    # ---- before acting --------------------------------------------------------------------------
    def check(self, thought: Thought, percept: Percept, frames: Sequence[Frame] = ()) -> list[CheckResult]:
        """All checks of a thought, in the order they are reported."""
        if thought.goal is None:
            return [
                CheckResult(
                    name="instruction_understood",
                    claim="the instruction is in the language",
                    passed=False,
                    reason=thought.parse_error or "no goal",
                )
            ]
        goal = thought.goal
        results = [CheckResult(name="instruction_understood", claim=f"goal is {goal.text}", passed=True)]
        for binding in thought.bindings:
            results.extend(self._binding_checks(binding, percept, frames))
        results.append(self._affords(goal.target.type, goal.relation))
        results.extend(self._graspable(goal.object.type))
        obj_b, tgt_b = thought.binding("object"), thought.binding("target")
        if obj_b and tgt_b and obj_b.chosen and tgt_b.chosen:
            obj, tgt = percept.by_id(obj_b.chosen), percept.by_id(tgt_b.chosen)
            results.append(
                CheckResult(
                    name="distinct_referents",
                    claim=f"{obj.id} and {tgt.id} are different objects",
                    passed=obj.id != tgt.id,
                    reason="an object cannot be put in or on itself",
                )
            )
            results.extend(self._reachable(o) for o in (obj, tgt))
            results.append(self._fits_gripper(obj))
            results.append(self._fits_target(obj, tgt, goal.relation))
            results.extend(self._preconditions(thought.plan, percept))
        return results

    def _binding_checks(self, binding: Binding, percept: Percept, frames: Sequence[Frame]) -> list[CheckResult]:
        text = binding.referent.text
        if not binding.candidates:
            seen = ", ".join(o.description for o in percept.objects) or "nothing"
            return [
                CheckResult(
                    name="referent_exists",
                    claim=f"{text} is in view",
                    passed=False,
                    reason=f"I see no {text.removeprefix('the ')} (I see: {seen})",
                )
            ]
        out = [CheckResult(name="referent_exists", claim=f"{text} is in view", passed=True)]
        if binding.chosen is None:
            out.append(
                CheckResult(
                    name="referent_unique",
                    claim=f"exactly one object is {text}",
                    passed=False,
                    reason=clarification_question(binding, percept),
                    on_fail="ask",
                    candidates=tuple(binding.candidates),
                )
            )
            return out
        out.append(CheckResult(name="referent_unique", claim=f"exactly one object is {text}", passed=True))
        out.append(self._grounded(percept.by_id(binding.chosen), frames))
        return out

    def _grounded(self, obj: SceneObject, frames: Sequence[Frame]) -> CheckResult:
        """The object's claim rests on image evidence: confident, enough pixels, colour re-measured."""
        claim = f"{obj.id} is a {obj.description} seen in the image"
        pixels = sum(e.pixels for e in obj.evidence)
        if obj.confidence < MIN_CONFIDENCE or pixels < MIN_EVIDENCE_PIXELS:
            reason = f"weak evidence (confidence {obj.confidence:.2f}, {pixels} pixels)"
            return CheckResult(name="evidence_grounded", claim=claim, passed=False, reason=reason, on_fail="reperceive")
        if self.colour_probe is not None:
            by_camera = {f.camera: f for f in frames}
            for ev in obj.evidence:
                frame = by_camera.get(ev.camera)
                measured = self.colour_probe(frame, ev, obj.color) if frame is not None else None
                if measured is not None:
                    reason = f"the pixels in {ev.camera} box {list(ev.box)} look {measured}, not {obj.color}"
                    return CheckResult(
                        name="evidence_grounded", claim=claim, passed=False, reason=reason, on_fail="reperceive"
                    )
        return CheckResult(name="evidence_grounded", claim=claim, passed=True, facts=(f"{pixels} evidence pixels",))

    def _affords(self, target_type: str, relation: str) -> CheckResult:
        answer = self.kb.affords(target_type, relation)
        kind = "container" if relation == "inside" else "support surface"
        return CheckResult(
            name="target_affords_relation",
            claim=f"a {target_type} can have things put {relation} it",
            passed=answer.value,
            reason=f"a {target_type} is not a {kind}, so nothing can be put {relation} it",
            facts=answer.facts,
        )

    def _graspable(self, obj_type: str) -> list[CheckResult]:
        answer = self.kb.graspable(obj_type)
        return [
            CheckResult(
                name="object_graspable",
                claim=f"a {obj_type} can be picked up",
                passed=answer.value,
                reason=f"a {obj_type} is not graspable by this robot",
                facts=answer.facts,
            )
        ]

    def _reachable(self, obj: SceneObject) -> CheckResult:
        distance = float(np.hypot(obj.position[0], obj.position[1]))
        return CheckResult(
            name="reachable",
            claim=f"{obj.id} ({distance:.2f} m from the robot base) is within reach",
            passed=REACH[0] <= distance <= REACH[1],
            reason=f"{obj.id} is {distance:.2f} m from the robot base; the arm reaches {REACH[0]:.2f}-{REACH[1]:.2f} m",
        )

    def _fits_gripper(self, obj: SceneObject) -> CheckResult:
        width = min(obj.extent[0], obj.extent[1])
        return CheckResult(
            name="fits_gripper",
            claim=f"{obj.id} ({width * 100:.1f} cm wide) fits the gripper",
            passed=width <= GRIPPER_MAX_WIDTH,
            reason=f"{obj.id} is {width * 100:.1f} cm wide; the gripper opens {GRIPPER_MAX_WIDTH * 100:.1f} cm",
        )

    def _fits_target(self, obj: SceneObject, target: SceneObject, relation: str) -> CheckResult:
        size = max(obj.extent[0], obj.extent[1])
        room = min(target.extent[0], target.extent[1]) - (0.02 if relation == "inside" else 0.0)
        return CheckResult(
            name="fits_target",
            claim=f"{obj.id} ({size * 100:.1f} cm) fits {relation} {target.id} ({room * 100:.1f} cm)",
            passed=size <= room or relation == "on",
            reason=f"{obj.id} is larger than the inside of {target.id}",
        )

    def _preconditions(self, plan: Sequence[PlanStep], percept: Percept) -> list[CheckResult]:
        out = []
        for step in plan:
            for pre in step.preconditions:
                if not pre.startswith("clear("):
                    continue
                oid = pre[len("clear(") : -1]
                target = percept.by_id(oid)
                above = [o.id for o in percept.objects if o.id != oid and RELATIONS["on"](o, target)]
                moving = step.object if step.skill == "place" else None
                above = [a for a in above if a != moving]
                out.append(
                    CheckResult(
                        name="precondition",
                        claim=f"{pre} before {step.text}",
                        passed=not above,
                        reason=f"{', '.join(above)} is on top of {oid}",
                    )
                )
        return out

    # ---- after acting ---------------------------------------------------------------------------
    def effect_observed(
        self, step: PlanStep, percept: Percept, obj_id: str | None, target_id: str | None
    ) -> CheckResult:
        """Does the new percept show the step's expected effect? Ids are the re-resolved referents."""
        claim = f"{step.effects[0]} after {step.text}"
        if obj_id is None or target_id is None:
            return CheckResult(
                name="effect_observed",
                claim=claim,
                passed=False,
                reason="after the action I cannot find the object or the target",
                on_fail="reperceive",
            )
        relation = RELATIONS[step.relation or "on"]
        holds = relation(percept.by_id(obj_id), percept.by_id(target_id))
        return CheckResult(
            name="effect_observed",
            claim=claim,
            passed=holds,
            reason=f"{obj_id} is not {step.relation} {target_id} in the new image",
            on_fail="reperceive",
        )


def decide(results: Sequence[CheckResult]) -> CheckResult | None:
    """The failed check that decides what happens next: refusals first, then questions, then re-looks."""
    for outcome in ("refuse", "ask", "reperceive"):
        for r in results:
            if not r.passed and r.on_fail == outcome:
                return r
    return None
