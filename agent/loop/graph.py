"""The LangGraph ``StateGraph`` of one decision loop.

::

    perceive -> reason -> verify -+-> act -> observe -+-> act (next plan step)
       ^                          |                   +-> succeeded (every goal atom observed)
       |                          +-> refused / succeeded (goal already holds)
       |                          +-> needs_clarification --(interrupt; the person's answer)--> reason
       +-- re-look: evidence too weak, an action failed, or its effect was not observed (bounded)
                                                      +-> failed (retries or step budget exhausted)

The nodes are the methods of :class:`LoopNodes`, bound to a :class:`Runtime` that holds what cannot be
checkpointed (cameras, robot, models); the state itself is a pydantic model stored by the checkpointer after
every step. Each node names the next one in ``route``; its router (``after_perceive``, ...) may return only the
targets of its ``Literal`` type, which is also its ``path_map``, so the compiled graph holds exactly the
transitions of :data:`EDGES` (drawn in ``docs/graph.mmd`` by ``get_graph().draw_mermaid()``).
``needs_clarification`` pauses the run with :func:`langgraph.types.interrupt`; resuming it with
``Command(resume=answer)`` binds the ambiguous phrase to the object the answer picks and reasons again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, get_type_hints

import numpy as np
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from groundsight.agent.loop.robot_interface import RobotInterface
from groundsight.agent.loop.state import TERMINAL, ActionRecord, AgentState
from groundsight.agent.loop.timing import Timer
from groundsight.knowledge import KnowledgeBase
from groundsight.perception.frame import CameraSource, Frame
from groundsight.perception.identity import carry_ids
from groundsight.perception.objects import Evidence, Percept, SceneObject
from groundsight.perception.perceivers.base import Perceiver
from groundsight.perception.relations import RELATIONS
from groundsight.perception.scene_graph import scene_relations
from groundsight.reasoning.logical_form import Shift
from groundsight.reasoning.placement import PlanStep, grasp_of, release_point_for, still_to_place
from groundsight.reasoning.predicates import Atom, atom
from groundsight.reasoning.referents import describe, resolve_answer
from groundsight.reasoning.thought import CheckResult, Thought, ThoughtStep
from groundsight.reasoning.verifier import Screen, Verifier, clarification_question, decide, humanize

log = logging.getLogger(__name__)

NODES = ("perceive", "reason", "verify", "act", "observe", "needs_clarification")
ENDS = ("succeeded", "failed", "refused")


class Reasoner(Protocol):
    """What the graph needs from a reasoner (:class:`reasoning.reasoner.RulesReasoner`, the LLM reasoner)."""

    name: str

    def think(
        self,
        instruction: str,
        percept: Percept,
        relations: Sequence[tuple[str, str, str]] = (),
        answers: Mapping[str, list[str]] | None = None,
        holding: str | None = None,
    ) -> Thought: ...

    def replan(
        self,
        thought: Thought,
        percept: Percept,
        relations: Sequence[tuple[str, str, str]] = (),
        holding: str | None = None,
    ) -> Thought: ...


Placed = tuple[str, str, tuple[float, float, float]]
"""What the agent put where: (relation, target id, release point)."""
FILLED_RADIUS = 0.6
"""The depth is read within this fraction of a placed object's half-width around its release point."""
PLACED_EVIDENCE = "placed by the agent"
"""The camera name of the evidence of an object kept in belief (:func:`keep_placed`): it rests on the depth at
its release point, which no colour box can re-measure (the box shows its container)."""
FILLED_FRACTION = 0.5
"""A placed object is still there when the depth around its release point rises this fraction of its height."""


def placed_by_agent(actions: Sequence[ActionRecord]) -> dict[str, Placed]:
    """Objects the agent put in or on something (and has not picked up since), from its action records."""
    out: dict[str, Placed] = {}
    for record in actions:
        if not record.ok:
            continue
        if "placed" in record.detail:
            oid, relation, target, point = record.detail["placed"]
            out[oid] = (relation, target, tuple(point))
        elif "picked" in record.detail:
            out.pop(record.detail["picked"], None)
    return out


