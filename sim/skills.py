"""Pick, place and push skills for the simulated Panda, driven by *perceived* geometry.

The agent calls :class:`Skills` with what it perceived (an object's axis-aligned box and footprint yaw, a
target surface height); nothing here reads simulator truth about objects. The only feedback the skills use
is what a real robot has too: joint positions, finger contacts (the gripper's "object detected" signal) and
contact forces on the hand and the held object (what a wrist force sensor would feel).

Grasp: **physical, friction only.** The hand comes down from above with its fingers across the object's
narrower footprint side, the fingers close under a force limit (a gear constraint keeps them symmetric)
and finger friction carries the object. No fixed constraint is ever created.

Push: **physical, contact only.** The closed fingers come down behind the object and sweep along the
table; the push ends a given distance after the fingers first touched something (what a wrist force sensor
would feel), so that the object moves that far whatever its exact shape or perceived position.

Every skill plans its whole Cartesian path with inverse kinematics before it moves, so an unreachable
target is reported without moving anything. Failures are reported, never hidden: see
:data:`FAILURE_REASONS`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pybullet as p
from pydantic import BaseModel, ConfigDict, Field

from groundsight.sim.panda import (
    FINGER_LINKS,
    FINGER_MAX,
    FINGERTIP_BELOW_EE,
    IK_ORIENTATION_TOLERANCE,
    IK_TOLERANCE,
    PALM_ABOVE_EE,
    MotionResult,
    PandaRobot,
    Unreachable,
    down_orientation,
    wrap_angle,
)
from groundsight.sim.scene import HANDOVER_ZONE

if TYPE_CHECKING:
    from groundsight.sim.world import World

log = logging.getLogger(__name__)

Vec3 = tuple[float, float, float]

FAILURE_REASONS = {
    "invalid_input": "a position or extent is not finite, or an extent is not positive",
    "unreachable": "a target lies outside the arm's reach (or its IK residual exceeds 1 cm); nothing moved",
    "too_wide": "the object is wider than the open gripper",
    "already_holding": "pick or push was asked while the gripper already holds an object",
    "nothing_grasped": "the fingers closed on nothing",
    "dropped": "the object was lost while lifting or carrying it",
    "not_holding": "place was asked while the gripper holds nothing",
    "blocked": "the hand came down on something well before its grasp/release height; it backed off",
    "motion_failed": "the arm could not follow its planned path",
    "missed": "push swept its whole stroke without touching anything (nothing where the object was perceived)",
    "lost_contact": "push lost the object on the way (it slid off the fingers or rolled away) before the distance",
}
"""Machine-friendly ``SkillResult.reason`` values and what they mean."""

LIFT_HEIGHT = 0.15
"""How far the hand rises after closing on an object (metres)."""
APPROACH_CLEARANCE = 0.08
"""The hand starts its descent this far above the object's top (or the release point)."""
RELEASE_GAP = 0.01
"""The held object's bottom is released this far above the target surface."""
GRASP_DEPTH = 0.027
"""How far below an object's top the fingertips go when grasping it (metres)."""
CONTACT_STOP_TOLERANCE = 0.012
"""A descent stopped by contact this close to its goal height counts as arrived (grasp or release there)."""
GRASP_ATTEMPTS = 4
"""Descents per pick: after a finger lands on the object's edge the hand shifts aside (or opens wider) and
tries again."""
SAFE_HEIGHT = 0.12
"""Before a skill moves sideways, the hand is raised to at least this height."""
TRANSIT_SPEED = 0.6
APPROACH_SPEED = 0.3
LIFT_SPEED = 0.3
MAX_GAP = 2 * FINGER_MAX
FINGER_CLEARANCE = 0.0125
"""Before a grasp, each finger opens this far beyond the object's side (when the gripper allows)."""
SQUARE_TOLERANCE = 0.005
"""Footprint sides closer than this are treated as a square (the grasp yaw is then taken mod 90 deg)."""
PUSH_CLEARANCE = 0.025
"""Before a push, the closed fingers come down this far behind the object's (perceived) box."""
PUSH_HEIGHT = 0.02
"""The grasp target pushes at most this high above the object's bottom (and no higher than its centre)."""
PUSH_FINGERTIP_GAP = 0.005
"""... but always with the fingertips at least this far above the object's bottom (the table)."""
PUSH_SLACK = 0.03
"""The planned stroke reaches this much beyond where the push should end, for an object farther than
perceived; the push itself stops ``distance`` after the first contact."""
PUSH_BACKOFF = 0.01
"""After a push, the hand backs off this far from the object before it rises."""
PUSH_SPEED = 0.1
"""Hand speed while pushing (m/s): slow, so that the object slides along instead of being knocked away."""
PUSH_TILT = 0.2
"""While pushing, the hand leans this far (radians) with its fingertips forward. The closed fingers are
wider at the top than at the tips, so an upright hand would touch an object with the top of its fingers
first, at the object's top edge, and tip it over; leaning, the fingertips lead and push low."""
MAX_JOINT_STEP = 0.5
"""Largest joint change (radians) between two waypoints of a push's leaning lines."""
PUSH_LOST_TRAVEL = 0.02
"""A push stops, failed, when the hand has moved this far since it last felt the object (it slid off)."""
PUSH_TOUCH_FORCE = 0.5
"""The push counts as touching the object once the hand and fingers feel this much force (newtons)."""
FINGERS_HALF_DEPTH = 0.0145
"""Half the depth of the closed finger pair, across the fingers' closing direction (metres)."""
HAND_HALF_DEPTH = 0.036
"""Half the depth of the hand above the fingers, across the closing direction (metres)."""


