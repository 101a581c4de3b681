"""panda-gym (3.x) as a host world: its PyBullet client, its Panda, its ``is_success``.

The agent looks through cameras placed in panda-gym's own PyBullet client (the goal markers, panda-gym's
transparent "ghost" boxes, are hidden while the cameras render and exported as named places instead), acts
on panda-gym's own Panda through its control interface (:meth:`Panda.set_action` with end-effector
displacements and the gripper, then ``sim.step``; no object is ever teleported) and is scored by the
task's own ``is_success(achieved_goal, desired_goal)``.

=======================  =========================================================================
``PandaPush-v3``         "push the block to the target" (the fingers are blocked: pick engages the
                         block, place pushes it along the table)
``PandaPickAndPlace-v3`` "put the block on the target"; a goal in the air is exported as a point that
                         is no surface, so the agent refuses and says why
``PandaStack-v3``        "put the blue block on the blue target then put the green block on the green
                         target" (the second target is exported as a surface at the first block's top)
=======================  =========================================================================

The agent's frame has the robot base at the origin (panda-gym puts it at x = -0.6): the cameras report
their poses in it and :class:`PandaGymRobot` converts back. :func:`run_panda_gym` runs one agent episode;
:func:`run_scripted` is the upper bound: the same robot driven with the env's true state.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from groundsight.agent.hosts.api import HostResult, run_in_host
from groundsight.agent.hosts.appearance import Appearance
from groundsight.agent.hosts.camera import PyBulletCamera, translation
from groundsight.agent.hosts.places import NamedPlace
from groundsight.sim.skills import SkillResult

Vec3 = tuple[float, float, float]

TASKS = ("PandaPush-v3", "PandaPickAndPlace-v3", "PandaStack-v3")
INSTRUCTIONS = {
    "PandaPush-v3": "push the block to the target",
    "PandaPickAndPlace-v3": "put the block on the target",
    "PandaStack-v3": "put the blue block on the blue target then put the green block on the green target",
}
"""The instruction the adapter gives for each task."""
APPEARANCE = Appearance(
    albedos={"green": ((0.1, 0.9, 0.1),), "blue": ((0.1, 0.1, 0.9),)},
    table_albedo=(0.95, 0.95, 0.95),
)
"""panda-gym's paints (``envs/tasks/*.py``: the objects' rgba, ``pybullet.py``: the table's)."""
OBJECT_SIZE = 0.04
"""panda-gym's cube side (m)."""
TABLE_GOAL_TOLERANCE = 0.005
"""A goal whose cube bottom is at most this high above the table (m) lies on the table."""
PLACE_SIZE = (0.05, 0.05)
"""Footprint of an exported goal: the agent sees a cube on it when its centre is within 3.5 cm in x and y
(:data:`groundsight.perception.relations.FOOTPRINT_MARGIN` included), inside panda-gym's 5 cm success ball."""
RETRIES = 5
"""The agent's (and the scripted bound's) tries after the first: a push is open loop, the agent closes it."""


def _vec(v: Sequence[float]) -> Vec3:
    return (float(v[0]), float(v[1]), float(v[2]))


