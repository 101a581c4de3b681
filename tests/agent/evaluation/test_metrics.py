"""Evaluation numbers: Wilson intervals, per scenario/family rows, and the hallucination accounting."""

from __future__ import annotations

import math

import pytest

from groundsight.agent.evaluation.metrics import (
    ablation_row,
    family_rows,
    hallucination_accounting,
    report_markdown,
    scenario_rows,
    wilson_interval,
)


def test_wilson_interval_matches_the_formula_and_report_uses_the_same_function() -> None:
    from groundsight.agent.evaluation import report

    assert report.wilson_interval is wilson_interval
    lo, hi = wilson_interval(8, 10)
    p, n, z = 0.8, 10, 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    assert lo < centre < hi and lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0) and wilson_interval(0, 10)[0] == pytest.approx(0.0)


def _result(scenario: str, family: str, passed: bool, seed: int = 0) -> dict:
    return {
        "scenario": scenario,
        "family": family,
        "expected": "success",
        "passed": passed,
        "seed": seed,
        "steps": 8,
        "wall_time_s": 1.0,
        "status": "succeeded" if passed else "failed",
        "reason": "x",
    }


def test_scenario_and_family_rows_count_passes() -> None:
    results = [_result("a", "f1", True), _result("a", "f1", False, 1), _result("b", "f2", True)]
    assert scenario_rows(results)[0][:3] == ("a", "success", "1/2")
    assert [r[:4] for r in family_rows(results)] == [("f1", 1, 2, 1), ("f2", 1, 1, 1)]
    assert "2/3 episodes passed" in report_markdown(results) and "a seed 1: failed" in report_markdown(results)


def _obj(oid: str, x: float, y: float) -> dict:
    return {"id": oid, "position": [x, y, 0.02]}


def _check(name: str, claim: str, passed: bool, reason: str = "") -> dict:
    return {"name": name, "claim": claim, "passed": passed, "reason": reason, "on_fail": "reperceive"}


def _trace(verify_checks: list[dict], after_act: list[dict] = ()) -> list[dict]:
    """A look with a red block and a (phantom) white ball, a verify, an act, then a second look."""
    objects = [_obj("red_block", 0.5, 0.1), _obj("white_ball", 0.4, -0.2), _obj("blue_bowl", 0.6, -0.1)]
    thought = {
        "bindings": [{"candidates": ["red_block", "white_ball"], "chosen": []}],
        "plan": [{"object": "red_block", "target": "blue_bowl"}],
    }
    return [
        {"step": 0, "node": "perceive", "looks": 1, "percept": {"objects": objects}},
        {"step": 1, "node": "reason", "thought": thought},
        {"step": 2, "node": "verify", "checks": verify_checks, "screen": verify_checks},
        {"step": 3, "node": "act"},
        {"step": 4, "node": "observe", "looks": 2, "percept": {"objects": objects[:1]}, "checks": list(after_act)},
    ]


PHANTOM = {"kind": "phantom", "object_id": "white_ball", "call": 0, "detail": {"at": [0.4, -0.2]}}
MISSED = {"kind": "missed", "object_id": "green_block", "call": 0, "detail": {"at": [0.45, 0.05]}}


def test_a_phantom_named_by_a_failed_check_of_its_look_is_caught() -> None:
    checks = [
        _check("claim_remeasured", "white_ball is a white ball at x=0.400, y=-0.200", False, "only table"),
        _check("claim_remeasured", "red_block is a red block at x=0.500, y=+0.100", True),
    ]
    out = hallucination_accounting({"injections": [PHANTOM]}, _trace(checks))
    assert out["caught"] == {"phantom": 1} and out["caught_relevant"] == 1 and out["relevant"] == 1
    assert out["claims"] == 2 and out["false_rejections"] == 0


def test_a_check_after_the_action_or_about_another_object_does_not_catch() -> None:
    wrong = [_check("claim_remeasured", "red_block is a red block at x=0.500, y=+0.100", False, "looks blue")]
    out = hallucination_accounting({"injections": [PHANTOM]}, _trace(wrong))
    assert out["caught_all"] == 0 and out["false_rejections"] == 1 and out["claims"] == 1
    late = [_check("nothing_missed", "every object", False, "a white ball at x=0.400, y=-0.200")]
    injection = {**PHANTOM, "call": 0}
    assert hallucination_accounting({"injections": [injection]}, _trace([], late))["caught_all"] == 0


def test_a_missed_object_is_caught_by_a_report_near_it_and_relevance_needs_a_use() -> None:
    found = [_check("nothing_missed", "every object the depth shows", False, "a green block at x=0.452, y=+0.048")]
    out = hallucination_accounting({"injections": [MISSED]}, _trace(found))
    assert out["caught"] == {"missed": 1} and out["relevant"] == 0  # the green block is in no binding or plan
    far = [_check("nothing_missed", "every object the depth shows", False, "a green block at x=0.600, y=+0.048")]
    assert hallucination_accounting({"injections": [MISSED]}, _trace(far))["caught_all"] == 0


def test_small_position_noise_is_not_relevant() -> None:
    small = {
        "kind": "position_noise",
        "object_id": "red_block",
        "call": 0,
        "detail": {"at": [0.505, 0.1], "offset": [0.005, 0.0]},
    }
    big = {**small, "detail": {"at": [0.54, 0.1], "offset": [0.04, 0.0]}}
    assert hallucination_accounting({"injections": [small]}, _trace([]))["relevant"] == 0
    assert hallucination_accounting({"injections": [big]}, _trace([]))["relevant"] == 1


def test_ablation_row_sums_episodes() -> None:
    rs = [
        {
            "passed": True,
            "injected": 3,
            "caught_all": 2,
            "relevant": 1,
            "caught_relevant": 1,
            "claims": 5,
            "false_rejections": 0,
            "caught": {"phantom": 2},
        },
        {
            "passed": False,
            "moved": ["a"],
            "injected": 1,
            "caught_all": 1,
            "relevant": 1,
            "caught_relevant": 1,
            "claims": 4,
            "false_rejections": 1,
            "caught": {"phantom": 1},
        },
    ]
    row = ablation_row(rs, "noisy:classical", 0.2, True)
    assert (row["passed"], row["total"], row["injected"], row["caught"], row["claims"]) == (1, 2, 4, 3, 9)
    assert row["caught_by_kind"] == {"phantom": 3} and row["moved_and_failed"] == 1
    assert math.isclose(row["noise"], 0.2) and row["verify"] is True
