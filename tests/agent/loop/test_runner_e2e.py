"""End-to-end episodes: real PyBullet (DIRECT), real OpenCV perception, real LangGraph + SQLite checkpointer.

Success is judged on simulator truth by the runner; these tests also look at the truth themselves.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from groundsight.agent.loop.runner import RunConfig, run_episode
from groundsight.agent.tasks.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[3]
PICK_PLACE = ROOT / "scenarios" / "pick_place"


def _trace(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    "name",
    ["red_block_in_blue_bowl", "yellow_cube_onto_green_plate", "blue_block_on_red_block", "pink_block_in_brown_tray"],
)
def test_success_scenarios_pass_on_truth(tmp_path: Path, name: str) -> None:
    scenario = load_scenario(PICK_PLACE / f"{name}.yaml")
    summary = run_episode(scenario, RunConfig(seed=1, perception="classical"), tmp_path)
    assert summary.status == "succeeded", summary.reason
    assert summary.goal_satisfied is True
    assert summary.passed
    nodes = [r["node"] for r in _trace(tmp_path)]
    assert nodes == ["perceive", "reason", "verify", "act", "observe", "act", "observe", "succeeded"]
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert set(saved) >= {"scenario", "seed", "status", "expected", "passed", "steps", "wall_time_s", "reason"}


@pytest.mark.parametrize(
    ("name", "status", "check"),
    [
        ("absent_green_block_refuse", "refused", "referent_exists"),
        ("block_into_block_refuse", "refused", "target_affords_relation"),
        ("two_blue_bowls_ask", "needs_clarification", "referent_unique"),
    ],
)
def test_refuse_and_ask_move_nothing(tmp_path: Path, name: str, status: str, check: str) -> None:
    summary = run_episode(load_scenario(PICK_PLACE / f"{name}.yaml"), RunConfig(seed=3), tmp_path)
    assert summary.status == status and summary.passed
    assert summary.moved == [] and summary.actions == 0
    verify = next(r for r in _trace(tmp_path) if r["node"] == "verify")
    failed = [c for c in verify["checks"] if not c["passed"]]
    assert failed[0]["name"] == check
    if status == "needs_clarification":
        assert "the one on the left or the one on the right" in summary.question
        assert "blue_bowl" not in summary.question  # objects as a person names them, never internal ids


def test_wrong_goal_is_not_passed_even_if_agent_succeeds(tmp_path: Path) -> None:
    """The judge is simulator truth: a scenario whose goal disagrees with the instruction fails."""
    scenario = load_scenario(PICK_PLACE / "red_block_in_blue_bowl.yaml")
    scenario = scenario.model_copy(update={"goal": {"on_table": ["red_block"]}})
    summary = run_episode(scenario, RunConfig(seed=0), tmp_path)
    assert summary.status == "succeeded"
    assert summary.goal_satisfied is False and not summary.passed


def test_same_seed_same_trace(tmp_path: Path) -> None:
    scenario = load_scenario(PICK_PLACE / "red_block_in_blue_bowl.yaml")
    run_episode(scenario, RunConfig(seed=5), tmp_path / "a")
    run_episode(scenario, RunConfig(seed=5), tmp_path / "b")
    assert (tmp_path / "a" / "trace.jsonl").read_text() == (tmp_path / "b" / "trace.jsonl").read_text()


def test_checkpoint_holds_every_step(tmp_path: Path) -> None:
    from groundsight.agent.loop.runner import open_checkpointer

    scenario = load_scenario(PICK_PLACE / "absent_green_block_refuse.yaml")
    run_episode(scenario, RunConfig(seed=0), tmp_path)
    with sqlite3.connect(tmp_path / "checkpoint.sqlite") as conn:
        (count,) = conn.execute("select count(*) from checkpoints").fetchone()
    assert count >= 4
    saver = open_checkpointer(tmp_path / "checkpoint.sqlite")
    latest = saver.get_tuple({"configurable": {"thread_id": f"{scenario.name}-0"}})
    assert latest.checkpoint["channel_values"]["status"] == "refused"


def test_video_records_the_episode(tmp_path: Path) -> None:
    import cv2

    scenario = load_scenario(PICK_PLACE / "blue_block_on_red_block.yaml")
    summary = run_episode(scenario, RunConfig(seed=0, video=True), tmp_path)
    assert summary.passed
    capture = cv2.VideoCapture(str(tmp_path / "episode.mp4"))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames >= 20
    assert capture.get(cv2.CAP_PROP_FRAME_WIDTH) == 480


FAMILY_SCENARIOS = [
    "stacking/three_block_tower",
    "sorting/blocks_into_matching_bowls",
    "spatial/block_behind_tray",
    "superlatives/second_cylinder_from_right",
    "negation/blocks_not_red_into_tray",
    "counting/one_ball",
    "sequences/block_then_ball",
    "handover/red_mug",
]


@pytest.mark.parametrize("name", FAMILY_SCENARIOS)
def test_every_family_succeeds_on_truth(tmp_path: Path, name: str) -> None:
    """One scenario of each family beyond pick-and-place, classical perception, judged on simulator truth."""
    summary = run_episode(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), RunConfig(seed=2), tmp_path)
    assert summary.passed and summary.status == "succeeded", summary.reason
    reason = next(r for r in _trace(tmp_path) if r["node"] == "reason")
    kinds = [s["kind"] for s in reason["thought"]["steps"]]
    assert kinds[:2] == ["describe", "parse"] and "resolve" in kinds and kinds[-1] == "plan"
    verify = next(r for r in _trace(tmp_path) if r["node"] == "verify")
    assert {"plan_found", "plan_valid", "state_valid"} <= {c["name"] for c in verify["checks"]}


def test_an_answer_resumes_the_interrupted_run(tmp_path: Path) -> None:
    scenario = load_scenario(PICK_PLACE / "two_blue_bowls_ask.yaml")
    summary = run_episode(scenario, RunConfig(seed=0), tmp_path, answers=["the one on the right"])
    assert summary.status == "succeeded" and summary.goal_satisfied is None  # an ask scenario has no goal
    assert not summary.passed  # it expected the agent to ask and stop
    nodes = [r["node"] for r in _trace(tmp_path)]
    assert nodes[:5] == ["perceive", "reason", "verify", "__interrupt__", "needs_clarification"]
    assert summary.moved == ["red_block"]
    reason = [r for r in _trace(tmp_path) if r["node"] == "reason"][-1]
    assert reason["thought"]["plan"][-1]["target"] == "blue_bowl_2"


def test_an_answer_that_picks_nothing_asks_again(tmp_path: Path) -> None:
    scenario = load_scenario(PICK_PLACE / "two_blue_bowls_ask.yaml")
    summary = run_episode(scenario, RunConfig(seed=0), tmp_path, answers=["whichever"])
    assert summary.status == "needs_clarification" and summary.moved == []
    assert "whichever" in summary.question and "the one on the left" in summary.question
    assert "blue_bowl" not in summary.question


def test_the_twin_rolls_the_plan_out_first(tmp_path: Path) -> None:
    summary = run_episode(
        load_scenario(PICK_PLACE / "red_block_in_blue_bowl.yaml"), RunConfig(seed=0, twin=True), tmp_path
    )
    assert summary.passed
    verify = next(r for r in _trace(tmp_path) if r["node"] == "verify")
    assert next(c for c in verify["checks"] if c["name"] == "twin_rollout")["passed"]


LIFT = """\
name: lift-red-block
instruction: {instruction}
scene:
  objects:
    - {{type: block, color: red}}
    - {{type: block, color: blue}}
    - {{type: bowl, color: green}}
