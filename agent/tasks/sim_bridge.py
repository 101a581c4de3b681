"""Where the scenario meets the simulator: building the world, and feeding truth to the oracle perceiver."""

from __future__ import annotations

import logging
import os

import numpy as np

from groundsight.agent.tasks.scenario import Scenario
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.scene import PlacementRequest, place_objects
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import World

log = logging.getLogger(__name__)


def scenario_specs(scenario: Scenario, rng: np.random.Generator) -> list[ObjectSpec]:
    """The scenario's objects with positions and yaws resolved for this random generator."""
    requests = [
        PlacementRequest(
            id=o.id,  # type: ignore[arg-type]
            type=o.type,
            color=o.color,
            size=o.size,
            x=o.position[0] if o.position else None,
            y=o.position[1] if o.position else None,
        )
        for o in scenario.scene.objects
    ]
    return place_objects(requests, rng, randomize=scenario.scene.randomize)


def build_world(scenario: Scenario, rng: np.random.Generator, gui: bool = False) -> World:
    """A world holding the scenario's objects, placed for this seed, settled. ``gui`` without a display (no
    ``DISPLAY``) runs headless with a warning instead of failing in PyBullet's X11 window code."""
    if gui and not os.environ.get("DISPLAY"):
        log.warning("--gui: no display (DISPLAY is not set); running headless")
        gui = False
    world = World(gui=gui)
    for spec in scenario_specs(scenario, rng):
        world.add_object(spec)
    world.settle()
    return world


class SimTruthSource:
    """Implements perception's ``TruthSource`` from a live :class:`World` (perception never imports sim).

    ``world`` may be swapped between episodes (benchmarks reuse one source); None reports no objects.
    """

    def __init__(self, world: World | None = None) -> None:
        self.world = world

    def truth_objects(self) -> list[ObjectTruth]:
        """The world's truth as it is: :class:`ObjectTruth` is perception's ``TruthObject`` record."""
        return [] if self.world is None else self.world.truth()
