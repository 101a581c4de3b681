"""Success rate and speed of the physical pick-and-place skills (PyBullet DIRECT).

For each placement kind (block into a bowl, onto a plate, onto another block, into a tray) and each seed,
a scene with the block, the target and a distractor block is placed at random (``groundsight.sim.scene.place_objects``
with ``numpy.random.default_rng(seed)``: random positions, random yaw, random sizes), the skills are
called with the objects' true geometry and the outcome is judged on simulator truth after the scene settles.
With ``--noise SIGMA`` (metres), Gaussian noise of that standard deviation is added to each coordinate of the
pick position and of the place position, to mimic perception (extent and yaw stay exact).

Usage::

    python -m benchmarks.skills_success [--seeds 20] [--noise 0 0.005] [--kinds bowl plate block tray]
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pybullet as p

from groundsight.sim.bodies import SIZES, ObjectSpec, dimensions
from groundsight.sim.scene import PlacementError, PlacementRequest, place_objects
from groundsight.sim.skills import Skills
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import World

KINDS = ("bowl", "plate", "block", "tray")


def footprint_yaw(t: ObjectTruth) -> float:
    """Yaw of an object's footprint about z, from its true orientation."""
    return p.getEulerFromQuaternion(t.orientation)[2]


def support_height(t: ObjectTruth) -> float:
    """Height of the surface an object put onto or into ``t`` rests on (container floor, or top)."""
    bottom = t.position[2] - t.extent[2] / 2
    if t.type in ("bowl", "tray"):
        return bottom + dimensions(t.type, t.size)["floor"]
    return bottom + t.extent[2]


def _lo_hi(t: ObjectTruth) -> tuple[np.ndarray, np.ndarray]:
    c, e = np.asarray(t.position), np.asarray(t.extent) / 2
    return c - e, c + e


def placed_ok(block: ObjectTruth, target: ObjectTruth) -> tuple[bool, str]:
    """Judge on truth whether ``block`` ended up in/on ``target``; returns (ok, why not)."""
    b_lo, _ = _lo_hi(block)
    t_lo, t_hi = _lo_hi(target)
    x, y = block.position[0], block.position[1]
    if target.type == "bowl":
        d = dimensions("bowl", target.size)
        r = math.hypot(x - target.position[0], y - target.position[1])
        if r > d["radius"] - d["wall"]:
            return False, f"centre {r * 1000:.0f} mm from bowl centre"
        if b_lo[2] >= t_hi[2]:
            return False, "bottom above the rim"
        return True, ""
    inside_xy = t_lo[0] <= x <= t_hi[0] and t_lo[1] <= y <= t_hi[1]
    if not inside_xy:
        return False, "centre outside the target footprint"
    if target.type == "tray":
        return (b_lo[2] < t_hi[2], "bottom above the rim")
    if abs(b_lo[2] - t_hi[2]) > 0.005:
        return False, f"bottom {1000 * (b_lo[2] - t_hi[2]):.0f} mm from the target top"
    roll, pitch, _ = p.getEulerFromQuaternion(block.orientation)
    if max(abs(roll), abs(pitch)) > 0.1:
        return False, "block tilted"
    return True, ""


@dataclass
class Trial:
    ok: bool
    why: str
    wall_s: float
    sim_s: float


def scene(kind: str, seed: int) -> tuple[np.random.Generator, list[ObjectSpec]]:
    """A random block, a random ``kind`` target and a distractor block; redrawn if they do not fit."""
    for attempt in range(20):
        rng = np.random.default_rng(seed if attempt == 0 else (seed, attempt))
        requests = [
            PlacementRequest("block", "block", "red", str(rng.choice(SIZES))),
            PlacementRequest("target", kind, "blue", str(rng.choice(SIZES))),
            PlacementRequest("distractor", "block", "green", str(rng.choice(SIZES))),
        ]
        try:
            return rng, place_objects(requests, rng)
        except PlacementError:
            continue
    raise PlacementError(f"no scene for {kind} seed {seed}")


@contextmanager
def trial_world(kind: str, seed: int) -> Iterator[tuple[np.random.Generator, World, ObjectTruth, ObjectTruth]]:
    """The settled world of trial ``seed`` for ``kind``: its rng, the world, the block's and the target's truth."""
    rng, specs = scene(kind, seed)
    with World() as world:
        for spec in specs:
            world.add_object(spec)
        world.settle()
        truth = world.truth_by_id()
        yield rng, world, truth["block"], truth["target"]


def run_trial(kind: str, seed: int, noise: float) -> Trial:
    """One pick-and-place of a random block into/onto a random ``kind`` target."""
    with trial_world(kind, seed) as (rng, world, block, target):
        skills = Skills(world)

        def jitter(v: tuple[float, float, float]) -> tuple[float, float, float]:
            return tuple(float(a) for a in np.asarray(v) + rng.normal(0.0, noise, 3)) if noise > 0 else v

        t0, s0 = time.perf_counter(), world.steps
        pick = skills.pick(jitter(block.position), block.extent, footprint_yaw(block))
        place = None
        if pick.ok:
            place = skills.place(jitter((target.position[0], target.position[1], support_height(target))))
        wall, sim = time.perf_counter() - t0, (world.steps - s0) * (1 / 240)
        if not pick.ok:
            return Trial(False, f"pick: {pick.reason}", wall, sim)
        if place is None or not place.ok:
            return Trial(False, f"place: {place.reason if place else '?'}", wall, sim)
        world.settle()
        ok, why = placed_ok(world.truth_by_id()["block"], world.truth_by_id()["target"])
        return Trial(ok, why, wall, sim)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--noise", type=float, nargs="*", default=[0.0, 0.005], help="position noise sigma (m)")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=KINDS)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR)

    print(f"{'placement':<10} {'noise':>7} {'success':>9} {'median wall s':>14} {'median sim s':>13}  failures")
    for noise in args.noise:
        for kind in args.kinds:
            trials = [run_trial(kind, seed, noise) for seed in range(args.seeds)]
            ok = sum(t.ok for t in trials)
            fails = ", ".join(f"seed {i}: {t.why}" for i, t in enumerate(trials) if not t.ok)
            print(
                f"{kind:<10} {noise * 1000:>5.1f}mm {ok:>5}/{len(trials):<3} "
                f"{statistics.median(t.wall_s for t in trials):>14.3f} "
                f"{statistics.median(t.sim_s for t in trials):>13.2f}  {fails}",
                flush=True,
            )


if __name__ == "__main__":
    main()