goal:
  lifted: [red_block]
expect: success
max_steps: 20
"""


@pytest.mark.parametrize(
    ("instruction", "perception"), [("Lift the red block.", "classical"), ("pick up the red cube", "oracle")]
)
def test_lift_picks_and_holds_the_object_above_the_table(tmp_path: Path, instruction: str, perception: str) -> None:
    path = tmp_path / "lift.yaml"
    path.write_text(LIFT.format(instruction=instruction))
    summary = run_episode(load_scenario(path), RunConfig(seed=2, perception=perception), tmp_path / "run")
    assert summary.status == "succeeded" and summary.goal_satisfied is True, summary.reason
    nodes = [r["node"] for r in _trace(tmp_path / "run")]
    assert nodes == ["perceive", "reason", "verify", "act", "observe", "succeeded"]
    wrong = LIFT.format(instruction=instruction).replace("lifted: [red_block]", "lifted: [blue_block]")
    path.write_text(wrong)
    summary = run_episode(load_scenario(path), RunConfig(seed=2, perception=perception), tmp_path / "wrong")
    assert summary.status == "succeeded" and summary.goal_satisfied is False  # truth: the blue block stays down


SHIFT = """\
name: shift-red-block
instruction: {instruction}
scene:
  objects:
    - {{type: block, color: red, position: [0.5, -0.05]}}
    - {{type: block, color: blue, position: [0.42, -0.2]}}
    - {{type: bowl, color: green, position: [0.6, 0.2]}}
goal:
  displaced: {{red_block: {offset}}}
expect: success
max_steps: 20
"""


@pytest.mark.parametrize(
    ("instruction", "offset", "perception"),
    [
        ("Push the red block 10 cm to the left.", [0.0, 0.10], "classical"),
        ("move the red cube forward by 8 cm", [0.08, 0.0], "oracle"),
    ],
)
def test_a_shift_moves_the_object_by_the_distance_on_truth(
    tmp_path: Path, instruction: str, offset: list[float], perception: str
) -> None:
    path = tmp_path / "shift.yaml"
    path.write_text(SHIFT.format(instruction=instruction, offset=offset))
    summary = run_episode(load_scenario(path), RunConfig(seed=1, perception=perception), tmp_path / "run")
    assert summary.status == "succeeded" and summary.goal_satisfied is True, summary.reason
    assert summary.moved == ["red_block"]
    reason = next(r for r in _trace(tmp_path / "run") if r["node"] == "reason")
    assert [s["skill"] for s in reason["thought"]["plan"]] == ["pick", "place"]
    opposite = [-v for v in offset]
    path.write_text(SHIFT.format(instruction=instruction, offset=opposite))
    summary = run_episode(load_scenario(path), RunConfig(seed=1, perception=perception), tmp_path / "wrong")
    assert summary.status == "succeeded" and summary.goal_satisfied is False  # truth: it went the other way