def keep_placed(percept: Percept, previous: Percept, placed: Mapping[str, Placed], frames: Sequence[Frame]) -> Percept:
    """``percept`` with the objects the agent put in or on a target it still sees, which this look lost, kept
    in belief: where they were released, as long as the depth there rises to about their height (a ball in a
    bowl of its own colour is one blob to the camera, but the bowl is filled). The evidence contradicting
    them (the depth there shows only the target's floor) drops them."""
    kept = []
    for oid, (relation, target, point) in placed.items():
        if (
            oid in percept.ids
            or oid not in previous.ids
            or target not in percept.ids
            or relation not in ("inside", "on")
        ):
            continue
        old, holder = previous.by_id(oid), percept.by_id(target)
        pixels = _filled(frames, point, old)
        if not pixels:
            continue
        position = (point[0], point[1], point[2] + old.extent[2] / 2)
        box = holder.evidence[0].box if holder.evidence else (0, 0, 0, 0)
        evidence = (Evidence(camera=PLACED_EVIDENCE, box=box, pixels=pixels),)
        kept.append(old.model_copy(update={"position": position, "evidence": evidence}))
    if not kept:
        return percept
    return percept.model_copy(update={"objects": [*percept.objects, *kept]})


def _filled(frames: Sequence[Frame], point: tuple[float, float, float], obj: SceneObject) -> int:
    """The depth pixels around ``point`` (``obj``'s release point) of the first frame that sees it, when they rise
    to about ``obj``'s height; 0 when they do not (or no frame sees the point)."""
    radius = FILLED_RADIUS * min(obj.extent[0], obj.extent[1]) / 2
    for frame in frames:
        if frame.depth is None:
            continue
        xyz = frame.points_world()
        there = np.hypot(xyz[:, 0] - point[0], xyz[:, 1] - point[1]) <= radius
        if there.sum() >= 10:
            high = np.median(xyz[there, 2]) >= point[2] + FILLED_FRACTION * obj.extent[2]
            return int(there.sum()) if high else 0
    return 0


TwinCheck = Callable[[Thought, Percept], CheckResult]
"""Rolls a checked plan out on a copy of the world first (see :mod:`groundsight.agent.loop.twin`)."""


@dataclass
class Runtime:
    """Live components the graph's nodes use; not part of the checkpointed state."""

    cameras: Sequence[CameraSource]
    perceiver: Perceiver
    reasoner: Reasoner
    verifier: Verifier
    kb: KnowledgeBase
    robot: RobotInterface
    twin: TwinCheck | None = None
    verify: bool = True
    """False for ablations: the checks still run and are recorded, but the agent acts whatever they say."""
    frame_sink: Callable[[list[Frame]], list[str]] | None = None
    """Stores the frames of each look (e.g. as small JPEGs in the run directory) and names the files."""
    frames: list[Frame] = field(default_factory=list)
    frame_files: list[str] = field(default_factory=list)
    timer: Timer = field(default_factory=Timer)
    """Wall time per node and per phase of a look (kept out of the state: see :mod:`~groundsight.agent.loop.timing`)."""

    def look(
        self,
        previous: Percept | None = None,
        expected: Mapping[str, tuple[float, float]] | None = None,
        placed: Mapping[str, Placed] | None = None,
    ) -> tuple[Percept, list[tuple[str, str, str]], Screen]:
        """Capture every camera, perceive, screen every claim against the evidence (:meth:`Verifier.screen`;
        with verification on, the agent goes on with the repaired claims), keep the ids of ``previous`` and
        what the agent itself ``placed`` (:func:`keep_placed`), build the scene graph and put it into the
        knowledge base."""
        with self.timer.phase("render"):
            self.frames = [camera.read() for camera in self.cameras]
        with self.timer.phase("frames"):
            self.frame_files = self.frame_sink(self.frames) if self.frame_sink is not None else []
        with self.timer.phase("perception"):
            percept = self.perceiver.perceive(self.frames)
        with self.timer.phase("screen"):
            screen = self.verifier.screen(percept, self.frames)
        if self.verify and screen.changed:
            percept = percept.model_copy(update={"objects": screen.objects})
        if previous is not None:
            percept = carry_ids(previous, percept, expected)
            percept = keep_placed(percept, previous, placed or {}, self.frames)
        return percept, self.scene(percept), screen

    def scene(self, percept: Percept) -> list[tuple[str, str, str]]:
        """Build ``percept``'s scene graph, put it into the knowledge base and return its relation triples."""
        relations = scene_relations(percept.objects)
        self.kb.set_scene(percept.objects, relations)
        return relations


