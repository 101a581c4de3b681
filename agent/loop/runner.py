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

import cv2
import numpy as np
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command
from pydantic import BaseModel

from groundsight.agent.loop.graph import Reasoner, Runtime, build_graph
from groundsight.agent.loop.robot_interface import RecordingRobot, read_journal, replay
from groundsight.agent.loop.state import AgentState
from groundsight.agent.loop.tools import default_registry, llm_tools
from groundsight.agent.tasks.goals import goal_holds, moved_objects
from groundsight.agent.tasks.scenario import Scenario, load_scenario
from groundsight.agent.tasks.sim_bridge import SimTruthSource, build_world
from groundsight.knowledge import KnowledgeBase
from groundsight.perception.evidence import colour_contradiction
from groundsight.perception.frame import Frame
from groundsight.perception.perceivers import make_perceiver
from groundsight.perception.perceivers.audit import AuditedPerceiver
from groundsight.reasoning.reasoner import RulesReasoner
from groundsight.reasoning.verifier import Verifier
from groundsight.sim.skills import Skills
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.video import VideoRecorder
from groundsight.sim.world import World

log = logging.getLogger(__name__)

REASONERS = ("rules", "llm")


def make_reasoner(name: str, kb: KnowledgeBase, verifier: Verifier, **options: Any) -> Reasoner:
    """A reasoner by name: ``rules`` (grammar + knowledge graph + planner) or ``llm`` (a chat model whose
    claims the same verifier checks; options go to :func:`groundsight.reasoning.llm.make_llm_reasoner`)."""
    if name == "rules":
        return RulesReasoner(kb)
    if name == "llm":
        from groundsight.reasoning.llm import make_llm_reasoner

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
    looks: int = 0
    verify: bool = True
    injections: list[dict[str, Any]] = []


def _digital_twin(seed: int) -> Any:
    from groundsight.agent.loop.twin import DigitalTwin  # builds a second PyBullet world; loaded only when asked for

    return DigitalTwin(seed=seed)


def _checkpoint_types() -> list[tuple[str, str]]:
    """(module, class) of every pydantic type inside the agent state, for the checkpoint serializer."""
    from groundsight.agent.loop.state import ActionRecord
    from groundsight.perception.objects import Evidence, Percept, SceneObject
    from groundsight.reasoning import logical_form as lf
    from groundsight.reasoning.placement import PlanStep
    from groundsight.reasoning.predicates import Atom
    from groundsight.reasoning.thought import Binding, CheckResult, EvidenceRef, Thought, ThoughtStep

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


class RunConfig(BaseModel):
    """``run.json``: everything needed to build the same episode again (``groundsight run --resume DIR``)."""

    scenario_file: str | None = None
    seed: int = 0
    perception: str = "classical"
    reasoner: str = "rules"
    perception_options: dict[str, Any] = {}
    reasoner_options: dict[str, Any] = {}
    kg_files: list[str] = []
    twin: bool = False
    verify: bool = True
    video: bool = False
    tool_specs: list[str] = []


_STOP = object()
"""Marks the end of driving the graph (``None`` already means "continue from the checkpoint")."""

FRAME_SIZE = (320, 240)
"""Width and height of the JPEG frames stored per look in ``OUT/frames`` (for reports)."""


