"""Auditing a perceiver against simulator truth: the kinds of mistake on hand-built claims, the audit of a
noisy perceiver recovering what it injected (real PyBullet), and the runner recording a perceiver's mistakes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from groundsight.agent.evaluation.metrics import hallucination_accounting
from groundsight.agent.loop.runner import RunConfig, run_episode
from groundsight.agent.tasks.scenario import load_scenario
from groundsight.agent.tasks.sim_bridge import SimTruthSource
from groundsight.perception.objects import SceneObject
from groundsight.perception.perceivers import OraclePerceiver
from groundsight.perception.perceivers.audit import AuditedPerceiver, audit
from groundsight.perception.perceivers.noisy import NoiseRates, NoisyPerceiver
from groundsight.perception.perceivers.oracle import TruthObject
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.world import World

ROOT = Path(__file__).resolve().parents[3]


def truth(id_: str, type_: str, color: str, x: float, y: float) -> TruthObject:
    return TruthObject(
        id=id_, type=type_, color=color, size="medium", position=(x, y, 0.02), extent=(0.04, 0.04, 0.04), body=0
    )


def claim(type_: str, color: str, x: float, y: float) -> SceneObject:
    return SceneObject(
        id=f"{color}_{type_}", type=type_, color=color, position=(x, y, 0.02), extent=(0.04, 0.04, 0.04), confidence=0.9
    )


def test_every_kind_of_mistake_is_named_with_where_it_is() -> None:
    truths = [
        truth("red_block", "block", "red", 0.50, 0.10),
        truth("blue_bowl", "bowl", "blue", 0.60, -0.10),
        truth("green_ball", "ball", "green", 0.40, 0.00),
        truth("pink_mug", "mug", "pink", 0.45, -0.20),
    ]
    claims = [
        claim("block", "red", 0.505, 0.10),  # right (5 mm off is within tolerance)
        claim("cylinder", "blue", 0.62, -0.10),  # the bowl as a cylinder, 2 cm off
        claim("mug", "purple", 0.45, -0.20),  # the pink mug in another colour
        claim("mug", "yellow", 0.70, 0.20),  # nothing there
    ]
    found = audit(claims, truths, call=3)
    assert Counter(i.kind for i in found) == Counter(
        {"type_swap": 1, "position_noise": 1, "color_swap": 1, "phantom": 1, "missed": 1}
    )
    assert all(i.call == 3 for i in found)
    by_kind = {i.kind: i for i in found}
    assert by_kind["missed"].detail["at"] == (0.4, 0.0) and by_kind["missed"].object_id == "green_ball"
    assert by_kind["phantom"].detail["at"] == (0.7, 0.2)
    assert by_kind["position_noise"].detail["offset"] == (0.02, 0.0)
    assert by_kind["color_swap"].detail | {"at": None} == {
        "true_id": "pink_mug",
        "at": None,
        "from": "pink",
        "to": "purple",
    }
    assert audit([claim("block", "red", 0.5, 0.1)], [truth("red_block", "block", "red", 0.5, 0.1)]) == []


def test_auditing_a_noisy_perceiver_recovers_its_colour_and_type_swaps() -> None:
    with World(cameras=["top"]) as world:
        for color, kind, x, y in [
            ("red", "block", 0.5, 0.12),
            ("blue", "bowl", 0.58, -0.12),
            ("green", "ball", 0.4, 0),
        ]:
            world.add_object(ObjectSpec(id=f"{color}_{kind}", type=kind, color=color, x=x, y=y))
        world.settle()
        source = SimTruthSource(world)
        noisy = NoisyPerceiver(OraclePerceiver(source), seed=1, rates=NoiseRates(color_swap=0.5, type_swap=0.5))
        audited = AuditedPerceiver(noisy, source)
        frames = [cam.read() for cam in world.cameras]
        for _ in range(4):
            audited.perceive(frames)
            assert Counter(i.kind for i in audited.last_injections) == Counter(i.kind for i in noisy.last_injections)
        assert audited.calls == 4 and len(audited.injections) > 0
        assert audited.name == "noisy:oracle" and audited.rates == noisy.rates  # the rest is the inner perceiver's


def test_the_runner_records_a_perceivers_mistakes_and_the_accounting_reads_them(tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "pick_place" / "red_block_in_blue_bowl.yaml")
    clean = run_episode(scenario, RunConfig(seed=0, perception="classical", audit=True), tmp_path / "clean")
    assert clean.passed and clean.injections == []
    noisy = run_episode(
        scenario,
        RunConfig(seed=0, perception="noisy:classical", audit=True, perception_options={"noise": 0.5}),
        tmp_path / "noisy",
    )
    assert noisy.injections, "noise 0.5 made no mistake the audit saw"
    records = [json.loads(line) for line in (tmp_path / "noisy" / "trace.jsonl").read_text().splitlines()]
    accounting = hallucination_accounting(noisy.model_dump(mode="json"), records)
    assert accounting["injected"] == len(noisy.injections) and accounting["caught_all"] > 0