class SkillResult(BaseModel):
    """What a skill did: ``ok``, and if not, a machine-friendly ``reason`` (see :data:`FAILURE_REASONS`)."""

    model_config = ConfigDict(frozen=True)

    skill: str
    ok: bool
    reason: str | None = None
    message: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class _Held:
    """What :meth:`Skills.pick` remembers about the object it holds."""

    bottom_below_ee: float
    """How far the object's (perceived) bottom is below the grasp point."""
    extent: Vec3
    yaw_symmetry: float
    """Rotating the hand by a multiple of this keeps the object's footprint aligned (pi/2 or pi)."""


def footprint_sides(extent: Sequence[float], yaw: float) -> tuple[float, float]:
    """Side lengths (along the object's own x and y) of a rectangle whose axis-aligned box is ``extent``.

    A rectangle ``a x b`` rotated by ``yaw`` covers ``a|cos| + b|sin|`` by ``a|sin| + b|cos|``. Near 45 deg
    the system is ill-conditioned and the footprint is taken to be a square.
    """
    ex, ey = float(extent[0]), float(extent[1])
    c, s = abs(math.cos(yaw)), abs(math.sin(yaw))
    det = c * c - s * s
    square = (ex + ey) / 2 / (c + s)
    if abs(det) < 0.3:
        return square, square
    a = (ex * c - ey * s) / det
    b = (ey * c - ex * s) / det
    lo, hi = 0.3 * min(ex, ey), max(ex, ey)
    a, b = min(max(a, lo), hi), min(max(b, lo), hi)
    if abs(a - b) < SQUARE_TOLERANCE:
        return square, square
    return a, b


def _jsonable(value: Any) -> Any:
    """Tuples to lists and floats rounded to 5 decimals, so that a result survives a JSON round trip."""
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 5)
    return value


def _vec3(value: Any) -> Vec3 | None:
    """Three finite floats from any sequence or array, or None."""
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return out if len(out) == 3 and all(math.isfinite(v) for v in out) else None  # type: ignore[return-value]


def _direction(value: Any) -> tuple[float, float] | None:
    """A unit vector on the table from a vector ``(dx, dy)`` (normalised) or an angle in radians, or None."""
    try:
        if isinstance(value, int | float) or getattr(value, "ndim", None) == 0:
            angle = float(value)
            return (math.cos(angle), math.sin(angle)) if math.isfinite(angle) else None
        dx, dy = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    norm = math.hypot(dx, dy)
    if not math.isfinite(norm) or norm < 1e-6:
        return None
    return dx / norm, dy / norm


def _leaning_orientation(yaw: float, tilt: float, direction: tuple[float, float]) -> tuple[float, ...]:
    """The hand down and rotated ``yaw`` (see :func:`groundsight.sim.panda.down_orientation`), then leaned by ``tilt``
    radians so that its fingertips point forward along the table ``direction``."""
    dx, dy = direction
    half = tilt / 2
    lean = (dy * math.sin(half), -dx * math.sin(half), 0.0, math.cos(half))  # about (dy, -dx, 0)
    return tuple(p.multiplyTransforms((0, 0, 0), lean, (0, 0, 0), down_orientation(yaw))[1])


def _nearest_yaw(yaw: float, symmetry: float, reference: float) -> float:
    """The angle equivalent to ``yaw`` modulo ``symmetry`` that is closest to ``reference``."""
    k = round((reference - yaw) / symmetry)
    return wrap_angle(yaw + k * symmetry)


NOT_FINITE = "position/extent must be 3 finite numbers"


def _number(value: Any) -> float:
    """``value`` as a float; NaN if it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _checked_box(position: Any, extent: Any) -> tuple[Vec3, Vec3] | str:
    """A perceived box's centre and extent as finite floats, or the message saying what is wrong with them."""
    pos, ext = _vec3(position), _vec3(extent)
    if pos is None or ext is None:
        return NOT_FINITE
    if min(ext) <= 0:
        return f"extent {ext} must be positive"
    return pos, ext


@dataclass(frozen=True)
class _GraspPlan:
    """Where and how :meth:`Skills.pick` grasps a perceived box, worked out before anything moves."""

    x: float
    y: float
    grasp_z: float
    """Height of the grasp target (between the finger pads) when the fingers close."""
    above_z: float
    """The descent to the grasp starts at this height."""
    hand_yaw: float
    width: float
    """The footprint side the fingers close across."""
    symmetry: float
    """Rotating the hand by a multiple of this keeps the object's footprint aligned (pi/2 or pi)."""
    bottom: float

    @classmethod
    def across(cls, position: Vec3, extent: Vec3, yaw: float) -> _GraspPlan:
        """Grasp across the narrower footprint side (the fingers close along ``(sin psi, -cos psi)``), high:
        the fingertips reach :data:`GRASP_DEPTH` below the top (less for short objects, and never closer than
        4 mm to the table or the object's bottom), which keeps the wide hand above neighbours."""
        x, y, z = position
        a, b = footprint_sides(extent, yaw)
        symmetry = math.pi / 2 if abs(a - b) < SQUARE_TOLERANCE else math.pi
        close_dir = yaw if a <= b else yaw + math.pi / 2
        hand_yaw = _nearest_yaw(close_dir + math.pi / 2, symmetry, math.atan2(y, x))
        bottom, top = z - extent[2] / 2, z + extent[2] / 2
        grasp_z = top - GRASP_DEPTH + FINGERTIP_BELOW_EE
        grasp_z = max(grasp_z, bottom + FINGERTIP_BELOW_EE + 0.004, FINGERTIP_BELOW_EE + 0.004)
        grasp_z = min(grasp_z, top + FINGERTIP_BELOW_EE - 0.008)
        above_z = max(top + APPROACH_CLEARANCE, grasp_z + APPROACH_CLEARANCE, SAFE_HEIGHT)
        return cls(x, y, grasp_z, above_z, hand_yaw, min(a, b), symmetry, bottom)

    def at(self, x: float, y: float, rise: float = 0.0) -> Vec3:
        """The grasp point moved to ``(x, y)`` and ``rise`` metres up."""
        return (x, y, self.grasp_z + rise)

    def pose(self, x: float, y: float, rise: float = 0.0) -> tuple[Vec3, float]:
        """:meth:`at` with the hand's yaw, as :meth:`Skills._plan` takes it."""
        return self.at(x, y, rise), self.hand_yaw