# ---------------------------------------------------------------------------------------------------------------
# The transitions. Every node writes the next node's name into ``route`` (it is part of the trace); its router reads
# it back and may only return the targets of its ``Literal`` type, which are also its ``path_map``: the compiled
# graph has exactly these edges (LangGraph draws an edge to every node for a router without a path map).

AfterPerceive = Literal["reason", "failed"]
AfterReason = Literal["verify", "failed"]
AfterVerify = Literal["act", "succeeded", "needs_clarification", "perceive", "reason", "refused", "failed"]
AfterClarification = Literal["reason", "needs_clarification", "failed"]
AfterAct = Literal["observe", "perceive", "failed"]
AfterObserve = Literal["act", "succeeded", "perceive", "failed"]


def after_perceive(state: AgentState) -> AfterPerceive:
    """``perceive`` -> ``reason``."""
    return _follow(state, AfterPerceive)


def after_reason(state: AgentState) -> AfterReason:
    """``reason`` -> ``verify``."""
    return _follow(state, AfterReason)


def after_verify(state: AgentState) -> AfterVerify:
    """``verify`` -> ``act`` (checks passed), ``succeeded`` (the goal already holds), ``needs_clarification``
    (an ambiguous referent), ``perceive`` (the evidence is too weak: look again), ``refused``, or ``reason``
    (without verification: take the first candidate of an ambiguous referent)."""
    return _follow(state, AfterVerify)


def after_clarification(state: AgentState) -> AfterClarification:
    """``needs_clarification`` -> ``reason`` with the person's choice, or ask again when the answer picks none."""
    return _follow(state, AfterClarification)


def after_act(state: AgentState) -> AfterAct:
    """``act`` -> ``observe`` its effect, or ``perceive`` again when the skill failed (a retry)."""
    return _follow(state, AfterAct)


def after_observe(state: AgentState) -> AfterObserve:
    """``observe`` -> ``act`` (next plan step), ``succeeded`` (every goal atom observed), or ``perceive`` (a
    doubtful look, a missing effect or goal: look again or retry)."""
    return _follow(state, AfterObserve)


ROUTERS: dict[str, Callable[[AgentState], str]] = {
    "perceive": after_perceive,
    "reason": after_reason,
    "verify": after_verify,
    "needs_clarification": after_clarification,
    "act": after_act,
    "observe": after_observe,
}
"""Each node's router; every non-terminal route may also become ``failed`` when the step budget is spent."""

EDGES: frozenset[tuple[str, str]] = frozenset(
    {
        (START, "perceive"),
        ("perceive", "reason"),
        ("perceive", "failed"),
        ("reason", "verify"),
        ("reason", "failed"),
        ("verify", "act"),
        ("verify", "succeeded"),
        ("verify", "needs_clarification"),
        ("verify", "perceive"),
        ("verify", "reason"),
        ("verify", "refused"),
        ("verify", "failed"),
        ("needs_clarification", "reason"),
        ("needs_clarification", "needs_clarification"),
        ("needs_clarification", "failed"),
        ("act", "observe"),
        ("act", "perceive"),
        ("act", "failed"),
        ("observe", "act"),
        ("observe", "succeeded"),
        ("observe", "perceive"),
        ("observe", "failed"),
        ("succeeded", END),
        ("failed", END),
        ("refused", END),
    }
)
"""The documented transitions of the loop, ``(source, target)``; the compiled graph has exactly these."""


