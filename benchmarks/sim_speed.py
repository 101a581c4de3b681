"""Simulation speed on this machine: physics, rendering, episodes, and the gymnasium env next to panda-gym.

Measures, all headless (PyBullet DIRECT, CPU):

1. physics steps per second of :class:`groundsight.sim.world.World`: the empty scene (Panda + table) and a scene with
   six objects of mixed types (``groundsight.sim.scene.random_requests`` + ``place_objects``, seeded; a seed whose
   placement fails is retried), the arm holding still at home, the objects settled; median of repeats;
2. render time per camera (``top``, ``front``, ``wrist``) and resolution with TinyRenderer (what
   ``SimCamera.read`` uses), and whether PyBullet's EGL renderer plugin loads in a DIRECT client (probed in
   a child process, so that a broken driver cannot take the benchmark down); when it loads, the same
   renders are also timed with ``ER_BULLET_HARDWARE_OPENGL`` through it (on a machine without a GPU, EGL
   is Mesa's software rasteriser, llvmpipe);
3. episode wall time per scenario family (the scenario file's folder): the scripted solver on every
   success scenario, and the agent (``classical`` perception, ``rules`` reasoner, no output folder) on
   every ``pick_place`` scenario;
3b. skill durations: pick, place (into a bowl or tray, onto a plate or block) and home on the scenes of
   ``benchmarks.skills_success``, in physics steps, simulated seconds and wall seconds, split into time inside
   ``stepSimulation`` and the rest (inverse kinematics, contact queries, Python);
4. ``groundsight/Tabletop-v0`` next to panda-gym's ``PandaPickAndPlace-v3`` in one process, random actions
   (``action_space.sample()``, seeded) for both: resets/s, env steps/s and physics steps/s. One env step
   of ours is a whole skill (hundreds of physics steps at 1/240 s, or none for an invalid action) and
   renders a 320x240 RGB-D observation; one of panda-gym's is 1/25 s of control, ``n_substeps`` = 20
   physics steps at 1/500 s, with a state-vector observation. Ours is also run with ``render_mode=None`` (a
   state observation, no camera image), the mode comparable to panda-gym's. panda-gym is not a dependency of
   groundsight: ``pip install panda-gym`` to include it; without it that part is skipped with a note.

Prints rich tables as it goes and, at the end, one Markdown document with every figure (also written to
``--out``).

Usage::

    python -m benchmarks.sim_speed [--quick] [--seeds 3] [--out runs/bench/sim_speed.md]
        [--no-egl] [--skip-episodes] [--skip-gym]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import logging
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from groundsight.sim._quiet import import_pybullet_quietly, silenced_fds
from groundsight.sim.camera import CAMERAS, CameraConfig
from groundsight.sim.scene import PlacementError, place_objects, random_requests
from groundsight.sim.world import TIME_STEP, World

p = import_pybullet_quietly()
ROOT = Path(__file__).resolve().parents[1]

RESOLUTIONS = ((320, 240), (640, 480), (1280, 960))
CAMERA_NAMES = ("top", "front", "wrist")
N_OBJECTS = 6
MIN_TYPES = 4
"""The six-object scene has at least this many different object types."""
EGL_MARKER = "SIM_SPEED_EGL_JSON:"
PANDA_ENV_ID = "PandaPickAndPlace-v3"
OUR_ENV_ID = "groundsight/Tabletop-v0"


# ------------------------------------------------------------------------------------------------ helpers


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def fmt(value: float | None, digits: int = 1) -> str:
    """A number with thousands separators, or an em dash for missing values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