@dataclass
class _GraspTries:
    """Where :meth:`Skills.pick` comes down next and how wide the fingers open, updated after each landing."""

    x: float
    y: float
    opening: float
    width: float
    descend: list[tuple[float, ...]]
    """The planned descent to the grasp height at ``(x, y)``."""
    landed: set[int] = field(default_factory=set)
    """Fingers that came down on something since the fingers last opened wider."""

    @property
    def clearance(self) -> float:
        """How far each open finger is from the object's side (at least 6 mm: the shift towards a finger)."""
        return max((self.opening - self.width) / 2, 0.006)

    def move(self, grasp: _GraspPlan, widen: bool, shift: tuple[float, float] | None, height: float) -> None:
        """Open fully over the perceived centre (``widen``), or shift the hand by ``shift``."""
        if widen:
            self.opening, self.x, self.y = MAX_GAP, grasp.x, grasp.y
            self.landed.clear()
            log.info("pick: both fingers landed %.0f mm high; retrying fully open", height * 1000)
        elif shift is not None:
            self.x, self.y = self.x + shift[0], self.y + shift[1]
            log.info("pick: a finger landed %.0f mm high; retrying %.1f mm aside", height * 1000, self.clearance * 1000)


@dataclass(frozen=True)
class _PushStroke:
    """The straight line :meth:`Skills.push` sweeps along, worked out from the perceived box."""

    direction: tuple[float, float]
    distance: float
    start: Vec3
    """Where the grasp target comes down, behind the object, at the pushing height."""
    end: Vec3
    """The end of the planned stroke (:data:`PUSH_SLACK` beyond where the push should end)."""
    back: Vec3
    """Where the hand backs off to from ``end``."""
    above_z: float
    top: float
    length: float

    @classmethod
    def behind(cls, position: Vec3, extent: Vec3, direction: tuple[float, float], distance: float) -> _PushStroke:
        """The stroke that pushes the box at ``position`` with ``extent`` ``distance`` along ``direction``."""
        x, y, z = position
        ex, ey, ez = extent
        dx, dy = direction
        bottom, top = z - ez / 2, z + ez / 2
        # Pushing height of the grasp target: a bit below the centre, the fingertips above the support.
        push_z = max(bottom + min(ez / 2, PUSH_HEIGHT), bottom + FINGERTIP_BELOW_EE + PUSH_FINGERTIP_GAP)
        # How far the box reaches along the push direction: its corner (a turned block may reach it) and,
        # for the stroke length, the inscribed ellipse (a round object only reaches that far).
        reach_box = ex / 2 * abs(dx) + ey / 2 * abs(dy)
        reach_round = math.hypot(ex / 2 * dx, ey / 2 * dy)
        offset = reach_box + FINGERS_HALF_DEPTH + PUSH_CLEARANCE
        if top > push_z + PALM_ABOVE_EE - 0.005:  # the hand would overhang a tall object: keep it clear too
            offset = max(offset, reach_box + HAND_HALF_DEPTH + 0.01)
        length = offset - FINGERS_HALF_DEPTH - reach_round + distance + PUSH_SLACK
        start = (x - dx * offset, y - dy * offset, push_z)
        end = (start[0] + dx * length, start[1] + dy * length, push_z)
        back = (end[0] - dx * PUSH_BACKOFF, end[1] - dy * PUSH_BACKOFF, push_z)
        above_z = max(top + APPROACH_CLEARANCE, push_z + APPROACH_CLEARANCE, SAFE_HEIGHT)
        return cls(direction, distance, start, end, back, above_z, top, length)