def _follow(state: AgentState, targets: Any) -> Any:
    """``state.route`` when it is one of the ``Literal`` ``targets``; anything else is a bug in the node."""
    allowed = get_args(targets)
    if state.route not in allowed:
        raise ValueError(f"route {state.route!r} is not a transition of this node (allowed: {', '.join(allowed)})")
    return state.route


def path_map(router: Callable[[AgentState], str]) -> dict[str, str]:
    """The targets ``router`` may return (its ``Literal`` return type), as LangGraph's ``path_map``."""
    return {target: target for target in get_args(get_type_hints(router)["return"])}


# ---------------------------------------------------------------------------------------------------------------
# The nodes.


def _go(state: AgentState, route: str, **update: Any) -> dict[str, Any]:
    """An update that moves to ``route``, or to ``failed`` when the step budget is spent."""
    steps = state.steps + 1
    if route not in TERMINAL and steps >= state.max_steps:
        route, update["reason"] = "failed", f"step budget of {state.max_steps} graph steps exhausted"
    return {**update, "steps": steps, "route": route}


def _with_step(thought: Thought, step: ThoughtStep) -> Thought:
    return thought.model_copy(update={"steps": [*thought.steps, step]})


def _effect(step: PlanStep) -> Atom | None:
    """The relation a place step makes true, when it is one the camera can check."""
    if step.skill == "place" and step.relation in RELATIONS and step.target:
        return atom(step.relation, step.object, step.target)
    return None


def _ambiguous_key(thought: Thought) -> str:
    return next(b.key for b in thought.bindings if b.problem == "ambiguous")


