"""The LangGraph ``StateGraph`` of one decision loop.

::

    perceive -> reason -> verify -+-> act -> observe -+-> act (next plan step)
       ^                          |                   +-> succeeded (every goal atom observed)
       |                          +-> refused / succeeded (goal already holds)
       |                          +-> needs_clarification --(interrupt; the person's answer)--> reason
       +-- re-look: evidence too weak, an action failed, or its effect was not observed (bounded)
                                                      +-> failed (retries or step budget exhausted)

Nodes close over a :class:`Runtime` that holds what cannot be checkpointed (cameras, robot, models);
the state itself is a pydantic model stored by the checkpointer after every step. ``needs_clarification``
pauses the run with :func:`langgraph.types.interrupt`; resuming it with ``Command(resume=answer)`` binds
the ambiguous phrase to the object the answer picks and reasons again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from groundsight.agent.loop.robot_interface import RobotInterface
from groundsight.agent.loop.state import TERMINAL, ActionRecord, AgentState
from groundsight.knowledge import KnowledgeBase
from groundsight.perception.frame import CameraSource, Frame
from groundsight.perception.identity import carry_ids
from groundsight.perception.objects import Percept
from groundsight.perception.perceivers.base import Perceiver
from groundsight.perception.relations import RELATIONS
from groundsight.perception.scene_graph import build_scene_graph, relation_triples
from groundsight.reasoning.placement import PlanStep, grasp_of, release_point_for
from groundsight.reasoning.predicates import Atom, atom
from groundsight.reasoning.referents import resolve_answer
from groundsight.reasoning.thought import CheckResult, Thought, ThoughtStep
from groundsight.reasoning.verifier import Screen, Verifier, decide

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

    def look(
        self, previous: Percept | None = None, expected: Mapping[str, tuple[float, float]] | None = None
    ) -> tuple[Percept, list[tuple[str, str, str]], Screen]:
        """Capture every camera, perceive, screen every claim against the evidence (:meth:`Verifier.screen`;
        with verification on, the agent goes on with the repaired claims), keep the ids of ``previous``,
        build the scene graph and put it into the knowledge base."""
        self.frames = [camera.read() for camera in self.cameras]
        self.frame_files = self.frame_sink(self.frames) if self.frame_sink is not None else []
        percept = self.perceiver.perceive(self.frames)
        screen = self.verifier.screen(percept, self.frames)
        if self.verify and screen.changed:
            percept = percept.model_copy(update={"objects": screen.objects})
        if previous is not None:
            percept = carry_ids(previous, percept, expected)
        return percept, self.scene(percept), screen

    def scene(self, percept: Percept) -> list[tuple[str, str, str]]:
        """Build ``percept``'s scene graph, put it into the knowledge base and return its relation triples."""
        relations = relation_triples(build_scene_graph(percept.objects))
        self.kb.set_scene(percept.objects, relations)
        return relations


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


