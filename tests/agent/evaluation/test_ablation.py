"""The hallucination ablation: the verifier's screen on real frames, and the ablation grid end to end."""

from __future__ import annotations

import json
import math

import pytest

from groundsight.agent.evaluation.ablation import ablation_markdown, run_ablation
from groundsight.agent.evaluation.report import load_ablation
from groundsight.perception.evidence import POSITION_TOLERANCE, DepthProbe, colour_contradiction
from groundsight.perception.perceivers import NoiseRates, NoisyPerceiver, make_perceiver
from groundsight.reasoning.verifier import Verifier
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.world import World


@pytest.fixture(scope="module")
def frame():
    with World() as world:
        world.add_object(ObjectSpec(id="red_block", type="block", color="red", x=0.5, y=0.05))
        world.add_object(ObjectSpec(id="blue_bowl", type="bowl", color="blue", x=0.55, y=-0.15))
        world.add_object(ObjectSpec(id="yellow_plate", type="plate", color="yellow", x=0.42, y=0.2))
        world.settle()
        yield world.cameras[0].read()


@pytest.fixture(scope="module")
def verifier(kb):
    return Verifier(kb, colour_probe=colour_contradiction, depth_probe=DepthProbe())


def _noisy(frame, seed: int = 0, **rates: float):
    perceiver = NoisyPerceiver(make_perceiver("classical"), seed=seed, rates=NoiseRates(**rates))
    return perceiver.perceive([frame]), perceiver.last_injections


def _key(objects) -> list[tuple]:
    return sorted((o.color, o.type, round(o.position[0], 3), round(o.position[1], 3)) for o in objects)


def test_true_claims_pass_and_nothing_changes(frame, verifier) -> None:
    clean = make_perceiver("classical").perceive([frame])
    screen = verifier.screen(clean, [frame])
    assert [c.name for c in screen.checks] == ["claim_remeasured"] * 3 and all(c.passed for c in screen.checks)
    assert not screen.changed and not screen.doubtful and screen.objects == clean.objects


def test_a_phantom_is_dropped(frame, verifier) -> None:
    clean = make_perceiver("classical").perceive([frame])
    percept, injections = _noisy(frame, phantom=1.0)
    (phantom,) = [i for i in injections if i.kind == "phantom"]
    screen = verifier.screen(percept, [frame])
    failed = [c for c in screen.checks if not c.passed]
    assert len(failed) == 1 and failed[0].claim.startswith(phantom.object_id) and "dropped" in failed[0].reason
    assert screen.changed and _key(screen.objects) == _key(clean.objects)


@pytest.mark.parametrize("kind", ["color_swap", "type_swap"])
def test_swapped_claims_are_caught_and_repaired(frame, verifier, kind) -> None:
    clean = make_perceiver("classical").perceive([frame])
    percept, injections = _noisy(frame, **{kind: 1.0})
    assert len(injections) == 3
    screen = verifier.screen(percept, [frame])
    assert [c.passed for c in screen.checks] == [False] * 3
    assert _key(screen.objects) == _key(clean.objects)
    assert {o.id for o in screen.objects} == {o.id for o in clean.objects}


def test_position_noise_beyond_the_tolerance_is_caught(frame, verifier) -> None:
    percept, injections = _noisy(frame, seed=4, position_noise=1.0, sigma=0.03)
    screen = verifier.screen(percept, [frame])
    by_id = {c.claim.split()[0]: c for c in screen.checks}
    for inj in injections:
        far = math.hypot(*inj.detail["offset"]) > POSITION_TOLERANCE + 0.003
        near = math.hypot(*inj.detail["offset"]) < POSITION_TOLERANCE - 0.003
        if far:
            assert not by_id[inj.object_id].passed and "cm from the claimed one" in by_id[inj.object_id].reason
        if near:
            assert by_id[inj.object_id].passed


def test_missed_objects_are_reported_and_added_as_measured(frame, verifier) -> None:
    clean = make_perceiver("classical").perceive([frame])
    percept, injections = _noisy(frame, missed=1.0)
    assert percept.objects == [] and len(injections) == 3
    screen = verifier.screen(percept, [frame])
    assert [c.name for c in screen.checks] == ["nothing_missed"] * 3
    assert screen.doubtful and screen.changed and all("missing" in c.facts for c in screen.checks)
    assert _key(screen.objects) == _key(clean.objects)