class LoopNodes:
    """The node functions of the graph, bound to one :class:`Runtime`; each returns a state update whose
    ``route`` names the next node."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def go(self, state: AgentState, route: str, **update: Any) -> dict[str, Any]:
        """:func:`_go`, recording the robot calls completed so far (what a resumed run replays)."""
        return _go(state, route, robot_calls=getattr(self.rt.robot, "count", state.robot_calls), **update)

    def perceive(self, state: AgentState) -> dict[str, Any]:
        """Look (keeping the ids of the previous percept once the robot has acted) and screen the claims."""
        keep = state.percept if state.actions else None
        percept, relations, screen = self.rt.look(keep, state.expected, placed_by_agent(state.actions))
        return self.go(
            state,
            "reason",
            percept=percept,
            relations=relations,
            looks=state.looks + 1,
            expected={},
            frame_files=self.rt.frame_files,
            screen=screen.checks,
            doubtful=screen.doubtful,
        )

    def reason(self, state: AgentState) -> dict[str, Any]:
        """Think about the instruction, or plan again from here once the robot has acted."""
        assert state.percept is not None
        holding = state.held if state.held and self.rt.robot.holding else None
        if state.actions and state.thought is not None and state.thought.goal:
            # the bindings were settled before the robot moved anything: keep them, plan again from here
            thought = _with_step(state.thought, ThoughtStep(kind="plan", text="Planning again from the new view."))
            thought = self.rt.reasoner.replan(thought, state.percept, state.relations, holding)
        else:
            thought = self.rt.reasoner.think(state.instruction, state.percept, state.relations, state.answers, holding)
        return self.go(state, "verify", thought=thought, plan_index=0, question=None, held=holding)

    def verify(self, state: AgentState) -> dict[str, Any]:
        """Check the thought (and roll the plan out on the twin); act, ask, look again or refuse."""
        assert state.thought is not None and state.percept is not None
        checks = self.rt.verifier.check(state.thought, state.percept, self.rt.frames, doubtful=state.doubtful)
        if self.rt.twin is not None and state.thought.plan and decide(checks) is None:
            checks.append(self.rt.twin(state.thought, state.percept))
        # without verification the screen's verdicts are recorded as what would have stopped the agent
        failed = decide(checks) if self.rt.verify else decide([*checks, *state.screen])
        verdict = "all checks passed" if failed is None else f"check {failed.name} failed: {failed.reason}"
        step = ThoughtStep(kind="verify", text=verdict[0].upper() + verdict[1:] + ".", checks=[*state.screen, *checks])
        thought = _with_step(state.thought, step)
        update: dict[str, Any] = {"thought": thought, "checks": checks}
        if failed is not None and not self.rt.verify:
            return self._unverified(state, thought, failed, update)
        if failed is None:
            if not thought.plan:
                return self.go(state, "succeeded", reason="the goal already holds; nothing to do", **update)
            return self.go(state, "act", **update)
        return self._failed_check(state, thought, failed, update)

    def _failed_check(
        self, state: AgentState, thought: Thought, failed: CheckResult, update: dict[str, Any]
    ) -> dict[str, Any]:
        """A check failed with verification on: ask, look again (bounded) or refuse, as the check says."""
        assert state.percept is not None
        said = humanize(failed.reason, state.percept)  # what a person reads names objects, never ids
        if failed.on_fail == "ask":
            return self.go(
                state,
                "needs_clarification",
                status="needs_clarification",
                question=said,
                reason=said,
                asking=_ambiguous_key(thought),
                **update,
            )
        if failed.on_fail == "reperceive" and state.relooks < state.max_looks:
            why = f"looking again: {failed.reason}"
            return self.go(state, "perceive", reason=why, relooks=state.relooks + 1, **update)
        if any(record.ok for record in state.actions):
            # the whole plan was verified before the first motion: what fails now is the execution's doing
            return self._retry(state, f"{failed.name}: {failed.reason}", **update)
        return self.go(state, "refused", reason=f"{failed.name}: {said}", **update)

    def _unverified(
        self, state: AgentState, thought: Thought, failed: CheckResult, update: dict[str, Any]
    ) -> dict[str, Any]:
        """Ablation without verification: act on the first candidate and on any plan, whatever failed."""
        if failed.on_fail == "ask" and state.asking is None:
            key = _ambiguous_key(thought)
            answers = {**state.answers, key: [failed.candidates[0]]}
            why = f"not verified: taking {failed.candidates[0]} for {key}"
            return self.go(state, "reason", answers=answers, reason=why, **update)
        if thought.plan:
            return self.go(state, "act", reason=f"not verified: acting although {failed.name} failed", **update)
        why = f"{failed.name}: {failed.reason} (and there is no plan to act on)"
        return self.go(state, "refused", reason=why, **update)

    def needs_clarification(self, state: AgentState) -> dict[str, Any]:
        """Pause with the question (:func:`~langgraph.types.interrupt`); bind the answer's object and reason."""
        assert state.thought is not None and state.percept is not None and state.asking is not None
        binding = state.thought.binding(state.asking)
        assert binding is not None
        answer = interrupt({"question": state.question, "candidates": binding.candidates})
        candidates = [state.percept.by_id(c) for c in binding.candidates]
        chosen = resolve_answer(str(answer), candidates)
        if chosen is None:
            question = (
                f"I could not tell which one you mean by '{answer}'. {clarification_question(binding, state.percept)}"
            )
            return self.go(state, "needs_clarification", question=question, reason=question)
        answers = {**state.answers, state.asking: [chosen.id]}
        return self.go(
            state,
            "reason",
            status="running",
            answers=answers,
            asking=None,
            question=None,
            reason=f"you meant {describe(chosen.id, state.percept)} ({chosen.id})",
        )

    def act(self, state: AgentState) -> dict[str, Any]:
        """Execute the current plan step on the robot; observe it, or go home and retry when it failed."""
        assert state.thought is not None and state.percept is not None
        step = state.thought.plan[state.plan_index]
        expected = dict(state.expected)
        obj = state.percept.by_id(step.object)
        done: dict[str, Any] = {"picked": step.object}
        if step.skill == "pick":
            grasp = grasp_of(obj, obj.yaw)
            result = self.rt.robot.pick(grasp.position, grasp.extent, grasp.yaw)
        elif step.skill == "place":
            coming = still_to_place(state.thought.plan, state.plan_index)
            point = release_point_for(step, obj, state.percept.objects, coming)
            offset = _shift_offset(state.thought, step)
            if offset is not None:  # "push the red block 10 cm to the left": where it was, plus the offset
                point = (obj.position[0] + offset[0], obj.position[1] + offset[1], 0.0)
            expected[step.object] = (point[0], point[1])
            result = self.rt.robot.place(point)
            done = {"placed": [step.object, step.relation, step.target, [float(v) for v in point]]}
        else:
            result = self.rt.robot.handover()
        record = ActionRecord(
            step=step.text,
            skill=result.skill,
            ok=result.ok,
            reason=result.reason,
            message=result.message,
            # wall-clock timings stay out of the state so that the trace is deterministic
            detail={**{k: v for k, v in result.detail.items() if k != "wall_time_s"}, **done},
        )
        actions = [*state.actions, record]
        if result.ok:
            return self.go(state, "observe", actions=actions, expected=expected, relooks=0)
        self.rt.robot.home()
        why = f"{step.text} failed: {result.reason}: {result.message}"
        return self._retry(state, why, actions=actions, expected=expected)

    def observe(self, state: AgentState) -> dict[str, Any]:
        """Check the step's effect (the gripper, or a new look); go on, look again, retry, or finish."""
        assert state.thought is not None and state.percept is not None
        step = state.thought.plan[state.plan_index]
        check, update = self._effect_check(state, step)
        checks = [*state.checks, check]
        if not check.passed and self._doubt(state, update):
            why = f"looking again: {check.name}: {check.reason}"
            return self.go(state, "perceive", reason=why, checks=checks, relooks=state.relooks + 1, **update)
        if not check.passed:
            self.rt.robot.home()
            return self._retry(state, f"{check.name}: {check.reason}", checks=checks, **update)
        if state.plan_index + 1 < len(state.thought.plan):
            return self.go(state, "act", plan_index=state.plan_index + 1, checks=checks, **update)
        return self._after_last_step(state, checks, update)

    def _effect_check(self, state: AgentState, step: PlanStep) -> tuple[CheckResult, dict[str, Any]]:
        """Did ``step`` do what it should? A pick or handover asks the gripper; a place looks again."""
        assert state.percept is not None
        if step.skill in ("pick", "handover"):
            check = CheckResult(
                name="effect_observed",
                claim=f"{step.effects[0] if step.effects else 'holding'} after {step.text}",
                passed=self.rt.robot.holding,
                reason="the gripper is empty",
                on_fail="reperceive",
            )
            return check, {"held": step.object if self.rt.robot.holding else None}
        percept, relations, screen = self.rt.look(state.percept, state.expected, placed_by_agent(state.actions))
        effect = _effect(step)
        check = (
            self.rt.verifier.effect_observed(effect, percept)
            if effect is not None
            else CheckResult(
                name="effect_observed",
                claim=f"{step.object} set down on the table",
                passed=step.object in percept.ids,
                reason=f"after the action I cannot find {step.object}",
                on_fail="reperceive",
            )
        )
        return check, {
            "screen": screen.checks,
            "doubtful": screen.doubtful,
            "percept": percept,
            "relations": relations,
            "held": None,
            "expected": {},
            "frame_files": self.rt.frame_files,
            "looks": state.looks + 1,
        }

    def _after_last_step(self, state: AgentState, checks: list[CheckResult], update: dict[str, Any]) -> dict[str, Any]:
        """The plan is done: succeed when every goal atom is observed, else look again or retry."""
        assert state.thought is not None and state.percept is not None
        placed = placed_by_agent(state.actions)
        final = _goal_observed(state.thought, update.get("percept", state.percept), self.rt.robot.holding, placed)
        checks.append(final)
        done = state.plan_index + 1
        if not final.passed and self._doubt(state, update):
            why = f"looking again: {final.name}: {final.reason}"
            return self.go(
                state, "perceive", reason=why, checks=checks, plan_index=done, relooks=state.relooks + 1, **update
            )
        if not final.passed:
            return self._retry(state, f"{final.name}: {final.reason}", checks=checks, plan_index=done, **update)
        why = f"observed {final.claim}"
        return self.go(state, "succeeded", plan_index=done, checks=checks, reason=why, **update)

    def _doubt(self, state: AgentState, update: dict[str, Any]) -> bool:
        """After a failed observation: was the look itself doubtful, and may the agent look again?"""
        return self.rt.verify and bool(update.get("doubtful")) and state.relooks < state.max_looks

    def _retry(self, state: AgentState, why: str, **update: Any) -> dict[str, Any]:
        """Perceive and plan again after a failure, or give up when the retries are spent."""
        if state.retries < state.max_retries:
            return self.go(state, "perceive", retries=state.retries + 1, reason=f"re-planning after: {why}", **update)
        said = humanize(why, state.percept) if state.percept is not None else why
        return self.go(state, "failed", reason=f"gave up after {state.retries} retries: {said}", **update)