class PandaGymRobot:
    """A :class:`~groundsight.agent.loop.robot_interface.RobotInterface` on panda-gym's own Panda.

    Every motion is a sequence of panda-gym actions (end-effector displacement in [-1, 1] x 5 cm, and the
    gripper), each followed by ``sim.step()``. With a blocked gripper (``PandaPush-v3``), ``pick`` engages
    the object without moving and ``place`` pushes it there with the closed fingers, along the table.

    Args:
        env: a panda-gym env (wrapped or not).
        approach: how far above an object's top the hand approaches and retreats (m).
        tolerance: an end-effector target is reached within this distance (m).
        park: where the hand waits, out of the cameras' view (host frame).
    """

    def __init__(
        self, env: Any, approach: float = 0.08, tolerance: float = 0.004, park: Vec3 = (-0.42, 0.0, 0.30)
    ) -> None:
        self.env = env.unwrapped
        self.robot = self.env.robot
        self.sim = self.env.sim
        base = np.asarray(self.sim.get_base_position(self.robot.body_name), dtype=np.float64)
        self.base = np.array([base[0], base[1], 0.0])
        """The agent's origin in the host frame: under the robot base, at the table top (panda-gym's z = 0)."""
        self.approach = approach
        self.tolerance = tolerance
        self.park = np.asarray(park, dtype=np.float64)
        self.pushing = bool(self.robot.block_gripper)
        self._held: tuple[np.ndarray, np.ndarray] | None = None  # (centre in the host frame, extent)
        self._grip = 1.0

    # ---- frames -------------------------------------------------------------------------------
    def to_host(self, point: Sequence[float]) -> np.ndarray:
        """A point of the agent's frame in the host's world frame."""
        return np.asarray(point, dtype=np.float64) + self.base

    def to_agent(self, point: Sequence[float]) -> Vec3:
        """A point of the host's world frame in the agent's frame."""
        return _vec(np.asarray(point, dtype=np.float64) - self.base)

    # ---- low level ----------------------------------------------------------------------------
    def _step(self, displacement: np.ndarray) -> None:
        action = np.clip(displacement / 0.05, -1.0, 1.0)
        if not self.pushing:
            action = np.append(action, self._grip)
        self.robot.set_action(action.astype(np.float32))
        self.sim.step()

    def _move(self, target: np.ndarray, max_steps: int = 60) -> bool:
        """Drive the end effector to ``target`` (host frame); True when it got within the tolerance."""
        for _ in range(max_steps):
            error = target - np.asarray(self.robot.get_ee_position())
            if np.linalg.norm(error) < self.tolerance:
                return True
            self._step(error)
        return bool(np.linalg.norm(target - np.asarray(self.robot.get_ee_position())) < 3 * self.tolerance)

    def _path(self, *targets: np.ndarray) -> bool:
        return all(self._move(t) for t in targets)

    def _gripper(self, opening: float, steps: int = 8) -> None:
        self._grip = opening
        hold = np.asarray(self.robot.get_ee_position())
        for _ in range(steps):
            self._step(hold - np.asarray(self.robot.get_ee_position()))

    def _up(self, z: float) -> np.ndarray:
        ee = np.asarray(self.robot.get_ee_position(), dtype=np.float64)
        return np.array([ee[0], ee[1], max(ee[2], z)])

    @property
    def fingers(self) -> float:
        """The fingers' opening (m)."""
        return float(self.robot.get_fingers_width())

    # ---- RobotInterface -----------------------------------------------------------------------
    def pick(self, position: Vec3, extent: Vec3, yaw: float) -> SkillResult:
        """Grasp the box from above and lift it (push mode: engage it, nothing moves)."""
        centre, size = self.to_host(position), np.asarray(extent, dtype=np.float64)
        if self._held is not None and (self.pushing or self.holding):
            return SkillResult(skill="pick", ok=False, reason="already_holding", message="already holding an object")
        if self.pushing:
            self._held = (centre, size)
            return SkillResult(skill="pick", ok=True, message="engaged the object for a push")
        top = centre[2] + size[2] / 2
        above = np.array([centre[0], centre[1], top + self.approach])
        grasp = np.array([centre[0], centre[1], max(centre[2], top - 0.02)])
        self._gripper(1.0)
        if not self._path(self._up(above[2]), above, grasp):
            return SkillResult(skill="pick", ok=False, reason="unreachable", message="could not reach the grasp")
        self._gripper(-1.0, steps=10)
        self._move(above)
        if not self.holding:
            self._gripper(1.0)
            self._held = None
            return SkillResult(skill="pick", ok=False, reason="grasp_failed", message="the fingers closed on nothing")
        self._held = (centre, size)
        return SkillResult(skill="pick", ok=True, message="grasped and lifted", detail={"fingers": self.fingers})

    def place(self, position: Vec3) -> SkillResult:
        """Set the held object down with its bottom at ``position`` and park (push mode: push it there)."""
        if self._held is None:
            return SkillResult(skill="place", ok=False, reason="not_holding", message="nothing is held")
        goal = self.to_host(position)
        if self.pushing:
            return self._push(goal)
        size = self._held[1]
        centre = np.array([goal[0], goal[1], goal[2] + size[2] / 2])
        above = centre + np.array([0.0, 0.0, self.approach])
        ok = self._path(self._up(above[2]), above, centre + np.array([0.0, 0.0, 0.004]))
        self._gripper(1.0)
        self._held = None
        self._move(self._up(above[2]))
        self.home()
        if not ok:
            return SkillResult(skill="place", ok=False, reason="unreachable", message="released short of the target")
        return SkillResult(skill="place", ok=True, message="set down and released")

    def _push(self, goal: np.ndarray) -> SkillResult:
        """Push the engaged object's centre to ``goal`` (x, y) with the closed fingers, one axis at a time (a
        push through the middle of a face keeps a box square to the push), then park."""
        assert self._held is not None
        start, size = self._held
        self._held = None
        centre = start.copy()
        legs = sorted((0, 1), key=lambda a: -abs(goal[a] - start[a]))  # the longer leg first
        ok = True
        for axis in legs:
            travel = float(goal[axis] - centre[axis])
            if abs(travel) < 0.005:
                continue
            ok = ok and self._push_leg(centre, axis, travel, size)
            centre[axis] = goal[axis]
        self.home()
        if not ok:
            return SkillResult(skill="place", ok=False, reason="unreachable", message="the push did not get there")
        moved = float(np.linalg.norm(goal[:2] - start[:2]))
        return SkillResult(skill="place", ok=True, message="pushed", detail={"distance": round(moved, 3)})

    def _push_leg(self, centre: np.ndarray, axis: int, travel: float, size: np.ndarray) -> bool:
        """Push the object at ``centre`` by ``travel`` along ``axis`` (0: x, 1: y), then back off and lift."""
        u = np.zeros(3)
        u[axis] = np.sign(travel)
        half = size[axis] / 2
        z = centre[2] - size[2] / 2 + min(0.02, size[2] / 2)
        behind = np.array([centre[0], centre[1], z]) - u * (half + 0.03)
        end = behind + u * (abs(travel) + 0.03 - 0.004)
        ok = self._path(self._up(z + self.approach), behind + [0, 0, self.approach], behind)
        ok = ok and self._push_along(behind, end)
        self._move(end - u * 0.03)
        self._move(self._up(z + self.approach))
        return ok

    def _push_along(self, start: np.ndarray, end: np.ndarray, step: float = 0.01) -> bool:
        """Sweep from ``start`` to ``end`` in short straight steps (slowly, so the object is not flung)."""
        n = max(1, int(np.ceil(np.linalg.norm(end - start) / step)))
        for i in range(1, n + 1):
            self._move(start + (end - start) * i / n, max_steps=10)
        return self._move(end)

    def handover(self) -> SkillResult:
        return SkillResult(skill="handover", ok=False, reason="unsupported", message="panda-gym has no person")

    def home(self) -> SkillResult:
        """Park the hand out of the cameras' view (keeping whatever is held)."""
        ok = self._path(self._up(self.park[2]), self.park)
        return SkillResult(skill="home", ok=ok, message="parked" if ok else "could not park")

    @property
    def holding(self) -> bool:
        """Push mode: an object is engaged; else the fingers are stopped by something between them."""
        if self.pushing:
            return self._held is not None
        return self._grip < 0 and self.fingers > 0.01

    def settle(self, steps: int = 20) -> None:
        """Let the world come to rest (a stacked cube is dropped from above at reset) with the hand still."""
        hold = np.asarray(self.robot.get_ee_position())
        for _ in range(steps):
            self._step(hold - np.asarray(self.robot.get_ee_position()))