class _FrameStore:
    """Writes each look's frames as small JPEGs and names them relative to the run directory."""

    def __init__(self, out: Path) -> None:
        self.dir = out / "frames"
        self.dir.mkdir(exist_ok=True)
        self.looks = len({p.name.split("_")[1] for p in self.dir.glob("look_*.jpg")})

    def __call__(self, frames: list[Frame]) -> list[str]:
        self.looks += 1
        names = []
        for frame in frames:
            name = f"frames/look_{self.looks:03d}_{frame.camera}.jpg"
            small = cv2.resize(np.asarray(frame.rgb)[:, :, :3], FRAME_SIZE, interpolation=cv2.INTER_AREA)
            cv2.imwrite(
                str(self.dir.parent / name), cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80]
            )
            names.append(name)
        return names


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
    verify: bool = True,
    ask: Callable[[str], str | None] | None = None,
    resume: bool = False,
    tool_specs: Sequence[str] = (),
    audit: bool = False,
) -> Summary:
    """Run ``scenario`` once and write ``summary.json``, ``trace.jsonl``, ``checkpoint.sqlite``, ``run.json``,
    ``robot.jsonl`` (the robot's completed calls) and ``frames/`` (and ``episode.mp4`` from the front camera
    with ``video=True``) into ``out_dir``.

    ``answers`` are given, in order, to the agent's clarification questions; when none is left, ``ask`` (e.g.
    a terminal prompt) is asked, and without it the run pauses with status ``needs_clarification``.
    ``kg_files`` are Turtle files merged into the knowledge graph; ``twin`` rolls every plan out on a copy of
    the world before the robot moves; ``verify=False`` acts whatever the checks say (for ablations);
    ``audit=True`` records the perceiver's own mistakes against simulator truth in ``Summary.injections``
    (:mod:`groundsight.perception.perceivers.audit`), as a ``noisy:`` perceiver records what it injected.
    ``resume=True`` continues the run in ``out_dir`` from its checkpoint: the simulated world is rebuilt from
    the seed and the robot journal is replayed on it, so no completed action is done again by the agent.
    """
    if reasoner not in REASONERS:
        raise ValueError(f"unknown reasoner {reasoner!r} (known: {', '.join(REASONERS)})")
    started = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else None
    if resume and out is None:
        raise ValueError("resume needs the run directory")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if not resume:
            for name in ("trace.jsonl", "summary.json", "checkpoint.sqlite", "error.txt", "episode.mp4", "robot.jsonl"):
                (out / name).unlink(missing_ok=True)
            for old in (out / "frames").glob("look_*.jpg"):
                old.unlink()
            config = RunConfig(
                scenario_file=str(scenario.source) if scenario.source else None,
                seed=seed,
                perception=perception,
                reasoner=reasoner,
                perception_options=_plain(perception_options or {}),
                reasoner_options=_plain(reasoner_options or {}),
                kg_files=[str(f) for f in kg_files],
                twin=twin,
                verify=verify,
                video=video,
                tool_specs=list(tool_specs),
            )
            (out / "run.json").write_text(config.model_dump_json(indent=2) + "\n", encoding="utf-8")
    trace_file = open(out / "trace.jsonl", "a", encoding="utf-8") if out is not None else None  # noqa: SIM115
    steps_seen = _count_lines(out / "trace.jsonl") if out is not None and resume else 0
    state = AgentState(instruction=scenario.instruction, max_steps=scenario.max_steps)
    world: World | None = None
    recorder: VideoRecorder | None = None
    perceiver: Any = None
    initial: dict[str, ObjectTruth] = {}
    try:
        world = build_world(scenario, np.random.default_rng(seed), gui=gui)
        if video and out is not None:
            recorder = VideoRecorder(world, out / "episode.mp4")
        initial = world.truth_by_id()
        skills = Skills(world)
        robot = RecordingRobot(skills, str(out / "robot.jsonl") if out is not None else None)
        kb = KnowledgeBase(kg_files)
        verifier = Verifier(kb, colour_probe=colour_contradiction)
        truth_source = SimTruthSource(world)
        perceiver = make_perceiver(perception, truth=truth_source, seed=seed, **(perception_options or {}))
        if audit:
            perceiver = AuditedPerceiver(perceiver, truth_source)
        options = dict(reasoner_options or {})
        if reasoner == "llm":  # the chat model may call the registry's tools on the scene it reasons about
            options["tools"] = llm_tools(default_registry(tool_specs), kb, frames=lambda: runtime.frames)
        runtime = Runtime(
            cameras=world.cameras,
            perceiver=perceiver,
            reasoner=make_reasoner(reasoner, kb, verifier, **options),
            verifier=verifier,
            kb=kb,
            robot=robot,
            twin=_digital_twin(seed) if twin else None,
            verify=verify,
            frame_sink=_FrameStore(out) if out is not None else None,
        )
        checkpointer = open_checkpointer(out / "checkpoint.sqlite") if out is not None else InMemorySaver()
        app = build_graph(runtime).compile(checkpointer=checkpointer)
        config = {
            "configurable": {"thread_id": f"{scenario.name}-{seed}"},
            "recursion_limit": 10 * scenario.max_steps,
        }
        pending = list(answers)
        graph_input: Any = state  # None continues from the checkpoint, as LangGraph does
        if resume:
            snapshot = app.get_state(config)
            journal = out / "robot.jsonl"  # type: ignore[operator]
            calls = read_journal(str(journal)) if journal.exists() else []
            replay(skills, calls)
            robot.count = _robot_calls_done(checkpointer, config)
            robot.pending = calls[robot.count :]
            graph_input = None
            if snapshot.interrupts:  # it stopped at a question: it needs an answer to go on
                answer = pending.pop(0) if pending else (ask(_question(snapshot)) if ask else None)
                graph_input = Command(resume=answer) if answer is not None else _STOP
            elif not snapshot.next and not snapshot.tasks:  # it had finished
                # (a step that finished just before the kill is a task with its writes saved and is not in
                # ``next``; streaming None applies those writes and goes on)
                graph_input = _STOP
        while graph_input is not _STOP:
            asked: str | None = None
            # durability="sync": each step's checkpoint is on disk before the next step starts
            for chunk in app.stream(graph_input, config, stream_mode="updates", durability="sync"):
                # a step whose writes were saved before a kill comes back with {"__metadata__": {"cached": True}}
                cached = bool((chunk.pop("__metadata__", None) or {}).get("cached"))
                for node, update in chunk.items():
                    if node == "__interrupt__":
                        asked = str(update[0].value.get("question", "")) if update else ""
                        update = {"question": [i.value for i in update]}
                    record = {"step": steps_seen, "node": node, **_jsonable(update or {})}
                    if cached:
                        record["replayed"] = True
                    if trace_file is not None:
                        trace_file.write(json.dumps(record, sort_keys=True) + "\n")
                        trace_file.flush()
                    if on_step is not None:
                        on_step(steps_seen, node, update or {})
                    steps_seen += 1
            answer = None
            if asked is not None:
                answer = pending.pop(0) if pending else (ask(asked) if ask is not None else None)
            graph_input = Command(resume=answer) if answer is not None else _STOP
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
        looks=state.looks,
        verify=verify,
        injections=[i.model_dump(mode="json") for i in getattr(perceiver, "injections", [])],
    )
    if out is not None:
        (out / "summary.json").write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return summary


