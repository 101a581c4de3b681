"""Franka Panda (pybullet_data ``franka_panda/panda.urdf``): IK motion, gripper and contact sensing.

The arm is position-controlled: every motion is planned first (a straight Cartesian line cut into short
segments, each solved by inverse kinematics), then executed by streaming interpolated joint targets to
PyBullet's position motors while the simulation is advanced by the step callable the robot was given (the
world's ``step``, so that its clock and step listeners see every step). Every loop has a step bound. The robot
knows nothing else of the world: it gets a PyBullet client, that callable and the bodies it must not take for
an object (the table).

Inverse kinematics runs on a private kinematic copy of the Panda in a separate DIRECT client (one per
process), so that a plan can be checked (forward kinematics, residual) without disturbing the simulated
arm. Its joints are reset from an explicit seed before each solve, so plans are deterministic.

The gripper closes under a force limit; the grasp is held by finger friction alone (no constraint).
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pybullet as p
import pybullet_data

log = logging.getLogger(__name__)

Vec3 = tuple[float, float, float]

URDF = "franka_panda/panda.urdf"
HOME_JOINTS = (0.0, -1.3, 0.0, -2.9, 0.0, 1.6, 0.785)
"""Home pose: the hand is at about x=0.19, z=0.36, out of view of the top-down camera."""
REST_JOINTS = (0.0, -0.2, 0.0, -2.2, 0.0, 2.0, 0.785)
"""Null-space preference of IK: a comfortable elbow-up, hand-down configuration over the table."""
ARM_JOINTS = (0, 1, 2, 3, 4, 5, 6)
FINGER_JOINTS = (9, 10)
FINGER_LINKS = (9, 10)
HAND_LINK = 8
EE_LINK = 11
"""``panda_grasptarget``: between the finger pads, 0.105 m below the hand frame."""
ARM_FORCES = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
ARM_POSITION_GAIN = 0.3
FINGER_MAX = 0.04
"""Travel of each finger joint (metres). The pad gap is the sum of both joints: 0.08 m fully open."""
FINGER_FRICTION = 1.5
FINGER_SPINNING_FRICTION = 0.05
GRIP_FORCE = 20.0
"""Force limit of each finger motor when closing (the URDF's effort limit)."""
GEAR_FORCE = 10.0
"""Strength of the finger gear constraint: enough to centre the fingers, weaker than a finger motor, so that
one finger still closes when the other is stopped by an object that does not slide."""
FINGERTIP_BELOW_EE = 0.011
"""The fingertips reach this far below the grasp target."""
PALM_ABOVE_EE = 0.035
"""The underside of the hand is this far above the grasp target."""
IK_TOLERANCE = 0.01
"""A target whose IK position residual is larger than this (metres) is unreachable."""
IK_ORIENTATION_TOLERANCE = 0.05
"""... or whose orientation error is larger than this (radians)."""
MAX_REACH = 0.88
"""Distance from the shoulder (joint 2, 0.333 m above the base) beyond which nothing is tried."""
SHOULDER = (0.0, 0.0, 0.333)

_DT = 1.0 / 240.0
_NULLSPACE_ITERATIONS = 5
_DAMPING = 1e-4 * np.eye(6)
_EYE7 = np.eye(7)


class Unreachable(RuntimeError):
    """A Cartesian target cannot be reached with the hand pointing down."""

    def __init__(self, target: Sequence[float], residual: float, why: str) -> None:
        super().__init__(f"target {tuple(round(v, 3) for v in target)} unreachable: {why}")
        self.target = tuple(target)
        self.residual = residual
        self.why = why


@dataclass(frozen=True)
class IKSolution:
    """Arm joints for a hand pose and how far forward kinematics lands from the target."""

    joints: tuple[float, ...]
    position: Vec3
    residual: float
    orientation_error: float


@dataclass(frozen=True)
class MotionResult:
    """Outcome of executing a motion on the simulated arm."""

    ok: bool
    steps: int
    error: float
    """Distance of the hand from the final target at the end (metres)."""
    aborted: bool = False
    """True if the monitor stopped the motion."""


def down_orientation(yaw: float) -> tuple[float, float, float, float]:
    """Quaternion of the hand pointing straight down, rotated ``yaw`` about z.

    The fingers then close along the world direction ``(sin yaw, -cos yaw)``.
    """
    return tuple(p.getQuaternionFromEuler((math.pi, 0.0, yaw)))


def wrap_angle(a: float) -> float:
    """Angle wrapped to [-pi, pi)."""
    return (a + math.pi) % (2 * math.pi) - math.pi


class _Kinematics:
    """A kinematic-only Panda in its own DIRECT client, used for IK and forward kinematics."""

    _instance: _Kinematics | None = None
    _pid: int | None = None
    _lock = threading.Lock()

    @classmethod
    def get(cls) -> _Kinematics:
        with cls._lock:
            if cls._instance is None or cls._pid != os.getpid():
                cls._instance = cls()
                cls._pid = os.getpid()
            return cls._instance

    def __init__(self) -> None:
        self.client = p.connect(p.DIRECT)
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=self.client)
        self.body = p.loadURDF(URDF, [0, 0, 0], useFixedBase=True, physicsClientId=self.client)
        self.lock = threading.Lock()
        info = [p.getJointInfo(self.body, j, physicsClientId=self.client) for j in ARM_JOINTS]
        self.lower = np.array([i[8] for i in info])
        self.upper = np.array([i[9] for i in info])

    def _set(self, joints: Sequence[float]) -> None:
        p.resetJointStatesMultiDof(
            self.body, ARM_JOINTS, [[float(q)] for q in joints], [[0.0]] * len(ARM_JOINTS), physicsClientId=self.client
        )

    def forward(self, joints: Sequence[float]) -> tuple[Vec3, tuple[float, float, float, float]]:
        """Hand (grasp target) pose for arm joints."""
        with self.lock:
            self._set(joints)
            s = p.getLinkState(self.body, EE_LINK, computeForwardKinematics=True, physicsClientId=self.client)
            return tuple(s[4]), tuple(s[5])

    def solve(
        self,
        position: Sequence[float],
        orientation: Sequence[float],
        seed: Sequence[float],
        rest: Sequence[float] = REST_JOINTS,
        iterations: int = 60,
    ) -> IKSolution:
        """Damped least-squares IK (position and orientation) from ``seed``, within the joint limits.

        The first few iterations also pull the arm towards ``rest`` in the Jacobian's null space, which
        keeps the elbow up and the wrist centred; the later ones only reduce the pose error.
        """
        target = np.asarray(position, dtype=float)
        r_target = _matrix(orientation)
        rest_q = np.asarray(rest, dtype=float)
        q = np.clip(np.asarray(seed, dtype=float), self.lower, self.upper)
        zeros = [0.0] * (len(ARM_JOINTS) + len(FINGER_JOINTS))
        with self.lock:
            for it in range(iterations):
                self._set(q)
                s = p.getLinkState(self.body, EE_LINK, computeForwardKinematics=True, physicsClientId=self.client)
                e_pos = target - np.asarray(s[4])
                r_err = r_target @ _matrix(s[5]).T
                e_rot = 0.5 * np.array(
                    [r_err[2, 1] - r_err[1, 2], r_err[0, 2] - r_err[2, 0], r_err[1, 0] - r_err[0, 1]]
                )
                if it >= _NULLSPACE_ITERATIONS and np.linalg.norm(e_pos) < 5e-5 and np.linalg.norm(e_rot) < 5e-4:
                    break
                lin, ang = p.calculateJacobian(
                    self.body,
                    EE_LINK,
                    [0.0, 0.0, 0.0],
                    [*q.tolist(), FINGER_MAX, FINGER_MAX],
                    zeros,
                    zeros,
                    physicsClientId=self.client,
                )
                jac = np.asarray((*lin, *ang))[:, :7]
                pinv = jac.T @ np.linalg.inv(jac @ jac.T + _DAMPING)
                dq = pinv @ np.concatenate([e_pos, e_rot])
                if it < _NULLSPACE_ITERATIONS:
                    dq += (_EYE7 - pinv @ jac) @ (0.2 * (rest_q - q))
                biggest = float(np.abs(dq).max())
                if biggest > 0.3:
                    dq *= 0.3 / biggest
                q = np.clip(q + dq, self.lower, self.upper)
            self._set(q)
            s = p.getLinkState(self.body, EE_LINK, computeForwardKinematics=True, physicsClientId=self.client)
            pos = tuple(float(v) for v in s[4])
            return IKSolution(
                tuple(float(v) for v in q),
                pos,
                math.dist(pos, position),
                _orientation_error(s[5], orientation),
            )


