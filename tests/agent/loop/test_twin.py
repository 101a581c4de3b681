"""The digital twin on real PyBullet (DIRECT): rebuilding a perceived scene and rolling plans out on it.

Percepts come from a live simulated world through the oracle perceiver (simulator truth in the shape of a
percept), or are built by hand where the scene could not exist in the simulator (an object out of reach).
Plans are built by hand, bypassing the reasoner and its knowledge graph, so that physically doomed plans
reach the twin.
"""

from __future__ import annotations

import json
import math

import pytest

from groundsight.agent.loop.runner import RunConfig, run_episode
from groundsight.agent.loop.twin import CHECK_NAME, DigitalTwin, catalogue_size, held_at_start, rebuild_world
from groundsight.agent.tasks.scenario import load_scenario
from groundsight.agent.tasks.sim_bridge import SimTruthSource
from groundsight.perception.objects import Percept
from groundsight.perception.perceivers.oracle import OraclePerceiver
from groundsight.reasoning.placement import PlanStep
from groundsight.reasoning.predicates import atom
from groundsight.reasoning.thought import Thought
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.world import World
from tests.conftest import make_object


def perceive(*specs: ObjectSpec, stack: dict[str, str] | None = None) -> Percept:
    """The oracle's percept of a settled world holding ``specs``; ``stack`` puts object -> onto support."""
    with World() as world:
        for spec in specs:
            world.add_object(spec)
        world.settle()
        for top, support in (stack or {}).items():
            s = world.truth_by_id()[support]
            world.set_object_pose(top, (s.position[0], s.position[1], s.position[2] + s.extent[2] / 2 + 0.001))
            world.settle()
        return OraclePerceiver(SimTruthSource(world)).perceive([])


def pick_place(obj: str, relation: str, target: str) -> Thought:
    plan = [
        PlanStep(skill="pick", object=obj),
        PlanStep(skill="place", object=obj, relation=relation, target=target),
    ]
    return Thought(plan=plan, goal=[[atom(relation, obj, target)]])


BLOCK = ObjectSpec("red_block", "block", "red", "medium", 0.45, 0.12, yaw=0.3)
BOWL = ObjectSpec("blue_bowl", "bowl", "blue", "medium", 0.58, -0.12)


# ------------------------------------------------------------------------------------------------ rebuild


def test_catalogue_size_matches_the_perceived_extent() -> None:
    assert catalogue_size("block", (0.04, 0.04, 0.04)) == "small"
    assert catalogue_size("block", (0.061, 0.059, 0.06)) == "large"
    # a turned block's box is wider than its side: still the medium one
    side = 0.05 * (math.cos(0.5) + math.sin(0.5))
    assert catalogue_size("block", (side, side, 0.05), yaw=0.5) == "medium"
    assert catalogue_size("bowl", (0.19, 0.19, 0.05)) == "large"


def test_rebuilt_world_matches_the_percept_also_stacked_and_inside() -> None:
    """Box centres and extents within a few mm of what was perceived, a stacked block resting on its support."""
    small = ObjectSpec("green_block", "block", "green", "small", 0.40, -0.20)
    inner = ObjectSpec("yellow_block", "block", "yellow", "small", 0.58, -0.12)
    percept = perceive(BLOCK, BOWL, small, inner, stack={"green_block": "red_block"})
    # sizes left out: the twin must find them from the extent
    percept = percept.model_copy(update={"objects": [o.model_copy(update={"size": None}) for o in percept.objects]})
    facts: list[str] = []
    world = rebuild_world(percept, facts=facts)
    try:
        truth = world.truth_by_id()
        assert sorted(truth) == sorted(percept.ids)
        for obj in percept.objects:
            t = truth[obj.id]
            assert t.size == {"red_block": "medium", "blue_bowl": "medium"}.get(obj.id, "small"), obj.id
            assert math.dist(t.position, obj.position) < 0.004, (obj.id, t.position, obj.position)
            assert max(abs(a - b) for a, b in zip(t.extent, obj.extent, strict=True)) < 0.004, obj.id
    finally:
        world.close()
    assert "twin objects rebuilt: 4" in facts
    assert "twin objects rebuilt resting on others: green_block" in facts
    assert any(f.startswith("twin sizes chosen from the perceived extent: blue_bowl") for f in facts)
    assert not any("moved more than" in f for f in facts)


