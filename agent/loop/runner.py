"""Run one episode: build the scene, run the graph with a SQLite checkpointer, judge on simulator truth."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import traceback
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from groundsight.agent.loop.graph import Reasoner, Runtime, build_graph
from groundsight.agent.loop.reasoners import REASONERS
from groundsight.agent.loop.robot_interface import RecordingRobot, read_journal, replay
from groundsight.agent.loop.run_dir import RunDirError, locked_run_dir, trim_torn_tail
from groundsight.agent.loop.state import AgentState
from groundsight.agent.loop.summary import Summary
from groundsight.agent.loop.timing import TIMING_FILE, Timer
from groundsight.agent.loop.tools import default_registry, llm_tools
from groundsight.agent.tasks.goals import goal_holds, moved_objects
from groundsight.agent.tasks.scenario import Scenario, load_scenario
from groundsight.agent.tasks.sim_bridge import SimTruthSource, build_world
from groundsight.inputs import InputFileError, read_text
from groundsight.knowledge import KnowledgeBase
from groundsight.perception.evidence import colour_contradiction
from groundsight.perception.frame import Frame
from groundsight.perception.perceivers import make_perceiver
from groundsight.perception.perceivers.audit import AuditedPerceiver
from groundsight.perception.validation import error_line
from groundsight.reasoning.reasoner import RulesReasoner
from groundsight.reasoning.verifier import Verifier
from groundsight.sim.skills import Skills
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.video import VideoRecorder
from groundsight.sim.world import World

log = logging.getLogger(__name__)


def make_reasoner(name: str, kb: KnowledgeBase, verifier: Verifier, **options: Any) -> Reasoner:
    """A reasoner by name: ``rules`` (grammar + knowledge graph + planner) or ``llm`` (a chat model whose
    claims the same verifier checks; options go to :func:`groundsight.reasoning.llm.make_llm_reasoner`)."""
    if name == "rules":
        return RulesReasoner(kb)
    if name == "llm":
        from groundsight.reasoning.llm import make_llm_reasoner

        return make_llm_reasoner(kb, verifier, **options)
    raise ValueError(f"unknown reasoner {name!r} (known: {', '.join(REASONERS)})")


def _digital_twin(seed: int) -> Any:
    from groundsight.agent.loop.twin import DigitalTwin  # builds a second PyBullet world; loaded only when asked for

    return DigitalTwin(seed=seed)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic model classes named anywhere inside a type annotation (unions, lists, Annotated...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _all_subclasses(model: type[BaseModel]) -> list[type[BaseModel]]:
    return [model] + [sub for child in model.__subclasses__() for sub in _all_subclasses(child)]


def _checkpoint_types() -> list[tuple[str, str]]:
    """(module, class) of every pydantic type the agent state can hold, for the checkpoint serializer.

    Walks the state's field annotations and every subclass of each model found (a perceiver's own ``Percept``
    subclass, a new command of the logical form), so a type added later cannot be silently blocked.
    """
    import groundsight.perception.perceivers.classical  # noqa: F401  (defines ClassicalPercept)

    seen: dict[type[BaseModel], None] = {}
    todo: list[type[BaseModel]] = [AgentState]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen[model] = None
        todo.extend(sub for sub in _all_subclasses(model) if sub not in seen)
        for field in model.model_fields.values():
            todo.extend(_models_in(field.annotation))
    return [(t.__module__, t.__name__) for t in seen]


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
    # asked which one of at least two candidates (the question names them as a person would, not by id)
    candidates = next((c.candidates for c in state.checks if c.name == "referent_unique" and not c.passed), ())
    return state.status == "needs_clarification" and bool(state.question) and len(candidates) >= 2 and not moved


def jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


class RunConfig(BaseModel):
    """How to run one episode, and ``run.json``: everything needed to build the same episode again
    (``groundsight run --resume DIR``).

    ``kg_files`` are Turtle files merged into the knowledge graph; ``twin`` rolls every plan out on a copy of the
    world before the robot moves; ``verify=False`` acts whatever the checks say (for ablations); ``audit=True``
    records the perceiver's own mistakes against simulator truth in ``Summary.injections``
    (:mod:`groundsight.perception.perceivers.audit`), as a ``noisy:`` perceiver records what it injected;
    ``video`` writes ``episode.mp4`` from the front camera; ``gui`` opens the PyBullet window.
    """

    model_config = ConfigDict(extra="forbid")

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
    audit: bool = False
    gui: bool = False

    @field_validator("perception_options", "reasoner_options", mode="before")
    @classmethod
    def _no_options(cls, options: Any) -> Any:
        return {} if options is None else options

    @field_validator("kg_files", mode="before")
    @classmethod
    def _paths_as_text(cls, files: Any) -> Any:
        return [str(f) for f in files] if isinstance(files, list | tuple) else files


_STOP = object()
"""Marks the end of driving the graph (``None`` already means "continue from the checkpoint")."""

FRAME_SIZE = (320, 240)
"""Width and height of the JPEG frames stored per look in ``OUT/frames`` (for reports)."""

RUN_FILES = (
    "trace.jsonl",
    "summary.json",
    "checkpoint.sqlite",
    "checkpoint.sqlite-wal",
    "checkpoint.sqlite-shm",
    "error.txt",
    "episode.mp4",
    "robot.jsonl",
    TIMING_FILE,
)
"""What a fresh run writes into its directory (an earlier run's copies are removed first)."""


class FrameStore:
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


class Dialogue:
    """The person's side of an episode: the clarification answers given in advance, then ``ask``."""

    def __init__(self, answers: Sequence[str], ask: Callable[[str], str | None] | None) -> None:
        self.pending = list(answers)
        self.ask = ask

    def answer(self, question: str) -> str | None:
        """The next given answer; when none is left, ``ask``'s; without ``ask``, None (the run pauses)."""
        if self.pending:
            return self.pending.pop(0)
        return self.ask(question) if self.ask is not None else None


class TraceWriter:
    """Appends each graph step to ``trace.jsonl`` (when there is a run directory) and tells ``on_step``; with a
    ``timer``, appends what the step spent to ``timing.jsonl`` (wall-clock times stay out of the trace)."""

    def __init__(
        self,
        out: Path | None,
        resume: bool,
        on_step: Callable[[int, str, dict[str, Any]], None] | None,
        timer: Timer | None = None,
    ):
        self.file = open(out / "trace.jsonl", "a", encoding="utf-8") if out is not None else None  # noqa: SIM115
        self.steps = _count_lines(out / "trace.jsonl") if out is not None and resume else 0
        self.on_step = on_step
        self.timer = timer
        self.timing = open(out / TIMING_FILE, "a", encoding="utf-8") if out is not None and timer else None  # noqa: SIM115

    def write(self, node: str, update: dict[str, Any], cached: bool) -> None:
        """Record one node's update (``replayed`` when LangGraph applied writes saved before a kill)."""
        record = {"step": self.steps, "node": node, **jsonable(update)}
        if cached:
            record["replayed"] = True
        if self.file is not None:
            self.file.write(json.dumps(record, sort_keys=True) + "\n")
            self.file.flush()
        if self.timer is not None:
            timing = self.timer.take(self.steps, node)
            if self.timing is not None:
                self.timing.write(timing.model_dump_json() + "\n")
                self.timing.flush()
        if self.on_step is not None:
            self.on_step(self.steps, node, update)
        self.steps += 1

    def close(self) -> None:
        for file in (self.file, self.timing):
            if file is not None:
                file.close()


@dataclass
class _Episode:
    """The live pieces of one episode that the graph run and the resume need."""

    app: Any
    checkpointer: Any
    skills: Skills
    robot: RecordingRobot
    perceiver: Any
    graph_config: dict[str, Any]


def prepare_run_dir(out: Path, scenario: Scenario, config: RunConfig) -> None:
    """Make ``out``, remove what an earlier run left there, and write ``run.json`` (with the scenario's file and
    only the JSON-storable options, see :func:`_plain`)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
    for old in (out / "frames").glob("look_*.jpg"):
        old.unlink()
    stored = config.model_copy(
        update={
            "scenario_file": str(scenario.source) if scenario.source else None,
            "perception_options": _plain(config.perception_options),
            "reasoner_options": _plain(config.reasoner_options),
        }
    )
    (out / "run.json").write_text(stored.model_dump_json(indent=2, exclude={"gui"}) + "\n", encoding="utf-8")


def run_episode(
    scenario: Scenario,
    config: RunConfig | None = None,
    out_dir: str | Path | None = None,
    *,
    answers: Sequence[str] = (),
    ask: Callable[[str], str | None] | None = None,
    on_step: Callable[[int, str, dict[str, Any]], None] | None = None,
) -> Summary:
    """Run ``scenario`` once as ``config`` says and write ``summary.json``, ``trace.jsonl``, ``checkpoint.sqlite``,
    ``run.json``, ``robot.jsonl`` (the robot's completed calls) and ``frames/`` (and ``episode.mp4`` with
    ``config.video``) into ``out_dir``.

    ``answers`` are given, in order, to the agent's clarification questions; when none is left, ``ask`` (e.g.
    a terminal prompt) is asked, and without it the run pauses with status ``needs_clarification``.
    ``on_step(step, node, update)`` is called after every graph step. :func:`resume_run` continues a run.
    """
    config = config or RunConfig()
    if config.reasoner not in REASONERS:
        raise ValueError(f"unknown reasoner {config.reasoner!r} (known: {', '.join(REASONERS)})")
    if out_dir is None:
        return _run(scenario, config, None, Dialogue(answers, ask), on_step, resume=False)
    with locked_run_dir(Path(out_dir)) as out:
        _prepare_or_refuse(out, scenario, config)
        return _run(scenario, config, out, Dialogue(answers, ask), on_step, resume=False)


def _prepare_or_refuse(out: Path, scenario: Scenario, config: RunConfig) -> None:
    try:
        prepare_run_dir(out, scenario, config)
    except OSError as exc:
        raise RunDirError(f"{out}: cannot be used as a run directory: {exc.strerror or exc}") from None


def resume_run(
    run_dir: str | Path,
    answers: Sequence[str] = (),
    ask: Callable[[str], str | None] | None = None,
    on_step: Callable[[int, str, dict[str, Any]], None] | None = None,
) -> Summary:
    """Continue the run in ``run_dir`` (written by :func:`run_episode`) from its checkpoint: the simulated world
    is rebuilt from the seed and the robot journal is replayed on it, so no completed action is done again."""
    with locked_run_dir(Path(run_dir)) as out:
        config = _stored_config(out)
        scenario = load_scenario(config.scenario_file)  # type: ignore[arg-type]
        dialogue = Dialogue(answers, ask)
        if not _has_checkpoint(out, _thread_id(scenario, config)):
            # killed before its first checkpoint, or the checkpoint is damaged: start the episode afresh (the
            # simulated world is rebuilt from the seed, so nothing of the killed run's motion carries over)
            log.warning("%s: no usable checkpoint; the episode starts afresh", out)
            _prepare_or_refuse(out, scenario, config)
            return _run(scenario, config, out, dialogue, on_step, resume=False)
        for journal in ("trace.jsonl", "robot.jsonl"):
            trim_torn_tail(out / journal)
        return _run(scenario, config, out, dialogue, on_step, resume=True)


def _stored_config(out: Path) -> RunConfig:
    """The run's settings from ``run.json``; a one-line ValueError if it is missing or damaged."""
    path = out / "run.json"
    try:
        config = RunConfig.model_validate_json(read_text(path))
    except InputFileError as exc:
        raise ValueError(f"{exc} (not a run directory?)") from None
    except ValidationError as exc:
        raise ValueError(f"{path}: damaged: {error_line(exc)}") from None
    if config.scenario_file is None:
        raise ValueError(f"{path}: scenario_file: the run was not started from a scenario file")
    if config.reasoner not in REASONERS:
        raise ValueError(f"{path}: reasoner: unknown reasoner {config.reasoner!r}")
    return config.model_copy(update={"video": False, "gui": False})