def _terminal(status: str) -> Callable[[AgentState], dict[str, Any]]:
    """The node that ends the run with ``status``."""

    def node(state: AgentState) -> dict[str, Any]:
        return {"status": status, "steps": state.steps + 1, "route": ""}

    node.__name__ = status
    return node


def build_graph(rt: Runtime) -> StateGraph:
    """The uncompiled graph over ``rt``, with exactly the transitions of :data:`EDGES`; compile it with a
    checkpointer."""
    nodes = LoopNodes(rt)
    graph = StateGraph(AgentState)
    for name in NODES:
        graph.add_node(name, rt.timer.timed(name, getattr(nodes, name)))
    for status in ENDS:
        graph.add_node(status, _terminal(status))
        graph.add_edge(status, END)
    graph.add_edge(START, "perceive")
    for name in NODES:
        graph.add_conditional_edges(name, ROUTERS[name], path_map(ROUTERS[name]))
    return graph


def _shift_offset(thought: Thought, step: PlanStep) -> tuple[float, float] | None:
    """The offset of the shift command whose object this table placement moves (None for any other step)."""
    if step.relation != "table" or thought.program is None:
        return None
    for i, cmd in enumerate(thought.program.steps, start=1):
        binding = thought.binding(f"step{i}.object")
        if isinstance(cmd, Shift) and binding is not None and step.object in binding.chosen:
            return cmd.offset()
    return None