def test_objects_perceived_too_low_are_raised_out_of_their_support() -> None:
    """Perception error puts a stacked block 6 mm into its support and a block in a bowl on the table (through
    the bowl's floor): the twin raises both until they are clear, so nothing is shot away by the physics."""
    inner = ObjectSpec("yellow_block", "block", "yellow", "small", 0.58, -0.12)
    small = ObjectSpec("green_block", "block", "green", "small", 0.40, -0.20)
    percept = perceive(BLOCK, BOWL, small, inner, stack={"green_block": "red_block"})
    sunk = {"green_block": -0.006, "yellow_block": -0.006}  # the yellow block's bottom is then at z = 0
    low = percept.model_copy(
        update={
            "objects": [
                o.model_copy(update={"position": (o.position[0], o.position[1], o.position[2] + sunk.get(o.id, 0.0))})
                for o in percept.objects
            ]
        }
    )
    facts: list[str] = []
    world = rebuild_world(low, facts=facts)
    try:
        truth = world.truth_by_id()
        for obj in percept.objects:  # where they really are, not where they were (mis)perceived
            assert math.dist(truth[obj.id].position, obj.position) < 0.004, (obj.id, truth[obj.id].position)
    finally:
        world.close()
    assert "twin objects raised out of what they intersected: green_block, yellow_block" in facts
    assert not any("moved more than" in f for f in facts)


def test_held_at_start_is_the_object_placed_before_it_is_picked() -> None:
    assert held_at_start(pick_place("a", "on", "b").plan) is None
    plan = [PlanStep(skill="place", object="a", relation="on", target="b"), PlanStep(skill="pick", object="c")]
    assert held_at_start(plan) == "a"
    assert held_at_start([PlanStep(skill="handover", object="m")]) == "m"


# ------------------------------------------------------------------------------------------------ rollouts


def test_valid_pick_place_passes() -> None:
    percept = perceive(BLOCK, BOWL)
    result = DigitalTwin(seed=0)(pick_place("red_block", "inside", "blue_bowl"), percept)
    assert result.name == CHECK_NAME and result.on_fail == "refuse"
    assert result.passed, result.reason
    assert result.claim == "the 2-step plan works on a copy of the world"
    assert "twin steps run: 2 of 2" in result.facts and "twin goal atoms checked: 1" in result.facts


def test_goal_that_the_plan_does_not_reach_fails() -> None:
    """The plan runs cleanly, but the goal asks for something else: the end check names the missing atom."""
    percept = perceive(BLOCK, BOWL)
    thought = pick_place("red_block", "inside", "blue_bowl").model_copy(
        update={"goal": [[atom("left_of", "red_block", "blue_bowl")]]}
    )
    result = DigitalTwin()(thought, percept)
    assert not result.passed
    assert result.reason == "in the twin, after all 2 steps the goal does not hold: not left_of(red_block, blue_bowl)"


def test_block_into_a_mug_too_narrow_fails_at_the_place_step() -> None:
    """A medium block (5 cm) does not go into a small mug (4.7 cm inside): the physical effect is not there."""
    mug = ObjectSpec("green_mug", "mug", "green", "small", 0.55, -0.10)
    percept = perceive(BLOCK, mug)
    result = DigitalTwin()(pick_place("red_block", "inside", "green_mug"), percept)
    assert not result.passed
    assert result.reason.startswith("in the twin, step 2 place(red_block, inside, green_mug) failed: ")
    assert result.reason.endswith("red_block is not inside green_mug afterwards") or "blocked" in result.reason
    assert "twin steps run: 1 of 2" in result.facts


def test_place_out_of_reach_fails_naming_the_step() -> None:
    """A plate perceived at the far end of the table: the release point is out of the arm's reach."""
    block = make_object("red_block", "block", "red", 0.45, 0.12)
    plate = make_object("green_plate", "plate", "green", 0.95, -0.10)
    percept = Percept(objects=[block, plate], cameras=["top"], perceiver="hand")
    result = DigitalTwin()(pick_place("red_block", "on", "green_plate"), percept)
    assert not result.passed
    assert result.reason.startswith("in the twin, step 2 place(red_block, on, green_plate) failed: unreachable: ")
    assert "\n" not in result.reason


def test_grasp_that_cannot_close_fails_at_the_pick_step() -> None:
    tray = ObjectSpec("brown_tray", "tray", "brown", "medium", 0.50, 0.0)
    percept = perceive(tray)
    thought = Thought(plan=[PlanStep(skill="pick", object="brown_tray")])
    result = DigitalTwin()(thought, percept)
    assert not result.passed
    assert result.reason.startswith("in the twin, step 1 pick(brown_tray) failed: too_wide")


