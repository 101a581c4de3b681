"""The instruction language: every scenario instruction, each construction, synonyms, and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from groundsight.reasoning.language import InstructionError, Lexicon, parse, plural_of
from groundsight.reasoning.logical_form import (
    HandOver,
    NounPhrase,
    Program,
    Put,
    RelationFilter,
    Sort,
    Stack,
    Superlative,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

LEXICON = Lexicon(
    nouns={
        **{w: "block" for w in ("block", "cube", "brick")},
        **{w: "bowl" for w in ("bowl", "basin")},
        **{w: "plate" for w in ("plate", "dish")},
        "tray": "tray",
        **{w: "ball" for w in ("ball", "sphere")},
        **{w: "cylinder" for w in ("cylinder", "can")},
        **{w: "mug" for w in ("mug", "cup")},
        **{w: w for w in ("toy", "kitchenware", "container")},
        **{w: "object" for w in ("object", "thing", "item")},
    }
)


def np(text: str, noun: str | None, **fields) -> NounPhrase:
    return NounPhrase(text=text, noun=noun, **fields)


def the(color: str | None, noun: str, **fields) -> NounPhrase:
    """``the [colour] noun``."""
    return np(f"the {color + ' ' if color else ''}{noun}", noun, color=color, **fields)


def put(obj: NounPhrase, relation: str, target: NounPhrase) -> Put:
    return Put(object=obj, relation=relation, target=target)


def program(*steps) -> Program:
    return Program(steps=list(steps))


RED_IN_BLUE_BOWL = program(put(the("red", "block"), "inside", the("blue", "bowl")))
ALL_BLOCKS = np("the blocks", "block", quantity="all", plural=True)

# Every scenario file's instruction, written out by hand.
EXPECTED: dict[str, Program] = {
    "counting/one_ball.yaml": program(
        put(np("one ball", "ball", quantity="any", count=1), "inside", the(None, "bowl"))
    ),
    "counting/three_blocks_on_plates.yaml": program(
        put(np("the three blocks", "block", count=3, plural=True), "on", np("the large plate", "plate", size="large"))
    ),
    "counting/two_green_blocks.yaml": program(
        put(
            np("two green blocks", "block", color="green", quantity="any", count=2, plural=True),
            "inside",
            the(None, "tray"),
        )
    ),
    "handover/green_ball.yaml": program(HandOver(object=the("green", "ball"))),
    "handover/red_mug.yaml": program(HandOver(object=the("red", "mug"))),
    "handover/yellow_cylinder.yaml": program(HandOver(object=the("yellow", "cylinder"))),
    "infeasible/absent_ball_refuse.yaml": program(put(the("purple", "ball"), "inside", the(None, "bowl"))),
    "infeasible/ambiguous_block_ask.yaml": program(put(the("yellow", "block"), "on", the(None, "plate"))),
    "infeasible/bowl_into_block_refuse.yaml": program(put(the("green", "bowl"), "inside", the("red", "block"))),
    "infeasible/unreachable_target_refuse.yaml": RED_IN_BLUE_BOWL,
    "negation/ball_not_blue_in_bowl.yaml": program(
        put(np("the ball that is not blue", "ball", not_colors=("blue",)), "inside", the(None, "bowl"))
    ),
    "negation/blocks_not_red_into_tray.yaml": program(
        put(
            np("every block that is not red", "block", not_colors=("red",), quantity="all"),
            "inside",
            the(None, "tray"),
        )
    ),
    "negation/everything_but_cylinders_on_plate.yaml": program(
        put(np("the block that is not purple", "block", not_colors=("purple",)), "on", the(None, "plate"))
    ),
    "pick_place/absent_green_block_refuse.yaml": program(put(the("green", "block"), "inside", the("blue", "bowl"))),
    "pick_place/block_into_block_refuse.yaml": program(put(the("red", "block"), "inside", the("purple", "block"))),
    "pick_place/blue_block_on_red_block.yaml": program(put(the("blue", "block"), "on", the("red", "block"))),
    "pick_place/pink_block_in_brown_tray.yaml": program(put(the("pink", "block"), "inside", the("brown", "tray"))),
    "pick_place/red_block_in_blue_bowl.yaml": RED_IN_BLUE_BOWL,
    "pick_place/two_blue_bowls_ask.yaml": RED_IN_BLUE_BOWL,
    "pick_place/yellow_cube_onto_green_plate.yaml": program(
        put(np("the yellow cube", "block", color="yellow"), "on", the("green", "plate"))
    ),
    "sequences/block_then_ball.yaml": program(
        put(the("red", "block"), "inside", the("blue", "bowl")), put(the("yellow", "ball"), "on", the("white", "plate"))
    ),
    "sequences/stack_then_move.yaml": program(
        put(the("green", "block"), "on", the("orange", "block")),
        put(the("pink", "cylinder"), "inside", the(None, "tray")),
    ),
    "sequences/three_steps.yaml": program(
        put(the("red", "block"), "on", the(None, "plate")),
        put(the("blue", "block"), "inside", the(None, "bowl")),
        put(the("green", "block"), "on", the("red", "block")),
    ),
    "sorting/blocks_into_matching_bowls.yaml": program(
        Sort(
            objects=np("each block", "block", quantity="all"),
            relation="inside",
            containers=np("the bowl", "bowl", quantity="all"),
        )
    ),
    "sorting/blocks_onto_matching_plates.yaml": program(
        Sort(
            objects=np("every block", "block", quantity="all"),
            relation="on",
            containers=np("the plate", "plate", quantity="all"),
        )
    ),
    "sorting/three_colours_into_bowls.yaml": program(
        Sort(objects=ALL_BLOCKS, relation="inside", containers=np("the bowls", "bowl", quantity="all", plural=True))
    ),
    "spatial/block_behind_tray.yaml": program(
        put(
            np(
                "the blue block behind the tray",
                "block",
                color="blue",
                relations=(RelationFilter(relation="behind", other=the(None, "tray")),),
            ),
            "on",
            the("green", "plate"),
        )
    ),
    "spatial/block_left_of_bowl.yaml": program(
        put(
            np(
                "the block that is left of the bowl",
                "block",
                relations=(RelationFilter(relation="left_of", other=the(None, "bowl")),),
            ),
            "on",
            the(None, "plate"),
        )
    ),
    "spatial/block_nearest_plate.yaml": program(
        put(
            np(
                "the block nearest the plate",
                "block",
                superlative=Superlative(ranking="nearest", reference=the(None, "plate")),
            ),
            "inside",
            the(None, "bowl"),
        )
    ),
    "stacking/four_block_tower.yaml": program(
        Stack(
            order=[
                the("white", "block"),
                np("gray block", "block", color="gray"),
                np("blue block", "block", color="blue"),
                np("pink block", "block", color="pink"),
            ]
        )
    ),
    "stacking/three_block_tower.yaml": program(
        Stack(order=[the("yellow", "block"), the("green", "block"), the("red", "block")])
    ),
    "stacking/two_block_tower.yaml": program(put(the("red", "block"), "on", the("blue", "block"))),
    "superlatives/largest_ball.yaml": program(
        put(np("the largest ball", "ball", superlative=Superlative(ranking="largest")), "inside", the(None, "bowl"))
    ),
    "superlatives/leftmost_block.yaml": program(
        put(np("the leftmost block", "block", superlative=Superlative(ranking="leftmost")), "on", the(None, "plate"))
    ),
    "superlatives/second_cylinder_from_right.yaml": program(
        put(
            np(
                "the second cylinder from the right",
                "cylinder",
                superlative=Superlative(ranking="rightmost", rank=2),
            ),
            "inside",
            the(None, "tray"),
        )
    ),
}


def _scenario_files() -> list[str]:
    return sorted(str(p.relative_to(SCENARIOS)) for p in SCENARIOS.rglob("*.yaml"))


def test_every_expected_scenario_exists():
    assert set(EXPECTED) <= set(_scenario_files())
    assert len(EXPECTED) == 35


@pytest.mark.parametrize("name", _scenario_files())
def test_scenario_instruction(name):
    instruction = yaml.safe_load((SCENARIOS / name).read_text())["instruction"]
    result = parse(instruction, LEXICON)
    if name in EXPECTED:
        assert result == EXPECTED[name], instruction


def one(text: str):
    """The single command of ``text``."""
    result = parse(text, LEXICON)
    assert len(result.steps) == 1
    return result.steps[0]


# ---- pick and place --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "relation"),
    [
        ("put the block in the bowl", "inside"),
        ("place the block into the bowl", "inside"),
        ("set the block inside the bowl", "inside"),
        ("drop the block inside of the bowl", "inside"),
        ("move the block on the bowl", "on"),
        ("put the block onto the bowl", "on"),
        ("put the block on top of the bowl", "on"),
        ("put the block upon the bowl", "on"),
        ("put the block to the left of the bowl", "left_of"),
        ("put the block left of the bowl", "left_of"),
        ("put the block to the right of the bowl", "right_of"),
        ("put the block in front of the bowl", "in_front_of"),
        ("put the block behind the bowl", "behind"),
        ("put the block near the bowl", "near"),
        ("put the block next to the bowl", "near"),
        ("put the block beside the bowl", "near"),
    ],
)
def test_place_relations(text, relation):
    assert one(text) == put(the(None, "block"), relation, the(None, "bowl"))


@pytest.mark.parametrize("prefix", ["please", "could you", "can you", "would you", "kindly", "could you please"])
def test_polite_prefixes(prefix):
    assert one(f"{prefix} put the block in the bowl") == put(the(None, "block"), "inside", the(None, "bowl"))


def test_stack_x_on_y_is_put_on():
    assert one("Stack the green cube on the red brick") == put(
        np("the green cube", "block", color="green"), "on", np("the red brick", "block", color="red")
    )


def test_attributes_and_synonyms():
    step = one("Put the big grey sphere in the little violet basin.")
    assert step.object == np("the big grey sphere", "ball", color="gray", size="large")
    assert step.target == np("the little violet basin", "bowl", color="purple", size="small")
    assert one("put the medium dish on the tray").object == np("the medium dish", "plate", size="medium")


def test_class_words_and_generic_nouns():
    assert one("put the red toy in the container") == put(the("red", "toy"), "inside", the(None, "container"))
    assert one("give me the blue thing").object == np("the blue thing", None, color="blue")
    assert one("put the red one on the plate").object == np("the red one", None, color="red")
    assert one("put all kitchenware in the tray").object == np("all kitchenware", "kitchenware", quantity="all")


# ---- spatial modifiers -------------------------------------------------------------------------------------
def test_spatial_modifier_binds_to_the_object_and_onto_introduces_the_destination():
    step = one("Move the red ball in front of the mug onto the plate")
    assert step.relation == "on" and step.target == the(None, "plate")
    assert step.object.relations == (RelationFilter(relation="in_front_of", other=the(None, "mug")),)
    assert step.object.text == "the red ball in front of the mug"


@pytest.mark.parametrize(
    ("modifier", "relation"),
    [
        ("left of", "left_of"),
        ("to the right of", "right_of"),
        ("next to", "near"),
        ("near", "near"),
        ("behind", "behind"),
    ],
)
def test_bare_spatial_modifiers(modifier, relation):
    step = one(f"hand me the cup {modifier} the bowl")
    assert step == HandOver(
        object=np(
            f"the cup {modifier} the bowl",
            "mug",
            relations=(RelationFilter(relation=relation, other=the(None, "bowl")),),
        )
    )


def test_relative_clauses_with_on_and_in():
    step = one("put the ball that is in the bowl on the plate")
    assert step.object.relations == (RelationFilter(relation="inside", other=the(None, "bowl")),)
    assert step.relation == "on"
    step = one("put the block in the bowl which is on the tray")
    assert step.object == the(None, "block")
    assert step.target.relations == (RelationFilter(relation="on", other=the(None, "tray")),)
    step = one("put the blocks that are right of the plate in the tray")
    assert step.object.plural and step.object.relations[0].relation == "right_of"


def test_bare_on_does_not_restrict_a_noun():
    # "in" could still start "in front of" or "in the same colour"; the construction breaks at "bowl"
    with pytest.raises(InstructionError) as err:
        parse("put the block on the plate in the bowl", LEXICON)
    assert err.value.word == "bowl"


@pytest.mark.parametrize(
    ("text", "reference_text"),
    [
        ("put the block nearest to the plate in the bowl", "the plate"),
        ("put the block closest to the tray in the bowl", "the tray"),
        ("put the block that is closest to the tray in the bowl", "the tray"),
        ("put the nearest block to the tray in the bowl", "the tray"),
    ],
)
def test_nearest_with_reference(text, reference_text):
    sup = one(text).object.superlative
    assert sup.ranking == "nearest" and sup.rank == 1 and sup.reference.text == reference_text


def test_farthest_with_reference():
    sup = one("put the ball farthest from the bowl on the plate").object.superlative
    assert sup == Superlative(ranking="farthest", reference=the(None, "bowl"))


# ---- superlatives and ordinals ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "ranking"),
    [
        ("leftmost", "leftmost"),
        ("rightmost", "rightmost"),
        ("frontmost", "frontmost"),
        ("backmost", "backmost"),
        ("rearmost", "backmost"),
        ("largest", "largest"),
        ("biggest", "largest"),
        ("smallest", "smallest"),
        ("nearest", "nearest"),
        ("closest", "nearest"),
        ("farthest", "farthest"),
    ],
)
def test_superlatives(word, ranking):
    assert one(f"put the {word} ball in the bowl").object.superlative == Superlative(ranking=ranking)


@pytest.mark.parametrize(
    ("text", "ranking", "rank"),
    [
        ("put the third block from the left in the bowl", "leftmost", 3),
        ("put the first block from the front in the bowl", "frontmost", 1),
        ("put the second largest ball in the bowl", "largest", 2),
        ("put the fourth smallest block in the bowl", "smallest", 4),
    ],
)
def test_ordinals(text, ranking, rank):
    assert one(text).object.superlative == Superlative(ranking=ranking, rank=rank)


def test_ordinal_without_an_order_is_an_error():
    with pytest.raises(InstructionError) as err:
        parse("put the second block in the bowl", LEXICON)
    assert err.value.word == "second"


# ---- negation ----------------------------------------------------------------------------------------------
def test_negation():
    assert one("put the cube that is not grey in the bowl").object.not_colors == ("gray",)
    assert one("put the non-red block in the bowl").object.not_colors == ("red",)
    assert one("put the balls that are not red or blue in the tray").object.not_colors == ("red", "blue")
    rel = one("put the block that is not on the plate in the bowl").object.relations
    assert rel == (RelationFilter(relation="on", other=the(None, "plate"), negated=True),)


# ---- counting and quantity ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phrase", "quantity", "count", "plural"),
    [
        ("one ball", "any", 1, False),
        ("a ball", "any", 1, False),
        ("an item", "any", 1, False),
        ("any ball", "any", 1, False),
        ("two balls", "any", 2, True),
        ("3 balls", "any", 3, True),
        ("the three balls", "the", 3, True),
        ("the balls", "all", None, True),
        ("all the balls", "all", None, True),
        ("all balls", "all", None, True),
        ("all of the balls", "all", None, True),
        ("every ball", "all", None, False),
        ("each ball", "all", None, False),
        ("both balls", "the", 2, True),
        ("the ball", "the", None, False),
    ],
)
def test_quantities(phrase, quantity, count, plural):
    obj = one(f"put {phrase} in the tray").object
    assert (obj.quantity, obj.count, obj.plural, obj.text) == (quantity, count, plural, phrase)


@pytest.mark.parametrize(
    ("singular", "plural"), [("block", "blocks"), ("dish", "dishes"), ("kitchenware", "kitchenware")]
)
def test_plurals(singular, plural):
    assert plural_of(singular) == plural


def test_plural_synonyms():
    obj = one("put the cubes in the basins").object
    assert (obj.noun, obj.plural, obj.quantity) == ("block", True, "all")
    assert one("give me two cans").object == np("two cans", "cylinder", quantity="any", count=2, plural=True)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("put two block in the tray", "block"),
        ("put one blocks in the tray", "blocks"),
        ("put every blocks in the tray", "every"),
        ("put a blocks in the tray", "a"),
        ("put 0 blocks in the tray", "0"),
    ],
)
def test_number_agreement(text, word):
    with pytest.raises(InstructionError) as err:
        parse(text, LEXICON)
    assert err.value.word == word


# ---- hand-over ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "give me the red mug",
        "hand me the red mug",
        "pass me the red mug",
        "bring me the red mug",
        "hand the red mug to me",
    ],
)
def test_handover(text):
    assert one(text) == HandOver(object=the("red", "mug"))


# ---- stacking ----------------------------------------------------------------------------------------------
def test_stack_top_down_and_inherited_nouns():
    step = one("build a tower with the red ball on top, then green, then the blue cube at the bottom")
    assert step == Stack(
        order=[np("the blue cube", "block", color="blue"), np("green ball", "ball", color="green"), the("red", "ball")]
    )


def test_stack_colour_items_inherit_the_plural_head():
    step = one("stack the cylinders with red at the bottom, then the blue one, then yellow on top")
    assert [p.noun for p in step.order] == ["cylinder"] * 3
    assert [p.color for p in step.order] == ["red", "blue", "yellow"]


def test_stack_needs_an_end():
    with pytest.raises(InstructionError, match="which end"):
        parse("build a tower with the red block then the green block", LEXICON)


def test_stack_colour_without_any_noun():
    with pytest.raises(InstructionError) as err:
        parse("build a tower with red at the bottom then green", LEXICON)
    assert err.value.word == "red"


# ---- sorting -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "put every block in the bowl of the same color",
        "put each block in the bowl of its colour",
        "put the blocks in the bowls by colour",
        "sort the blocks by color into the bowls",
        "sort the blocks into the bowls",
        "put the blocks in the bowls of matching colour",
    ],
)
def test_sort(text):
    step = one(text)
    assert isinstance(step, Sort)
    assert (step.objects.noun, step.objects.quantity, step.relation) == ("block", "all", "inside")
    assert (step.containers.noun, step.containers.quantity, step.key) == ("bowl", "all", "color")


def test_sort_onto_plates():
    step = one("Put each ball on the plate with the same colour")
    assert isinstance(step, Sort) and step.relation == "on" and step.containers.noun == "plate"


# ---- sequences ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "First put the block in the bowl, then give me the mug.",
        "put the block in the bowl and then give me the mug",
        "put the block in the bowl and give me the mug",
        "put the block in the bowl. After that, give me the mug.",
        "put the block in the bowl, and finally give me the mug",
    ],
)
def test_sequences(text):
    assert parse(text, LEXICON) == program(
        put(the(None, "block"), "inside", the(None, "bowl")), HandOver(object=the(None, "mug"))
    )


def test_three_steps_keep_their_order():
    result = parse("put the ball on the plate, then stack the cube on the can, and finally hand me the cup", LEXICON)
    assert [type(s).__name__ for s in result.steps] == ["Put", "Put", "HandOver"]
    assert [s.object.noun for s in result.steps] == ["ball", "block", "mug"]


# ---- errors ------------------------------------------------------------------------------------------------
def test_unknown_word_is_named():
    with pytest.raises(InstructionError) as err:
        parse("Please frobnicate the red block", LEXICON)
    assert err.value.word == "frobnicate"
    assert str(err.value).startswith("I don't know the word 'frobnicate'")
    assert "This works: 'put the red block in the bowl'" in str(err.value)


def test_unknown_noun_is_named_even_late_in_the_sentence():
    with pytest.raises(InstructionError) as err:
        parse("put the red block in the blue saucepan", LEXICON)
    assert err.value.word == "saucepan"


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("put the block bowl", "bowl"),
        ("the block in the bowl", "the"),
        ("put in the bowl the block", "in"),
        ("give the block", "block"),
    ],
)
def test_broken_construction_names_the_word(text, word):
    with pytest.raises(InstructionError) as err:
        parse(text, LEXICON)
    assert err.value.word == word
    assert f"'{word}'" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["", "   ", ", ."])
def test_empty_instruction(text):
    with pytest.raises(InstructionError, match="empty"):
        parse(text, LEXICON)


def test_colour_without_noun():
    with pytest.raises(InstructionError, match="no noun") as err:
        parse("put the red in the bowl", LEXICON)
    assert err.value.word == "red"


def test_two_colours_on_one_noun():
    with pytest.raises(InstructionError, match="two colours") as err:
        parse("put the red grey block in the bowl", LEXICON)
    assert err.value.word == "grey"


def test_incomplete_instruction():
    with pytest.raises(InstructionError, match="incomplete after 'the': it needs which object") as err:
        parse("put the block in the", LEXICON)
    assert err.value.word == "the"


def test_ambiguous_attachment_is_rejected_with_both_readings():
    with pytest.raises(InstructionError, match="more than one way") as err:
        parse("put the block behind the tray near the plate", LEXICON)
    message = str(err.value)
    assert "[the block behind [the tray]] near [the plate]" in message
    assert "[the block] behind [the tray near [the plate]]" in message


@pytest.mark.parametrize(
    "text",
    [
        "put put put",
        "put the the block in the bowl",
        "put the block in the bowl then",
        "stack the red block",
        "give me me",
        "put the ball that is in the bowl",
        "put the block from the left in the bowl",
        "put the block to the bowl on the plate",
        "put the leftmost largest ball in the bowl",
        "put the big small block in the bowl",
        "hand me the red block that is not red",
        "stack the blocks with red at the bottom then blue at the bottom",
        "put the block in the bowl @",
        "and",
        "first",
    ],
)
def test_errors_are_instruction_errors_only(text):
    with pytest.raises(InstructionError) as err:
        parse(text, LEXICON)
    assert "\n" not in str(err.value) and str(err.value)


# ---- properties of the result ------------------------------------------------------------------------------
def test_parse_is_deterministic_and_callers_get_their_own_copy():
    first = parse("Put the blocks in the bowls by colour", LEXICON)
    second = parse("Put the blocks in the bowls by colour", LEXICON)
    assert first == second and first is not second
    first.steps.clear()
    assert parse("Put the blocks in the bowls by colour", LEXICON) == second


def test_noun_phrases_are_frozen():
    obj = one("put the red block in the bowl").object
    with pytest.raises(ValueError):
        obj.color = "blue"


def test_lexicon_from_the_knowledge_graph(kb):
    lexicon = Lexicon(nouns=kb.type_words())
    step = parse("Put the yellow cube onto the green dish.", lexicon).steps[0]
    assert (step.object.noun, step.target.noun) == ("block", "plate")


def test_lexicon_rejects_multiword_nouns():
    with pytest.raises(ValueError, match="coffee mug"):
        Lexicon(nouns={"coffee mug": "mug"})


def test_a_noun_that_is_also_a_colour_word():
    lexicon = Lexicon(nouns={"orange": "orange", "bowl": "bowl"})
    step = parse("put the orange in the orange bowl", lexicon).steps[0]
    assert step.object == np("the orange", "orange") and step.target == the("orange", "bowl")


# ---- the phrasings of issue 14, grounded over a hand-built scene (real grammar, knowledge graph, planner) ----
def _goal(kb, instruction: str, *objects) -> list[str]:
    from groundsight.perception.objects import Percept
    from groundsight.reasoning import RulesReasoner

    percept = Percept(objects=list(objects), cameras=["top"], perceiver="test")
    thought = RulesReasoner(kb).think(instruction, percept)
    assert thought.parse_error is None, thought.parse_error
    problems = [b.reason for b in thought.bindings if b.problem != "ok"]
    assert not problems, problems
    return [a.text for a in thought.goal_atoms]


def _blocks_and_containers():
    from tests.conftest import make_object

    return [
        make_object("red_block", "block", "red", 0.45, 0.15),
        make_object("blue_block", "block", "blue", 0.45, -0.15),
        make_object("yellow_block", "block", "yellow", 0.5, 0.0),
        make_object("blue_bowl", "bowl", "blue", 0.65, 0.2),
        make_object("green_bowl", "bowl", "green", 0.65, -0.2),
        make_object("brown_tray", "tray", "brown", 0.35, -0.35),
    ]


def test_except_leaves_out_what_it_names(kb):
    goal = _goal(kb, "Put all blocks except the red one in the tray.", *_blocks_and_containers())
    assert sorted(goal) == ["inside(blue_block, brown_tray)", "inside(yellow_block, brown_tray)"]


def test_the_other_one_is_not_the_one_named_before(kb):
    text = "Put the red block in the blue bowl, then put the other bowl on the tray."
    assert _goal(kb, text, *_blocks_and_containers()) == [
        "inside(red_block, blue_bowl)",
        "on(green_bowl, brown_tray)",
    ]


def test_pick_up_and_put_it_grounds_the_pronoun(kb):
    goal = _goal(kb, "Pick up the yellow block and put it in the green bowl, thanks!", *_blocks_and_containers())
    assert goal == ["inside(yellow_block, green_bowl)"]


def test_the_block_on_the_left_and_colour_lists(kb):
    scene = _blocks_and_containers()
    assert _goal(kb, "Put the block on the left in the tray.", *scene) == ["inside(red_block, brown_tray)"]
    assert _goal(kb, "move the yellow and blue blocks to the tray", *scene) == [
        "inside(yellow_block, brown_tray)",
        "inside(blue_block, brown_tray)",
    ]


def test_a_word_the_language_lacks_gets_suggestions_and_a_working_phrasing():
    with pytest.raises(InstructionError) as err:
        parse("put the red block in the box", LEXICON)
    assert "did you mean 'tray'" in str(err.value)
    assert str(err.value).endswith("This works: 'put the red block in the tray'")
    with pytest.raises(InstructionError) as err:
        parse("i frobnicate", LEXICON)
    assert "'i'" not in str(err.value)


def test_stacking_without_an_order_stacks_every_block():
    (stack,) = parse("stack the blocks", LEXICON).steps
    assert [(p.quantity, p.noun, p.plural) for p in stack.order] == [("all", "block", True)]
    (stack,) = parse("stack the blocks with the blue one at the bottom", LEXICON).steps
    assert [(p.quantity, p.color) for p in stack.order] == [("the", "blue"), ("all", None)]
    with pytest.raises(InstructionError, match="at least two objects"):
        parse("stack the block", LEXICON)
    program = parse("stack the red block on the blue block on the green block", LEXICON)
    assert [p.color for p in program.steps[0].order] == ["green", "blue", "red"]