SHIFT_TOLERANCE = 0.025
"""How far (m) a shifted object may be seen from the point it was released at."""


def _goal_observed(
    thought: Thought, percept: Percept, holding: bool, placed: Mapping[str, Placed] | None = None
) -> CheckResult:
    """After the last step: does every goal atom hold in what the camera (and the gripper) now report? A shifted
    object must be seen where the agent released it (its old place plus the offset)."""
    missing = []
    for a in thought.goal_atoms:
        if a.predicate == "displaced":
            point = (placed or {}).get(a.args[0], (None, None, None))[2]
            seen = percept.by_id(a.args[0]).position if a.args[0] in percept.ids else None
            ok = point is not None and seen is not None and math.dist(seen[:2], point[:2]) <= SHIFT_TOLERANCE
        elif a.predicate in ("handed_over", "holding"):  # the gripper says it holds the object
            ok = holding
        else:
            ok = all(i in percept.ids for i in a.args) and RELATIONS[a.predicate](*(percept.by_id(i) for i in a.args))
        if not ok:
            missing.append(a.text)
    return CheckResult(
        name="goal_observed",
        claim=", ".join(a.text for a in thought.goal_atoms),
        passed=not missing,
        reason=f"not observed: {', '.join(missing)}",
        on_fail="reperceive",
    )
