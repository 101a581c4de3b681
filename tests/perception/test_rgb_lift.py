"""RGB-only frames with a calibration: objects segmented in colour and lifted onto the support plane (issue 13)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.foreign_scenes import build_scene
from benchmarks.perception_quality import Tally, match, score
from groundsight.perception.perceivers.base import PerceptionError
from groundsight.perception.perceivers.classical import ClassicalConfig, ClassicalPerceiver


def _flat(index: int):
    scene = build_scene(index, seed=0)
    return scene, dataclasses.replace(scene.frame, depth=None)


def test_rgb_only_needs_a_calibration_to_lift() -> None:
    _, frame = _flat(0)
    with pytest.raises(PerceptionError, match="needs depth"):
        ClassicalPerceiver().perceive([frame])


@pytest.mark.parametrize("index", [0, 1, 2])  # a top, a front and a side view
def test_rgb_only_objects_land_where_they_stand(index: int) -> None:
    """Every visible object of a foreign scene is found from colour alone, within 2.5 cm of where it is, at a
    lower confidence than depth gives; the percept says it was lifted."""
    scene, frame = _flat(index)
    percept = ClassicalPerceiver(ClassicalConfig(lift_rgb=True)).perceive([frame])
    assert percept.lifted == [scene.view]
    assert percept.support[scene.view].startswith("prior: no depth")
    pairs = match(list(percept.objects), scene.truths)
    assert len(pairs) >= len(scene.truths) - 1, (percept.objects, scene.truths)
    errors = [np.linalg.norm(np.subtract(o.position, t.position)) for o, t in pairs]
    assert float(np.median(errors)) < 0.015 and max(errors) < 0.035, errors
    assert all(o.confidence <= 0.5 for o in percept.objects)


def test_rgb_only_recall_and_error_on_foreign_scenes() -> None:
    """A dozen foreign scenes without depth: recall >= 0.8 and median 3D error <= 1.5 cm (the issue's floors)."""
    tally = Tally()
    perceiver = ClassicalPerceiver(ClassicalConfig(lift_rgb=True))
    for index in range(12):
        scene, frame = _flat(index)
        score(tally, index, list(perceiver.perceive([frame]).objects), scene.truths)
    row = tally.row()
    assert row["recall"] >= 0.8, tally.failures
    assert row["median_mm"] <= 15.0, row


def test_the_screen_degrades_honestly_without_depth() -> None:
    """The verifier's screen on an RGB-only look: no crash; colours re-measured (a wrong colour claim is
    repaired), and what could not run is recorded, in the screen and as a check."""
    from groundsight.knowledge import KnowledgeBase
    from groundsight.perception.evidence import colour_contradiction
    from groundsight.perception.perceivers.base import assign_ids
    from groundsight.reasoning.verifier import Verifier

    scene, frame = _flat(0)
    percept = ClassicalPerceiver(ClassicalConfig(lift_rgb=True)).perceive([frame])
    wrong = percept.objects[0].model_copy(update={"color": "green" if percept.objects[0].color != "green" else "red"})
    claimed = percept.model_copy(update={"objects": assign_ids([wrong, *percept.objects[1:]])})
    verifier = Verifier(KnowledgeBase(), colour_probe=colour_contradiction)
    screen = verifier.screen(claimed, [frame])
    assert screen.not_run and "no depth from top" in screen.not_run[0]
    scope = [c for c in screen.checks if c.name == "screen_scope"]
    assert len(scope) == 1 and "colours re-measured" in scope[0].claim and "not checked" in scope[0].claim
    failed = [c for c in screen.checks if c.name == "claim_remeasured" and not c.passed]
    assert len(failed) == 1 and "colour only: no depth" in failed[0].reason
    assert screen.doubtful and sorted(o.color for o in screen.objects) == sorted(o.color for o in percept.objects)
    unchecked = Verifier(KnowledgeBase()).screen(percept, [frame])  # no colour probe: nothing re-measured
    assert "nothing re-measured" in unchecked.checks[0].claim and unchecked.objects == list(percept.objects)


def test_foreign_benchmark_runs_rgb_only_with_the_robots_mask() -> None:
    """``benchmarks.foreign_scenes --rgb-only --robot-mask`` on three scenes: metrics for every perceiver."""
    from benchmarks.foreign_scenes import run

    results = run(3, 0, ["classical", "oracle"], show_failures=0, rgb_only=True, robot_mask=True)
    assert results["oracle"]["recall"] == 1.0
    assert results["classical"]["recall"] >= 0.8