def resume_run(
    run_dir: str | Path,
    answers: Sequence[str] = (),
    ask: Callable[[str], str | None] | None = None,
    on_step: Callable[[int, str, dict[str, Any]], None] | None = None,
) -> Summary:
    """Continue the run in ``run_dir`` (written by :func:`run_episode`) from its checkpoint."""
    out = Path(run_dir)
    config = RunConfig.model_validate_json((out / "run.json").read_text(encoding="utf-8"))
    if config.scenario_file is None:
        raise ValueError(f"{out / 'run.json'}: scenario_file: the run was not started from a scenario file")
    return run_episode(
        load_scenario(config.scenario_file),
        config.seed,
        config.perception,
        config.reasoner,
        out,
        video=False,
        perception_options=config.perception_options,
        on_step=on_step,
        answers=answers,
        kg_files=config.kg_files,
        twin=config.twin,
        reasoner_options=config.reasoner_options,
        verify=config.verify,
        ask=ask,
        resume=True,
        tool_specs=config.tool_specs,
    )


def _robot_calls_done(checkpointer: Any, config: dict[str, Any]) -> int:
    """Robot calls the checkpoint knows of, counting the writes of a step that finished just before the kill
    (LangGraph keeps those as pending writes and applies them on resume instead of running the step again)."""
    saved = checkpointer.get_tuple(config)
    if saved is None:
        return 0
    done = int(saved.checkpoint["channel_values"].get("robot_calls", 0))
    return max([done, *(int(v) for _, channel, v in saved.pending_writes or () if channel == "robot_calls")])


def _question(snapshot: Any) -> str:
    value = snapshot.interrupts[0].value
    return str(value.get("question", "")) if isinstance(value, dict) else str(value)


def _plain(options: dict[str, Any]) -> dict[str, Any]:
    """The JSON-storable options (a chat model object passed in Python cannot be stored for a resume)."""
    return {k: v for k, v in options.items() if isinstance(v, str | int | float | bool | type(None) | list)}


def _count_lines(path: Path) -> int:
    return sum(1 for _ in open(path, encoding="utf-8")) if path.exists() else 0
