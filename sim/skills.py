"""Pick and place skills for the simulated Panda, driven by *perceived* geometry.

The agent calls :class:`Skills` with what it perceived (an object's axis-aligned box and footprint yaw, a
target surface height); nothing here reads simulator truth about objects. The only feedback the skills use
is what a real robot has too: joint positions, finger contacts (the gripper's "object detected" signal) and
contact forces on the hand and the held object (what a wrist force sensor would feel).

Grasp: **physical, friction only.** The hand comes down from above with its fingers across the object's
narrower footprint side, the fingers close under a force limit (a gear constraint keeps them symmetric)
and finger friction carries the object. No fixed constraint is ever created.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from sim.robot import (
    FINGER_LINKS,
    FINGER_MAX,
    FINGERTIP_BELOW_EE,
    PandaRobot,
    Unreachable,
    wrap_angle,
)
from sim.scene import HANDOVER_ZONE

if TYPE_CHECKING:
    from sim.world import World

log = logging.getLogger(__name__)

Vec3 = tuple[float, float, float]

FAILURE_REASONS = {
    "invalid_input": "a position or extent is not finite, or an extent is not positive",
    "unreachable": "a target lies outside the arm's reach (or its IK residual exceeds 1 cm); nothing moved",
    "too_wide": "the object is wider than the open gripper",
    "already_holding": "pick was asked while the gripper already holds an object",
    "nothing_grasped": "the fingers closed on nothing",
    "dropped": "the object was lost while lifting or carrying it",
    "not_holding": "place was asked while the gripper holds nothing",
    "blocked": "the hand came down on something well before its grasp/release height; it backed off",
    "motion_failed": "the arm could not follow its planned path",
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


def _nearest_yaw(yaw: float, symmetry: float, reference: float) -> float:
    """The angle equivalent to ``yaw`` modulo ``symmetry`` that is closest to ``reference``."""
    k = round((reference - yaw) / symmetry)
    return wrap_angle(yaw + k * symmetry)


class Skills:
    """Pick, place and home for the simulated Panda (a :class:`RobotInterface`-shaped object).

    Args:
        world: the :class:`sim.world.World` whose robot this drives.
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
        """Hold the grasped object out in :data:`sim.scene.HANDOVER_ZONE` for a person to take.

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
        pos, ext = _vec3(position), _vec3(extent)
        try:
            yaw = float(yaw)
        except (TypeError, ValueError):
            yaw = math.nan
        if pos is None or ext is None or not math.isfinite(yaw):
            return self._result("pick", False, "invalid_input", "position/extent must be 3 finite numbers", t0)
        if min(ext) <= 0:
            return self._result("pick", False, "invalid_input", f"extent {ext} must be positive", t0)
        if self.robot.holding():
            return self._result("pick", False, "already_holding", "the gripper already holds an object", t0)
        x, y, z = pos
        ex, ey, ez = ext

        # Grasp across the narrower footprint side; fingers close along (sin psi, -cos psi).
        a, b = footprint_sides(ext, yaw)
        square = abs(a - b) < SQUARE_TOLERANCE
        width = min(a, b)
        if width > MAX_GAP - 0.006:
            return self._result(
                "pick", False, "too_wide", f"{width * 100:.1f} cm is too wide for the gripper", t0, width=width
            )
        close_dir = yaw if a <= b else yaw + math.pi / 2
        symmetry = math.pi / 2 if square else math.pi
        hand_yaw = _nearest_yaw(close_dir + math.pi / 2, symmetry, math.atan2(y, x))

        bottom, top = z - ez / 2, z + ez / 2
        # Grasp high: the fingertips reach GRASP_DEPTH below the top (less for short objects, and never
        # closer than 4 mm to the table or the object's bottom), which keeps the wide hand above neighbours.
        grasp_z = top - GRASP_DEPTH + FINGERTIP_BELOW_EE
        grasp_z = max(grasp_z, bottom + FINGERTIP_BELOW_EE + 0.004, FINGERTIP_BELOW_EE + 0.004)
        grasp_z = min(grasp_z, top + FINGERTIP_BELOW_EE - 0.008)
        above_z = max(top + APPROACH_CLEARANCE, grasp_z + APPROACH_CLEARANCE, SAFE_HEIGHT)
        grasp = (x, y, grasp_z)
        lift = (x, y, grasp_z + LIFT_HEIGHT)
        detail: dict[str, Any] = {"grasp": grasp, "hand_yaw": round(hand_yaw, 4), "width": round(width, 4)}

        try:
            lift_first = self._lift_plan(SAFE_HEIGHT)
            *approach, descend = self._plan([*lift_first, ((x, y, above_z), hand_yaw), (grasp, hand_yaw)])
            self._plan([(lift, hand_yaw)])  # the lift must be reachable too
        except Unreachable as exc:
            return self._result("pick", False, "unreachable", str(exc), t0, target=exc.target, **detail)

        # Open only as wide as needed, so that the fingers keep clear of neighbours.
        opening = min(MAX_GAP, width + 2 * FINGER_CLEARANCE)
        clearance = max((opening - width) / 2, 0.006)
        self.robot.open_gripper(opening)
        for path in approach:
            self.robot.follow(path, speed=TRANSIT_SPEED)
        gx, gy = x, y
        landed: set[int] = set()  # fingers that came down on something so far
        for attempt in range(GRASP_ATTEMPTS):
            motion = self.robot.follow(
                descend, speed=APPROACH_SPEED, monitor=lambda: not self.robot.downward_contacts(), monitor_every=1
            )
            height = self.robot.ee_position()[2] - grasp_z
            detail["contact_stop"] = motion.aborted
            if motion.ok:
                break
            # Stopped by a downward contact before the grasp height. Recovery uses only what was felt:
            # - one finger landed: most likely on the object's edge (the perceived position is off and the
            #   object reaches under that finger), so shift the hand towards that finger by the clearance;
            # - both fingers landed (at once, or one after the other): the object is wider than its box
            #   suggested (e.g. round), so open fully and come down again over the perceived centre;
            # - the hand landed, or nothing is left to try: a stop close to the grasp height counts as
            #   arrived, anything higher is reported as "blocked".
            links = {link for link, _ in self.robot.downward_contacts()}
            fingers_only = bool(links) and links <= set(FINGER_LINKS)
            landed |= links & set(FINGER_LINKS)
            last = attempt == GRASP_ATTEMPTS - 1
            widen = fingers_only and len(landed) == 2 and opening < MAX_GAP - 1e-4
            shift = self._shift_towards(links, clearance) if fingers_only and len(links) == 1 and not widen else None
            if height <= CONTACT_STOP_TOLERANCE and (last or not (widen or shift)):
                break
            if last or not (widen or shift):
                self._recover(open_gripper=True)
                return self._result(
                    "pick",
                    False,
                    "blocked",
                    f"the hand came down on something {height * 1000:.0f} mm above the grasp height",
                    t0,
                    **detail,
                )
            if widen:
                opening, gx, gy = MAX_GAP, x, y
                clearance = max((opening - width) / 2, 0.006)
                landed.clear()
                log.info("pick: both fingers landed %.0f mm high; retrying fully open", height * 1000)
            elif shift is not None:
                gx, gy = gx + shift[0], gy + shift[1]
                log.info("pick: a finger landed %.0f mm high; retrying %.1f mm aside", height * 1000, clearance * 1000)
            try:
                ux, uy, uz = self.robot.ee_position()
                up_z = max(uz + 0.01, grasp_z + 0.03)
                self.robot.follow(self.robot.plan_line((ux, uy, up_z), hand_yaw), speed=LIFT_SPEED)
                self.robot.open_gripper(opening)
                aside, descend = self._plan([((gx, gy, up_z), hand_yaw), ((gx, gy, grasp_z), hand_yaw)])
            except Unreachable as exc:
                self._recover(open_gripper=True)
                return self._result("pick", False, "unreachable", str(exc), t0, target=exc.target, **detail)
            self.robot.follow(aside, speed=APPROACH_SPEED)
        detail["grasp"] = (gx, gy, grasp_z)
        detail["attempts"] = attempt + 1
        try:
            rise = self.robot.plan_line((gx, gy, grasp_z + LIFT_HEIGHT), hand_yaw)
        except Unreachable as exc:  # pragma: no cover - checked above up to the small shift
            self._recover(open_gripper=True)
            return self._result("pick", False, "unreachable", str(exc), t0, target=exc.target, **detail)
        gap = self.robot.close_gripper()
        detail["gap"] = round(gap, 4)
        if not self.robot.holding():
            self._recover(open_gripper=True)
            return self._result(
                "pick", False, "nothing_grasped", f"fingers closed to {gap * 1000:.1f} mm on nothing", t0, **detail
            )
        grasp_ee_z = self.robot.ee_position()[2]
        motion = self.robot.follow(rise, speed=LIFT_SPEED, monitor=self.robot.holding)
        if not self.robot.holding():
            self._recover(open_gripper=True)
            return self._result("pick", False, "dropped", "the object slipped out while lifting", t0, **detail)
        self._held = _Held(bottom_below_ee=grasp_ee_z - bottom, extent=(ex, ey, ez), yaw_symmetry=symmetry)
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
            self.robot.follow(self.robot.plan_line(retreat, hand_yaw), speed=LIFT_SPEED)
        self.robot.open_gripper()
        self.robot.go_home()
        return self._result("place", True, None, f"released at z={release_z:.3f}", t0, **detail)
