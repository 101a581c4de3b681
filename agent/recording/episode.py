"""An episode as a sequence of decisions, read back from a run directory.

A run directory is what ``groundsight run --out DIR`` (:func:`agent.loop.runner.run_episode`) writes:
``summary.json``, ``run.json`` (the scenario file), ``trace.jsonl`` (one record per graph step; looks carry
``frame_files`` and every record the ``robot_calls`` made so far), ``robot.jsonl`` (each completed robot call:
``method``, ``args``, ``outcome``) and ``frames/look_NNN_<camera>.jpg``. :func:`solve_to_run_dir` writes the same
files for the scripted solver.

One :class:`Step` per robot call: the camera image the agent last looked at before the call, the robot state
before it, and the call. A last step with no call (``stop``) holds the final look and state.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

STATE_NAMES = ("holding", "hand_x", "hand_y", "hand_z", "hand_yaw")
"""``observation.state``: 1 when holding an object; the hand's last commanded grasp or release point (metres)
and yaw (radians); zeros at home."""


class RecordingError(ValueError):
    """A run directory cannot be recorded; ``str()`` is one line naming the file and the problem."""


@dataclass
class Step:
    """One decision: the image seen, the state before the call, and the call (None: the episode ends)."""

    image: Path
    state: list[float]
    call: dict[str, Any] | None


@dataclass
class EpisodeRecord:
    """One episode ready to write as a dataset episode."""

    run_dir: Path
    task: str
    success: bool
    scenario: str
    seed: int
    steps: list[Step] = field(default_factory=list)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordingError(f"{path}: (file): not found (is {path.parent} a run directory?)") from None
    except json.JSONDecodeError as exc:
        raise RecordingError(f"{path}: line {exc.lineno}: {exc.msg}") from None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise RecordingError(f"{path}: line {number}: {exc.msg}") from None
    return rows


def next_state(state: list[float], call: dict[str, Any]) -> list[float]:
    """The state after a robot call, from its outcome (see :data:`STATE_NAMES`)."""
    outcome = call.get("outcome", {})
    detail = outcome.get("detail", {})
    method = call.get("method")
    if not outcome.get("ok"):
        return state
    if method == "pick":
        return [1.0, *map(float, detail.get("grasp", state[1:4])), float(detail.get("hand_yaw", state[4]))]
    if method == "place":
        point = detail.get("released_at") or detail.get("release") or state[1:4]
        return [0.0, *map(float, point), float(detail.get("hand_yaw", state[4]))]
    if method in ("home", "handover", "push"):
        return [state[0] if method == "home" else 0.0, 0.0, 0.0, 0.0, 0.0]
    return state


def _instruction(run_dir: Path, summary: dict[str, Any]) -> str:
    if summary.get("instruction"):
        return str(summary["instruction"])
    from groundsight.agent.tasks.scenario import load_scenario

    run = _read_json(run_dir / "run.json")
    if not run.get("scenario_file"):
        raise RecordingError(f"{run_dir / 'run.json'}: scenario_file: missing; the instruction is unknown")
    return load_scenario(run["scenario_file"]).instruction


def _looks(run_dir: Path, camera: str) -> list[tuple[int, Path]]:
    """(robot calls made before the look, image path) for each look, in order."""
    looks = []
    for record in _read_jsonl(run_dir / "trace.jsonl"):
        files = record.get("frame_files") or []
        chosen = next((f for f in files if f.endswith(f"_{camera}.jpg")), files[0] if files else None)
        if chosen is not None:
            looks.append((int(record.get("robot_calls", 0)), run_dir / chosen))
    return looks


def episode_from_run_dir(run_dir: str | Path, camera: str = "top") -> EpisodeRecord:
    """Read a run directory into an :class:`EpisodeRecord` (see the module docstring)."""
    run_dir = Path(run_dir)
    summary = _read_json(run_dir / "summary.json")
    looks = _looks(run_dir, camera)
    if not looks:
        raise RecordingError(f"{run_dir / 'trace.jsonl'}: frame_files: no look recorded a camera image")
    calls = _read_jsonl(run_dir / "robot.jsonl")
    episode = EpisodeRecord(
        run_dir=run_dir,
        task=_instruction(run_dir, summary),
        success=bool(summary.get("passed")),
        scenario=str(summary.get("scenario", run_dir.name)),
        seed=int(summary.get("seed", 0)),
    )
    state = [0.0] * len(STATE_NAMES)
    for i, call in enumerate([*calls, None]):
        seen = [path for done, path in looks if done <= i] or [looks[0][1]]
        image = seen[-1] if call is not None else looks[-1][1]
        episode.steps.append(Step(image=image, state=list(state), call=call))
        if call is not None:
            state = next_state(state, call)
    for step in episode.steps:
        if not step.image.is_file():
            raise RecordingError(f"{step.image}: (file): frame not found")
    return episode


FRAME_SIZE = (320, 240)
"""Size of the solver's look images (the runner's ``frames/`` size)."""


class _RecordingSkills:
    """Wraps :class:`sim.skills.Skills`: before each call, a look (top camera image) and, after it, the journal."""

    METHODS = ("pick", "place", "handover", "home", "push")

    def __init__(self, skills: Any, world: Any, run_dir: Path, camera: str) -> None:
        self._skills, self._world, self._dir, self._camera = skills, world, run_dir, camera
        self.calls = 0
        (run_dir / "frames").mkdir(parents=True, exist_ok=True)
        self.look()

    def look(self) -> None:
        """Store the camera's view as the next look and trace it."""
        looks = len(list((self._dir / "frames").glob("look_*.jpg"))) + 1
        name = f"frames/look_{looks:03d}_{self._camera}.jpg"
        rgb = np.asarray(self._world.camera(self._camera).read().rgb)[:, :, :3]
        small = cv2.resize(rgb, FRAME_SIZE, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(self._dir / name), cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        record = {"node": "look", "frame_files": [name], "robot_calls": self.calls}
        with open(self._dir / "trace.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._skills, name)
        if name not in self.METHODS:
            return attr

        def call(*args: Any) -> Any:
            if self.calls:
                self.look()
            result = attr(*args)
            self.calls += 1
            plain = [list(map(float, a)) if isinstance(a, tuple | list | np.ndarray) else a for a in args]
            outcome = {"skill": result.skill, "ok": result.ok, "reason": result.reason, "message": result.message}
            outcome["detail"] = {k: v for k, v in result.detail.items() if k != "wall_time_s"}
            with open(self._dir / "robot.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"method": name, "args": plain, "outcome": outcome}, default=float) + "\n")
            return result

        return call


def solve_to_run_dir(scenario_file: str | Path, seed: int, run_dir: str | Path, camera: str = "top") -> Any:
    """Run the scripted solver on a scenario and write a run directory that :func:`episode_from_run_dir` reads
    (a look before every skill call and one at the end); returns the :class:`~agent.tasks.solver.SolverResult`
    (also in ``summary.json``, with the instruction)."""
    from groundsight.agent.tasks.scenario import load_scenario
    from groundsight.agent.tasks.sim_bridge import build_world
    from groundsight.agent.tasks.solver import ScriptedSolver, SolverResult
    from groundsight.sim.skills import Skills

    scenario = load_scenario(scenario_file)
    if scenario.goal is None:
        raise RecordingError(f"{scenario_file}: goal: the scripted solver needs a goal (expect: {scenario.expect})")
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("trace.jsonl", "robot.jsonl"):
        (out / name).unlink(missing_ok=True)
    for old in (out / "frames").glob("look_*.jpg"):
        old.unlink()
    started = time.perf_counter()
    world = build_world(scenario, np.random.default_rng(seed))
    try:
        skills = _RecordingSkills(Skills(world), world, out, camera)
        solver = ScriptedSolver(world, skills)  # type: ignore[arg-type]
        passed = solver.solve(scenario.goal)
        skills.look()
    finally:
        world.close()
    result = SolverResult.from_log(scenario.name, seed, passed, solver.log, started)
    summary = {
        **result.model_dump(),
        "status": "succeeded" if passed else "failed",
        "instruction": scenario.instruction,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "run.json").write_text(json.dumps({"scenario_file": str(scenario_file), "seed": seed}) + "\n")
    return result