@dataclass
class Section:
    """One table of results: rich on the console, Markdown in the report."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.headers) + " |"]
        lines.append("| " + " | ".join("---" if i == 0 else "---:" for i in range(len(self.headers))) + " |")
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines)

    def print(self, console) -> None:
        from rich.table import Table

        table = Table(title=self.title)
        for i, h in enumerate(self.headers):
            table.add_column(h, justify="left" if i == 0 else "right")
        for r in self.rows:
            table.add_row(*r)
        console.print(table)
        for n in self.notes:
            console.print(f"  [dim]{n}[/dim]")


# ------------------------------------------------------------------------------------------------ scenes


def scene_world(n_objects: int, seed: int, cameras: Sequence[str | CameraConfig] | None = None) -> World:
    """A settled world with ``n_objects`` random objects of mixed types (empty scene for 0)."""
    specs = []
    if n_objects:
        for sub in range(200):
            rng = np.random.default_rng([seed, sub])
            requests = random_requests(rng, n_objects)
            if len({r.type for r in requests}) < min(MIN_TYPES, n_objects):
                continue
            try:
                specs = place_objects(requests, rng)
                break
            except PlacementError:
                continue
        else:
            raise RuntimeError(f"no placement of {n_objects} objects for seed {seed}")
    world = World(cameras=cameras)
    for spec in specs:
        world.add_object(spec)
    world.settle()
    return world


# ------------------------------------------------------------------------------------------------ 1. physics


def _steps_per_second(world: World, steps: int, repeats: int) -> list[float]:
    world.step(100)  # warm up
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        world.step(steps)
        rates.append(steps / (time.perf_counter() - t0))
    return rates


def bench_physics(steps: int, repeats: int, seed: int, per_type: bool = True) -> Section:
    section = Section(
        "Physics: World.step, arm holding still (PyBullet DIRECT)",
        ["scene", "object collision shapes", "steps/s (median)", "min", "max", "x real time"],
    )

    def add(label: str, world: World, n_steps: int, n_repeats: int) -> None:
        try:
            shapes = sum(
                len(p.getCollisionShapeData(b, -1, physicsClientId=world.client)) for b in world.bodies.values()
            )
            rates = _steps_per_second(world, n_steps, n_repeats)
            med = statistics.median(rates)
            row = [label, str(shapes), fmt(med, 0), fmt(min(rates), 0), fmt(max(rates), 0), fmt(med * TIME_STEP, 1)]
            section.rows.append(row)
        finally:
            world.close()

    add("empty (Panda + table)", scene_world(0, seed), steps, repeats)
    world = scene_world(N_OBJECTS, seed)
    types = ", ".join(f"{s.size} {s.type}" for s in world.specs.values())
    add(f"{N_OBJECTS} objects, mixed types ({types})", world, steps, repeats)
    if per_type:
        from groundsight.sim.bodies import OBJECT_TYPES, ObjectSpec

        for t in OBJECT_TYPES:
            world = World()
            world.add_object(ObjectSpec(f"red_{t}", t, "red", "medium", x=0.5, y=0.0))
            world.settle()
            add(f"one medium {t}", world, max(1, steps // 2), max(1, repeats - 2))
    section.notes.append(
        f"{repeats} repeats of {steps} steps of {TIME_STEP * 1000:.2f} ms (1/240 s) after a settle and 100 warm-up "
        f"steps (one-object rows: {max(1, repeats - 2)} x {max(1, steps // 2)}); 'x real time' = simulated seconds "
        "per wall second; object collision shapes = child shapes of the objects' compound bodies (Panda and table "
        "not counted); "
        f"six-object scene from seed {seed}"
    )
    return section


# ------------------------------------------------------------------------------------------------ 2. rendering


def view_matrix(client: int, body: int, config: CameraConfig) -> list[float]:
    """PyBullet view matrix of a camera configuration (following its mounting link if it has one)."""
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (config.eye, config.target, config.up))
    if config.mount_link is not None:
        state = p.getLinkState(body, config.mount_link, computeForwardKinematics=True, physicsClientId=client)
        rot = np.asarray(p.getMatrixFromQuaternion(state[5]), dtype=np.float64).reshape(3, 3)
        pos = np.asarray(state[4], dtype=np.float64)
        eye, target, up = rot @ eye + pos, rot @ target + pos, rot @ up
    return list(p.computeViewMatrix(eye.tolist(), target.tolist(), up.tolist(), physicsClientId=client))


def render_configs(resolutions: Sequence[tuple[int, int]]) -> list[CameraConfig]:
    return [
        replace(CAMERAS[name], name=f"{name}@{w}x{h}", width=w, height=h)
        for name in CAMERA_NAMES
        for w, h in resolutions
    ]


def time_calls(fn: Callable[[], object], reps: int) -> float:
    """Median milliseconds of ``fn`` over ``reps`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_tiny(resolutions: Sequence[tuple[int, int]], reps: int, seed: int) -> dict[str, float]:
    """Milliseconds per ``SimCamera.read`` (TinyRenderer, RGB + depth + segmentation -> Frame)."""
    world = scene_world(N_OBJECTS, seed, cameras=render_configs(resolutions))
    try:
        return {cam.name: time_calls(cam.read, reps) for cam in world.cameras}
    finally:
        world.close()


def egl_worker(resolutions: Sequence[tuple[int, int]], reps: int, seed: int) -> dict[str, Any]:
    """Child process: load the EGL plugin in a DIRECT client and, if it loads, time renders through it."""
    out: dict[str, Any] = {"loaded": False, "plugin": None, "ms": {}, "error": None}
    spec = importlib.util.find_spec("eglRenderer")  # what pkgutil.get_loader('eglRenderer') finds
    if spec is None or spec.origin is None:
        out["error"] = "module eglRenderer not found in this pybullet"
        return out
    out["plugin"] = spec.origin
    world = scene_world(N_OBJECTS, seed)
    try:
        plugin = p.loadPlugin(spec.origin, "_eglRendererPlugin", physicsClientId=world.client)
        out["loaded"] = plugin >= 0
        if plugin < 0:
            out["error"] = f"loadPlugin returned {plugin}"
            return out
        for i, config in enumerate(render_configs(resolutions)):
            proj = p.computeProjectionMatrixFOV(
                config.fov_deg, config.width / config.height, config.near, config.far, physicsClientId=world.client
            )

            def render(c: CameraConfig = config, pm=proj) -> None:
                _, _, rgba, depth, seg = p.getCameraImage(
                    c.width,
                    c.height,
                    viewMatrix=view_matrix(world.client, world.robot.body, c),
                    projectionMatrix=pm,
                    renderer=p.ER_BULLET_HARDWARE_OPENGL,
                    physicsClientId=world.client,
                )
                np.asarray(rgba, dtype=np.uint8).reshape(c.height, c.width, 4)
                np.asarray(depth, dtype=np.float32).reshape(c.height, c.width)
                np.asarray(seg, dtype=np.int32).reshape(c.height, c.width)

            if i == 0:  # the first frames set up the GL context and buffers
                render()
                render()
            out["ms"][config.name] = time_calls(render, reps)
        p.unloadPlugin(plugin, physicsClientId=world.client)
    except Exception as exc:  # report, never fail
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        world.close()
    return out


def probe_egl(resolutions: Sequence[tuple[int, int]], reps: int, seed: int, timeout: float) -> dict[str, Any]:
    """Run :func:`egl_worker` in a child process; its C-level output tells which GL renderer EGL found."""
    args = [
        sys.executable,
        "-m",
        "benchmarks.sim_speed",
        "--egl-worker",
        "--seed",
        str(seed),
        "--render-reps",
        str(reps),
    ]
    args += ["--resolutions", *[f"{w}x{h}" for w, h in resolutions]]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"loaded": False, "ms": {}, "error": f"probe timed out after {timeout:.0f} s", "gl_renderer": None}
    text = proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(EGL_MARKER)]
    if lines:
        result = json.loads(lines[-1][len(EGL_MARKER) :])
    else:
        tail = text.strip().splitlines()[-1:] or ["no output"]
        result = {"loaded": False, "ms": {}, "error": f"probe exited with {proc.returncode}: {tail[0]}"}
    gl = [ln.split("=", 1)[1].strip() for ln in text.splitlines() if ln.startswith("GL_RENDERER=")]
    result["gl_renderer"] = gl[0] if gl else None
    return result


def bench_render(resolutions: Sequence[tuple[int, int]], reps: int, seed: int, egl: bool) -> tuple[Section, str]:
    tiny = bench_tiny(resolutions, reps, seed)
    egl_result = probe_egl(resolutions, reps, seed, timeout=240) if egl else None
    headers = ["camera", *[f"{w}x{h} Tiny (ms)" for w, h in resolutions]]
    have_egl = egl_result is not None and egl_result.get("loaded") and egl_result.get("ms")
    if have_egl:
        headers += [f"{w}x{h} EGL (ms)" for w, h in resolutions]
    section = Section(f"Rendering: {N_OBJECTS}-object scene, median ms per frame", headers)
    for name in CAMERA_NAMES:
        row = [name] + [fmt(tiny[f"{name}@{w}x{h}"]) for w, h in resolutions]
        if have_egl:
            row += [fmt(egl_result["ms"].get(f"{name}@{w}x{h}")) for w, h in resolutions]
        section.rows.append(row)
    section.notes.append(
        f"Tiny: SimCamera.read() with ER_TINY_RENDERER (RGB + depth + segmentation into a Frame), {reps} renders "
        "after one warm-up; the wrist camera looks from the hand at the home pose"
    )
    if egl_result is None:
        status = "EGL plugin: not probed (--no-egl)"
    elif egl_result.get("loaded"):
        gl = egl_result.get("gl_renderer") or "unknown GL renderer"
        status = f"EGL plugin: loaded in a DIRECT client (GL_RENDERER = {gl})"
        if have_egl:
            section.notes.append(
                "EGL: raw getCameraImage with ER_BULLET_HARDWARE_OPENGL through the eglRenderer plugin, same views"
                + (" (software rasteriser, no GPU)" if "llvmpipe" in gl.lower() else "")
            )
    else:
        status = f"EGL plugin: could not be loaded ({egl_result.get('error')})"
    section.notes.append(status)
    return section, status


# ------------------------------------------------------------------------------------------------ 3. episodes


def bench_episodes(seeds: Sequence[int], families: set[str] | None, quiet_console) -> tuple[Section, dict]:
    from groundsight.agent.loop.runner import RunConfig, run_episode
    from groundsight.agent.tasks.scenario import find_scenarios, load_scenario
    from groundsight.agent.tasks.solver import solve_episode

    scenarios = [(path, load_scenario(path)) for path in find_scenarios([ROOT / "scenarios"])]
    if families is not None:
        scenarios = [(pa, s) for pa, s in scenarios if pa.parent.name in families]
    runs: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    n_scen: dict[tuple[str, str], set[str]] = defaultdict(set)

    def record(key: tuple[str, str], name: str, fn: Callable[[], bool]) -> None:
        t0 = time.perf_counter()
        try:
            ok = fn()
        except Exception as exc:  # a crash is a result too
            quiet_console.print(f"  [red]{key[1]} {name}: {type(exc).__name__}: {exc}[/red]")
            ok = False
        runs[key].append((time.perf_counter() - t0, ok))
        n_scen[key].add(name)

    for path, scenario in scenarios:
        family = path.parent.name
        for seed in seeds:
            if scenario.expect == "success":
                solve = lambda s=scenario, sd=seed: solve_episode(s, sd).passed  # noqa: E731
                record(("scripted solver", family), scenario.name, solve)
            if family == "pick_place":
                record(
                    ("agent (classical, rules)", family),
                    scenario.name,
                    lambda s=scenario, sd=seed: run_episode(s, RunConfig(seed=sd, perception="classical")).passed,
                )
    section = Section(
        f"Episodes: wall time per scenario family, seeds {', '.join(map(str, seeds))}",
        ["runner / family", "scenarios", "episodes", "passed", "median (s)", "max (s)", "total (s)"],
    )
    totals: dict[str, float] = defaultdict(float)
    for (runner, family), items in sorted(runs.items()):
        times = [t for t, _ in items]
        totals[runner] += sum(times)
        section.rows.append(
            [
                f"{runner} / {family}",
                str(len(n_scen[(runner, family)])),
                str(len(items)),
                f"{sum(ok for _, ok in items)}/{len(items)}",
                fmt(statistics.median(times), 2),
                fmt(max(times), 2),
                fmt(sum(times), 1),
            ]
        )
    for runner in sorted({r for r, _ in runs}):
        items = [x for (r, _), v in runs.items() if r == runner for x in v]
        times = [t for t, _ in items]
        section.rows.append(
            [
                f"**{runner} / all**",
                str(sum(len(v) for (r, _), v in n_scen.items() if r == runner)),
                str(len(items)),
                f"{sum(ok for _, ok in items)}/{len(items)}",
                fmt(statistics.median(times), 2),
                fmt(max(times), 2),
                fmt(sum(times), 1),
            ]
        )
    section.notes.append(
        "scripted solver: agent.solver.solve_episode on every scenario that expects success (builds the world, "
        "solves from simulator truth); agent: run_episode(RunConfig(perception='classical')) with no run directory "
        "on every pick_place scenario, including the refuse / ask ones; wall time includes building the scene"
    )
    return section, dict(totals)


# ------------------------------------------------------------------------------------------------ 3b. skills


SKILL_KINDS = ("bowl", "plate", "block", "tray")


@dataclass
class SkillTimes:
    """One skill call: physics steps, wall seconds and the part of them spent inside ``stepSimulation``."""

    steps: int
    wall_s: float
    physics_s: float


def time_skills(world: World, calls: Sequence[tuple[str, Callable[[], object]]]) -> dict[str, SkillTimes]:
    """Run ``calls`` (name, skill call) in order on ``world``'s robot; the steps and times of each."""
    clock = {"physics": 0.0}
    step = world.step

    def timed_step(n: int = 1) -> None:
        t0 = time.perf_counter()
        step(n)
        clock["physics"] += time.perf_counter() - t0

    world.robot._step = timed_step  # the robot steps through the world's clock: time every step it takes
    out = {}
    for name, call in calls:
        s0, clock["physics"], t0 = world.steps, 0.0, time.perf_counter()
        call()
        out[name] = SkillTimes(world.steps - s0, time.perf_counter() - t0, clock["physics"])
    return out


def bench_skills(seeds: Sequence[int]) -> Section:
    """Pick, place (into / onto each target kind) and home on ``benchmarks.skills_success``'s scenes."""
    from benchmarks.skills_success import support_height, trial_world
    from groundsight.sim.skills import Skills

    times: dict[str, list[SkillTimes]] = defaultdict(list)
    for kind in SKILL_KINDS:
        for seed in seeds:
            with trial_world(kind, seed) as (_, world, block, target):
                skills = Skills(world)
                above = (target.position[0], target.position[1], support_height(target))
                calls = [
                    ("pick (a block)", lambda b=block, s=skills: s.pick(b.position, b.extent, b.yaw)),
                    (f"place ({kind})", lambda s=skills, a=above: s.place(a)),
                    ("home (from home)", skills.home),
                ]
                for name, t in time_skills(world, calls).items():
                    times[name].append(t)
    section = Section(
        f"Skills: physics steps and time per call, seeds {', '.join(map(str, seeds))}",
        ["skill", "calls", "physics steps (median)", "simulated s", "wall s (median)", "in stepSimulation", "other"],
    )
    for name, items in times.items():
        wall = statistics.median(t.wall_s for t in items)
        physics = statistics.median(t.physics_s for t in items)
        steps = statistics.median(t.steps for t in items)
        section.rows.append(
            [
                name,
                str(len(items)),
                fmt(steps, 0),
                fmt(steps * TIME_STEP, 2),
                fmt(wall, 3),
                fmt(physics, 3),
                fmt(wall - physics, 3),
            ]
        )
    section.notes.append(
        "the scenes of benchmarks.skills_success (a random block, a target of each kind, a distractor block); true "
        "geometry; a place includes its retreat and the move home; 'in stepSimulation' is wall time inside physics "
        "steps, 'other' is planning (inverse kinematics), contact queries and Python; physics step "
        f"{TIME_STEP * 1000:.2f} ms"
    )
    return section


# ------------------------------------------------------------------------------------------------ 4. vs panda-gym


@dataclass
class EnvRates:
    resets_per_s: float
    steps_per_s: float
    physics_per_s: float
    physics_per_step: float
    sim_s_per_wall_s: float
    raw_physics_per_s: float
    physics_dt: float
    reset_physics: float
    env_steps: int
    resets: int


Sampler = Callable[[dict[str, Any]], Any]
"""Draws the next action, given the last ``info`` the env returned."""


def measure_env(
    env,
    world_steps: Callable[[], int],
    physics_dt: float,
    raw_step: Callable[[int], None],
    resets: int,
    steps: int,
    seed: int,
    sample: Sampler | None = None,
    new_world_per_reset: bool = False,
) -> EnvRates:
    """Resets/s, env steps/s and physics steps/s of a gymnasium env under random (seeded) actions.

    ``sample`` defaults to ``env.action_space.sample()``; ``new_world_per_reset``: the env's step count starts
    at 0 on every reset (a new world, or ours, which reuses its world and zeroes its clock), so a reset's physics is
    the count right after it.
    """
    env.action_space.seed(seed)
    draw: Sampler = sample or (lambda info: env.action_space.sample())
    env.reset(seed=seed)  # warm-up (first connection, kinematics copy, URDF caches)
    reset_physics = []
    t0 = time.perf_counter()
    for i in range(resets):
        before = 0 if new_world_per_reset else world_steps()
        env.reset(seed=seed + 1 + i)
        reset_physics.append(world_steps() - before)
    reset_time = time.perf_counter() - t0

    _, info = env.reset(seed=seed + 10_000)
    step_time, physics, episode = 0.0, 0, 0
    for _ in range(steps):
        action = draw(info)
        before = world_steps()
        t0 = time.perf_counter()
        _, _, terminated, truncated, info = env.step(action)
        step_time += time.perf_counter() - t0
        physics += world_steps() - before
        if terminated or truncated:
            episode += 1
            _, info = env.reset(seed=seed + 10_000 + episode)

    env.reset(seed=seed)  # bare physics in the freshly reset scene
    n_raw = 2000
    raw_step(100)
    t0 = time.perf_counter()
    raw_step(n_raw)
    raw = n_raw / (time.perf_counter() - t0)
    return EnvRates(
        resets_per_s=resets / reset_time,
        steps_per_s=steps / step_time,
        physics_per_s=physics / step_time,
        physics_per_step=physics / steps,
        sim_s_per_wall_s=physics * physics_dt / step_time,
        raw_physics_per_s=raw,
        physics_dt=physics_dt,
        reset_physics=statistics.mean(reset_physics) if reset_physics else 0.0,
        env_steps=steps,
        resets=resets,
    )


def valid_index_sampler(seed: int) -> Sampler:
    """Random skills on object indices that exist in this episode (``info['objects']``), seeded."""
    from groundsight.sim.tabletop_env import SKILLS

    rng = np.random.default_rng(seed)

    def sample(info: dict[str, Any]) -> np.ndarray:
        n = max(1, len(info["objects"]))
        return np.array([rng.integers(len(SKILLS)), rng.integers(n), rng.integers(n)], dtype=np.int64)

    return sample


def bench_ours(
    resets: int, steps: int, seed: int, valid_only: bool = False, render_mode: str | None = "rgb_array"
) -> EnvRates:
    import gymnasium as gym

    import groundsight.agent  # noqa: F401 - registers groundsight/Tabletop-v0

    env = gym.make(OUR_ENV_ID, render_mode=render_mode)
    try:
        u = env.unwrapped
        return measure_env(
            env,
            world_steps=lambda: u.world.steps,
            physics_dt=TIME_STEP,
            raw_step=lambda n: u.world.step(n),
            resets=resets,
            steps=steps,
            seed=seed,
            sample=valid_index_sampler(seed) if valid_only else None,
            new_world_per_reset=True,
        )
    finally:
        env.close()


class _PandaCounter:
    """Physics steps of a panda-gym env, counted from its ``n_substeps`` per ``sim.step()`` call."""

    def __init__(self, sim_) -> None:
        self.count = 0
        self.n_substeps = sim_.n_substeps
        original = sim_.step

        def step() -> None:
            original()
            self.count += self.n_substeps

        sim_.step = step


def bench_panda(resets: int, steps: int, seed: int) -> tuple[EnvRates, int]:
    import gymnasium as gym

    with silenced_fds():  # its connection prints argv lines from C
        import panda_gym  # noqa: F401 - registers the Panda envs

        env = gym.make(PANDA_ENV_ID)
    try:
        u = env.unwrapped
        counter = _PandaCounter(u.sim)
        client = u.sim.physics_client

        def raw_step(n: int) -> None:
            for _ in range(n):
                client.stepSimulation()

        rates = measure_env(
            env,
            world_steps=lambda: counter.count,
            physics_dt=u.sim.timestep,
            raw_step=raw_step,
            resets=resets,
            steps=steps,
            seed=seed,
        )
        return rates, counter.n_substeps
    finally:
        with silenced_fds():
            env.close()


def bench_versus(
    our_resets: int, our_steps: int, pg_resets: int, pg_steps: int, seed: int, console, state_resets: int | None = None
) -> Section:
    ours = bench_ours(our_resets, our_steps, seed)
    valid = bench_ours(max(1, our_resets // 4), our_steps, seed, valid_only=True)
    n_state = state_resets or pg_resets
    state = bench_ours(n_state, our_steps, seed, render_mode=None)
    state_valid = bench_ours(n_state, our_steps, seed, valid_only=True, render_mode=None)
    panda: EnvRates | None = None
    n_substeps = None
    note = None
    if importlib.util.find_spec("panda_gym") is None:
        note = "panda-gym is not installed (pip install panda-gym): no panda-gym column and no ratios"
    else:
        try:
            panda, n_substeps = bench_panda(pg_resets, pg_steps, seed)
        except Exception as exc:
            note = f"panda-gym could not be run: {type(exc).__name__}: {exc}"
    if note:
        console.print(f"[yellow]{note}[/yellow]")
    pg_name = f"panda-gym {version('panda-gym')} {PANDA_ENV_ID}" if panda else "panda-gym"
    section = Section(
        f"Gymnasium env vs panda-gym, random actions, one process: ours = {OUR_ENV_ID}",
        [
            "figure",
            "ours: sample()",
            "ours: valid indices",
            "ours, render off: sample()",
            "ours, render off: valid",
            pg_name,
            "ours / panda-gym",
            "ours valid / panda-gym",
            "render off / panda-gym",
            "render off valid / panda-gym",
        ],
    )
    runs = (ours, valid, state, state_valid)

    def row(label: str, field_: str, b: float | None, digits: int = 1, show_ratio: bool = True, scale=1.0) -> None:
        values = [getattr(r, field_) * scale for r in runs]
        ratios = [ratio(v, b) if show_ratio else None for v in values]
        section.rows.append([label, *(fmt(v, digits) for v in values), fmt(b, digits), *(fmt(r, 4) for r in ratios)])

    pg = panda
    row("resets / s", "resets_per_s", pg and pg.resets_per_s, 2)
    row("env steps / s", "steps_per_s", pg and pg.steps_per_s, 2)
    row("physics steps / s during env steps", "physics_per_s", pg and pg.physics_per_s, 0)
    row("simulated s / wall s during env steps", "sim_s_per_wall_s", pg and pg.sim_s_per_wall_s, 2)
    row(
        "physics steps / s, bare stepSimulation in the env's scene", "raw_physics_per_s", pg and pg.raw_physics_per_s, 0
    )
    row("physics steps / env step (mean)", "physics_per_step", pg and pg.physics_per_step, 1, False)
    row("physics steps / reset (mean)", "reset_physics", pg and pg.reset_physics, 0, False)
    row("physics step (simulated ms)", "physics_dt", pg and pg.physics_dt * 1000, 3, False, scale=1000)
    section.notes.append(
        f"counts: ours sample() {ours.resets} resets / {ours.env_steps} env steps; ours valid {valid.resets} resets / "
        f"{valid.env_steps} env steps; render off {state.resets} resets / {state.env_steps} env steps each"
        + (f"; panda-gym {pg.resets} resets / {pg.env_steps} env steps" if pg else "")
        + f"; seeded with {seed}; an episode that ends is reset (not timed); default scenario "
        "pick_place/red_block_in_blue_bowl"
    )
    section.notes.append(
        "ours: one env step = one skill (pick / place_in / place_on / home) + a 320x240 TinyRenderer RGB-D "
        "observation; sample() draws object indices 0-7, most of which name no object in a 2-3 object scene and "
        "cost no physics, like a place with nothing held; 'valid indices' draws skills uniformly on objects that "
        "exist; a reset reuses the env's World (restores its saved state, re-poses and recolours pooled bodies, no "
        "physics) and renders; 'render off' is render_mode=None: a state observation (robot and object rows), no "
        "camera image at reset or step"
    )
    if pg:
        section.notes.append(
            f"panda-gym: one env step = {n_substeps} physics substeps of {pg.physics_dt * 1000:.0f} ms "
            f"(1/{1 / (pg.physics_dt * n_substeps):.0f} s of control), state-vector observation, no rendering; a "
            "reset teleports the object and goal (no physics); physics steps counted as n_substeps per sim.step()"
        )
    if note:
        section.notes.append(note)
    return section


# ------------------------------------------------------------------------------------------------ main


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{cpu}, {os.cpu_count()} logical cores, Python {platform.python_version()}, "
        f"pybullet {version('pybullet')}, numpy {version('numpy')}, gymnasium {version('gymnasium')}, "
        f"panda-gym {version('panda-gym')}"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a fast smoke run (smaller counts, one seed)")
    ap.add_argument("--seeds", type=int, default=None, help="episode seeds per scenario (default 3; quick: 1)")
    ap.add_argument("--seed", type=int, default=0, help="base seed of the scenes and random actions")
    ap.add_argument("--physics-steps", type=int, default=None, help="steps per physics repeat (default 2000)")
    ap.add_argument("--physics-repeats", type=int, default=None, help="physics repeats (default 5)")
    ap.add_argument("--render-reps", type=int, default=None, help="renders per camera and size (default 5)")
    ap.add_argument("--resolutions", nargs="+", default=None, help="WxH sizes (default 320x240 640x480 1280x960)")
    ap.add_argument("--no-egl", action="store_true", help="do not probe the EGL renderer plugin")
    ap.add_argument("--skip-episodes", action="store_true", help="skip the episode timings")
    ap.add_argument("--skip-gym", action="store_true", help="skip the gymnasium / panda-gym comparison")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="Markdown report (default runs/bench/sim_speed.md; with --quick runs/bench/sim_speed_quick.md)",
    )
    ap.add_argument("--egl-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    q = args.quick
    args.out = args.out or ROOT / "runs" / "bench" / ("sim_speed_quick.md" if q else "sim_speed.md")
    args.seeds = args.seeds if args.seeds is not None else (1 if q else 3)
    args.physics_steps = args.physics_steps or (500 if q else 2000)
    args.physics_repeats = args.physics_repeats or (3 if q else 5)
    args.render_reps = args.render_reps or (2 if q else 5)
    sizes = args.resolutions or [f"{w}x{h}" for w, h in (RESOLUTIONS[:2] if q else RESOLUTIONS)]
    args.resolutions = [tuple(int(v) for v in s.lower().split("x")) for s in sizes]
    # env comparison counts: ours is ~100x slower per step, so it gets fewer
    args.our_resets, args.our_steps = (3, 10) if q else (20, 60)
    args.pg_resets, args.pg_steps = (50, 300) if q else (500, 5000)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.egl_worker:
        result = egl_worker(args.resolutions, args.render_reps, args.seed)
        print(EGL_MARKER + json.dumps(result), flush=True)
        return 0

    from rich.console import Console

    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("langgraph").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*Deserializing unregistered type.*")
    console = Console(width=140)
    started = time.perf_counter()
    info = machine()
    console.print(f"[bold]sim_speed[/bold]{' (quick)' if args.quick else ''}: {info}")

    sections: list[Section] = []
    summary: dict[str, str] = {}

    console.rule("1. physics")
    sec = bench_physics(args.physics_steps, args.physics_repeats, args.seed, per_type=not args.quick)
    sec.print(console)
    sections.append(sec)
    summary["physics steps/s (empty / 6 objects)"] = f"{sec.rows[0][2]} / {sec.rows[1][2]}"

    console.rule("2. rendering")
    sec, egl_status = bench_render(args.resolutions, args.render_reps, args.seed, egl=not args.no_egl)
    sec.print(console)
    sections.append(sec)
    w, h = args.resolutions[0]
    summary[f"top camera {w}x{h} Tiny (ms)"] = sec.rows[0][1]
    summary["EGL"] = egl_status

    if not args.skip_episodes:
        console.rule("3. episodes")
        seeds = list(range(args.seed, args.seed + args.seeds))
        families = {"pick_place", "stacking", "sorting"} if args.quick else None
        sec, totals = bench_episodes(seeds, families, console)
        sec.print(console)
        sections.append(sec)
        for r in sec.rows:
            if r[0].startswith("**"):
                summary[f"{r[0].strip('*')} median episode (s)"] = r[4]

    console.rule("3b. skills")
    sec = bench_skills(list(range(args.seed, args.seed + args.seeds)))
    sec.print(console)
    sections.append(sec)
    for r in sec.rows:
        summary[f"{r[0]}: physics steps / wall s (median)"] = f"{r[2]} / {r[4]}"

    if not args.skip_gym:
        console.rule("4. gymnasium env vs panda-gym")
        sec = bench_versus(args.our_resets, args.our_steps, args.pg_resets, args.pg_steps, args.seed, console)
        sec.print(console)
        sections.append(sec)
        for r in sec.rows[:3]:
            summary[f"{r[0]}: ours (sample / valid; render off: sample / valid) vs panda-gym"] = (
                f"{r[1]} / {r[2]}; {r[3]} / {r[4]} vs {r[5]}: {r[6]} / {r[7]}; {r[8]} / {r[9]}"
            )

    elapsed = time.perf_counter() - started
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    cli = sys.argv[1:] if argv is None else list(argv)
    doc = [
        f"## Simulation speed{' (quick run)' if args.quick else ''}",
        "",
        f"Machine: {info}. Headless (PyBullet DIRECT), CPU only. Load average at the end (1, 5, 15 min): {load}.",
        f"Command: `python -m benchmarks.sim_speed{''.join(' ' + a for a in cli)}` ({elapsed:.0f} s).",
        "",
    ]
    doc += [s.markdown() + "\n" for s in sections]
    markdown = "\n".join(doc).rstrip() + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown, encoding="utf-8")

    console.rule("summary")
    for k, v in summary.items():
        print(f"{k}: {v}")
    print(f"total wall time: {elapsed:.0f} s")
    print()
    print(markdown)
    print(f"(written to {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
