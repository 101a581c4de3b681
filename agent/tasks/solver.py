"""The scripted solver: reads simulator truth and the goal (never the instruction) and drives the skills.

It proves that every success scenario is physically solvable with the robot's skills, and it is the upper
bound that evaluations compare agents against. It uses the same geometry helpers as the agent's planner.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

from groundsight.agent.tasks.goals import goal_holds
from groundsight.agent.tasks.scenario import Scenario
from groundsight.agent.tasks.sim_bridge import build_world
from groundsight.perception.relations import RELATIONS
from groundsight.reasoning.placement import DISC_MARGIN, beside_point, free_spot, release_point
from groundsight.sim.bodies import dimensions
from groundsight.sim.skills import SkillResult, Skills
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import World

ATTEMPTS = 3
"""Tries per sub-goal (a slipped grasp is retried from the new true state)."""


def inner_footprint(obj: ObjectTruth) -> tuple[float, float]:
    """Sides (in the object's own frame) of the rectangle that objects can be put in or on."""
    d = dimensions(obj.type, obj.size)
    if obj.type == "tray":
        return (d["length"] - 2 * d["wall"], d["width"] - 2 * d["wall"])
    if "radius" in d:  # the square inscribed in a round object (minus its wall, if any)
        side = (d["radius"] - d.get("wall", 0.0)) * math.sqrt(2)
        return (side, side)
    return (d["side"], d["side"]) if "side" in d else (obj.extent[0], obj.extent[1])


class SolverResult(BaseModel):
    """Outcome of one scripted episode."""

    scenario: str
    seed: int
    passed: bool
    actions: int
    failed_actions: int
    wall_time_s: float
    failures: list[str] = []

    @classmethod
    def from_log(cls, scenario: str, seed: int, passed: bool, log: list[SkillResult], started: float) -> SolverResult:
        """The result of an episode from the solver's skill log and its start time (``time.perf_counter()``)."""
        failed = [r for r in log if not r.ok]
        return cls(
            scenario=scenario,
            seed=seed,
            passed=passed,
            actions=len(log),
            failed_actions=len(failed),
            wall_time_s=round(time.perf_counter() - started, 3),
            failures=[f"{r.skill}: {r.reason}" for r in failed],
        )


class ScriptedSolver:
    """Achieves a goal expression on a live world, sub-goal by sub-goal, from simulator truth."""

    def __init__(self, world: World, skills: Skills) -> None:
        self.world = world
        self.skills = skills
        self.log: list[SkillResult] = []
        self.initial = world.truth_by_id()
        self.puts: list[tuple[str, str, str]] = []

    def truth(self) -> dict[str, ObjectTruth]:
        return self.world.truth_by_id()

    def solve(self, goal: Mapping[str, Any]) -> bool:
        """Try to make ``goal`` hold; True if it holds on simulator truth afterwards."""
        self.puts = _puts(goal)
        self._achieve(goal)
        if not self.skills.holding:  # an object held out to a person stays where it is
            self.skills.home()
        return goal_holds(goal, self.truth(), self.initial)

    # ---- goal forms ----------------------------------------------------------------------------
    def _achieve(self, goal: Mapping[str, Any]) -> None:
        ((key, value),) = goal.items()
        if key == "all":
            for sub in value:
                self._achieve(sub)
        elif key == "any":
            self._achieve(value[0])
        elif key == "stacked":
            for top, below in reversed(list(zip(value, value[1:], strict=False))):
                self._retry({"on": [top, below]}, lambda t=top, b=below: self._put(t, b, "on"))
        elif key in ("inside", "on"):
            self._retry(goal, lambda: self._put(value[0], value[1], key))
        elif key in ("left_of", "right_of", "in_front_of", "behind", "near"):
            self._retry(goal, lambda: self._beside(value[0], value[1], key))
        elif key == "handed_over":
            self._retry(goal, lambda: self._hand_over(value[0]))
        elif key == "lifted":
            self._retry(goal, lambda: self._pick(value[0]))
        # not / unchanged / on_table: satisfied by leaving things alone

    def _retry(self, goal: Mapping[str, Any], act) -> None:
        for _ in range(ATTEMPTS):
            if goal_holds(goal, self.truth(), self.initial):
                return
            act()

    def _pick(self, oid: str) -> bool:
        t = self.truth()[oid]
        result = self.skills.pick(t.position, t.extent, t.yaw)
        self.log.append(result)
        return result.ok

    def _place_at(self, point: tuple[float, float, float]) -> bool:
        result = self.skills.place(point)
        self.log.append(result)
        return result.ok

    def _put(self, oid: str, target: str, relation: str) -> None:
        if not self._pick(oid):
            return
        truth = self.truth()
        tgt = truth[target]
        occupants = [o for o in truth.values() if o.id not in (oid, target) and RELATIONS[relation](o, tgt)]
        size = max(truth[oid].extent[:2])
        coming = sum(
            1
            for a, rel, b in self.puts
            if (rel, b) == (relation, target) and a != oid and not RELATIONS[rel](truth[a], tgt)
        )
        d = dimensions(tgt.type, tgt.size)
        if (occupants or coming) and "radius" in d:  # pack a round container on its disc, as the agent does
            spot = free_spot(tgt, occupants, size, margin=DISC_MARGIN, coming=coming, disc=d["radius"])
        else:
            spot = free_spot(tgt, occupants, size, sides=inner_footprint(tgt), yaw=self._yaw(target), coming=coming)
        self._place_at(release_point(relation, tgt, spot))

    def _yaw(self, oid: str) -> float:
        """True yaw of the body (also for round types, whose reported yaw is 0)."""
        x, y, z, w = self.truth()[oid].orientation
        return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))

    def _beside(self, oid: str, ref: str, relation: str) -> None:
        if not self._pick(oid):
            return
        truth = self.truth()
        x, y = beside_point(relation, truth[oid], truth[ref])
        self._place_at((x, y, 0.0))

    def _hand_over(self, oid: str) -> None:
        if self._pick(oid):
            result = self.skills.handover()
            self.log.append(result)


def _puts(goal: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Every (object, inside/on, target) the goal asks for (the first branch of an ``any``), in order."""
    ((key, value),) = goal.items()
    if key == "all":
        return [p for sub in value for p in _puts(sub)]
    if key == "any":
        return _puts(value[0])
    if key == "stacked":
        return [(top, "on", below) for top, below in zip(value, value[1:], strict=False)]
    return [(value[0], key, value[1])] if key in ("inside", "on") else []


def solve_episode(scenario: Scenario, seed: int) -> SolverResult:
    """Build the scenario's world for ``seed``, solve its goal, and judge on simulator truth."""
    if scenario.goal is None:
        raise ValueError(f"{scenario.name}: the scripted solver needs a goal (expect: {scenario.expect})")
    started = time.perf_counter()
    world = build_world(scenario, np.random.default_rng(seed))
    try:
        solver = ScriptedSolver(world, Skills(world))
        passed = solver.solve(scenario.goal)
    finally:
        world.close()
    return SolverResult.from_log(scenario.name, seed, passed, solver.log, started)
