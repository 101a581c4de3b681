"""The knowledge base: real rdflib, real Turtle, SPARQL answers with their facts."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase, KnowledgeError
from tests.conftest import make_object


def test_vocabulary_includes_synonyms(kb: KnowledgeBase) -> None:
    words = kb.type_words()
    assert words["cube"] == "block"
    assert words["dish"] == "plate"
    assert (words["sphere"], words["can"], words["cup"]) == ("ball", "cylinder", "mug")
    assert {"block", "bowl", "plate", "tray"} <= set(words.values())


def test_type_words_are_exactly_the_object_types(kb: KnowledgeBase) -> None:
    from sim.objects import OBJECT_TYPES

    assert kb.object_types() == sorted(OBJECT_TYPES)
    words = kb.type_words()
    for not_a_type in ("toy", "kitchenware", "object", "thing", "inside", "on"):
        assert not_a_type not in words


@pytest.mark.parametrize(
    ("type_name", "categories"),
    [("block", ["toy"]), ("ball", ["toy"]), ("cylinder", ["toy"]), ("mug", ["kitchenware"]), ("tray", ["kitchenware"])],
)
def test_categories(kb: KnowledgeBase, type_name: str, categories: list[str]) -> None:
    assert kb.categories(type_name) == categories
    assert kb.is_a(type_name, "Toy").value is (categories == ["toy"])
    assert kb.is_a(type_name, "Kitchenware").value is (categories == ["kitchenware"])


@pytest.mark.parametrize(
    ("type_name", "relation", "expected"),
    [
        ("bowl", "inside", True),
        ("tray", "inside", True),
        ("plate", "inside", False),
        ("block", "inside", False),
        ("plate", "on", True),
        ("block", "on", True),
        ("bowl", "on", False),
        ("ball", "on", False),  # nothing can be put on a ball
        ("ball", "inside", False),
        ("cylinder", "on", True),
        ("cylinder", "inside", False),
        ("mug", "inside", True),
        ("cup", "inside", True),
        ("mug", "on", False),
    ],
)
def test_affordances(kb: KnowledgeBase, type_name: str, relation: str, expected: bool) -> None:
    answer = kb.affords(type_name, relation)
    assert answer.value is expected
    assert "ASK" in answer.query and answer.facts


def test_graspable(kb: KnowledgeBase) -> None:
    assert kb.graspable("block").value
    for small in ("ball", "cylinder", "mug", "sphere", "can", "cup"):
        assert kb.graspable(small).value, small
    assert not kb.graspable("bowl").value
    assert not kb.graspable("spaceship").value


def test_scene_individuals_are_queryable(kb: KnowledgeBase) -> None:
    kb.set_scene(
        [make_object("red_block", "block", "red", 0.5, 0.1), make_object("blue_bowl", "bowl", "blue", 0.6, -0.1)],
        [("red_block", "left_of", "blue_bowl")],
    )
    assert kb.objects_of_class("Container") == ["blue_bowl"]
    assert kb.objects_of_class("Graspable") == ["red_block"]
    rows = kb.sparql("SELECT ?a ?b WHERE { ?a gs:leftOf ?b }")
    assert rows == [{"a": "https://groundsight.dev/scene/red_block", "b": "https://groundsight.dev/scene/blue_bowl"}]
    kb.set_scene([make_object("green_block", "block", "green", 0.5, 0.0)])
    assert kb.objects_of_class("PhysicalObject") == ["green_block"]


def test_user_turtle_file_extends_ontology(tmp_path) -> None:
    extra = tmp_path / "mine.ttl"
    extra.write_text(
        "@prefix gs: <https://groundsight.dev/ontology#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "gs:Plate rdfs:subClassOf gs:Container .\n"
    )
    kb = KnowledgeBase([extra])
    assert kb.affords("plate", "inside").value


def test_broken_turtle_names_file_and_line(tmp_path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text("@prefix gs: <https://groundsight.dev/ontology#> .\n\ngs:A gs:b gs:C .\ngs:A gs:b \n")
    with pytest.raises(KnowledgeError) as info:
        KnowledgeBase([bad])
    message = str(info.value)
    assert message.startswith(f"{bad}: line 4: invalid Turtle")
    assert "\n" not in message


def test_missing_turtle_file(tmp_path) -> None:
    with pytest.raises(KnowledgeError, match="cannot read"):
        KnowledgeBase([tmp_path / "nope.ttl"])
