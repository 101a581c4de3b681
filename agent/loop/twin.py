"""The digital twin: roll a checked plan out on a copy of the world rebuilt from what the agent perceived.

Before the robot moves, :class:`DigitalTwin` builds a fresh, headless PyBullet :class:`groundsight.sim.world.World` with
one body per perceived object (its type, colour, size, x, y and yaw; ids are the percept's), runs the plan
there with the same :class:`groundsight.sim.skills.Skills` and the same geometry as the agent's ``act`` node
(:func:`reasoning.placement.grasp_of`, :func:`groundsight.reasoning.placement.release_point_for`), but computed from the
twin's own truth, and checks every place step's effect and, at the end, every goal atom. Physical failures
that no symbolic check sees (a block put on a ball rolls off, a grasp that cannot close, a release point out
of reach) then stop the plan before anything real moves.

Rebuilding is approximate, and only as good as the percept:

- the size is the percept's when it has one, else the catalogue size whose box best matches the perceived
  extent at the perceived yaw;
- an object's box centre is put where it was perceived, its bottom at the perceived height; an object that
  would then intersect the table or an object rebuilt before it (perceived lower) is raised until it is
  clear, so that objects seen on or inside others are rebuilt resting there; then everything settles;
- round objects are perceived without a direction (yaw 0), so a mug's handle may point elsewhere than in
  the real scene; unknown colours become gray (colour has no physics), unknown types cannot be rebuilt;
- an object the plan places before picking it is in the gripper already (a plan made while holding it):
  the twin rebuilds it on a free spot of the table and picks it up first.

The verdict is a :class:`groundsight.reasoning.thought.CheckResult` named ``twin_rollout``; its facts hold counts only
(never timings), so that the trace stays deterministic. Any error inside the twin is a failed check with a
one-line reason, never an exception.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pybullet as p

from groundsight.perception.objects import Percept, SceneObject
from groundsight.perception.relations import RELATIONS, SUPPORT_GAP
from groundsight.reasoning.placement import PlanStep, grasp_of, release_point_for, still_to_place, table_spot
from groundsight.reasoning.thought import CheckResult, Thought
from groundsight.sim.bodies import COLORS, OBJECT_TYPES, SIZES, ObjectSpec, world_aabb
from groundsight.sim.skills import SkillResult, Skills
from groundsight.sim.truth import ObjectTruth, moved
from groundsight.sim.world import World

log = logging.getLogger(__name__)

CHECK_NAME = "twin_rollout"
ON_TABLE = 0.0005
"""Height (m) of a body's bottom when it is created on the table (see :func:`groundsight.sim.bodies.create_body`)."""
PENETRATION = 0.001
"""A rebuilt object that sinks deeper than this (m) into the table or an object below it is raised."""
LIFT_STEP = 0.001
"""How far (m) an intersecting object is raised at a time while it is rebuilt."""
MAX_LIFT = 0.2
"""An object still intersecting something after being raised this far (m) cannot be rebuilt."""
SETTLE_MOVE = 0.01
"""A rebuilt object that moves more than this (m) while the twin settles is named in the facts."""
FALLBACK_COLOR = "gray"


class TwinError(RuntimeError):
    """The twin cannot rebuild the perceived scene or run the plan on it (a one-line reason)."""


def catalogue_size(obj_type: str, extent: tuple[float, float, float], yaw: float = 0.0) -> str:
    """The catalogue size of ``obj_type`` whose axis-aligned box at ``yaw`` best matches ``extent`` (least
    summed absolute difference; the smaller size on a tie)."""
    orn = p.getQuaternionFromEuler((0.0, 0.0, yaw))
    target = np.asarray(extent, dtype=np.float64)

    def error(size: str) -> float:
        lo, hi = world_aabb(obj_type, size, (0.0, 0.0, 0.0), orn)
        return float(np.abs((hi - lo) - target).sum())

    return min(SIZES, key=error)


