"""A suction pick-and-place arm as a :class:`~groundsight.agent.loop.robot_interface.RobotInterface`.

Many tabletop benchmarks use this primitive: pick = bring a suction cup down onto an object's top until it
touches, and hold it; place = carry it over the release pose, lower it and let go. :class:`SuctionArm` is that
primitive on a PyBullet arm from ``pybullet_data`` (``kuka_iiwa/model.urdf``; pybullet_data ships no UR5): the
cup is the tip of the last link, the arm moves under joint position control with inverse kinematics, and the
grip is a fixed constraint made only when the tip touches an object (a contact point), removed at release.
Wrap your benchmark's own suction arm the same way.

:func:`run_scenario_with_suction` runs one of groundsight's own scenarios with the Panda replaced by this arm,
through :func:`~groundsight.agent.hosts.api.run_in_host` with the scenario's camera and its success check on
simulator truth; the agent is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pybullet as p
import pybullet_data

from groundsight.sim.skills import SkillResult

Vec3 = tuple[float, float, float]

TIP = 0.048
"""Distance (m) from the last link's frame to the cup at its tip, along the link's z axis."""
DOWN = p.getQuaternionFromEuler((0.0, np.pi, 0.0))
"""The tool pointing straight down."""
SUCTION_BASE: Vec3 = (-0.05, 0.0, 0.0)
"""Where :func:`run_scenario_with_suction` stands the arm: 5 cm behind the Panda's base, so that the iiwa, which
cannot fold close enough to its base with the tool down, reaches the whole table area (x 0.32-0.70 m)."""
READY = [0.0, 0.6, 0.0, -1.4, 0.0, 1.1, 0.0]
"""Joint angles the inverse kinematics prefers (elbow up, wrist over the table)."""


class SuctionArm:
    """A KUKA iiwa with a suction cup, acting in the client's world (the agent's frame: base at ``base``).

    Args:
        client: the PyBullet client of the world.
        base: where the arm's base stands.
        step: advances the world's physics by n steps (default: ``p.stepSimulation``).
        fixtures: bodies the cup never grips (the table).
        approach: how far above an object's top the cup approaches and retreats (m).
    """

    def __init__(
        self,
        client: int,
        base: Vec3 = (0.0, 0.0, 0.0),
        step: Callable[[int], None] | None = None,
        fixtures: Sequence[int] = (),
        approach: float = 0.10,
    ) -> None:
        self.client = client
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
        self.body = p.loadURDF("kuka_iiwa/model.urdf", base, useFixedBase=True, physicsClientId=client)
        self.link = p.getNumJoints(self.body, physicsClientId=client) - 1
        self.joints = list(range(self.link + 1))
        self._step = step or (lambda n: [p.stepSimulation(physicsClientId=client) for _ in range(n)])
        self.fixtures = set(fixtures)
        self.approach = approach
        limits = [p.getJointInfo(self.body, j, physicsClientId=client)[8:10] for j in self.joints]
        self._lower, self._upper = [lo for lo, _ in limits], [hi for _, hi in limits]
        self._ranges = [hi - lo for lo, hi in limits]
        self._grip: int | None = None
        self._held_height = 0.0

    # ---- motion -------------------------------------------------------------------------------
    def tip(self) -> np.ndarray:
        """Where the cup is now."""
        state = p.getLinkState(self.body, self.link, computeForwardKinematics=True, physicsClientId=self.client)
        rot = np.asarray(p.getMatrixFromQuaternion(state[5])).reshape(3, 3)
        return np.asarray(state[4]) + rot @ np.array([0.0, 0.0, TIP])

    def _angles(self) -> np.ndarray:
        return np.array([p.getJointState(self.body, j, physicsClientId=self.client)[0] for j in self.joints])

    def _drive(self, angles: np.ndarray, steps: int) -> None:
        start = self._angles()
        for i in range(1, steps + 1):
            target = start + (angles - start) * i / steps
            p.setJointMotorControlArray(
                self.body, self.joints, p.POSITION_CONTROL, targetPositions=target.tolist(),
                forces=[300.0] * len(self.joints), physicsClientId=self.client,
            )  # fmt: skip
            self._step(2)
        self._step(10)

    def _reach(self, point: np.ndarray, speed: float = 0.25) -> bool:
        """Move the cup to ``point`` (pointing down, elbow up); True when it got within 1 cm. Inverse kinematics
        is solved again from where the arm got to, a few times (one solve from far away is coarse)."""
        link_target = (np.asarray(point) + np.array([0.0, 0.0, TIP])).tolist()
        for _ in range(4):
            angles = p.calculateInverseKinematics(
                self.body, self.link, link_target, DOWN, lowerLimits=self._lower, upperLimits=self._upper,
                jointRanges=self._ranges, restPoses=READY, maxNumIterations=200, residualThreshold=1e-5,
                physicsClientId=self.client,
            )  # fmt: skip
            distance = float(np.linalg.norm(np.asarray(point) - self.tip()))
            if distance < 0.003:
                break
            self._drive(np.asarray(angles[: len(self.joints)]), max(5, int(distance / speed * 240 / 2)))
        return float(np.linalg.norm(np.asarray(point) - self.tip())) < 0.01

    def _touching(self) -> int | None:
        """The body the cup touches (not a fixture), if any."""
        for contact in p.getContactPoints(bodyA=self.body, linkIndexA=self.link, physicsClientId=self.client):
            if contact[2] not in self.fixtures and contact[2] != self.body:
                return int(contact[2])
        return None

    def _suck(self, body: int) -> None:
        """Hold ``body`` where it is relative to the cup (a fixed constraint)."""
        link = p.getLinkState(self.body, self.link, computeForwardKinematics=True, physicsClientId=self.client)
        obj = p.getBasePositionAndOrientation(body, physicsClientId=self.client)
        inv_pos, inv_orn = p.invertTransform(obj[0], obj[1])
        rel_pos, rel_orn = p.multiplyTransforms(inv_pos, inv_orn, link[4], link[5])
        self._grip = p.createConstraint(
            self.body, self.link, body, -1, p.JOINT_FIXED, (0, 0, 0), (0, 0, 0), rel_pos,
            childFrameOrientation=rel_orn, physicsClientId=self.client,
        )  # fmt: skip
        p.changeConstraint(self._grip, maxForce=500, physicsClientId=self.client)

    # ---- RobotInterface -----------------------------------------------------------------------
    def pick(self, position: Vec3, extent: Vec3, yaw: float) -> SkillResult:
        """Bring the cup down onto the box's top until it touches an object, grip it and lift."""
        if self._grip is not None:
            return SkillResult(skill="pick", ok=False, reason="already_holding", message="the cup holds an object")
        top = position[2] + extent[2] / 2
        above = np.array([position[0], position[1], top + self.approach])
        if not self._reach(above):
            return SkillResult(skill="pick", ok=False, reason="unreachable", message="cannot reach above the object")
        touched = None
        for z in np.arange(top + 0.02, top - 0.02, -0.003):
            self._reach(np.array([position[0], position[1], z]), speed=0.05)
            touched = self._touching()
            if touched is not None:
                break
        if touched is None:
            self._reach(above)
            return SkillResult(skill="pick", ok=False, reason="grasp_failed", message="the cup touched nothing")
        self._suck(touched)
        self._held_height = float(self.tip()[2] - (top - extent[2]))
        self._reach(above)
        return SkillResult(skill="pick", ok=True, message="sucked and lifted")

    def place(self, position: Vec3) -> SkillResult:
        """Carry the held object over ``position`` (its bottom), lower it, release, retreat and go home."""
        if self._grip is None:
            return SkillResult(skill="place", ok=False, reason="not_holding", message="the cup holds nothing")
        release = np.array([position[0], position[1], position[2] + self._held_height + 0.005])
        above = release + np.array([0.0, 0.0, self.approach])
        ok = self._reach(np.array([*self.tip()[:2], above[2]])) and self._reach(above) and self._reach(release, 0.1)
        p.removeConstraint(self._grip, physicsClientId=self.client)
        self._grip = None
        self._step(30)
        self._reach(above)
        self.home()
        if not ok:
            return SkillResult(skill="place", ok=False, reason="unreachable", message="released short of the target")
        return SkillResult(skill="place", ok=True, message="set down and released")

    def handover(self) -> SkillResult:
        return SkillResult(skill="handover", ok=False, reason="unsupported", message="no handover with a suction cup")

    def home(self) -> SkillResult:
        """Stand straight up, out of a top camera's view (keeping whatever is held)."""
        if self._grip is not None:
            self._reach(np.array([*self.tip()[:2], 0.35]))
        self._drive(np.zeros(len(self.joints)), 120)
        return SkillResult(skill="home", ok=True, message="home")

    @property
    def holding(self) -> bool:
        """Is an object held by the cup?"""
        return self._grip is not None


