"""A gymnasium environment over the PyBullet tabletop with a skill-level action space.

Like panda-gym, the environment is split into a robot (the Panda and its :class:`~sim.skills.Skills`), a
task (what to build and when it is solved: the :class:`Task` protocol) and the env that joins them. The
task is injected, so ``sim`` does not need to know about scenario files; ``agent.tasks.scenario_env`` provides a task
made from a scenario and registers ``groundsight/Tabletop-v0``.

Actions are ``MultiDiscrete([len(SKILLS), MAX_OBJECTS, MAX_OBJECTS])``: a skill, the object it acts on,
and the target object (ignored by skills without one). Objects are indexed in the task's order. The
skill gets the object's true box: this is the simulator's own low-level interface, for RL policies and
scripted solvers; the groundsight agent drives the robot with perceived geometry instead.

Observations depend on ``render_mode``:

- ``"rgb_array"`` (default): ``rgb`` and ``depth`` of a camera (320x240 TinyRenderer by default) and ``robot``;
- ``None``: no camera image is ever rendered (for state-based RL): ``robot`` and ``objects``, one row per
  object slot (task order, :data:`MAX_OBJECTS` rows): present (1 or 0), the centre and size of the object's
  true axis-aligned box (m), its yaw (rad); rows of absent objects are zero.

Resets reuse one PyBullet world (:class:`~sim.world.BodyPool`): the client, the Panda, the table and a pool of
object bodies stay; a reset restores the physics state saved with the pool (arm at home, bodies parked, no
contacts), puts this episode's objects on the table top and recolours them. A reset steps no physics, so its
observation and ``info`` are bit for bit those of a new env reset with the same seed, whatever came before.
Objects start exactly resting on the table (bottom at z = 0); the first skill's physics settles them.
``info["truth"]`` leaves out PyBullet's body ids, which depend on the pool's history. The steps after a reset
are deterministic for the same history; after a different history they can differ from a new env's by tens of
micrometres once objects touch (2e-5 m after a pick and a place, in some histories), not bit for bit: the reset
drops every contact cache (see :meth:`~sim.world.BodyPool.place`), but PyBullet's broadphase keeps its history
(its tree and the order of its pairs), which no client call resets short of ``resetSimulation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.camera import CameraConfig
from groundsight.sim.skills import SkillResult, Skills
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import BodyPool, World

SKILLS = ("pick", "place_in", "place_on", "home")
"""Skill ids of the action space, in order."""
MAX_OBJECTS = 8
ROBOT_LOW = np.array([-4.0] * 7 + [0.0, 0.0], dtype=np.float32)
ROBOT_HIGH = np.array([4.0] * 7 + [0.1, 1.0], dtype=np.float32)
"""Robot state: seven joint angles (rad), the gap between the finger pads (m), holding (0 or 1)."""
CONTAINER_FLOOR = 0.008
OBJECT_FEATURES = ("present", "x", "y", "z", "size_x", "size_y", "size_z", "yaw")
"""Columns of the ``objects`` observation (state mode): box centre and size in metres, yaw in radians."""
OBJECTS_LOW = np.array([0.0, -10.0, -10.0, -10.0, 0.0, 0.0, 0.0, -np.pi], dtype=np.float32)
OBJECTS_HIGH = np.array([1.0, 10.0, 10.0, 10.0, 2.0, 2.0, 2.0, np.pi], dtype=np.float32)
"""Bounds of an ``objects`` row; values are clipped to them (an object that falls off the table keeps falling)."""


class Task(Protocol):
    """What an episode is: which objects where, and when it counts as solved (on simulator truth)."""

    instruction: str
    max_steps: int

    def objects(self, rng: np.random.Generator) -> Sequence[ObjectSpec]:
        """Fully placed objects for this episode's random generator."""
        ...

    def is_success(self, truth: dict[str, ObjectTruth], initial: dict[str, ObjectTruth]) -> bool:
        """Is the task solved in this true state?"""
        ...


def release_point(target: ObjectTruth, relation: str) -> tuple[float, float, float]:
    """Where a held object's bottom goes to be ``relation`` (inside / on) ``target``."""
    x, y, z = target.position
    half = target.extent[2] / 2
    return (x, y, z - half + CONTAINER_FLOOR) if relation == "inside" else (x, y, z + half)