def _base_xy(spec: ObjectSpec, centre: tuple[float, float]) -> tuple[float, float]:
    """Where the body's own frame goes so that its box centre (x, y) lies at ``centre``."""
    lo, hi = world_aabb(spec.type, spec.size, (0.0, 0.0, 0.0), p.getQuaternionFromEuler((0.0, 0.0, spec.yaw)))
    return centre[0] - float(lo[0] + hi[0]) / 2, centre[1] - float(lo[1] + hi[1]) / 2


def _spec(obj: SceneObject, guessed: list[str]) -> ObjectSpec:
    if obj.type not in OBJECT_TYPES:
        raise TwinError(f"cannot rebuild {obj.id}: unknown type {obj.type!r} (known: {', '.join(OBJECT_TYPES)})")
    size = obj.size
    if size not in SIZES:
        size = catalogue_size(obj.type, obj.extent, obj.yaw)
        guessed.append(obj.id)
    color = obj.color if obj.color in COLORS else FALLBACK_COLOR
    return ObjectSpec(obj.id, obj.type, color, size, yaw=float(obj.yaw))


def _intersects(world: World, body: int, others: list[int]) -> bool:
    """Does ``body`` sink more than :data:`PENETRATION` into any of ``others``?"""
    return any(
        c[8] < -PENETRATION
        for other in others
        for c in p.getClosestPoints(body, other, 0.0, physicsClientId=world.client)
    )


def _step_text(index: int, step: PlanStep) -> str:
    return f"step {index} {step.text}"


def _skill_failure(result: SkillResult) -> str:
    return f"{result.reason}: {result.message}" if result.message else str(result.reason)


def held_at_start(plan: list[PlanStep]) -> str | None:
    """The object ``plan`` places or hands over before picking it (it is in the gripper already), or None."""
    picked: set[str] = set()
    for step in plan:
        if step.skill == "pick":
            picked.add(step.object)
        elif step.object not in picked:
            return step.object
    return None


def build_order(percept: Percept, held: str | None = None) -> dict[str, int]:
    """Each object's level in the perceived stacks: 0 on the table, else one more than the highest object it
    is perceived ``on`` or ``inside`` (:data:`groundsight.perception.relations.RELATIONS`). Built level by level, a
    support or container is always in place before what rests on or in it, even when perception puts an
    object's bottom a little too low (a block in a bowl seen at the bowl's bottom). ``held`` is level 0."""
    objects = [o for o in percept.objects if o.id != held]
    supports = {
        a.id: [b.id for b in objects if b is not a and (RELATIONS["on"](a, b) or RELATIONS["inside"](a, b))]
        for a in objects
    }
    level = dict.fromkeys(percept.ids, 0)
    for _ in range(len(objects)):  # longest chain of supports; a (perceived) cycle stops growing at n levels
        level.update({oid: max((level[s] + 1 for s in below), default=0) for oid, below in supports.items()})
    return level