# ---- the host world's cameras, places and verdict ---------------------------------------------------
def client_id(env: Any) -> int:
    """panda-gym's PyBullet client id."""
    return int(env.unwrapped.sim.physics_client._client)


def ghosts(env: Any) -> list[int]:
    """Body ids of panda-gym's goal markers (``target``, ``target1``, ``target2``)."""
    return [i for name, i in env.unwrapped.sim._bodies_idx.items() if name.startswith("target")]


def cameras(env: Any, width: int = 640, height: int = 480, fov_deg: float = 35.0) -> list[PyBulletCamera]:
    """A camera 0.9 m above the middle of panda-gym's workspace looking straight down (top of the image away
    from the robot), rendering panda-gym's client with its goal markers hidden."""
    robot = PandaGymRobot(env)
    return [
        PyBulletCamera(
            client_id(env),
            fov_deg=fov_deg,
            width=width,
            height=height,
            eye=(0.0, 0.0, 0.9),
            target=(0.0, 0.0, 0.0),
            up=(1.0, 0.0, 0.0),
            name="top",
            world_from_host=translation(tuple(-robot.base)),
            hide=ghosts(env),
        )
    ]


def places(env: Any) -> list[NamedPlace]:
    """The task's goals as named places in the agent's frame (a cube goal's centre minus half a cube)."""
    task, robot = env.unwrapped.task, PandaGymRobot(env)
    goal = np.asarray(task.goal, dtype=np.float64)
    half = np.array([0.0, 0.0, OBJECT_SIZE / 2])
    if goal.shape == (6,):  # PandaStack: the first cube's goal on the table, the second's on top of it
        return [
            NamedPlace(name="blue target", position=robot.to_agent(goal[:3] - half), size=PLACE_SIZE),
            NamedPlace(name="green target", position=robot.to_agent(goal[3:] - half), size=PLACE_SIZE),
        ]
    bottom = goal - half
    on_table = bool(bottom[2] <= TABLE_GOAL_TOLERANCE)
    return [NamedPlace(name="target", position=robot.to_agent(bottom), size=PLACE_SIZE, surface=on_table)]