def _has_checkpoint(out: Path, thread_id: str) -> bool:
    """True if ``checkpoint.sqlite`` holds a readable checkpoint of this episode."""
    path = out / "checkpoint.sqlite"
    if not path.is_file() or path.stat().st_size == 0:
        return False
    try:
        saver = open_checkpointer(path)
        try:
            return saver.get_tuple({"configurable": {"thread_id": thread_id}}) is not None
        finally:
            saver.conn.close()
    except (sqlite3.DatabaseError, ValueError, TypeError, KeyError) as exc:
        log.warning("%s: unreadable checkpoint (%s)", path, exc)
        return False


def _thread_id(scenario: Scenario, config: RunConfig) -> str:
    return f"{scenario.name}-{config.seed}"


def _run(
    scenario: Scenario,
    config: RunConfig,
    out: Path | None,
    dialogue: Dialogue,
    on_step: Callable[[int, str, dict[str, Any]], None] | None,
    resume: bool,
) -> Summary:
    """Build the scene, drive the graph (from its checkpoint when ``resume``), judge and write the summary."""
    started = time.perf_counter()
    timer = Timer()
    trace = TraceWriter(out, resume, on_step, timer)
    state = AgentState(instruction=scenario.instruction, max_steps=scenario.max_steps)
    world: World | None = None
    recorder: VideoRecorder | None = None
    episode: _Episode | None = None
    initial: dict[str, ObjectTruth] = {}
    try:
        world = build_world(scenario, np.random.default_rng(config.seed), gui=config.gui)
        if config.video and out is not None:
            recorder = VideoRecorder(world, out / "episode.mp4")
        initial = world.truth_by_id()
        episode = _build_episode(scenario, config, world, out, timer)
        graph_input = _resume_input(episode, out, dialogue) if resume and out is not None else state
        drive(episode.app, episode.graph_config, graph_input, trace, dialogue)
        state = AgentState.model_validate(episode.app.get_state(episode.graph_config).values)
    except Exception as exc:  # an internal failure is a recorded result, never a lost one
        log.debug("episode crashed", exc_info=True)
        if out is not None:
            (out / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        reason = f"internal error: {type(exc).__name__}: {exc}"
        state = state.model_copy(update={"status": "failed", "reason": reason, "steps": trace.steps})
    finally:
        trace.close()
    truth = world.truth_by_id() if world is not None else {}
    if recorder is not None:
        recorder.close()
    if world is not None:
        world.close()
    injections = getattr(episode.perceiver if episode is not None else None, "injections", [])
    summary = _summarize(scenario, config, state, truth, initial, injections, time.perf_counter() - started)
    if out is not None:
        (out / "summary.json").write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return summary


_KNOWLEDGE: dict[tuple[tuple[str, int, int], ...], KnowledgeBase] = {}
"""Knowledge bases by their files (path, size, modification time): an eval worker builds one per ``--kg`` set and
empties its scene for each episode instead of copying the closed ontology again."""


def knowledge_base(kg_files: Sequence[str]) -> KnowledgeBase:
    """The knowledge base over ``kg_files`` with no scene, built once per process for each set of files (a file
    changed on disk is a new set)."""
    key = tuple((str(f), *_stamp(Path(f))) for f in kg_files)
    kb = _KNOWLEDGE.get(key)
    if kb is None:
        kb = _KNOWLEDGE[key] = KnowledgeBase(kg_files)
        if len(_KNOWLEDGE) > 8:
            del _KNOWLEDGE[next(iter(_KNOWLEDGE))]
    kb.set_scene([], [])
    return kb


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)  # KnowledgeBase names the missing file
    return (stat.st_size, stat.st_mtime_ns)