def rebuild_world(
    percept: Percept,
    *,
    held: str | None = None,
    seed: int = 0,
    position_noise: float = 0.0,
    facts: list[str] | None = None,
) -> World:
    """A fresh headless :class:`World` with one body per perceived object (ids as perceived), settled.

    Objects are built supports first (see :func:`build_order`), each with its box centre where it was
    perceived and its bottom at the perceived height, then raised until it no longer intersects the table or
    an object built before it.
    ``held`` (an object in the gripper) is rebuilt on a free spot of the table instead. ``position_noise``
    adds seeded Gaussian noise (m) to every x and y. Notes on what was guessed go to ``facts``. The caller
    closes the world; raises :class:`TwinError` (the world closed) when the percept cannot be rebuilt.
    """
    facts = facts if facts is not None else []
    rng = np.random.default_rng(seed)
    guessed: list[str] = []
    entries: list[tuple[float, int, SceneObject, ObjectSpec, tuple[float, float]]] = []
    for k, obj in enumerate(percept.objects):
        spec = _spec(obj, guessed)
        centre = (float(obj.position[0]), float(obj.position[1]))
        bottom = float(obj.position[2]) - float(obj.extent[2]) / 2
        if obj.id == held:  # in the gripper: rebuilt on the table, out of the others' way
            centre = table_spot([o for o in percept.objects if o.id != held])
            bottom = 0.0
        if position_noise > 0:
            dx, dy = rng.normal(0.0, position_noise, 2)
            centre = (centre[0] + float(dx), centre[1] + float(dy))
        entries.append((bottom, k, obj, spec, centre))
    order = build_order(percept, held)
    entries.sort(key=lambda e: (order[e[2].id], e[0], e[1]))
    world = World(gui=False)
    try:
        placed = [world.table]
        resting: list[str] = []
        raised: list[str] = []
        for bottom, _, obj, spec, centre in entries:
            x, y = _base_xy(spec, centre)
            body = world.add_object(spec)
            z = max(bottom, ON_TABLE)
            world.set_object_pose(obj.id, (x, y, z), spec.yaw)
            lifted = 0.0
            while _intersects(world, body, placed):
                lifted += LIFT_STEP
                if lifted > MAX_LIFT:
                    raise TwinError(f"cannot rebuild {obj.id}: it intersects other objects wherever it is put")
                world.set_object_pose(obj.id, (x, y, z + lifted), spec.yaw)
            if z + lifted > SUPPORT_GAP:
                resting.append(obj.id)
            if lifted > 0:
                raised.append(obj.id)
            placed.append(body)
        before = world.truth_by_id()
        world.settle()
        after = world.truth_by_id()
    except BaseException:
        world.close()
        raise
    shifted = [oid for oid in before if moved(before[oid], after[oid], SETTLE_MOVE)]
    facts.append(f"twin objects rebuilt: {len(entries)}")
    if guessed:
        facts.append("twin sizes chosen from the perceived extent: " + ", ".join(sorted(guessed)))
    if resting:
        facts.append("twin objects rebuilt resting on others: " + ", ".join(sorted(resting)))
    if raised:
        facts.append("twin objects raised out of what they intersected: " + ", ".join(sorted(raised)))
    if shifted:
        facts.append("twin objects that moved more than 1 cm while settling: " + ", ".join(sorted(shifted)))
    return world


def _missing_object(thought: Thought, percept: Percept) -> str | None:
    """A plan step naming an object that was not perceived, as a failure reason; None if there is none."""
    ids = set(percept.ids)
    for i, step in enumerate(thought.plan, 1):
        for oid in (step.object, step.target if step.relation != "table" else None):
            if oid is not None and oid not in ids:
                return f"in the twin, {_step_text(i, step)} names {oid}, which is not in the percept"
    return None


