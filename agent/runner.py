"""Run one episode: build the scene, run the graph with a SQLite checkpointer, judge on simulator truth."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command
from pydantic import BaseModel

from agent.goals import goal_holds, moved_objects
from agent.graph import Reasoner, Runtime, build_graph
from agent.scenario import Scenario
from agent.sim_bridge import SimTruthSource, build_world
from agent.state import AgentState
from knowledge import KnowledgeBase
from perception.evidence import colour_contradiction
from perception.perceivers import make_perceiver
from reasoning.reasoner import RulesReasoner
from reasoning.verifier import Verifier
from sim.skills import Skills
from sim.truth import ObjectTruth
from sim.video import VideoRecorder
from sim.world import World

log = logging.getLogger(__name__)

REASONERS = ("rules", "llm")


def make_reasoner(name: str, kb: KnowledgeBase, verifier: Verifier, **options: Any) -> Reasoner:
    """A reasoner by name: ``rules`` (grammar + knowledge graph + planner) or ``llm`` (a chat model whose
    claims the same verifier checks; options go to :func:`reasoning.llm.make_llm_reasoner`)."""
    if name == "rules":
        return RulesReasoner(kb)
    if name == "llm":
        from reasoning.llm import make_llm_reasoner

        return make_llm_reasoner(kb, verifier, **options)
    raise ValueError(f"unknown reasoner {name!r} (known: {', '.join(REASONERS)})")


class Summary(BaseModel):
    """``summary.json``: the outcome of one episode."""

    scenario: str
    seed: int
    status: str
    expected: str
    passed: bool
    steps: int
    wall_time_s: float
    reason: str
    question: str | None = None
    perception: str
    reasoner: str
    goal_satisfied: bool | None = None
    moved: list[str] = []
    actions: int = 0


def _digital_twin(seed: int) -> Any:
    from agent.twin import DigitalTwin  # builds a second PyBullet world; loaded only when asked for

    return DigitalTwin(seed=seed)


def _checkpoint_types() -> list[tuple[str, str]]:
    """(module, class) of every pydantic type inside the agent state, for the checkpoint serializer."""
    from agent.state import ActionRecord
    from perception.objects import Evidence, Percept, SceneObject
    from reasoning import logical_form as lf
    from reasoning.planner import PlanStep
    from reasoning.predicates import Atom
    from reasoning.thought import Binding, CheckResult, EvidenceRef, Thought, ThoughtStep

    types = (AgentState, ActionRecord, Percept, SceneObject, Evidence, Thought, ThoughtStep, CheckResult)
    types += (EvidenceRef, Binding, PlanStep, Atom, lf.Program, lf.Put, lf.HandOver, lf.Stack, lf.Sort)
    types += (lf.NounPhrase, lf.Superlative, lf.RelationFilter)
    return [(t.__module__, t.__name__) for t in types]


def open_checkpointer(path: Path) -> SqliteSaver:
    """A SQLite checkpointer whose serializer accepts exactly groundsight's state types."""
    conn = sqlite3.connect(str(path), check_same_thread=False)
    return SqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=_checkpoint_types()))