class TabletopEnv(gym.Env):
    """Gymnasium environment: observations are camera images plus robot state; actions call skills."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, task: Task, render_mode: str | None = "rgb_array", camera: CameraConfig | None = None) -> None:
        self.task = task
        self.render_mode = render_mode
        self.camera_config = camera or CameraConfig(width=320, height=240)
        c = self.camera_config
        robot = spaces.Box(ROBOT_LOW, ROBOT_HIGH, dtype=np.float32)
        if render_mode is None:
            objects = spaces.Box(
                np.tile(OBJECTS_LOW, (MAX_OBJECTS, 1)), np.tile(OBJECTS_HIGH, (MAX_OBJECTS, 1)), dtype=np.float32
            )
            self.observation_space = spaces.Dict({"robot": robot, "objects": objects})
        else:
            self.observation_space = spaces.Dict(
                {
                    "rgb": spaces.Box(0, 255, (c.height, c.width, 3), np.uint8),
                    "depth": spaces.Box(0.0, c.far, (c.height, c.width), np.float32),
                    "robot": robot,
                }
            )
        self.action_space = spaces.MultiDiscrete([len(SKILLS), MAX_OBJECTS, MAX_OBJECTS])
        self.world: World | None = None
        self.pool: BodyPool | None = None
        self.skills: Skills | None = None
        self._ids: list[str] = []
        self._initial: dict[str, ObjectTruth] = {}
        self._steps = 0

    # ---- gymnasium API -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if self.world is None or self.pool is None:
            self.world = World(cameras=[self.camera_config])
            self.pool = BodyPool(self.world)
        self.pool.place(list(self.task.objects(self.np_random)), colors=self.render_mode is not None)
        self.skills = Skills(self.world)
        self._ids = list(self.world.bodies)[:MAX_OBJECTS]
        truth = self.world.truth_by_id()
        self._initial = truth
        self._steps = 0
        return self._observation(truth), self._info(None, truth)

    def step(self, action):
        assert self.world is not None and self.skills is not None, "call reset() before step()"
        skill, obj, target = (int(a) for a in np.asarray(action).reshape(-1)[:3])
        result = self._run(SKILLS[skill], obj, target)
        self._steps += 1
        truth = self.world.truth_by_id()
        info = self._info(result, truth)
        success = info["is_success"]
        truncated = not success and self._steps >= self.task.max_steps
        return self._observation(truth), float(success), success, truncated, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array" or self.world is None:
            return None
        return self.world.cameras[0].read().rgb

    def close(self) -> None:
        if self.world is not None:
            self.world.close()
        self.world, self.pool, self.skills = None, None, None

    # ---- helpers -------------------------------------------------------------------------------
    def _run(self, skill: str, obj: int, target: int) -> SkillResult:
        assert self.world is not None and self.skills is not None
        if skill == "home":
            return self.skills.home()
        if obj >= len(self._ids) or (skill != "pick" and target >= len(self._ids)):
            return SkillResult(skill=skill, ok=False, reason="invalid_input", message="no object at that index")
        truth = self.world.truth_by_id()
        if skill == "pick":
            t = truth[self._ids[obj]]
            return self.skills.pick(t.position, t.extent, t.yaw)
        relation = "inside" if skill == "place_in" else "on"
        return self.skills.place(release_point(truth[self._ids[target]], relation))

    def _observation(self, truth: dict[str, ObjectTruth]) -> dict[str, np.ndarray]:
        assert self.world is not None and self.skills is not None
        robot = self.world.robot
        state = [*robot.joint_positions()[:7], robot.gripper_gap(), float(self.skills.holding)]
        if self.render_mode is None:
            return {"robot": np.asarray(state, dtype=np.float32), "objects": self._object_rows(truth)}
        frame = self.world.cameras[0].read()
        return {
            "rgb": frame.rgb,
            "depth": np.clip(frame.depth, 0.0, self.camera_config.far).astype(np.float32),
            "robot": np.asarray(state, dtype=np.float32),
        }

    def _object_rows(self, truth: dict[str, ObjectTruth]) -> np.ndarray:
        """The ``objects`` observation: one row of :data:`OBJECT_FEATURES` per object slot."""
        rows = np.zeros((MAX_OBJECTS, len(OBJECT_FEATURES)), dtype=np.float32)
        for i, oid in enumerate(self._ids):
            t = truth[oid]
            rows[i] = (1.0, *t.position, *t.extent, t.yaw)
        return np.clip(rows, OBJECTS_LOW, OBJECTS_HIGH)

    def _info(self, result: SkillResult | None, truth: dict[str, ObjectTruth]) -> dict[str, Any]:
        assert self.world is not None
        skill = None if result is None else result.model_dump(mode="json")
        if skill is not None:  # the skill's wall time is not part of the (deterministic) transition
            skill["detail"].pop("wall_time_s", None)
        return {
            "instruction": self.task.instruction,
            "objects": list(self._ids),
            "truth": {oid: t.model_dump(mode="json", exclude={"body"}) for oid, t in truth.items()},
            "is_success": self.task.is_success(truth, self._initial),
            "skill": skill,
        }