def run_scenario_with_suction(scenario: Any, seed: int = 0, out: str | Path | None = None, **options: Any) -> dict:
    """One of groundsight's scenarios with the suction arm in the Panda's place, through ``run_in_host``.

    Returns the :class:`~groundsight.agent.hosts.api.HostResult` as a dict plus ``passed`` (the scenario's
    expectation: success on simulator truth, or a refusal / question with nothing moved)."""
    from groundsight.agent.hosts.api import run_in_host
    from groundsight.agent.tasks.goals import goal_holds, moved_objects
    from groundsight.agent.tasks.sim_bridge import build_world

    world = build_world(scenario, np.random.default_rng(seed))
    try:
        p.removeBody(world.robot.body, physicsClientId=world.client)
        arm = SuctionArm(world.client, base=SUCTION_BASE, step=world.step, fixtures=(world.table,))
        arm.home()
        initial = world.truth_by_id()

        def success() -> bool:
            return bool(goal_holds(scenario.goal, world.truth_by_id(), initial)) if scenario.goal else False

        result = run_in_host(
            scenario.instruction, cameras=world.cameras, robot=arm, success=success, out=out, seed=seed, **options
        )
        moved = moved_objects(world.truth_by_id(), initial)
    finally:
        world.close()
    expected = {"success": "succeeded", "refuse": "refused", "ask": "needs_clarification"}[scenario.expect]
    passed = result.status == expected and (bool(result.host_success) if expected == "succeeded" else not moved)
    return {**result.model_dump(), "expected": scenario.expect, "moved": moved, "passed": passed}