class Skills:
    """Pick, place, push, handover and home for the simulated Panda (a :class:`RobotInterface`-shaped object).

    Args:
        world: the :class:`groundsight.sim.world.World` whose robot this drives.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.robot: PandaRobot = world.robot
        self._held: _Held | None = None

    # ------------------------------------------------------------------------------------------ helpers

    def _result(self, skill: str, ok: bool, reason: str | None, message: str, t0: float, **detail: Any) -> SkillResult:
        detail = {k: _jsonable(v) for k, v in detail.items()}
        detail["wall_time_s"] = round(time.perf_counter() - t0, 4)
        detail["sim_steps"] = self.world.steps
        if ok:
            log.info("%s ok: %s", skill, message)
        else:
            log.warning("%s failed (%s): %s", skill, reason, message)
        return SkillResult(skill=skill, ok=ok, reason=reason, message=message, detail=detail)

    def _plan(self, waypoints: list[tuple[Vec3, float]]) -> list[list[tuple[float, ...]]]:
        """Plan straight lines through ``(position, yaw)`` waypoints, end to end; raises Unreachable."""
        paths: list[list[tuple[float, ...]]] = []
        q = None
        for pos, yaw in waypoints:
            path = self.robot.plan_line(pos, yaw, start_joints=q)
            paths.append(path)
            q = path[-1]
        return paths

    def _plan_leaning(
        self,
        start: tuple[Vec3, float, float],
        waypoints: list[tuple[Vec3, float, float]],
        direction: tuple[float, float],
        start_joints: Sequence[float],
        segment: float = 0.02,
    ) -> list[list[tuple[float, ...]]]:
        """Like :meth:`_plan` for ``(position, yaw, tilt)`` waypoints: straight lines along which the hand
        leans ``tilt`` radians towards ``direction`` (interpolated), from the pose ``start`` that the arm has
        at ``start_joints``. Raises :class:`Unreachable` like :meth:`PandaRobot.plan_line`, and also when
        the IK solution jumps more than :data:`MAX_JOINT_STEP` between waypoints (another arm configuration:
        the hand would leave the line)."""
        paths: list[list[tuple[float, ...]]] = []
        q = tuple(start_joints)
        pos0, yaw0, tilt0 = start
        for pos, yaw, tilt in waypoints:
            self.robot.check_reach(pos)
            dyaw = wrap_angle(yaw - yaw0)
            n = max(1, math.ceil(max(math.dist(pos0, pos) / segment, abs(dyaw) / 0.15, abs(tilt - tilt0) / 0.05)))
            path: list[tuple[float, ...]] = []
            for i in range(1, n + 1):
                f = i / n
                at = tuple(a + (b - a) * f for a, b in zip(pos0, pos, strict=True))
                orn = _leaning_orientation(yaw0 + dyaw * f, tilt0 + (tilt - tilt0) * f, direction)
                sol = self.robot.kin.solve(at, orn, q)
                if sol.residual > IK_TOLERANCE or sol.orientation_error > IK_ORIENTATION_TOLERANCE:
                    raise Unreachable(
                        at,
                        sol.residual,
                        f"IK residual {sol.residual * 1000:.1f} mm, orientation error {sol.orientation_error:.3f} rad",
                    )
                jump = max(abs(a - b) for a, b in zip(sol.joints, q, strict=True))
                if jump > MAX_JOINT_STEP:
                    raise Unreachable(at, sol.residual, f"IK jumps {jump:.2f} rad between waypoints (no straight line)")
                path.append(sol.joints)
                q = sol.joints
            paths.append(path)
            pos0, yaw0, tilt0 = pos, yaw, tilt
        return paths

    def _push_retreat(
        self,
        stopped: Vec3,
        hand_yaw: float,
        tilt: float,
        direction: tuple[float, float],
        seed: Sequence[float],
        heights: Sequence[float],
    ) -> None:
        """After a push: back off :data:`PUSH_BACKOFF` straightening up, then rise to the first of ``heights``
        that a straight line reaches. IK is seeded with ``seed`` (the planned sweep's joints nearest to where
        the hand stopped), so that the retreat keeps the arm configuration checked before the push. If no
        line works, the hand rises as far as it can. Never raises."""
        dx, dy = direction
        retreat = (stopped[0] - dx * PUSH_BACKOFF, stopped[1] - dy * PUSH_BACKOFF, stopped[2])
        error: Unreachable | None = None
        for rise_z in sorted({round(h, 4) for h in heights if h > stopped[2]}, reverse=True):
            try:
                paths = self._plan_leaning(
                    (stopped, hand_yaw, tilt),
                    [(retreat, hand_yaw, 0.0), ((retreat[0], retreat[1], rise_z), hand_yaw, 0.0)],
                    direction,
                    seed,
                )
                jump = max(abs(a - b) for a, b in zip(paths[0][0], self.robot.joint_positions(), strict=True))
                if jump > MAX_JOINT_STEP:
                    raise Unreachable(retreat, 0.0, f"the arm is {jump:.2f} rad off its planned configuration")
            except Unreachable as exc:
                error = exc
                continue
            for path in paths:
                self.robot.follow(path, speed=LIFT_SPEED)
            return
        log.warning("push: cannot back off along a line (%s); rising as far as possible", error)
        self._recover(open_gripper=False)

    def _lift_plan(self, min_z: float) -> list[tuple[Vec3, float]]:
        """A vertical move up to ``min_z`` if the hand is lower than that, else nothing."""
        x, y, z = self.robot.ee_position()
        return [((x, y, min_z), self.robot.ee_yaw())] if z < min_z - 0.005 else []

    def _shift_towards(self, fingers: set[int], distance: float) -> tuple[float, float] | None:
        """Horizontal shift of ``distance`` from the hand centre towards the (single) given finger."""
        (finger,) = fingers
        fx, fy, _ = self.robot.link_position(finger)
        hx, hy, _ = self.robot.ee_position()
        norm = math.hypot(fx - hx, fy - hy)
        if norm < 1e-4:
            return None
        return ((fx - hx) / norm * distance, (fy - hy) / norm * distance)

    def _recover(self, open_gripper: bool) -> None:
        """After a failure: optionally open, move straight up, go home. Best effort, never raises."""
        if open_gripper:
            self.robot.open_gripper()
        x, y, z = self.robot.ee_position()
        with contextlib.suppress(Unreachable):
            self.robot.move_to((x, y, max(z + 0.05, SAFE_HEIGHT)), self.robot.ee_yaw(), speed=LIFT_SPEED)
        self.robot.go_home()

    def _push_force(self, ignore: int | None) -> float:
        """Total normal force (newtons) on the hand and fingers from anything but ``ignore`` (the table).

        What a wrist force sensor feels while pushing; unlike a contact list it ignores the speculative
        contacts PyBullet reports a few millimetres before two shapes touch.
        """
        pts = p.getContactPoints(bodyA=self.robot.body, physicsClientId=self.robot.client)
        return sum(c[9] for c in pts if c[2] not in (self.robot.body, ignore))

    @property
    def holding(self) -> bool:
        """True if the gripper physically holds an object (both fingers on it)."""
        return self.robot.holding()

    # ------------------------------------------------------------------------------------------ skills

    def home(self) -> SkillResult:
        """Move the arm to its home pose (out of the top camera's view), keeping whatever it holds."""
        t0 = time.perf_counter()
        with contextlib.suppress(Unreachable):
            for path in self._plan(self._lift_plan(SAFE_HEIGHT)):
                self.robot.follow(path, speed=LIFT_SPEED)
        motion = self.robot.go_home()
        if not motion.ok:
            return self._result(
                "home", False, "motion_failed", f"home not reached ({motion.error * 1000:.1f} mm off)", t0
            )
        return self._result("home", True, None, "at home", t0)

    def handover(self) -> SkillResult:
        """Hold the grasped object out in :data:`groundsight.sim.scene.HANDOVER_ZONE` for a person to take.

        The hand rises to a safe height, then moves to the zone's centre (object centre there) and waits,
        still holding: the person's taking is outside the simulation.
        """
        t0 = time.perf_counter()
        if not self.holding:
            return self._result("handover", False, "not_holding", "nothing to hand over", t0)
        (x0, x1), (y0, y1), (z0, z1) = HANDOVER_ZONE
        # the hand goes where the held object's centre ends up in the middle of the zone
        held = self._held
        offset = held.bottom_below_ee - held.extent[2] / 2 if held is not None else 0.0
        target = ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2 + offset)
        yaw = self.robot.ee_yaw()
        try:
            paths = self._plan([*self._lift_plan(SAFE_HEIGHT), (target, yaw)])
        except Unreachable as exc:
            return self._result("handover", False, "unreachable", str(exc), t0)
        for path in paths:
            self.robot.follow(path, speed=TRANSIT_SPEED)
        if not self.holding:
            self._held = None
            self._recover(open_gripper=True)
            return self._result("handover", False, "dropped", "the object fell on the way to the person", t0)
        return self._result("handover", True, None, "holding the object out in the handover zone", t0, at=target)

    def pick(self, position: Sequence[float], extent: Sequence[float], yaw: float) -> SkillResult:
        """Grasp an object from above and lift it about 15 cm.

        Args:
            position: centre (x, y, z) of the object's axis-aligned 3D box, world frame, metres.
            extent: full size (x, y, z) of that box.
            yaw: rotation of the object's footprint about z (radians); the grasp is aligned with it
                (modulo 90 deg for a square footprint, 180 deg otherwise).

        Returns:
            A :class:`SkillResult`; ``reason`` is one of ``invalid_input``, ``unreachable``, ``too_wide``,
            ``already_holding``, ``blocked``, ``nothing_grasped`` or ``dropped`` on failure.
        """
        t0 = time.perf_counter()
        yaw = _number(yaw)
        box = _checked_box(position, extent) if math.isfinite(yaw) else NOT_FINITE
        if isinstance(box, str):
            return self._result("pick", False, "invalid_input", box, t0)
        if self.robot.holding():
            return self._result("pick", False, "already_holding", "the gripper already holds an object", t0)
        grasp = _GraspPlan.across(*box, yaw)
        if grasp.width > MAX_GAP - 0.006:
            why = f"{grasp.width * 100:.1f} cm is too wide for the gripper"
            return self._result("pick", False, "too_wide", why, t0, width=grasp.width)
        detail: dict[str, Any] = {
            "grasp": grasp.at(grasp.x, grasp.y),
            "hand_yaw": round(grasp.hand_yaw, 4),
            "width": round(grasp.width, 4),
        }
        try:
            above = ((grasp.x, grasp.y, grasp.above_z), grasp.hand_yaw)
            *approach, descend = self._plan([*self._lift_plan(SAFE_HEIGHT), above, grasp.pose(grasp.x, grasp.y)])
            self._plan([grasp.pose(grasp.x, grasp.y, LIFT_HEIGHT)])  # the lift must be reachable too
        except Unreachable as exc:
            return self._result("pick", False, "unreachable", str(exc), t0, target=exc.target, **detail)
        # Open only as wide as needed, so that the fingers keep clear of neighbours.
        tries = _GraspTries(grasp.x, grasp.y, min(MAX_GAP, grasp.width + 2 * FINGER_CLEARANCE), grasp.width, descend)
        self.robot.open_gripper(tries.opening)
        for path in approach:
            self.robot.follow(path, speed=TRANSIT_SPEED)
        failed = self._descend_to_grasp(grasp, tries, detail, t0)
        if failed is not None:
            return failed
        return self._close_and_lift(grasp, tries, box[1], detail, t0)

    def _descend_to_grasp(
        self, grasp: _GraspPlan, tries: _GraspTries, detail: dict[str, Any], t0: float
    ) -> SkillResult | None:
        """Come down to the grasp height, up to :data:`GRASP_ATTEMPTS` times; None once there, else the failure.

        A descent stopped by a downward contact is answered with what was felt only:

        - one finger landed: most likely on the object's edge (the perceived position is off and the object
          reaches under that finger), so the hand shifts towards that finger by the clearance;
        - both fingers landed (at once, or one after the other): the object is wider than its box suggested
          (e.g. round), so the fingers open fully and come down again over the perceived centre;
        - the hand landed, or nothing is left to try: a stop close to the grasp height counts as arrived,
          anything higher is reported as ``blocked``.
        """
        for attempt in range(GRASP_ATTEMPTS):
            motion = self.robot.follow(
                tries.descend, speed=APPROACH_SPEED, monitor=lambda: not self.robot.downward_contacts(), monitor_every=1
            )
            height = self.robot.ee_position()[2] - grasp.grasp_z
            detail["contact_stop"] = motion.aborted
            if motion.ok:
                break
            widen, shift = self._landing(tries)
            retry = attempt < GRASP_ATTEMPTS - 1 and (widen or shift is not None)
            if height <= CONTACT_STOP_TOLERANCE and not retry:
                break
            if not retry:
                self._recover(open_gripper=True)
                why = f"the hand came down on something {height * 1000:.0f} mm above the grasp height"
                return self._result("pick", False, "blocked", why, t0, **detail)
            tries.move(grasp, widen, shift, height)
            try:
                self._come_down_again(grasp, tries)
            except Unreachable as exc:
                self._recover(open_gripper=True)
                return self._result("pick", False, "unreachable", str(exc), t0, target=exc.target, **detail)
        detail["grasp"] = grasp.at(tries.x, tries.y)
        detail["attempts"] = attempt + 1
        return None

    def _landing(self, tries: _GraspTries) -> tuple[bool, tuple[float, float] | None]:
        """After a descent stopped by contact: whether to open fully (both fingers have landed by now), else the
        shift towards the single finger that landed (None if that is not what happened)."""
        links = {link for link, _ in self.robot.downward_contacts()}
        fingers_only = bool(links) and links <= set(FINGER_LINKS)
        tries.landed |= links & set(FINGER_LINKS)
        widen = fingers_only and len(tries.landed) == 2 and tries.opening < MAX_GAP - 1e-4
        shift = self._shift_towards(links, tries.clearance) if fingers_only and len(links) == 1 and not widen else None
        return widen, shift

    def _come_down_again(self, grasp: _GraspPlan, tries: _GraspTries) -> None:
        """Rise a little, open to ``tries.opening`` and move above its spot; the new descent goes to ``tries``.
        Raises :class:`Unreachable` (before moving sideways)."""
        ux, uy, uz = self.robot.ee_position()
        up_z = max(uz + 0.01, grasp.grasp_z + 0.03)
        self.robot.follow(self.robot.plan_line((ux, uy, up_z), grasp.hand_yaw), speed=LIFT_SPEED)
        self.robot.open_gripper(tries.opening)
        aside, tries.descend = self._plan([((tries.x, tries.y, up_z), grasp.hand_yaw), grasp.pose(tries.x, tries.y)])
        self.robot.follow(aside, speed=APPROACH_SPEED)

    def _close_and_lift(
        self, grasp: _GraspPlan, tries: _GraspTries, extent: Vec3, detail: dict[str, Any], t0: float
    ) -> SkillResult:
        """Close the fingers at the grasp height and lift; the pick's result."""
        try:
            rise = self.robot.plan_line(grasp.at(tries.x, tries.y, LIFT_HEIGHT), grasp.hand_yaw)
        except Unreachable as exc:  # pragma: no cover - checked above up to the small shift
            self._recover(open_gripper=True)
            return self._result("pick", False, "unreachable", str(exc), t0, target=exc.target, **detail)
        gap = self.robot.close_gripper()
        detail["gap"] = round(gap, 4)
        if not self.robot.holding():
            self._recover(open_gripper=True)
            why = f"fingers closed to {gap * 1000:.1f} mm on nothing"
            return self._result("pick", False, "nothing_grasped", why, t0, **detail)
        grasp_ee_z = self.robot.ee_position()[2]
        self.robot.follow(rise, speed=LIFT_SPEED, monitor=self.robot.holding)
        if not self.robot.holding():
            self._recover(open_gripper=True)
            return self._result("pick", False, "dropped", "the object slipped out while lifting", t0, **detail)
        self._held = _Held(bottom_below_ee=grasp_ee_z - grasp.bottom, extent=extent, yaw_symmetry=grasp.symmetry)
        return self._result("pick", True, None, f"holding an object {gap * 100:.1f} cm wide", t0, **detail)

    def place(self, position: Sequence[float]) -> SkillResult:
        """Put the held object down with its bottom at ``position`` and go home.

        Args:
            position: (x, y, z) where the bottom of the held object should end up, e.g. the top of a
                bowl's floor, a plate or another block.

        The hand moves above the target, descends until the object's bottom is about 1 cm above ``z``
        (or the object touches something first), opens, retreats up and goes home.

        Returns:
            A :class:`SkillResult`; ``reason`` is one of ``invalid_input``, ``not_holding``,
            ``unreachable``, ``blocked`` (still holding) or ``dropped`` on failure.
        """
        t0 = time.perf_counter()
        pos = _vec3(position)
        if pos is None:
            return self._result("place", False, "invalid_input", "position must be 3 finite numbers", t0)
        if not self.robot.holding():
            lost = self._held is not None
            self._held = None
            msg = "the object picked earlier is no longer in the gripper" if lost else "the gripper holds nothing"
            return self._result("place", False, "not_holding", msg, t0)
        held = self._held or _Held(0.02, (0.04, 0.04, 0.04), math.pi / 2)
        x, y, z = pos
        release_z = z + RELEASE_GAP + held.bottom_below_ee
        ex, ey, ez = self.robot.ee_position()
        transit_z = max(ez, release_z + APPROACH_CLEARANCE, SAFE_HEIGHT)
        hand_yaw = _nearest_yaw(self.robot.ee_yaw(), held.yaw_symmetry, math.atan2(y, x))
        release = (x, y, release_z)
        retreat = (x, y, release_z + APPROACH_CLEARANCE)
        detail: dict[str, Any] = {"release": release, "hand_yaw": round(hand_yaw, 4)}
        try:
            waypoints = [((ex, ey, transit_z), self.robot.ee_yaw())] if ez < transit_z - 0.005 else []
            paths = self._plan([*waypoints, ((x, y, transit_z), hand_yaw), (release, hand_yaw)])
            self._plan([(retreat, hand_yaw)])  # the retreat must be reachable too
        except Unreachable as exc:
            return self._result("place", False, "unreachable", str(exc), t0, target=exc.target, **detail)
        *transit, descend = paths

        for path in transit:
            motion = self.robot.follow(path, speed=TRANSIT_SPEED, monitor=self.robot.holding)
            if motion.aborted or not self.robot.holding():
                self._held = None
                self._recover(open_gripper=True)
                return self._result("place", False, "dropped", "the object fell out while carrying it", t0, **detail)

        return self._lower_and_release(descend, release_z, (retreat, hand_yaw), detail, t0)

    def _lower_and_release(
        self,
        descend: list[tuple[float, ...]],
        release_z: float,
        retreat: tuple[Vec3, float],
        detail: dict[str, Any],
        t0: float,
    ) -> SkillResult:
        """Lower the held object along ``descend``, open, back off to ``retreat`` and go home; the place's result."""
        body = self.robot.held_body()

        def descending() -> bool:
            # Stop early when the object already rests on something (a surface higher than perceived), or
            # when the hand comes down on something.
            return self.robot.holding() and not self.robot.supported(body) and self.robot.blocked_from_below() is None

        motion = self.robot.follow(descend, speed=APPROACH_SPEED, monitor=descending)
        if not self.robot.holding():
            self._held = None
            self._recover(open_gripper=True)
            return self._result("place", False, "dropped", "the object fell out while lowering it", t0, **detail)
        height = self.robot.ee_position()[2] - release_z
        detail["contact_stop"] = motion.aborted
        if motion.aborted and not self.robot.supported(body) and height > CONTACT_STOP_TOLERANCE:
            x, y, z = self.robot.ee_position()
            with contextlib.suppress(Unreachable):
                self.robot.move_to((x, y, z + 0.05), self.robot.ee_yaw(), speed=LIFT_SPEED)
            return self._result(
                "place",
                False,
                "blocked",
                f"the hand hit something {height * 1000:.0f} mm above the release height; still holding",
                t0,
                **detail,
            )
        detail["released_at"] = tuple(round(v, 4) for v in self.robot.ee_position())
        gap = self.robot.gripper_gap()
        self.robot.open_gripper(min(MAX_GAP, gap + 0.02))
        self._held = None
        with contextlib.suppress(Unreachable):
            self.robot.follow(self.robot.plan_line(*retreat), speed=LIFT_SPEED)
        self.robot.open_gripper()
        self.robot.go_home()
        return self._result("place", True, None, f"released at z={release_z:.3f}", t0, **detail)

    def push(
        self,
        position: Sequence[float],
        extent: Sequence[float],
        direction: tuple[float, float] | float,
        distance: float,
    ) -> SkillResult:
        """Push an object along the table with the closed fingers, then go home.

        The gripper closes, the hand comes down behind the object (on the side opposite to ``direction``,
        the fingers :data:`PUSH_CLEARANCE` clear of its box) to a pushing height a bit below the object's
        centre (at most :data:`PUSH_HEIGHT` above its bottom, the fingertips above the table), then moves
        in a straight line along ``direction``. The push stops ``distance`` after the fingers first touched
        something (or at the end of the planned stroke, which reaches :data:`PUSH_SLACK` beyond the
        expected end); the hand backs off, rises and goes home, and the gripper opens again.

        The fingers' closing direction is kept across the push, so that the wide side of the closed finger
        pair pushes and the hand's narrow side leads; the hand leans :data:`PUSH_TILT` with its fingertips
        forward, so that it pushes low and does not tip the object over (less, or upright, where the leaning
        pose is out of reach). For an object taller than the hand's underside at the pushing height, the
        hand starts far enough back that it does not come down on the object. Contact is what the wrist
        would feel (contact forces on the hand); if it is lost for :data:`PUSH_LOST_TRAVEL` of hand travel
        (the object slid off the fingers), the push stops.

        Pushing with a point-like pusher is not stable: a block hit on its corner turns, and any object may
        drift sideways a little (about 1.5 cm on average over 10 cm in the simulation), more on long pushes.
        Observe the result.

        Args:
            position: centre (x, y, z) of the object's axis-aligned 3D box, world frame, metres.
            extent: full size (x, y, z) of that box.
            direction: where to push, as a vector ``(dx, dy)`` on the table (normalised here) or an angle
                in radians from +x towards +y.
            distance: how far to push the object (metres), e.g. 0.05 to 0.2.

        Returns:
            A :class:`SkillResult`; ``reason`` is one of ``invalid_input``, ``already_holding``,
            ``unreachable`` (nothing moved), ``blocked`` (the descent came down on something), ``missed``
            (the stroke touched nothing), ``lost_contact`` (the object slid off the fingers) or
            ``motion_failed`` on failure. ``detail`` holds the planned ``start`` and ``end`` of the stroke
            (grasp-target positions; the end includes :data:`PUSH_SLACK`), ``direction`` and ``distance``;
            once planned, ``hand_yaw`` and ``tilt``; after a sweep, ``contact_at``, ``stopped_at`` and
            ``pushed`` (hand travel since the first contact, about the object's travel).
        """
        t0 = time.perf_counter()
        box, unit, distance = _checked_box(position, extent), _direction(direction), _number(distance)
        if isinstance(box, str):
            return self._result("push", False, "invalid_input", box, t0)
        if unit is None:
            return self._result("push", False, "invalid_input", "direction must be a non-zero (dx, dy) or an angle", t0)
        if not math.isfinite(distance) or distance <= 0:
            return self._result("push", False, "invalid_input", f"distance {distance} must be positive", t0)
        if self.robot.holding():
            return self._result("push", False, "already_holding", "the gripper holds an object", t0)
        stroke = _PushStroke.behind(*box, unit, distance)
        detail: dict[str, Any] = {"start": stroke.start, "end": stroke.end, "direction": unit, "distance": distance}
        try:
            tilt, hand_yaw, paths = self._plan_push(stroke)
        except Unreachable as exc:
            return self._result("push", False, "unreachable", str(exc), t0, target=exc.target, **detail)
        *approach, descend, sweep = paths
        detail["hand_yaw"] = round(hand_yaw, 4)
        detail["tilt"] = tilt
        failed = self._come_down_behind(stroke, approach, descend, detail, t0)
        if failed is not None:
            return failed
        motion, contact = self._sweep(stroke, sweep, detail)
        stopped = self.robot.ee_position()
        detail["stopped_at"] = tuple(round(v, 4) for v in stopped)
        stopped_travel = self._push_travel(stroke)
        lost = bool(contact) and stopped_travel - contact[1] >= PUSH_LOST_TRAVEL
        pushed = stopped_travel - contact[0] if contact else 0.0
        detail["pushed"] = round(pushed, 4)
        # Back off from the object straightening up, rise, go home; open the gripper again.
        seed = min(sweep, key=lambda q: math.dist(self.robot.kin.forward(q)[0], stopped))
        heights = (stroke.above_z, stroke.top + 0.04, stopped[2] + 0.04)
        self._push_retreat(stopped, hand_yaw, tilt, unit, seed, heights)
        self.robot.go_home()
        self.robot.open_gripper()
        return self._push_outcome(stroke, motion, contact, pushed, lost, detail, t0)

    def _plan_push(self, stroke: _PushStroke) -> tuple[float, float, list[list[tuple[float, ...]]]]:
        """Tilt, hand yaw and the paths (approach lines, leaning descent, sweep) of a push; raises the first
        :class:`Unreachable` if no pose works.

        The fingers close across the push: hand yaw = push angle (mod pi). The yaw nearer the radial direction
        is tried first, then the other one; the hand leans less (or not at all) where leaning is out of reach.
        """
        start, above_z, back, unit = stroke.start, stroke.above_z, stroke.back, stroke.direction
        first = _nearest_yaw(math.atan2(unit[1], unit[0]), math.pi, math.atan2(start[1], start[0]))
        error: Unreachable | None = None
        yaws = (first, wrap_angle(first + math.pi))
        for tilt, hand_yaw in [(lean, yaw) for lean in (PUSH_TILT, PUSH_TILT / 2, 0.0) for yaw in yaws]:
            try:
                above = (start[0], start[1], above_z)
                approach = self._plan([*self._lift_plan(SAFE_HEIGHT), (above, hand_yaw)])
                # come down leaning, sweep, back off straightening up, rise
                descend, sweep, _, _ = self._plan_leaning(
                    (above, hand_yaw, 0.0),
                    [
                        (start, hand_yaw, tilt),
                        (stroke.end, hand_yaw, tilt),
                        (back, hand_yaw, 0.0),
                        ((back[0], back[1], above_z), hand_yaw, 0.0),
                    ],
                    unit,
                    approach[-1][-1],
                )
            except Unreachable as exc:
                error = error or exc
                continue
            return tilt, hand_yaw, [*approach, descend, sweep]
        assert error is not None
        raise error

    def _come_down_behind(
        self,
        stroke: _PushStroke,
        approach: list[list[tuple[float, ...]]],
        descend: list[tuple[float, ...]],
        detail: dict[str, Any],
        t0: float,
    ) -> SkillResult | None:
        """Close the gripper, move above the stroke's start and come down to it; None there, else the failure."""
        self.robot.close_gripper()
        for path in approach:
            self.robot.follow(path, speed=TRANSIT_SPEED)
        motion = self.robot.follow(
            descend, speed=APPROACH_SPEED, monitor=lambda: not self.robot.downward_contacts(), monitor_every=1
        )
        if motion.ok:
            return None
        height = self.robot.ee_position()[2] - stroke.start[2]
        self._recover(open_gripper=True)
        why = "came down on something" if motion.aborted else "could not reach"
        reason = "blocked" if motion.aborted else "motion_failed"
        return self._result(
            "push", False, reason, f"the hand {why} {height * 1000:.0f} mm above the pushing height", t0, **detail
        )

    def _push_travel(self, stroke: _PushStroke) -> float:
        """How far the hand has moved along the push from the stroke's start (metres)."""
        hx, hy, _ = self.robot.ee_position()
        return (hx - stroke.start[0]) * stroke.direction[0] + (hy - stroke.start[1]) * stroke.direction[1]

    def _sweep(
        self, stroke: _PushStroke, sweep: list[tuple[float, ...]], detail: dict[str, Any]
    ) -> tuple[MotionResult, list[float]]:
        """Follow the sweep until ``stroke.distance`` past the first contact, or contact is lost for
        :data:`PUSH_LOST_TRAVEL`. Returns the motion and the hand travel at the first and last contact (empty
        if nothing was felt); ``detail`` gets ``contact_at``."""
        table = getattr(self.world, "table", None)
        contact: list[float] = []  # hand travel along the push when something was first / last touched

        def pushing() -> bool:
            s = self._push_travel(stroke)
            if self._push_force(table) > PUSH_TOUCH_FORCE:
                if not contact:
                    contact.extend((s, s))
                    hx, hy, hz = self.robot.ee_position()
                    detail["contact_at"] = (round(hx, 4), round(hy, 4), round(hz, 4))
                    log.info("push: contact after %.1f mm of the stroke", s * 1000)
                contact[1] = s
            if not contact:
                return True
            return s - contact[0] < stroke.distance and s - contact[1] < PUSH_LOST_TRAVEL

        return self.robot.follow(sweep, speed=PUSH_SPEED, monitor=pushing, monitor_every=1), contact

    def _push_outcome(
        self,
        stroke: _PushStroke,
        motion: MotionResult,
        contact: list[float],
        pushed: float,
        lost: bool,
        detail: dict[str, Any],
        t0: float,
    ) -> SkillResult:
        """The push's result, from what the sweep felt."""
        if not contact:
            why = f"the {stroke.length * 100:.1f} cm stroke touched nothing"
            return self._result("push", False, "missed", why, t0, **detail)
        if lost:
            why = f"the object slipped off the fingers after {(contact[1] - contact[0]) * 100:.1f} cm of pushing"
            return self._result("push", False, "lost_contact", why, t0, **detail)
        if not motion.ok and not motion.aborted:
            why = f"the hand could not follow the push ({motion.error * 1000:.1f} mm off) after {pushed * 100:.1f} cm"
            return self._result("push", False, "motion_failed", why, t0, **detail)
        dx, dy = stroke.direction
        message = f"pushed {pushed * 100:.1f} cm towards ({dx:.2f}, {dy:.2f})"
        if pushed < stroke.distance - 0.005:
            message += (
                f", {stroke.distance * 100:.1f} cm asked: the stroke ended first (the object was farther than seen)"
            )
        return self._result("push", True, None, message, t0, **detail)