def judge(scenario: Scenario, state: AgentState, goal_ok: bool | None, moved: list[str]) -> bool:
    """Did the episode pass? Success needs the goal on simulator truth; refuse/ask need nothing moved."""
    if scenario.expect == "success":
        return state.status == "succeeded" and bool(goal_ok)
    if scenario.expect == "refuse":
        return state.status == "refused" and bool(state.reason) and not moved
    candidates = next((c.candidates for c in state.checks if c.name == "referent_unique" and not c.passed), ())
    named = bool(state.question) and len(candidates) >= 2 and all(c in state.question for c in candidates)
    return state.status == "needs_clarification" and named and not moved


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def run_episode(
    scenario: Scenario,
    seed: int = 0,
    perception: str = "classical",
    reasoner: str = "rules",
    out_dir: str | Path | None = None,
    gui: bool = False,
    video: bool = False,
    perception_options: dict[str, Any] | None = None,
    on_step: Callable[[int, str, dict[str, Any]], None] | None = None,
    answers: Sequence[str] = (),
    kg_files: Sequence[str | Path] = (),
    twin: bool = False,
    reasoner_options: dict[str, Any] | None = None,
) -> Summary:
    """Run ``scenario`` once and write ``summary.json``, ``trace.jsonl`` and ``checkpoint.sqlite`` (and
    ``episode.mp4`` from the front camera with ``video=True``) into ``out_dir``.

    ``answers`` are given, in order, to the agent's clarification questions (the run pauses with status
    ``needs_clarification`` when it asks and no answer is left). ``kg_files`` are Turtle files merged into
    the knowledge graph; ``twin`` rolls every plan out on a copy of the world before the robot moves.
    """
    if reasoner not in REASONERS:
        raise ValueError(f"unknown reasoner {reasoner!r} (known: {', '.join(REASONERS)})")
    started = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name in ("trace.jsonl", "summary.json", "checkpoint.sqlite", "error.txt", "episode.mp4"):
            (out / name).unlink(missing_ok=True)
    trace_file = open(out / "trace.jsonl", "w", encoding="utf-8") if out is not None else None  # noqa: SIM115
    state = AgentState(instruction=scenario.instruction, max_steps=scenario.max_steps)
    world: World | None = None
    recorder: VideoRecorder | None = None
    initial: dict[str, ObjectTruth] = {}
    steps_seen = 0
    try:
        world = build_world(scenario, np.random.default_rng(seed), gui=gui)
        if video and out is not None:
            recorder = VideoRecorder(world, out / "episode.mp4")
        initial = world.truth_by_id()
        kb = KnowledgeBase(kg_files)
        verifier = Verifier(kb, colour_probe=colour_contradiction)
        runtime = Runtime(
            cameras=world.cameras,
            perceiver=make_perceiver(perception, truth=SimTruthSource(world), seed=seed, **(perception_options or {})),
            reasoner=make_reasoner(reasoner, kb, verifier, **(reasoner_options or {})),
            verifier=verifier,
            kb=kb,
            robot=Skills(world),
            twin=_digital_twin(seed) if twin else None,
        )
        checkpointer = open_checkpointer(out / "checkpoint.sqlite") if out is not None else InMemorySaver()
        app = build_graph(runtime).compile(checkpointer=checkpointer)
        config = {
            "configurable": {"thread_id": f"{scenario.name}-{seed}"},
            "recursion_limit": 10 * scenario.max_steps,
        }
        pending = list(answers)
        graph_input: Any = state
        while True:
            asked = False
            for chunk in app.stream(graph_input, config, stream_mode="updates"):
                for node, update in chunk.items():
                    if node == "__interrupt__":
                        asked = True
                        update = {"question": [i.value for i in update]}
                    record = {"step": steps_seen, "node": node, **_jsonable(update or {})}
                    if trace_file is not None:
                        trace_file.write(json.dumps(record, sort_keys=True) + "\n")
                        trace_file.flush()
                    if on_step is not None:
                        on_step(steps_seen, node, update or {})
                    steps_seen += 1
            if not (asked and pending):
                break
            graph_input = Command(resume=pending.pop(0))
        state = AgentState.model_validate(app.get_state(config).values)
    except Exception as exc:  # an internal failure is a recorded result, never a lost one
        log.debug("episode crashed", exc_info=True)
        if out is not None:
            (out / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        reason = f"internal error: {type(exc).__name__}: {exc}"
        state = state.model_copy(update={"status": "failed", "reason": reason, "steps": steps_seen})
    finally:
        if trace_file is not None:
            trace_file.close()
    truth = world.truth_by_id() if world is not None else {}
    if recorder is not None:
        recorder.close()
    if world is not None:
        world.close()
    goal_ok = goal_holds(scenario.goal, truth, initial) if scenario.goal and truth else None
    moved = moved_objects(truth, initial)
    summary = Summary(
        scenario=scenario.name,
        seed=seed,
        status=state.status,
        expected=scenario.expect,
        passed=judge(scenario, state, goal_ok, moved),
        steps=state.steps,
        wall_time_s=round(time.perf_counter() - started, 3),
        reason=state.reason,
        question=state.question,
        perception=perception,
        reasoner=reasoner,
        goal_satisfied=goal_ok,
        moved=moved,
        actions=len(state.actions),
    )
    if out is not None:
        (out / "summary.json").write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return summary