def _build_episode(
    scenario: Scenario, config: RunConfig, world: World, out: Path | None, timer: Timer | None = None
) -> _Episode:
    """The robot (journaled), knowledge base, verifier, perceiver, reasoner and the compiled graph over them;
    ``timer`` times the nodes, the looks and the checkpoint writes."""
    timer = timer or Timer()
    skills = Skills(world)
    robot = RecordingRobot(skills, str(out / "robot.jsonl") if out is not None else None)
    kb = knowledge_base(config.kg_files)
    verifier = Verifier(kb, colour_probe=colour_contradiction)
    truth_source = SimTruthSource(world)
    perceiver = make_perceiver(config.perception, truth=truth_source, seed=config.seed, **config.perception_options)
    if config.audit:
        perceiver = AuditedPerceiver(perceiver, truth_source)
    options = dict(config.reasoner_options)
    if config.reasoner == "llm":  # the chat model may call the registry's tools on the scene it reasons about
        options["tools"] = llm_tools(default_registry(config.tool_specs), kb, frames=lambda: runtime.frames)
    runtime = Runtime(
        cameras=world.cameras,
        perceiver=perceiver,
        reasoner=make_reasoner(config.reasoner, kb, verifier, **options),
        verifier=verifier,
        kb=kb,
        robot=robot,
        twin=_digital_twin(config.seed) if config.twin else None,
        verify=config.verify,
        frame_sink=FrameStore(out) if out is not None else None,
        timer=timer,
    )
    checkpointer = open_checkpointer(out / "checkpoint.sqlite") if out is not None else InMemorySaver()
    timer.time_checkpoints(checkpointer)
    graph_config = {
        "configurable": {"thread_id": _thread_id(scenario, config)},
        "recursion_limit": 10 * scenario.max_steps,
    }
    app = build_graph(runtime).compile(checkpointer=checkpointer)
    return _Episode(app, checkpointer, skills, robot, perceiver, graph_config)