def is_success(env: Any) -> bool:
    """panda-gym's own verdict: ``task.is_success(achieved_goal, desired_goal)``."""
    task = env.unwrapped.task
    return bool(np.all(task.is_success(task.get_achieved_goal(), task.goal)))


def goal_on_table(env: Any) -> bool:
    """Does every goal cube rest on the table or on the cube below it (not in the air)?"""
    return all(p.surface for p in places(env))


def make_env(env_id: str, seed: int) -> Any:
    """``gym.make(env_id)`` reset with ``seed``, its world settled and the hand parked out of view."""
    import gymnasium as gym
    import panda_gym  # noqa: F401 - registers the envs

    env = gym.make(env_id)
    env.reset(seed=seed)
    robot = PandaGymRobot(env)
    robot.settle()
    robot.home()
    return env


def run_panda_gym(
    env_id: str = "PandaPush-v3", seed: int = 0, out: str | Path | None = None, **options: Any
) -> HostResult:
    """One agent episode in a fresh panda-gym env: its instruction, cameras, robot, places and ``is_success``.
    ``options`` go to :func:`~groundsight.agent.hosts.api.run_in_host`."""
    if env_id not in INSTRUCTIONS:
        raise ValueError(f"unknown panda-gym task {env_id!r} (known: {', '.join(INSTRUCTIONS)})")
    env = make_env(env_id, seed)
    try:
        return run_in_host(
            INSTRUCTIONS[env_id],
            cameras=cameras(env),
            robot=PandaGymRobot(env),
            places=places(env),
            success=lambda: is_success(env),
            out=out,
            seed=seed,
            appearance=APPEARANCE,
            **{"max_retries": RETRIES, "max_steps": 60, **options},
        )
    finally:
        env.close()


def run_scripted(env_id: str = "PandaPush-v3", seed: int = 0, attempts: int = 1 + RETRIES) -> dict[str, Any]:
    """The upper bound: the same robot driven with the env's true state (object boxes and goals), no agent,
    trying again up to ``attempts`` times in all while ``is_success`` says no (as many as the agent gets).
    Returns ``{"success": is_success, "on_table": goal on the table}``; a goal in the air is not attempted."""
    env = make_env(env_id, seed)
    try:
        robot, sim, task = PandaGymRobot(env), env.unwrapped.sim, env.unwrapped.task
        on_table = goal_on_table(env)
        names = ("object1", "object2") if np.asarray(task.goal).shape == (6,) else ("object",)
        goals = [p.position for p in places(env)]
        extent = (OBJECT_SIZE, OBJECT_SIZE, OBJECT_SIZE)
        for _ in range(attempts if on_table else 0):  # as many tries as the agent gets (a push may fall short)
            for name, goal in zip(names, goals, strict=True):
                robot.pick(robot.to_agent(sim.get_base_position(name)), extent, 0.0)
                robot.place(goal)
            if is_success(env):
                break
        return {"success": is_success(env), "on_table": on_table}
    finally:
        env.close()