def test_plan_made_while_holding_starts_with_the_object_in_the_gripper() -> None:
    percept = perceive(BLOCK, BOWL)
    thought = Thought(
        plan=[PlanStep(skill="place", object="red_block", relation="inside", target="blue_bowl")],
        goal=[[atom("inside", "red_block", "blue_bowl")]],
    )
    result = DigitalTwin()(thought, percept)
    assert result.passed, result.reason
    assert "twin: red_block is held at the start; rebuilt on the table and picked first" in result.facts


def test_handover_goal_is_checked_on_the_twin_gripper() -> None:
    ball = ObjectSpec("green_ball", "ball", "green", "medium", 0.50, 0.05)
    percept = perceive(ball, BOWL)
    plan = [PlanStep(skill="pick", object="green_ball"), PlanStep(skill="handover", object="green_ball")]
    ok = DigitalTwin()(Thought(plan=plan, goal=[[atom("handed_over", "green_ball")]]), percept)
    assert ok.passed, ok.reason
    wrong = DigitalTwin()(Thought(plan=plan, goal=[[atom("handed_over", "blue_bowl")]]), percept)
    assert not wrong.passed and wrong.reason.endswith("not handed_over(blue_bowl)")


def test_same_seed_same_verdict_also_with_position_noise() -> None:
    percept = perceive(BLOCK, BOWL)
    thought = pick_place("red_block", "inside", "blue_bowl")
    assert DigitalTwin(seed=3)(thought, percept) == DigitalTwin(seed=3)(thought, percept)
    noisy = DigitalTwin(seed=5, position_noise=0.005)
    assert noisy(thought, percept) == DigitalTwin(seed=5, position_noise=0.005)(thought, percept)
    with pytest.raises(ValueError, match="position_noise"):
        DigitalTwin(position_noise=-1.0)


# ------------------------------------------------------------------------------------------------ errors


def test_unknown_object_and_unknown_type_are_failed_checks() -> None:
    block = make_object("red_block", "block", "red", 0.45, 0.12)
    cup = make_object("red_cup", "block", "red", 0.55, -0.1).model_copy(update={"type": "cup"})
    percept = Percept(objects=[block, cup], cameras=["top"], perceiver="hand")
    missing = DigitalTwin()(pick_place("red_block", "on", "blue_plate"), percept)
    assert not missing.passed
    assert missing.reason == (
        "in the twin, step 2 place(red_block, on, blue_plate) names blue_plate, which is not in the percept"
    )
    unknown = DigitalTwin()(pick_place("red_block", "on", "red_cup"), percept)
    assert not unknown.passed
    assert unknown.reason.startswith("the twin could not run the plan: TwinError: cannot rebuild red_cup: unknown type")


def test_an_error_inside_the_twin_is_a_one_line_failed_check(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[bool] = []
    real_close = World.close

    def close(self: World) -> None:
        closed.append(True)
        real_close(self)

    def explode(self, *args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(World, "close", close)
    monkeypatch.setattr("groundsight.agent.loop.twin.Skills.pick", explode)
    percept = Percept(objects=[make_object("red_block", "block", "red", 0.45, 0.12)], cameras=[], perceiver="hand")
    result = DigitalTwin()(Thought(plan=[PlanStep(skill="pick", object="red_block")]), percept)
    assert not result.passed
    assert result.reason == "the twin could not run the plan: RuntimeError: boom second line"
    assert closed  # the twin world was closed


# ------------------------------------------------------------------------------------------------ end to end


def test_episode_with_twin_runs_the_rollout_and_records_it(tmp_path) -> None:
    scenario = load_scenario("scenarios/pick_place/red_block_in_blue_bowl.yaml")
    summary = run_episode(scenario, RunConfig(seed=0, perception="oracle", twin=True), tmp_path)
    assert summary.passed and summary.status == "succeeded", summary.reason
    records = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    verify = [r for r in records if r["node"] == "verify"]
    twin_checks = [c for r in verify for c in r["checks"] if c["name"] == CHECK_NAME]
    assert twin_checks and all(c["passed"] for c in twin_checks)
    assert "twin steps run: 2 of 2" in twin_checks[0]["facts"]
    # the twin's verdict is part of the reasoning shown in the thought's verify step
    thought_checks = [c["name"] for s in verify[-1]["thought"]["steps"] if s["kind"] == "verify" for c in s["checks"]]
    assert CHECK_NAME in thought_checks