def _resume_input(episode: _Episode, out: Path, dialogue: Dialogue) -> Any:
    """Replay the robot journal on the rebuilt world and say how to go on from the checkpoint: ``None``
    (continue), ``Command(resume=answer)`` (it stopped at a question) or ``_STOP`` (it had finished, or the
    question has no answer yet)."""
    snapshot = episode.app.get_state(episode.graph_config)
    journal = out / "robot.jsonl"
    calls = read_journal(str(journal)) if journal.exists() else []
    replay(episode.skills, calls)
    episode.robot.count = _robot_calls_done(episode.checkpointer, episode.graph_config)
    episode.robot.pending = calls[episode.robot.count :]
    if snapshot.interrupts:  # it stopped at a question: it needs an answer to go on
        answer = dialogue.answer(_question(snapshot))
        return Command(resume=answer) if answer is not None else _STOP
    if not snapshot.next and not snapshot.tasks:  # it had finished
        # (a step that finished just before the kill is a task with its writes saved and is not in ``next``;
        # streaming None applies those writes and goes on)
        return _STOP
    return None


def drive(app: Any, graph_config: dict[str, Any], graph_input: Any, trace: TraceWriter, dialogue: Dialogue) -> None:
    """Stream a compiled graph step by step into ``trace``; at a question, go on with the dialogue's answer.
    Shared by scenario runs and host worlds (:func:`groundsight.agent.hosts.run_in_host`)."""
    while graph_input is not _STOP:
        asked: str | None = None
        # durability="sync": each step's checkpoint is on disk before the next step starts
        for chunk in app.stream(graph_input, graph_config, stream_mode="updates", durability="sync"):
            # a step whose writes were saved before a kill comes back with {"__metadata__": {"cached": True}}
            cached = bool((chunk.pop("__metadata__", None) or {}).get("cached"))
            for node, update in chunk.items():
                if node == "__interrupt__":
                    asked = str(update[0].value.get("question", "")) if update else ""
                    update = {"question": [i.value for i in update]}
                trace.write(node, update or {}, cached)
        answer = dialogue.answer(asked) if asked is not None else None
        graph_input = Command(resume=answer) if answer is not None else _STOP


def _summarize(
    scenario: Scenario,
    config: RunConfig,
    state: AgentState,
    truth: dict[str, ObjectTruth],
    initial: dict[str, ObjectTruth],
    injections: Sequence[Any],
    wall_time_s: float,
) -> Summary:
    """Judge the final state on simulator truth."""
    goal_ok = goal_holds(scenario.goal, truth, initial) if scenario.goal and truth else None
    moved = moved_objects(truth, initial)
    return Summary(
        scenario=scenario.name,
        seed=config.seed,
        status=state.status,
        expected=scenario.expect,
        passed=judge(scenario, state, goal_ok, moved),
        steps=state.steps,
        wall_time_s=round(wall_time_s, 3),
        reason=state.reason,
        question=state.question,
        perception=config.perception,
        reasoner=config.reasoner,
        goal_satisfied=goal_ok,
        moved=moved,
        actions=len(state.actions),
        looks=state.looks,
        verify=config.verify,
        injections=[i.model_dump(mode="json") for i in injections],
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
