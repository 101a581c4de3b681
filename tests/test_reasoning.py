"""Instruction parsing, referent resolution, chain of thought and the verifier's named checks."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase
from perception.objects import Percept
from reasoning import InstructionError, RulesReasoner, Verifier, parse_instruction
from reasoning.verifier import decide
from tests.conftest import make_object

WORDS = {"block": "block", "cube": "block", "bowl": "bowl", "plate": "plate", "tray": "tray"}


@pytest.mark.parametrize(
    ("text", "relation", "obj", "target"),
    [
        ("Put the red block in the blue bowl.", "inside", ("block", "red"), ("bowl", "blue")),
        ("place the red cube into the bowl", "inside", ("block", "red"), ("bowl", None)),
        ("Move the grey block onto the green plate", "on", ("block", "gray"), ("plate", "green")),
        ("Please put the yellow blocks on top of the red block", "on", ("block", "yellow"), ("block", "red")),
        ("drop the block inside of the tray", "inside", ("block", None), ("tray", None)),
    ],
)
def test_parse(text, relation, obj, target) -> None:
    goal = parse_instruction(text, WORDS)
    assert goal.relation == relation
    assert (goal.object.type, goal.object.color) == obj
    assert (goal.target.type, goal.target.color) == target


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Put the teal block in the bowl", "teal"),
        ("Put the red spaceship in the bowl", "spaceship"),
        ("Throw the red block in the bowl", "throw"),
        ("Put the red block near the bowl", None),
        ("", None),
    ],
)
def test_parse_errors_name_the_word(text, word) -> None:
    with pytest.raises(InstructionError) as info:
        parse_instruction(text, WORDS)
    assert info.value.word == word
    if word:
        assert word in str(info.value)


def _percept(*objs) -> Percept:
    return Percept(objects=list(objs), cameras=["top"], perceiver="test")


def _decide(kb: KnowledgeBase, instruction: str, percept: Percept):
    thought = RulesReasoner(kb).think(instruction, percept)
    checks = Verifier(kb).check(thought, percept)
    return thought, checks, decide(checks)


def test_happy_path_plans_pick_then_place(kb) -> None:
    p = _percept(
        make_object("red_block", "block", "red", 0.45, 0.1), make_object("blue_bowl", "bowl", "blue", 0.6, -0.1)
    )
    thought, checks, failed = _decide(kb, "Put the red block in the blue bowl.", p)
    assert failed is None
    assert all(c.passed for c in checks)
    assert [s.text for s in thought.plan] == ["pick(red_block)", "place(red_block, inside, blue_bowl)"]
    assert [s.kind for s in thought.steps] == ["describe", "parse", "resolve", "resolve", "knowledge", "goal", "plan"]
    release = thought.plan[1].release_point
    assert release[:2] == (0.6, -0.1) and release[2] < 0.02
    assert "a bowl affords 'inside'" in thought.steps[4].facts
    assert thought.steps[2].evidence[0].object_id == "red_block"


def test_absent_referent_refuses(kb) -> None:
    p = _percept(
        make_object("red_block", "block", "red", 0.45, 0.1), make_object("blue_bowl", "bowl", "blue", 0.6, -0.1)
    )
    _, _, failed = _decide(kb, "Put the green block in the blue bowl.", p)
    assert failed.name == "referent_exists" and failed.on_fail == "refuse"
    assert "green block" in failed.reason


def test_impossible_relation_refuses(kb) -> None:
    p = _percept(
        make_object("red_block", "block", "red", 0.45, 0.1), make_object("purple_block", "block", "purple", 0.6, 0)
    )
    _, _, failed = _decide(kb, "Put the red block into the purple block.", p)
    assert failed.name == "target_affords_relation"
    assert "not a container" in failed.reason and failed.facts


def test_ambiguous_referent_asks_with_candidates(kb) -> None:
    p = _percept(
        make_object("red_block", "block", "red", 0.4, 0.0),
        make_object("blue_bowl_1", "bowl", "blue", 0.6, 0.17),
        make_object("blue_bowl_2", "bowl", "blue", 0.6, -0.17),
    )
    _, _, failed = _decide(kb, "Put the red block in the blue bowl.", p)
    assert failed.name == "referent_unique" and failed.on_fail == "ask"
    assert set(failed.candidates) == {"blue_bowl_1", "blue_bowl_2"}
    assert "blue_bowl_1" in failed.reason and "blue_bowl_2" in failed.reason and "left" in failed.reason


def test_bowl_is_not_graspable(kb) -> None:
    p = _percept(
        make_object("blue_bowl", "bowl", "blue", 0.6, -0.1), make_object("red_plate", "plate", "red", 0.4, 0.1)
    )
    _, _, failed = _decide(kb, "Put the blue bowl on the red plate.", p)
    assert failed.name == "object_graspable"


def test_blocked_target_fails_precondition(kb) -> None:
    p = _percept(
        make_object("red_block", "block", "red", 0.45, 0.1),
        make_object("green_block", "block", "green", 0.6, -0.1),
        make_object("yellow_block", "block", "yellow", 0.6, -0.1, z=0.075),
    )
    _, checks, failed = _decide(kb, "Put the red block on the green block.", p)
    assert failed.name == "precondition"
    assert "yellow_block is on top of green_block" in failed.reason


def test_goal_already_holding_plans_nothing(kb) -> None:
    p = _percept(
        make_object("blue_bowl", "bowl", "blue", 0.6, -0.1),
        make_object("red_block", "block", "red", 0.6, -0.1, z=0.033),
    )
    thought, checks, failed = _decide(kb, "Put the red block in the blue bowl.", p)
    assert failed is None and thought.plan == []


def test_weak_evidence_asks_for_another_look(kb) -> None:
    weak = make_object("red_block", "block", "red", 0.45, 0.1).model_copy(update={"confidence": 0.2})
    p = _percept(weak, make_object("blue_bowl", "bowl", "blue", 0.6, -0.1))
    _, _, failed = _decide(kb, "Put the red block in the blue bowl.", p)
    assert failed.name == "evidence_grounded" and failed.on_fail == "reperceive"


def test_unknown_word_refuses_naming_it(kb) -> None:
    p = _percept(make_object("red_block", "block", "red", 0.45, 0.1))
    thought, _, failed = _decide(kb, "Put the teal block in the bowl.", p)
    assert failed.name == "instruction_understood" and "teal" in failed.reason


def test_target_out_of_reach_refuses(kb) -> None:
    far = make_object("blue_bowl", "bowl", "blue", 0.86, 0.0)
    _, _, failed = _decide(
        kb, "Put the red block in the blue bowl.", _percept(make_object("red_block", "block", "red", 0.45, 0.1), far)
    )
    assert failed.name == "reachable" and "0.86 m" in failed.reason
