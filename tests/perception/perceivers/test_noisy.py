"""The ``noisy:<inner>`` perceiver: seeded, recorded hallucinations on top of a real perceiver."""

from __future__ import annotations

from collections import Counter

import pytest

from groundsight.perception.objects import Percept
from groundsight.perception.perceivers import NoiseRates, NoisyPerceiver, make_perceiver
from groundsight.perception.perceivers.noisy import INJECTION_KINDS
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.world import World
from tests.conftest import make_object


class FixedPerceiver:
    """A perceiver that always reports the same objects (stands in for any inner perceiver, cheaply)."""

    name = "fixed"

    def __init__(self) -> None:
        self.objects = [
            make_object("red_block", "block", "red", 0.45, 0.10),
            make_object("blue_bowl", "bowl", "blue", 0.60, -0.15),
            make_object("green_block", "block", "green", 0.40, -0.05),
            make_object("yellow_plate", "plate", "yellow", 0.65, 0.15),
        ]

    def perceive(self, frames) -> Percept:
        return Percept(objects=list(self.objects), cameras=["top"], perceiver=self.name)


@pytest.fixture(scope="module")
def frame():
    with World() as world:
        world.add_object(ObjectSpec(id="red_block", type="block", color="red", x=0.5, y=0.05))
        world.add_object(ObjectSpec(id="blue_bowl", type="bowl", color="blue", x=0.55, y=-0.15))
        world.settle()
        yield world.cameras[0].read()


def test_make_noisy_classical_on_a_real_frame(frame) -> None:
    clean = make_perceiver("classical").perceive([frame])
    noisy = make_perceiver("noisy:classical", noise=0.0, seed=0)
    assert isinstance(noisy, NoisyPerceiver) and noisy.name == "noisy:classical"
    out = noisy.perceive([frame])
    assert out.objects == clean.objects and noisy.last_injections == []
    assert out.perceiver == "noisy:classical"
    again = make_perceiver("noisy:classical", noise=1.0, seed=3).perceive([frame])
    assert again.objects != clean.objects


def test_unknown_inner_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known inner: classical, oracle"):
        make_perceiver("noisy:")
    with pytest.raises(ValueError, match="no inner perceiver 'magic'"):
        make_perceiver("noisy:magic")


def test_deterministic_per_seed() -> None:
    def run(seed: int):
        p = NoisyPerceiver(FixedPerceiver(), rate=0.3, seed=seed)
        return [(p.perceive([]).objects, list(p.last_injections)) for _ in range(20)]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_rate_zero_is_the_inner_percept() -> None:
    inner = FixedPerceiver()
    p = NoisyPerceiver(inner, rate=0.0, seed=1)
    for _ in range(10):
        assert p.perceive([]).objects == inner.perceive([]).objects
    assert p.injections == []


def test_each_kind_occurs_at_about_its_rate_and_is_recorded() -> None:
    rate, calls = 0.2, 400
    inner = FixedPerceiver()
    p = NoisyPerceiver(inner, rate=rate, seed=0)
    n = len(inner.objects)
    for _ in range(calls):
        out = p.perceive([])
        ids = {o.id for o in out.objects}
        for inj in p.last_injections:
            if inj.kind == "missed":
                assert inj.object_id in {o.id for o in inner.objects}
            else:
                assert inj.object_id in ids
    counts = Counter(i.kind for i in p.injections)
    assert set(counts) == set(INJECTION_KINDS)
    assert counts["phantom"] / calls == pytest.approx(rate, abs=0.06)
    assert counts["missed"] / (calls * n) == pytest.approx(rate, abs=0.04)
    kept = calls * n - counts["missed"]
    for kind in ("color_swap", "type_swap", "position_noise"):
        assert counts[kind] / kept == pytest.approx(rate, abs=0.04), kind
    assert {i.call for i in p.injections} <= set(range(calls))


def test_individual_rates_and_what_each_kind_does() -> None:
    inner = FixedPerceiver()
    truth = {o.id: o for o in inner.objects}
    p = NoisyPerceiver(inner, seed=2, rates=NoiseRates.uniform(0.0, color_swap=1.0))
    out = p.perceive([])
    assert len(p.last_injections) == len(inner.objects)
    for inj in p.last_injections:
        obj = out.by_id(inj.object_id)
        assert inj.kind == "color_swap" and obj.color == inj.detail["to"] != inj.detail["from"]
        assert truth[inj.detail["inner_id"]].color == inj.detail["from"]
    p = NoisyPerceiver(inner, seed=2, rates=NoiseRates.uniform(0.0, missed=1.0))
    assert p.perceive([]).objects == [] and {i.kind for i in p.last_injections} == {"missed"}
    p = NoisyPerceiver(inner, seed=2, rates=NoiseRates.uniform(0.0, position_noise=1.0, sigma=0.05))
    out = p.perceive([])
    for inj in p.last_injections:
        moved, orig = out.by_id(inj.object_id), truth[inj.detail["inner_id"]]
        dx, dy = inj.detail["offset"]
        assert moved.position[0] == pytest.approx(orig.position[0] + dx)
        assert moved.position[1] == pytest.approx(orig.position[1] + dy)
    p = NoisyPerceiver(inner, seed=2, rates=NoiseRates.uniform(0.0, type_swap=1.0))
    out = p.perceive([])
    for inj in p.last_injections:
        assert out.by_id(inj.object_id).type == inj.detail["to"] != truth[inj.detail["inner_id"]].type


def test_phantoms_carry_fabricated_evidence_at_a_free_spot(frame) -> None:
    p = make_perceiver("noisy:classical", seed=5, noise_rates=NoiseRates.uniform(0.0, phantom=1.0))
    for _ in range(5):
        out = p.perceive([frame])
        (inj,) = p.last_injections
        assert inj.kind == "phantom"
        ghost = out.by_id(inj.object_id)
        assert (ghost.color, ghost.type) == (inj.detail["color"], inj.detail["type"])
        (ev,) = ghost.evidence
        x0, y0, x1, y1 = ev.box
        assert ev.camera == frame.camera and 0 <= x0 < x1 <= frame.intrinsics.width and 0 <= y0 < y1
        assert ev.pixels > 0
        assert 0.30 <= ghost.position[0] <= 0.75 and -0.30 <= ghost.position[1] <= 0.30
        for other in out.objects:
            if other.id != ghost.id:
                d = ((other.position[0] - ghost.position[0]) ** 2 + (other.position[1] - ghost.position[1]) ** 2) ** 0.5
                assert d > 0.05
