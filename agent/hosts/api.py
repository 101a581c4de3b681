"""Run the agent in a world it did not build: the host's cameras, the host's robot, the host's success check.

    >>> result = run_in_host(
    ...     "put the block on the target",
    ...     cameras=[PyBulletCamera(client, fov_deg=45, eye=(0, 0, 0.9), target=(0, 0, 0), up=(1, 0, 0))],
    ...     robot=my_robot,                                   # any RobotInterface
    ...     places=[NamedPlace(name="target", position=(0.6, 0.1, 0.0))],
    ...     success=lambda: my_env_says_done(),
    ...     out="runs/host",
    ... )                                                     # doctest: +SKIP
    >>> result.status, result.host_success                    # doctest: +SKIP
    ('succeeded', True)

One episode goes through the same LangGraph loop as a scenario run (:func:`groundsight.agent.loop.graph.build_graph`
over a :class:`~groundsight.agent.loop.graph.Runtime`): the same perception, screening, reasoning, checks,
refusals and clarification questions. Geometry is in the agent's frame: the robot base at the origin, x away
from the robot, z up, the table top at z = 0 (give the cameras ``world_from_host`` when the host's frame
differs, and convert in the robot). The run directory gets what a scenario run writes (``trace.jsonl``,
``checkpoint.sqlite``, ``robot.jsonl``, ``frames/``) and a ``summary.json`` with the host's own verdict
(``host_success``) next to the agent's (``status``).
"""

from __future__ import annotations

import logging
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel

from groundsight.agent.hosts.appearance import Appearance
from groundsight.agent.hosts.places import NamedPlace, PlacesPerceiver, check_places, places_turtle
from groundsight.agent.loop.graph import Runtime, build_graph
from groundsight.agent.loop.robot_interface import RecordingRobot, RobotInterface
from groundsight.agent.loop.runner import Dialogue, FrameStore, TraceWriter, drive, make_reasoner, open_checkpointer
from groundsight.agent.loop.state import AgentState
from groundsight.knowledge import KnowledgeBase
from groundsight.perception.evidence import colour_contradiction
from groundsight.perception.frame import CameraSource
from groundsight.perception.perceivers import make_perceiver
from groundsight.reasoning.verifier import Verifier

log = logging.getLogger(__name__)


class HostResult(BaseModel):
    """``summary.json`` of a host episode: the agent's outcome and the host's own verdict."""

    instruction: str
    status: str
    """The agent's verdict: succeeded, failed, refused or needs_clarification."""
    reason: str
    question: str | None = None
    host_success: bool | None = None
    """The host's success callable after the episode (None: none was given, or it raised: see ``host_error``)."""
    host_error: str | None = None
    seed: int = 0
    perception: str
    reasoner: str
    places: list[str] = []
    steps: int = 0
    actions: int = 0
    looks: int = 0
    wall_time_s: float = 0.0

    @property
    def succeeded(self) -> bool:
        """The agent's own verdict: it observed the goal."""
        return self.status == "succeeded"


def _perceiver(perception: str | Any, appearance: Appearance | None, seed: int, options: dict[str, Any]) -> Any:
    """A perceiver by name (``classical`` calibrated to the host's appearance) or the object given."""
    if not isinstance(perception, str):
        return perception
    if perception == "classical":
        return (appearance or Appearance()).perceiver()
    if perception == "oracle" or perception.endswith(":oracle"):
        raise ValueError("perception: the oracle reads simulator truth, which a host world does not give the agent")
    return make_perceiver(perception, seed=seed, **options)


def _knowledge(places: Sequence[NamedPlace], kg_files: Sequence[str | Path], folder: Path) -> KnowledgeBase:
    """The knowledge base with the user's files and the places' nouns."""
    kb = KnowledgeBase(kg_files)
    if places:
        check_places(places, [*kb.type_words(), *kb.class_words()])
        path = folder / "places.ttl"
        path.write_text(places_turtle(places), encoding="utf-8")
        kb.load(path)
    return kb