class DigitalTwin:
    """Callable :data:`agent.loop.graph.TwinCheck`: ``(thought, percept) -> CheckResult(name="twin_rollout")``.

    Args:
        seed: seeds the optional position noise; the rollout is deterministic given the seed.
        position_noise: standard deviation (m) of Gaussian noise added to every perceived x and y before the
            twin is built (0: the percept as it is), to test a plan against perception error.
    """

    def __init__(self, seed: int = 0, *, position_noise: float = 0.0) -> None:
        if not math.isfinite(position_noise) or position_noise < 0:
            raise ValueError(f"position_noise must be a non-negative number, got {position_noise}")
        self.seed = seed
        self.position_noise = position_noise

    def __call__(self, thought: Thought, percept: Percept) -> CheckResult:
        """Roll ``thought.plan`` out on a twin of ``percept`` and report whether it worked."""
        n = len(thought.plan)
        claim = f"the {n}-step plan works on a copy of the world"
        facts: list[str] = []
        world: World | None = None
        try:
            reason = _missing_object(thought, percept)
            if reason is None:
                world = rebuild_world(
                    percept,
                    held=held_at_start(thought.plan),
                    seed=self.seed,
                    position_noise=self.position_noise,
                    facts=facts,
                )
                reason = self._rollout(world, thought, facts)
        except Exception as exc:  # the twin is a check: its own failure is a verdict, never a crash
            log.debug("twin rollout crashed", exc_info=True)
            text = " ".join(str(exc).split()) or "no message"
            reason = f"the twin could not run the plan: {type(exc).__name__}: {text}"
        finally:
            if world is not None:
                world.close()
        if reason:
            log.info("twin rollout failed: %s", reason)
        return CheckResult(name=CHECK_NAME, claim=claim, passed=not reason, reason=reason or "", facts=tuple(facts))

    # -------------------------------------------------------------------------------------------- rollout

    def _rollout(self, world: World, thought: Thought, facts: list[str]) -> str | None:
        """Run every step, check effects and the goal; the failure reason, or None if it all worked."""
        skills = Skills(world)
        held = held_at_start(thought.plan)
        if held is not None:
            obj = world.truth_by_id()[held]
            grasp = grasp_of(obj, obj.yaw)
            result = skills.pick(grasp.position, grasp.extent, grasp.yaw)
            if not result.ok:
                why = _skill_failure(result)
                return f"the twin could not put {held}, which the robot holds, into its gripper: {why}"
            facts.append(f"twin: {held} is held at the start; rebuilt on the table and picked first")
        done = 0
        for i, step in enumerate(thought.plan, 1):
            failure = self._run_step(world, skills, step, still_to_place(thought.plan, i - 1))
            if failure:
                facts.append(f"twin steps run: {done} of {len(thought.plan)}")
                return f"in the twin, {_step_text(i, step)} failed: {failure}"
            done += 1
        facts.append(f"twin steps run: {done} of {len(thought.plan)}")
        missing, unchecked = self._goal_missing(world, thought)
        if unchecked:
            facts.append("twin goal atoms not checked: " + ", ".join(unchecked))
        facts.append(f"twin goal atoms checked: {len(thought.goal_atoms) - len(unchecked)}")
        facts.append(f"twin simulation steps: {world.steps}")
        if missing:
            return f"in the twin, after all {len(thought.plan)} steps the goal does not hold: not {', '.join(missing)}"
        return None

    def _run_step(self, world: World, skills: Skills, step: PlanStep, coming: int = 0) -> str | None:
        """Run one step exactly as the act node would (``coming``: later places into the same target), on twin
        truth; the failure, or None."""
        truth = world.truth_by_id()
        obj = truth[step.object]
        if step.skill == "pick":
            grasp = grasp_of(obj, obj.yaw)
            result = skills.pick(grasp.position, grasp.extent, grasp.yaw)
            if not result.ok:
                return _skill_failure(result)
            return self._holding_failure(world, truth, obj)
        if step.skill == "handover":
            result = skills.handover()
            if not result.ok:
                return _skill_failure(result)
            return self._holding_failure(world, truth, obj)
        point = release_point_for(step, obj, list(truth.values()), coming)
        result = skills.place(point)
        if not result.ok:
            return _skill_failure(result)
        world.settle()
        after = world.truth_by_id()
        moved_obj = after[step.object]
        if step.relation == "table":
            bottom = moved_obj.position[2] - moved_obj.extent[2] / 2
            return None if bottom <= SUPPORT_GAP else f"{step.object} is not on the table afterwards"
        relation = RELATIONS.get(step.relation or "")
        if relation is not None and step.target is not None and not relation(moved_obj, after[step.target]):
            words = (step.relation or "").replace("_", " ")
            return f"{step.object} is not {words} {step.target} afterwards"
        return None

    @staticmethod
    def _holding_failure(world: World, truth: dict[str, ObjectTruth], obj: ObjectTruth) -> str | None:
        body = world.robot.held_body()
        if body == obj.body:
            return None
        if body is None:
            return f"{obj.id} is not in the gripper afterwards"
        other = next((t.id for t in truth.values() if t.body == body), str(body))
        return f"the gripper holds {other}, not {obj.id}"

    @staticmethod
    def _goal_missing(world: World, thought: Thought) -> tuple[list[str], list[str]]:
        """Goal atoms that do not hold on twin truth, and those the twin cannot check."""
        truth = world.truth_by_id()
        held = world.robot.held_body()
        missing: list[str] = []
        unchecked: list[str] = []
        for a in thought.goal_atoms:
            if a.predicate in ("handed_over", "holding"):
                ok = bool(a.args) and a.args[0] in truth and truth[a.args[0]].body == held
            elif a.predicate in RELATIONS:
                ok = all(i in truth for i in a.args) and RELATIONS[a.predicate](*(truth[i] for i in a.args))
            else:
                unchecked.append(a.text)
                continue
            if not ok:
                missing.append(a.text)
        return missing, unchecked
