"""Wall time of one digital-twin rollout (:class:`groundsight.agent.loop.twin.DigitalTwin`) on real PyBullet (DIRECT).

For each scenario and seed: the scene is built as an episode builds it, perceived by the oracle perceiver,
planned by the rules reasoner, and the plan is rolled out on the twin (rebuild, settle, every skill, the
effect and goal checks, close). The rollout alone is timed; the median, min and max over the seeds are
printed, with how many rollouts passed.

Usage::

    python -m benchmarks.twin_speed [--seeds 5] [SCENARIO.yaml ...]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path

import numpy as np

from groundsight.agent.loop.twin import DigitalTwin
from groundsight.agent.tasks.scenario import load_scenario
from groundsight.agent.tasks.sim_bridge import SimTruthSource, build_world
from groundsight.knowledge import KnowledgeBase
from groundsight.perception.perceivers.oracle import OraclePerceiver
from groundsight.perception.scene_graph import build_scene_graph, relation_triples
from groundsight.reasoning.reasoner import RulesReasoner

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_SCENARIOS = (
    "scenarios/pick_place/red_block_in_blue_bowl.yaml",
    "scenarios/stacking/three_block_tower.yaml",
)


def time_rollouts(path: str | Path, seeds: int, kb: KnowledgeBase) -> tuple[list[float], int, int]:
    """Rollout wall times (s) over ``seeds`` seeds of one scenario, how many passed, and the plan length."""
    scenario = load_scenario(path)
    reasoner = RulesReasoner(kb)
    times: list[float] = []
    passed = steps = 0
    for seed in range(seeds):
        world = build_world(scenario, np.random.default_rng(seed))
        try:
            percept = OraclePerceiver(SimTruthSource(world)).perceive([])
        finally:
            world.close()
        relations = relation_triples(build_scene_graph(percept.objects))
        kb.set_scene(percept.objects, relations)
        thought = reasoner.think(scenario.instruction, percept, relations)
        if not thought.plan:
            raise SystemExit(f"{path}: seed {seed}: the reasoner made no plan ({thought.plan_error})")
        twin = DigitalTwin(seed=seed)
        start = time.perf_counter()
        result = twin(thought, percept)
        times.append(time.perf_counter() - start)
        passed += result.passed
        steps = len(thought.plan)
        if not result.passed:
            logging.getLogger(__name__).warning("%s seed %d: %s", scenario.name, seed, result.reason)
    return times, passed, steps


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=list(DEFAULT_SCENARIOS))
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    kb = KnowledgeBase()
    print("| scenario | plan steps | rollouts passed | median s | min s | max s |")
    print("|---|---|---|---|---|---|")
    for path in args.scenarios:
        times, passed, steps = time_rollouts(ROOT / path if not Path(path).is_absolute() else path, args.seeds, kb)
        name = Path(path).stem
        print(
            f"| {name} | {steps} | {passed}/{len(times)} | {statistics.median(times):.2f} "
            f"| {min(times):.2f} | {max(times):.2f} |"
        )


if __name__ == "__main__":
    main()
