"""The LangGraph ``StateGraph`` of one decision loop.

::

    perceive -> reason -> verify -+-> act -> observe -+-> act (next plan step)
       ^                          |                   +-> succeeded
       |                          +-> refused / needs_clarification / succeeded (goal already holds)
       +-- re-look: evidence too weak, an action failed, or its effect was not observed (bounded)
                                                      +-> failed (retries or step budget exhausted)

Nodes close over a :class:`Runtime` that holds what cannot be checkpointed (cameras, robot, models);
the state itself is a pydantic model stored by the SQLite checkpointer after every step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langgraph.graph import END, START, StateGraph

from agent.robot import RobotInterface
from agent.state import TERMINAL, ActionRecord, AgentState
from knowledge import KnowledgeBase
from perception.frame import CameraSource, Frame
from perception.objects import Percept, SceneObject
from perception.perceivers.base import Perceiver
from perception.scene_graph import build_scene_graph, relation_triples
from reasoning.reasoner import RulesReasoner, matches
from reasoning.thought import CheckResult, Thought, ThoughtStep
from reasoning.verifier import Verifier, decide

log = logging.getLogger(__name__)

NODES = ("perceive", "reason", "verify", "act", "observe")


@dataclass
class Runtime:
    """Live components the graph's nodes use; not part of the checkpointed state."""

    cameras: Sequence[CameraSource]
    perceiver: Perceiver
    reasoner: RulesReasoner
    verifier: Verifier
    kb: KnowledgeBase
    robot: RobotInterface
    frames: list[Frame] = field(default_factory=list)

    def look(self) -> tuple[Percept, list[tuple[str, str, str]]]:
        """Capture every camera, perceive, build the scene graph and put it into the knowledge base."""
        self.frames = [camera.read() for camera in self.cameras]
        percept = self.perceiver.perceive(self.frames)
        relations = relation_triples(build_scene_graph(percept.objects))
        self.kb.set_scene(percept.objects, relations)
        return percept, relations


def _go(state: AgentState, route: str, **update: Any) -> dict[str, Any]:
    """An update that moves to ``route``, or to ``failed`` when the step budget is spent."""
    steps = state.steps + 1
    if route not in TERMINAL and steps >= state.max_steps:
        route, update["reason"] = "failed", f"step budget of {state.max_steps} graph steps exhausted"
    return {**update, "steps": steps, "route": route}


def _nearest(objs: list[SceneObject], point: Sequence[float]) -> SceneObject | None:
    if not objs:
        return None
    return min(objs, key=lambda o: float(np.hypot(o.position[0] - point[0], o.position[1] - point[1])))


def build_graph(rt: Runtime) -> StateGraph:
    """The uncompiled graph; compile it with a checkpointer."""

    def perceive(state: AgentState) -> dict[str, Any]:
        percept, relations = rt.look()
        return _go(state, "reason", percept=percept, relations=relations, looks=state.looks + 1)

    def reason(state: AgentState) -> dict[str, Any]:
        assert state.percept is not None
        thought = rt.reasoner.think(state.instruction, state.percept, state.relations)
        return _go(state, "verify", thought=thought, plan_index=0, question=None)

    def verify(state: AgentState) -> dict[str, Any]:
        assert state.thought is not None and state.percept is not None
        checks = rt.verifier.check(state.thought, state.percept, rt.frames)
        failed = decide(checks)
        verdict = "all checks passed" if failed is None else f"check {failed.name} failed: {failed.reason}"
        thought = _with_step(state.thought, ThoughtStep(kind="verify", text=verdict.capitalize() + ".", checks=checks))
        update: dict[str, Any] = {"thought": thought, "checks": checks}
        if failed is None:
            if not thought.plan:
                return _go(state, "succeeded", reason="the goal already holds; nothing to do", **update)
            return _go(state, "act", **update)
        if failed.on_fail == "ask":
            return _go(state, "needs_clarification", question=failed.reason, reason=failed.reason, **update)
        if failed.on_fail == "reperceive" and state.looks < state.max_looks:
            return _go(state, "perceive", reason=f"looking again: {failed.reason}", **update)
        return _go(state, "refused", reason=f"{failed.name}: {failed.reason}", **update)

    def act(state: AgentState) -> dict[str, Any]:
        assert state.thought is not None
        step = state.thought.plan[state.plan_index]
        if step.skill == "pick":
            result = rt.robot.pick(step.grasp_position, step.grasp_extent, step.grasp_yaw)  # type: ignore[arg-type]
        else:
            result = rt.robot.place(step.release_point)  # type: ignore[arg-type]
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
            return _go(state, "observe", actions=actions)
        rt.robot.home()
        return _retry(state, f"{step.text} failed: {result.reason}: {result.message}", actions=actions)

    def observe(state: AgentState) -> dict[str, Any]:
        assert state.thought is not None and state.thought.goal is not None
        step = state.thought.plan[state.plan_index]
        if step.skill == "pick":
            holding = rt.robot.holding
            check = CheckResult(
                name="effect_observed",
                claim=f"holding({step.object}) after {step.text}",
                passed=holding,
                reason="the gripper is empty",
                on_fail="reperceive",
            )
            update: dict[str, Any] = {}
        else:
            percept, relations = rt.look()
            goal = state.thought.goal
            obj = _nearest([o for o in percept.objects if matches(o, goal.object)], step.release_point or (0, 0))
            tgt = _nearest([o for o in percept.objects if matches(o, goal.target)], step.release_point or (0, 0))
            check = rt.verifier.effect_observed(step, percept, obj and obj.id, tgt and tgt.id)
            update = {"percept": percept, "relations": relations}
        checks = [*state.checks, check]
        if not check.passed:
            rt.robot.home()
            return _retry(state, f"{check.name}: {check.reason}", checks=checks, **update)
        if state.plan_index + 1 < len(state.thought.plan):
            return _go(state, "act", plan_index=state.plan_index + 1, checks=checks, **update)
        return _go(
            state,
            "succeeded",
            plan_index=state.plan_index + 1,
            checks=checks,
            reason=f"observed {step.effects[0]}",
            **update,
        )

    def _retry(state: AgentState, why: str, **update: Any) -> dict[str, Any]:
        if state.retries < state.max_retries:
            return _go(state, "perceive", retries=state.retries + 1, reason=f"re-planning after: {why}", **update)
        return _go(state, "failed", reason=f"gave up after {state.retries} retries: {why}", **update)

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
    ):
        graph.add_node(name, fn)
    for status in TERMINAL:
        graph.add_node(status, terminal(status))
        graph.add_edge(status, END)
    graph.add_edge(START, "perceive")
    targets = {name: name for name in (*NODES, *TERMINAL)}
    for name in NODES:
        graph.add_conditional_edges(name, lambda s: s.route, targets)
    return graph


def _with_step(thought: Thought, step: ThoughtStep) -> Thought:
    return thought.model_copy(update={"steps": [*thought.steps, step]})