def _matrix(quaternion: Sequence[float]) -> np.ndarray:
    return np.asarray(p.getMatrixFromQuaternion(quaternion), dtype=float).reshape(3, 3)


def _orientation_error(q1: Sequence[float], q2: Sequence[float]) -> float:
    """Angle (radians) of the rotation between two quaternions."""
    dot = abs(sum(a * b for a, b in zip(q1, q2, strict=True)))
    return 2.0 * math.acos(min(1.0, dot))


class PandaRobot:
    """The simulated Franka Panda, fixed at the world origin, with IK motion and a friction gripper.

    Args:
        client: the PyBullet physics client the robot is loaded into.
        step: advances the simulation by one physics step (e.g. :meth:`groundsight.sim.world.World.step`); every
            motion and gripper loop calls it once per step.
        fixtures: bodies that are never an object in the hand (e.g. the table), see :meth:`held_body`.
    """

    def __init__(self, client: int, step: Callable[[], None], fixtures: Collection[int] = ()) -> None:
        self.client = client
        self._step = step
        self.fixtures = frozenset(fixtures)
        self.body = p.loadURDF(URDF, [0, 0, 0], useFixedBase=True, physicsClientId=self.client)
        self.kin = _Kinematics.get()
        for link in FINGER_LINKS:
            p.changeDynamics(
                self.body,
                link,
                lateralFriction=FINGER_FRICTION,
                spinningFriction=FINGER_SPINNING_FRICTION,
                physicsClientId=self.client,
            )
        # The URDF's finger mimic is not enforced by PyBullet: a gear constraint keeps the fingers symmetric,
        # so that a held object cannot slide along the closing direction.
        self._gear = p.createConstraint(
            self.body,
            FINGER_LINKS[0],
            self.body,
            FINGER_LINKS[1],
            jointType=p.JOINT_GEAR,
            jointAxis=[1, 0, 0],
            parentFramePosition=[0, 0, 0],
            childFramePosition=[0, 0, 0],
            physicsClientId=self.client,
        )
        p.changeConstraint(self._gear, gearRatio=-1, erp=0.1, maxForce=GEAR_FORCE, physicsClientId=self.client)
        self._arm_target: tuple[float, ...] = HOME_JOINTS
        self.reset(HOME_JOINTS, FINGER_MAX)

    # ----------------------------------------------------------------------------------------- state

    def reset(self, joints: Sequence[float] = HOME_JOINTS, finger: float = FINGER_MAX) -> None:
        """Teleport the arm to ``joints`` (no physics) and hold it there; fingers to ``finger`` each."""
        for j, q in zip(ARM_JOINTS, joints, strict=True):
            p.resetJointState(self.body, j, q, physicsClientId=self.client)
        for j in FINGER_JOINTS:
            p.resetJointState(self.body, j, finger, physicsClientId=self.client)
        self._command_arm(tuple(joints))
        self._command_fingers(finger, GRIP_FORCE)

    def joint_positions(self) -> tuple[float, ...]:
        """Current positions of the seven arm joints (radians)."""
        return tuple(s[0] for s in p.getJointStates(self.body, ARM_JOINTS, physicsClientId=self.client))

    def joint_velocities(self) -> tuple[float, ...]:
        return tuple(s[1] for s in p.getJointStates(self.body, ARM_JOINTS, physicsClientId=self.client))

    def ee_pose(self) -> tuple[Vec3, tuple[float, float, float, float]]:
        """World position and orientation (quaternion) of the grasp target between the fingers."""
        s = p.getLinkState(self.body, EE_LINK, computeForwardKinematics=True, physicsClientId=self.client)
        return tuple(s[4]), tuple(s[5])

    def ee_position(self) -> Vec3:
        return self.ee_pose()[0]

    def ee_yaw(self) -> float:
        """Rotation of the hand about the vertical (see :func:`down_orientation`)."""
        return p.getEulerFromQuaternion(self.ee_pose()[1])[2]

    def finger_positions(self) -> tuple[float, float]:
        """Joint positions of the two fingers (0 = closed, 0.04 = open)."""
        a, b = (s[0] for s in p.getJointStates(self.body, FINGER_JOINTS, physicsClientId=self.client))
        return a, b

    def gripper_gap(self) -> float:
        """Approximate distance between the finger pads (metres)."""
        return max(0.0, sum(self.finger_positions()))

    # ----------------------------------------------------------------------------------------- contacts

    def finger_contacts(self, finger: int) -> set[int]:
        """Bodies (other than the robot) touched by finger 0 (left) or 1 (right)."""
        pts = p.getContactPoints(bodyA=self.body, linkIndexA=FINGER_LINKS[finger], physicsClientId=self.client)
        return {c[2] for c in pts if c[2] != self.body}

    def finger_contact_force(self, finger: int, body: int | None = None) -> float:
        """Total normal force on a finger, optionally only from ``body`` (newtons)."""
        pts = p.getContactPoints(bodyA=self.body, linkIndexA=FINGER_LINKS[finger], physicsClientId=self.client)
        return sum(c[9] for c in pts if c[2] != self.body and (body is None or c[2] == body))

    def hand_contacts(self) -> set[int]:
        """Bodies touched by any part of the robot (arm, hand or fingers)."""
        pts = p.getContactPoints(bodyA=self.body, physicsClientId=self.client)
        return {c[2] for c in pts if c[2] != self.body}

    def supported(self, body: int | None, min_force: float = 0.5) -> bool:
        """True if ``body`` (e.g. the held one) presses on anything other than the robot (wrist-force proxy)."""
        if body is None:
            return False
        pts = p.getContactPoints(bodyA=body, physicsClientId=self.client)
        return any(c[2] != self.body and c[9] > min_force for c in pts)

    def downward_contacts(self, min_force: float = 1.0) -> list[tuple[int, int]]:
        """``(link, body)`` pairs where the hand (link 8) or a finger presses down on something.

        A contact counts when its normal force exceeds ``min_force`` newtons and its normal is mostly
        vertical (landing on a top face or an edge, not brushing a side).
        """
        out: list[tuple[int, int]] = []
        for link in (HAND_LINK, *FINGER_LINKS):
            pts = p.getContactPoints(bodyA=self.body, linkIndexA=link, physicsClientId=self.client)
            if any(c[2] != self.body and c[9] > min_force and abs(c[7][2]) > 0.5 for c in pts):
                out.extend(sorted({(link, c[2]) for c in pts if c[2] != self.body}))
        return out

    def blocked_from_below(self, min_force: float = 1.0) -> int | None:
        """A body the hand or fingers press down on (see :meth:`downward_contacts`), or None."""
        contacts = self.downward_contacts(min_force)
        return contacts[0][1] if contacts else None

    def link_position(self, link: int) -> Vec3:
        """World position of a link frame (e.g. a finger)."""
        s = p.getLinkState(self.body, link, computeForwardKinematics=True, physicsClientId=self.client)
        return tuple(s[4])

    def _graspable(self, body: int) -> bool:
        return body != self.body and body not in self.fixtures

    def held_body(self) -> int | None:
        """The body both fingers touch, if the fingers are not fully closed; else None."""
        if sum(self.finger_positions()) < 0.002:
            return None
        common = self.finger_contacts(0) & self.finger_contacts(1)
        candidates = sorted(b for b in common if self._graspable(b))
        return candidates[0] if candidates else None

    def holding(self) -> bool:
        """True if both fingers touch the same object and the fingers are not fully closed."""
        return self.held_body() is not None

    # ----------------------------------------------------------------------------------------- commands

    def _command_arm(self, joints: Sequence[float]) -> None:
        self._arm_target = tuple(joints)
        p.setJointMotorControlArray(
            self.body,
            ARM_JOINTS,
            p.POSITION_CONTROL,
            targetPositions=list(joints),
            forces=list(ARM_FORCES),
            positionGains=[ARM_POSITION_GAIN] * 7,
            physicsClientId=self.client,
        )

    def _command_fingers(self, target: float, force: float) -> None:
        p.setJointMotorControlArray(
            self.body,
            FINGER_JOINTS,
            p.POSITION_CONTROL,
            targetPositions=[target, target],
            forces=[force, force],
            positionGains=[0.2, 0.2],
            physicsClientId=self.client,
        )

    # ----------------------------------------------------------------------------------------- planning

    def solve_ik(self, position: Sequence[float], yaw: float, seed: Sequence[float] | None = None) -> IKSolution:
        """Joints that put the grasp target at ``position`` with the hand down and rotated ``yaw``."""
        return self.kin.solve(position, down_orientation(yaw), seed if seed is not None else self.joint_positions())

    def check_reach(self, position: Sequence[float]) -> None:
        """Raise :class:`Unreachable` if ``position`` is obviously out of the arm's reach."""
        if not all(math.isfinite(v) for v in position):
            raise Unreachable(position, math.inf, "non-finite target")
        d = math.dist(position, SHOULDER)
        if d > MAX_REACH:
            raise Unreachable(position, d - MAX_REACH, f"{d:.3f} m from the shoulder (reach {MAX_REACH} m)")
        if math.hypot(position[0], position[1]) < 0.2 and position[2] < 0.3:
            raise Unreachable(position, math.inf, "too close to the robot base")

    def plan_line(
        self,
        target: Sequence[float],
        yaw: float,
        start_joints: Sequence[float] | None = None,
        segment: float = 0.02,
    ) -> list[tuple[float, ...]]:
        """Joint waypoints along the straight line to ``target``, hand down, yaw interpolated to ``yaw``.

        The line starts at the hand pose of ``start_joints`` (default: the currently commanded arm
        joints), so that several lines can be planned end to end before anything moves. Raises
        :class:`Unreachable` if any waypoint's IK residual exceeds :data:`IK_TOLERANCE`.
        """
        self.check_reach(target)
        q = tuple(start_joints) if start_joints is not None else self._arm_target
        start, orn = self.kin.forward(q)
        yaw0 = p.getEulerFromQuaternion(orn)[2]
        dyaw = wrap_angle(yaw - yaw0)
        n = max(1, math.ceil(max(math.dist(start, target) / segment, abs(dyaw) / 0.15)))
        out: list[tuple[float, ...]] = []
        for i in range(1, n + 1):
            f = i / n
            pos = tuple(a + (b - a) * f for a, b in zip(start, target, strict=True))
            sol = self.kin.solve(pos, down_orientation(yaw0 + dyaw * f), q)
            if sol.residual > IK_TOLERANCE or sol.orientation_error > IK_ORIENTATION_TOLERANCE:
                raise Unreachable(
                    pos,
                    sol.residual,
                    f"IK residual {sol.residual * 1000:.1f} mm, orientation error {sol.orientation_error:.3f} rad",
                )
            out.append(sol.joints)
            q = sol.joints
        return out

    # ----------------------------------------------------------------------------------------- execution

    def follow(
        self,
        waypoints: Sequence[Sequence[float]],
        speed: float = 0.4,
        segment: float = 0.02,
        monitor: Callable[[], bool] | None = None,
        tolerance: float = 0.002,
        max_settle_steps: int = 240,
        monitor_every: int = 4,
    ) -> MotionResult:
        """Stream joint waypoints (as planned by :meth:`plan_line`) to the arm at about ``speed`` m/s.

        Between waypoints the joint targets are interpolated linearly, once per physics step. At the end
        the arm is given up to ``max_settle_steps`` to come within ``tolerance`` metres of the last
        waypoint. ``monitor`` is called every ``monitor_every`` steps; returning False aborts the motion
        (the arm then holds where it is).
        """
        steps_per = max(1, round(segment / max(speed, 1e-3) / _DT))
        steps = 0
        prev = self._arm_target
        for wp in waypoints:
            wp = tuple(wp)
            for k in range(1, steps_per + 1):
                f = k / steps_per
                self._command_arm(tuple(a + (b - a) * f for a, b in zip(prev, wp, strict=True)))
                self._step()
                steps += 1
                if monitor is not None and steps % monitor_every == 0 and not monitor():
                    return self._abort(steps)
            prev = wp
        return self.settle_arm(tolerance, max_settle_steps, monitor, steps, monitor_every)

    def settle_arm(
        self,
        tolerance: float = 0.002,
        max_steps: int = 240,
        monitor: Callable[[], bool] | None = None,
        steps: int = 0,
        monitor_every: int = 4,
    ) -> MotionResult:
        """Step until the hand is within ``tolerance`` of the commanded pose and (almost) still."""
        target_pos, _ = self.kin.forward(self._arm_target)
        err = math.dist(self.ee_position(), target_pos)
        for i in range(max_steps):
            if err < tolerance and max(abs(v) for v in self.joint_velocities()) < 0.05:
                break
            self._step()
            steps += 1
            if monitor is not None and i % monitor_every == monitor_every - 1 and not monitor():
                return self._abort(steps)
            err = math.dist(self.ee_position(), target_pos)
        return MotionResult(ok=err < max(tolerance, 0.005), steps=steps, error=err)

    def _abort(self, steps: int) -> MotionResult:
        q = self.joint_positions()
        self._command_arm(q)
        target_pos, _ = self.kin.forward(self._arm_target)
        return MotionResult(ok=False, steps=steps, error=math.dist(self.ee_position(), target_pos), aborted=True)

    def move_to(
        self,
        position: Sequence[float],
        yaw: float,
        speed: float = 0.4,
        monitor: Callable[[], bool] | None = None,
    ) -> MotionResult:
        """Move the hand in a straight line to ``position`` with yaw ``yaw`` (raises :class:`Unreachable`)."""
        return self.follow(self.plan_line(position, yaw), speed=speed, monitor=monitor)

    def move_joints(
        self, joints: Sequence[float], speed: float = 1.5, monitor: Callable[[], bool] | None = None
    ) -> MotionResult:
        """Interpolate the arm in joint space to ``joints``; ``speed`` is the largest joint speed (rad/s)."""
        start = self._arm_target
        span = max(abs(b - a) for a, b in zip(start, joints, strict=True))
        n = max(1, round(span / max(speed, 1e-3) / _DT))
        steps = 0
        for k in range(1, n + 1):
            f = 0.5 - 0.5 * math.cos(math.pi * k / n)
            self._command_arm(tuple(a + (b - a) * f for a, b in zip(start, joints, strict=True)))
            self._step()
            steps += 1
            if monitor is not None and steps % 4 == 0 and not monitor():
                return self._abort(steps)
        return self.settle_arm(0.003, 240, monitor, steps)

    def go_home(self, monitor: Callable[[], bool] | None = None) -> MotionResult:
        """Move to :data:`HOME_JOINTS` in joint space."""
        return self.move_joints(HOME_JOINTS, monitor=monitor)

    # ----------------------------------------------------------------------------------------- gripper

    def open_gripper(self, gap: float | None = None, max_steps: int = 120) -> float:
        """Open to a pad gap of ``gap`` metres (default fully) and return the gap reached."""
        q = FINGER_MAX if gap is None else min(FINGER_MAX, max(0.0, gap / 2))
        self._command_fingers(q, GRIP_FORCE)
        self._wait_fingers(lambda: all(abs(v - q) < 0.001 for v in self.finger_positions()), max_steps)
        return self.gripper_gap()

    def close_gripper(self, force: float = GRIP_FORCE, max_steps: int = 160) -> float:
        """Close both fingers with at most ``force`` newtons each until they stop; return the pad gap."""
        self._command_fingers(0.0, force)
        last = self.finger_positions()
        still = 0
        for _ in range(max_steps):
            self._step()
            now = self.finger_positions()
            moved = max(abs(a - b) for a, b in zip(now, last, strict=True))
            last = now
            still = still + 1 if moved < 2e-5 else 0
            if still >= 6:
                break
        return self.gripper_gap()

    def _wait_fingers(self, done: Callable[[], bool], max_steps: int) -> None:
        for _ in range(max_steps):
            if done():
                return
            self._step()