def test_absent_referent_is_looked_for_again_only_when_the_look_is_doubtful(frame, kb, verifier) -> None:
    from groundsight.reasoning.reasoner import RulesReasoner

    clean = make_perceiver("classical").perceive([frame])
    thought = RulesReasoner(kb).think("put the green block in the blue bowl", clean)
    (sure,) = [c for c in verifier.check(thought, clean, [frame]) if not c.passed]
    (doubt,) = [c for c in verifier.check(thought, clean, [frame], doubtful=True) if not c.passed]
    assert (sure.name, sure.on_fail) == ("referent_exists", "refuse")
    assert (doubt.name, doubt.on_fail) == ("referent_exists", "reperceive")


def test_run_ablation_writes_rows_the_report_reads(tmp_path) -> None:
    rows = run_ablation(
        ["scenarios/pick_place/red_block_in_blue_bowl.yaml"],
        seeds=[1],
        noise_rates=(0.3,),
        verify=(True, False),
        workers=1,
        out=tmp_path,
    )
    assert [(r["noise"], r["verify"], r["total"]) for r in rows] == [(0.3, True, 1), (0.3, False, 1)]
    assert load_ablation(tmp_path) == rows
    on, off = rows
    firsts = []
    for condition in ("noise0.3-verify", "noise0.3-noverify"):
        result = json.loads((tmp_path / condition / "results.jsonl").read_text().splitlines()[0])
        firsts.append([i for i in result["injections"] if i["call"] == 0])
    assert firsts[0] == firsts[1] and firsts[0]  # the same seed injects the same faults into the first look
    assert 0 < on["caught"] <= on["injected"] and on["caught_relevant"] <= on["relevant"] <= on["injected"]
    assert (tmp_path / "report.html").is_file() and "Ablation" in (tmp_path / "report.md").read_text()
    result = json.loads((tmp_path / "noise0.3-verify" / "results.jsonl").read_text().splitlines()[0])
    assert result["noise"] == 0.3 and "caught_relevant" in result
    assert f"| 0.3 | on | {on['passed']}/1 |" in ablation_markdown(rows)


@pytest.fixture(scope="module")
def tower():
    """A small blue block on a large red block: the red block's visible rim has the blue block's box."""
    with World() as world:
        world.add_object(ObjectSpec(id="red_block", type="block", color="red", size="large", x=0.5, y=0.05))
        world.add_object(ObjectSpec(id="blue_block", type="block", color="blue", size="small", x=0.5, y=0.2))
        world.settle()
        world.set_object_pose("blue_block", (0.5, 0.05, world.truth_by_id()["red_block"].extent[2] + 0.001))
        world.settle()
        yield world.cameras[0].read(), world.truth_by_id()


def test_a_missed_block_on_another_is_found_although_the_rim_below_overlaps_it(tower, verifier) -> None:
    frame, truth = tower
    clean = make_perceiver("classical").perceive([frame])
    assert {o.color for o in clean.objects} == {"red", "blue"}
    without_top = clean.model_copy(update={"objects": [o for o in clean.objects if o.color == "red"]})
    screen = verifier.screen(without_top, [frame])
    (missed,) = [c for c in screen.checks if not c.passed]
    assert missed.name == "nothing_missed" and "blue block" in missed.reason
    assert _key(screen.objects) == _key(clean.objects)


def test_a_covered_object_is_not_judged_by_the_pixels_of_what_rests_on_it(tower, kb, verifier) -> None:
    """A block kept from before another was put on it (object permanence) still has its old box, which now
    shows the block on top: its colour cannot be re-measured there, and that is no reason to look again."""
    from groundsight.reasoning.reasoner import RulesReasoner

    frame, _ = tower
    clean = make_perceiver("classical").perceive([frame])
    blue = next(o for o in clean.objects if o.color == "blue")
    x, y, z = blue.position
    under = blue.model_copy(update={"id": "red_block", "color": "red", "position": (x, y, z - blue.extent[2])})
    alone = clean.model_copy(update={"objects": [under]})
    thought = RulesReasoner(kb).think("hand me the red block", alone)
    alone = [c for c in verifier.check(thought, alone, [frame]) if c.name == "evidence_grounded"]
    assert alone and not alone[0].passed and "look blue, not red" in alone[0].reason  # the probe can fail
    percept = clean.model_copy(update={"objects": [under, blue]})
    grounded = [c for c in verifier.check(thought, percept, [frame]) if c.name == "evidence_grounded"]
    assert grounded and all(c.passed for c in grounded)