def run_in_host(
    instruction: str,
    cameras: Sequence[CameraSource],
    robot: RobotInterface,
    places: Sequence[NamedPlace] = (),
    success: Callable[[], Any] | None = None,
    out: str | Path | None = None,
    perception: str | Any = "classical",
    reasoner: str = "rules",
    seed: int = 0,
    *,
    appearance: Appearance | None = None,
    answers: Sequence[str] = (),
    ask: Callable[[str], str | None] | None = None,
    kg_files: Sequence[str | Path] = (),
    max_steps: int = 30,
    max_retries: int = 2,
    verify: bool = True,
    perception_options: dict[str, Any] | None = None,
    reasoner_options: dict[str, Any] | None = None,
    on_step: Callable[[int, str, dict[str, Any]], None] | None = None,
) -> HostResult:
    """Run one episode of ``instruction`` in a host world and return (and write) its :class:`HostResult`.

    Args:
        instruction: what to do, in groundsight's instruction language.
        cameras: the host's cameras (any :class:`~groundsight.perception.frame.CameraSource`; with depth and
            ``T_world_cam`` in the agent's frame for the classical perceiver), e.g. :class:`PyBulletCamera`.
        robot: the host's robot (any :class:`~groundsight.agent.loop.robot_interface.RobotInterface`).
        places: named places the instruction may refer to ("the target"), in the agent's frame.
        success: the host's own success check, called once after the episode; its truth value is recorded.
        out: the run directory (None: nothing is written).
        perception: a perceiver name (``classical``, ``vlm``, ``detector``, ``noisy:classical``) or a perceiver.
        reasoner: ``rules`` or ``llm`` (``reasoner_options`` go to it).
        seed: recorded, and seeds a ``noisy:`` perceiver.
        appearance: the host world's paint (object colours, table) for the classical perceiver and the checks.
        answers, ask: answers to the agent's clarification questions, in order, then a callable asked; without
            either the episode stops with ``needs_clarification`` and the question.
        kg_files: Turtle files merged into the knowledge graph.
        max_steps: the graph's step budget.
        max_retries: how often the agent plans again after an action failed or its effect was not observed.
        verify: False acts whatever the checks say (ablations).
        on_step: called with (step, node, update) after every graph step.

    Raises:
        ValueError: a bad place, an unknown perceiver or reasoner (before anything moves).
    """
    started = time.perf_counter()
    folder = Path(out) if out is not None else None
    scratch = tempfile.TemporaryDirectory(prefix="groundsight-host-") if folder is None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("trace.jsonl", "summary.json", "checkpoint.sqlite", "error.txt", "robot.jsonl"):
            (folder / name).unlink(missing_ok=True)
    work = folder if folder is not None else Path(scratch.name)  # type: ignore[union-attr]
    kb = _knowledge(places, kg_files, work)
    perceiver = PlacesPerceiver(_perceiver(perception, appearance, seed, dict(perception_options or {})), places)
    if appearance is not None:
        verifier = Verifier(kb, colour_probe=appearance.colour_probe(), depth_probe=appearance.depth_probe())
    else:
        verifier = Verifier(kb, colour_probe=colour_contradiction)
    runtime = Runtime(
        cameras=list(cameras),
        perceiver=perceiver,
        reasoner=make_reasoner(reasoner, kb, verifier, **(reasoner_options or {})),
        verifier=verifier,
        kb=kb,
        robot=RecordingRobot(robot, str(folder / "robot.jsonl") if folder is not None else None),
        verify=verify,
        frame_sink=FrameStore(folder) if folder is not None else None,
    )
    state = AgentState(instruction=instruction, max_steps=max_steps, max_retries=max_retries)
    trace = TraceWriter(folder, resume=False, on_step=on_step)
    try:
        checkpointer = open_checkpointer(folder / "checkpoint.sqlite") if folder is not None else InMemorySaver()
        app = build_graph(runtime).compile(checkpointer=checkpointer)
        config = {"configurable": {"thread_id": f"host-{seed}"}, "recursion_limit": 10 * max_steps}
        drive(app, config, state, trace, Dialogue(answers, ask))
        state = AgentState.model_validate(app.get_state(config).values)
    except Exception as exc:  # an internal failure is a recorded result, never a lost one
        log.debug("host episode crashed", exc_info=True)
        if folder is not None:
            (folder / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        state = state.model_copy(
            update={"status": "failed", "reason": f"internal error: {type(exc).__name__}: {exc}", "steps": trace.steps}
        )
    finally:
        trace.close()
        if scratch is not None:
            scratch.cleanup()
    host_success, host_error = _host_verdict(success)
    result = HostResult(
        instruction=instruction,
        status=state.status,
        reason=state.reason,
        question=state.question,
        host_success=host_success,
        host_error=host_error,
        seed=seed,
        perception=perception if isinstance(perception, str) else str(getattr(perception, "name", "custom")),
        reasoner=reasoner,
        places=[p.name for p in places],
        steps=state.steps,
        actions=len(state.actions),
        looks=state.looks,
        wall_time_s=round(time.perf_counter() - started, 3),
    )
    if folder is not None:
        (folder / "summary.json").write_text(result.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return result


def _host_verdict(success: Callable[[], Any] | None) -> tuple[bool | None, str | None]:
    """The host's success callable's answer as a bool (numpy arrays count when all true), or its error."""
    if success is None:
        return None, None
    try:
        return bool(np.all(success())), None
    except Exception as exc:  # the host's check failing is recorded, not raised
        return None, f"{type(exc).__name__}: {exc}"