def build_graph(rt: Runtime) -> StateGraph:
    """The uncompiled graph; compile it with a checkpointer."""

    def go(state: AgentState, route: str, **update: Any) -> dict[str, Any]:
        # the robot calls completed so far go into every checkpoint: a resumed run replays exactly those
        return _go(state, route, robot_calls=getattr(rt.robot, "count", state.robot_calls), **update)

    def perceive(state: AgentState) -> dict[str, Any]:
        keep = state.percept if state.actions else None
        percept, relations, screen = rt.look(keep, state.expected)
        return go(
            state,
            "reason",
            percept=percept,
            relations=relations,
            looks=state.looks + 1,
            expected={},
            frame_files=rt.frame_files,
            screen=screen.checks,
            doubtful=screen.doubtful,
        )

    def reason(state: AgentState) -> dict[str, Any]:
        assert state.percept is not None
        holding = state.held if state.held and rt.robot.holding else None
        if state.actions and state.thought is not None and state.thought.goal:
            # the bindings were settled before the robot moved anything: keep them, plan again from here
            thought = _with_step(state.thought, ThoughtStep(kind="plan", text="Planning again from the new view."))
            thought = rt.reasoner.replan(thought, state.percept, state.relations, holding)
        else:
            thought = rt.reasoner.think(state.instruction, state.percept, state.relations, state.answers, holding)
        return go(state, "verify", thought=thought, plan_index=0, question=None, held=holding)

    def verify(state: AgentState) -> dict[str, Any]:
        assert state.thought is not None and state.percept is not None
        checks = rt.verifier.check(state.thought, state.percept, rt.frames, doubtful=state.doubtful)
        if rt.twin is not None and state.thought.plan and decide(checks) is None:
            checks.append(rt.twin(state.thought, state.percept))
        # without verification the screen's verdicts are recorded as what would have stopped the agent
        failed = decide(checks) if rt.verify else decide([*checks, *state.screen])
        verdict = "all checks passed" if failed is None else f"check {failed.name} failed: {failed.reason}"
        step = ThoughtStep(kind="verify", text=verdict[0].upper() + verdict[1:] + ".", checks=[*state.screen, *checks])
        thought = _with_step(state.thought, step)
        update: dict[str, Any] = {"thought": thought, "checks": checks}
        if failed is not None and not rt.verify:
            return _unverified(state, thought, failed, update)
        if failed is None:
            if not thought.plan:
                return go(state, "succeeded", reason="the goal already holds; nothing to do", **update)
            return go(state, "act", **update)
        if failed.on_fail == "ask":
            key = next(b.key for b in thought.bindings if b.problem == "ambiguous")
            return go(
                state,
                "needs_clarification",
                status="needs_clarification",
                question=failed.reason,
                reason=failed.reason,
                asking=key,
                **update,
            )
        if failed.on_fail == "reperceive" and state.relooks < state.max_looks:
            return go(state, "perceive", reason=f"looking again: {failed.reason}", relooks=state.relooks + 1, **update)
        return go(state, "refused", reason=f"{failed.name}: {failed.reason}", **update)

    def _unverified(state: AgentState, thought: Thought, failed: CheckResult, update: dict[str, Any]) -> dict[str, Any]:
        """Ablation without verification: act on the first candidate and on any plan, whatever failed."""
        if failed.on_fail == "ask" and state.asking is None:
            key = next(b.key for b in thought.bindings if b.problem == "ambiguous")
            answers = {**state.answers, key: [failed.candidates[0]]}
            why = f"not verified: taking {failed.candidates[0]} for {key}"
            return go(state, "reason", answers=answers, reason=why, **update)
        if thought.plan:
            return go(state, "act", reason=f"not verified: acting although {failed.name} failed", **update)
        return go(state, "refused", reason=f"{failed.name}: {failed.reason} (and there is no plan to act on)", **update)

    def needs_clarification(state: AgentState) -> dict[str, Any]:
        assert state.thought is not None and state.percept is not None and state.asking is not None
        binding = state.thought.binding(state.asking)
        assert binding is not None
        answer = interrupt({"question": state.question, "candidates": binding.candidates})
        candidates = [state.percept.by_id(c) for c in binding.candidates]
        chosen = resolve_answer(str(answer), candidates)
        if chosen is None:
            question = (
                f"I could not tell which one you mean by '{answer}'. {binding.reason}: "
                + ", ".join(binding.candidates)
                + "?"
            )
            return go(state, "needs_clarification", question=question, reason=question)
        answers = {**state.answers, state.asking: [chosen.id]}
        return go(
            state,
            "reason",
            status="running",
            answers=answers,
            asking=None,
            question=None,
            reason=f"you meant {chosen.id}",
        )

    def act(state: AgentState) -> dict[str, Any]:
        assert state.thought is not None and state.percept is not None
        step = state.thought.plan[state.plan_index]
        expected = dict(state.expected)
        obj = state.percept.by_id(step.object)
        if step.skill == "pick":
            grasp = grasp_of(obj, obj.yaw)
            result = rt.robot.pick(grasp.position, grasp.extent, grasp.yaw)
        elif step.skill == "place":
            point = release_point_for(step, obj, state.percept.objects)
            expected[step.object] = (point[0], point[1])
            result = rt.robot.place(point)
        else:
            result = rt.robot.handover()
        record = ActionRecord(
            step=step.text,
            skill=result.skill,
            ok=result.ok,
            reason=result.reason,
            message=result.message,
            # wall-clock timings stay out of the state so that the trace is deterministic
            detail={k: v for k, v in result.detail.items() if k != "wall_time_s"},
        )
        actions = [*state.actions, record]
        if result.ok:
            return go(state, "observe", actions=actions, expected=expected, relooks=0)
        rt.robot.home()
        return _retry(
            state, f"{step.text} failed: {result.reason}: {result.message}", actions=actions, expected=expected
        )

    def observe(state: AgentState) -> dict[str, Any]:
        assert state.thought is not None and state.percept is not None
        step = state.thought.plan[state.plan_index]
        update: dict[str, Any] = {}
        if step.skill in ("pick", "handover"):
            check = CheckResult(
                name="effect_observed",
                claim=f"{step.effects[0] if step.effects else 'holding'} after {step.text}",
                passed=rt.robot.holding,
                reason="the gripper is empty",
                on_fail="reperceive",
            )
            update["held"] = step.object if rt.robot.holding else None
        else:
            percept, relations, screen = rt.look(state.percept, state.expected)
            update.update(screen=screen.checks, doubtful=screen.doubtful)
            effect = _effect(step)
            check = (
                rt.verifier.effect_observed(effect, percept)
                if effect is not None
                else CheckResult(
                    name="effect_observed",
                    claim=f"{step.object} set down on the table",
                    passed=step.object in percept.ids,
                    reason=f"after the action I cannot find {step.object}",
                    on_fail="reperceive",
                )
            )
            update.update(
                percept=percept,
                relations=relations,
                held=None,
                expected={},
                frame_files=rt.frame_files,
                looks=state.looks + 1,
            )
        checks = [*state.checks, check]
        if not check.passed and _doubt(state, update):
            why = f"looking again: {check.name}: {check.reason}"
            return go(state, "perceive", reason=why, checks=checks, relooks=state.relooks + 1, **update)
        if not check.passed:
            rt.robot.home()
            return _retry(state, f"{check.name}: {check.reason}", checks=checks, **update)
        if state.plan_index + 1 < len(state.thought.plan):
            return go(state, "act", plan_index=state.plan_index + 1, checks=checks, **update)
        final = _goal_observed(state.thought, update.get("percept", state.percept), rt.robot.holding)
        checks.append(final)
        if not final.passed and _doubt(state, update):
            return go(
                state,
                "perceive",
                reason=f"looking again: {final.name}: {final.reason}",
                checks=checks,
                plan_index=state.plan_index + 1,
                relooks=state.relooks + 1,
                **update,
            )
        if not final.passed:
            return _retry(
                state, f"{final.name}: {final.reason}", checks=checks, plan_index=state.plan_index + 1, **update
            )
        return go(
            state,
            "succeeded",
            plan_index=state.plan_index + 1,
            checks=checks,
            reason=f"observed {final.claim}",
            **update,
        )

    def _doubt(state: AgentState, update: dict[str, Any]) -> bool:
        """After a failed observation: was the look itself doubtful, and may the agent look again?"""
        return rt.verify and bool(update.get("doubtful")) and state.relooks < state.max_looks

    def _retry(state: AgentState, why: str, **update: Any) -> dict[str, Any]:
        if state.retries < state.max_retries:
            return go(state, "perceive", retries=state.retries + 1, reason=f"re-planning after: {why}", **update)
        return go(state, "failed", reason=f"gave up after {state.retries} retries: {why}", **update)

    def terminal(status: str) -> Callable[[AgentState], dict[str, Any]]:
        def node(state: AgentState) -> dict[str, Any]:
            return {"status": status, "steps": state.steps + 1, "route": ""}

        node.__name__ = status
        return node

    graph = StateGraph(AgentState)
    for name, fn in (
        ("perceive", perceive),
        ("reason", reason),
        ("verify", verify),
        ("act", act),
        ("observe", observe),
        ("needs_clarification", needs_clarification),
    ):
        graph.add_node(name, fn)
    for status in ENDS:
        graph.add_node(status, terminal(status))
        graph.add_edge(status, END)
    graph.add_edge(START, "perceive")
    targets = {name: name for name in (*NODES, *ENDS)}
    for name in NODES:
        graph.add_conditional_edges(name, lambda s: s.route, targets)
    return graph


def _goal_observed(thought: Thought, percept: Percept, holding: bool) -> CheckResult:
    """After the last step: does every goal atom hold in what the camera (and the gripper) now report?"""
    missing = []
    for a in thought.goal_atoms:
        if a.predicate == "handed_over":
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