def test_a_claim_beside_its_object_is_dropped_and_the_object_added(frame, verifier) -> None:
    """A model's box a little off (overlapping the object's too little) is no evidence for it; the object
    it meant is then unclaimed, and is added as measured (a dropped claim stands for nothing)."""
    clean = make_perceiver("classical").perceive([frame])
    red = next(o for o in clean.objects if o.color == "red")
    x0, y0, x1, y1 = red.evidence[0].box
    shift = int(0.8 * (x1 - x0))
    off = red.model_copy(
        update={
            "position": (red.position[0], red.position[1] + 0.025, red.position[2]),
            "evidence": [red.evidence[0].model_copy(update={"box": (x0 + shift, y0, x1 + shift, y1)})],
        }
    )
    percept = clean.model_copy(update={"objects": [off, *(o for o in clean.objects if o is not red)]})
    screen = verifier.screen(percept, [frame])
    assert [c.name for c in screen.checks if not c.passed] == ["claim_remeasured", "nothing_missed"]
    assert _key(screen.objects) == _key(clean.objects)


def test_an_object_of_another_type_at_the_same_place_does_not_stand_for_a_missed_one(frame) -> None:
    """A red block in a red bowl share colour and centre: the bowl's claim does not account for the block."""
    probe = DepthProbe()
    red = next(o for o in probe.detections(frame) if o.color == "red")
    far = (0, 0, 20, 20)  # a box elsewhere: only the place and the colour are shared
    bowl = red.model_copy(update={"type": "bowl", "evidence": [red.evidence[0].model_copy(update={"box": far})]})
    unclaimed = {(o.color, o.type) for o in probe.unclaimed([frame], [bowl])}
    assert unclaimed == {(o.color, o.type) for o in probe.detections(frame)}  # the red block among them


def test_audit_mode_injects_nothing_and_accounts_for_the_perceivers_own_mistakes(tmp_path) -> None:
    """``--audit``: the perceiver runs as it is (here the exact classical one: no mistake to find)."""
    rows = run_ablation(
        ["scenarios/pick_place/red_block_in_blue_bowl.yaml"],
        seeds=[0],
        noise_rates=(0.3,),  # ignored when auditing
        verify=(True,),
        perception="classical",
        workers=1,
        out=tmp_path,
        report=False,
        audit=True,
    )
    assert [(r["perception"], r["noise"], r["passed"], r["injected"]) for r in rows] == [("classical", 0.0, 1, 0)]
    assert rows[0]["claims"] > 0 and rows[0]["false_rejections"] == 0
    (line,) = (tmp_path / "audit-verify" / "results.jsonl").read_text().splitlines()
    assert json.loads(line)["perception"] == "classical"


def test_a_right_claim_in_a_loose_box_keeps_its_claim_and_cites_the_measured_box(verifier) -> None:
    """A block on a plate boxed together with much of the plate: the depth confirms the block, the box's
    pixels mostly show the plate. The claim stays; its evidence becomes the re-measured (tight) box."""
    from groundsight.perception.objects import Evidence

    with World() as world:
        world.add_object(ObjectSpec(id="green_plate", type="plate", color="green", x=0.5, y=0.1, size="large"))
        world.add_object(ObjectSpec(id="yellow_block", type="block", color="yellow", x=0.5, y=0.1))
        world.set_object_pose("yellow_block", (0.5, 0.1, 0.03))  # dropped onto the plate
        world.settle()
        frame = world.cameras[0].read()
    clean = make_perceiver("classical").perceive([frame])
    block = clean.by_id("yellow_block")
    plate = clean.by_id("green_plate")
    x0, y0, x1, y1 = block.evidence[0].box
    loose_box = (x0 - 12, y0 - 12, x1 + 12, y1 + 12)
    loose = Evidence(camera="top", box=loose_box, pixels=(x1 - x0 + 24) * (y1 - y0 + 24))
    assert colour_contradiction(frame, loose, "yellow") == "green"  # the box's pixels mostly show the plate
    claimed = clean.model_copy(update={"objects": [plate, block.model_copy(update={"evidence": (loose,)})]})
    screen = verifier.screen(claimed, [frame])
    assert all(c.passed for c in screen.checks) and not screen.doubtful
    kept = {o.id: o for o in screen.objects}["yellow_block"]
    assert kept.position == block.position and kept.evidence == block.evidence
    assert colour_contradiction(frame, kept.evidence[0], "yellow") is None
