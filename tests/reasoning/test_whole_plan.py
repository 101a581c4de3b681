"""Issue 14: the whole plan is verified before the first motion, placements pack and land inside the
tolerance of ``near``, and messages name objects as a person would, never by internal id."""

from __future__ import annotations

import math

from groundsight.knowledge import KnowledgeBase
from groundsight.perception.objects import Percept
from groundsight.perception.relations import NEAR_DISTANCE, SIDE_REACH, in_front_of, inside, left_of, near
from groundsight.reasoning import RulesReasoner, Verifier
from groundsight.reasoning.placement import PlanStep, beside_point, release_point_for, still_to_place
from groundsight.reasoning.verifier import decide, describe, humanize
from tests.conftest import make_object


def _percept(*objs) -> Percept:
    return Percept(objects=list(objs), cameras=["top"], perceiver="test")


def _placed(obj, point):
    return obj.model_copy(update={"position": (point[0], point[1], point[2] + obj.extent[2] / 2)})


def test_two_blocks_packed_into_one_bowl_each_end_inside_and_apart() -> None:
    bowl = make_object("red_bowl", "bowl", "red", 0.45, -0.2, size=(0.163, 0.16, 0.05))
    first = make_object("red_block", "block", "red", 0.6, 0.2, size=(0.071, 0.071, 0.05))
    second = make_object("blue_block", "block", "blue", 0.6, 0.0, size=(0.058, 0.058, 0.05))
    plan = [
        PlanStep(skill="place", object="red_block", relation="inside", target="red_bowl"),
        PlanStep(skill="place", object="blue_block", relation="inside", target="red_bowl"),
    ]
    assert still_to_place(plan, 0) == 1 and still_to_place(plan, 1) == 0
    p1 = release_point_for(plan[0], first, [bowl, first, second], still_to_place(plan, 0))
    assert math.dist(p1[:2], bowl.position[:2]) > 0.02  # not the centre: the next one must fit beside it
    first = _placed(first, p1)
    p2 = release_point_for(plan[1], second, [bowl, first, second], still_to_place(plan, 1))
    second = _placed(second, p2)
    assert inside(first, bowl) and inside(second, bowl)
    assert math.dist(p1[:2], p2[:2]) >= (0.071 + 0.058) / 2
    for obj in (first, second):  # the whole box stays within the bowl's rim
        assert math.dist(obj.position[:2], bowl.position[:2]) + max(obj.extent[:2]) / 2 < 0.08


def test_one_object_into_an_empty_container_still_goes_to_its_centre() -> None:
    bowl = make_object("red_bowl", "bowl", "red", 0.45, -0.2)
    block = make_object("red_block", "block", "red", 0.6, 0.2)
    step = PlanStep(skill="place", object="red_block", relation="inside", target="red_bowl")
    assert release_point_for(step, block, [bowl, block])[:2] == (0.45, -0.2)


def test_near_placement_lands_well_inside_the_tolerance_without_touching() -> None:
    block = make_object("red_block", "block", "red", 0.6, 0.2, size=(0.071, 0.071, 0.05))
    bowl = make_object("blue_bowl", "bowl", "blue", 0.45, -0.2, size=(0.163, 0.16, 0.05))
    x, y = beside_point("near", block, bowl)
    distance = math.hypot(x - bowl.position[0], y - bowl.position[1])
    assert distance <= NEAR_DISTANCE - 0.015  # the arm's release error cannot carry it out of `near`
    assert distance >= (0.071 + 0.16) / 2  # and it does not land on the bowl's rim
    assert near(_placed(block, (x, y, 0.0)), bowl)


def test_describe_names_colour_type_and_where_never_the_id() -> None:
    percept = _percept(
        make_object("blue_block", "block", "blue", 0.5, 0.2),
        make_object("blue_block_2_new1", "block", "blue", 0.5, -0.2),
        make_object("red_bowl", "bowl", "red", 0.4, 0.0),
    )
    assert describe("red_bowl", percept) == "the red bowl"
    assert describe("blue_block", percept) == "the blue block on the left"
    assert describe("blue_block_2_new1", percept) == "the blue block on the right"
    assert describe("green_ball", percept) == "the green ball"  # no longer in view
    text = humanize("blue_block_2_new1 is on red_bowl, which is not a support surface", percept)
    assert text == "the blue block on the right is on the red bowl, which is not a support surface"


def test_state_valid_judges_the_plan_not_a_violation_the_camera_already_shows(kb: KnowledgeBase) -> None:
    """A block left sticking out of a bowl (perceived on it) is what the plan fixes; it does not stop the plan."""
    percept = _percept(
        make_object("blue_block_2", "block", "blue", 0.45, -0.2, z=0.075),
        make_object("red_bowl", "bowl", "red", 0.45, -0.2),
        make_object("red_block", "block", "red", 0.6, 0.2),
        make_object("green_plate", "plate", "green", 0.45, 0.2),
    )
    thought = RulesReasoner(kb).think("Put the red block on the green plate.", percept)
    checks = Verifier(kb).check(thought, percept)
    state = next(c for c in checks if c.name == "state_valid")
    assert state.passed, state.reason
    assert decide(checks) is None


def test_state_valid_refuses_before_motion_and_names_objects_as_a_person_would(kb: KnowledgeBase) -> None:
    percept = _percept(
        make_object("red_block_2_new1", "block", "red", 0.6, 0.2),
        make_object("green_ball", "ball", "green", 0.45, -0.2),
    )
    thought = RulesReasoner(kb).think("Put the red block on the green ball.", percept)
    failed = decide(Verifier(kb).check(thought, percept))
    assert failed is not None and failed.on_fail == "refuse"
    assert "red_block_2_new1" not in failed.reason and "green_ball" not in failed.reason


def test_direction_words_cover_a_region_not_just_an_axis_offset(kb: KnowledgeBase) -> None:
    """One cylinder straight in front of the tray, another 22 cm to its side: only the first is in front."""
    tray = make_object("brown_tray", "tray", "brown", 0.55, 0.0)
    ahead = make_object("ahead", "cylinder", "pink", 0.38, 0.02)
    aside = make_object("aside", "cylinder", "pink", 0.45, 0.22)
    assert in_front_of(ahead, tray) and not in_front_of(aside, tray)
    assert left_of(aside, tray) and not left_of(ahead, tray)
    far = make_object("far", "cylinder", "pink", 0.38, 0.02 + SIDE_REACH)
    assert not left_of(far, tray)  # too far away to be "left of" it
    percept = _percept(tray, ahead, aside, make_object("green_plate", "plate", "green", 0.6, -0.22))
    thought = RulesReasoner(kb).think("Put the cylinder in front of the tray on the plate.", percept)
    assert decide(Verifier(kb).check(thought, percept)) is None
    assert [s.text for s in thought.plan] == ["pick(ahead)", "place(ahead, on, green_plate)"]
