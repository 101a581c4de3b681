"""The knowledge base: real rdflib, real Turtle, SPARQL answers with their facts."""

from __future__ import annotations

import pytest

from groundsight.knowledge import KnowledgeBase, KnowledgeError
from tests.conftest import make_object


def test_vocabulary_includes_synonyms(kb: KnowledgeBase) -> None:
    words = kb.type_words()
    assert words["cube"] == "block"
    assert words["dish"] == "plate"
    assert (words["sphere"], words["can"], words["cup"]) == ("ball", "cylinder", "mug")
    assert {"block", "bowl", "plate", "tray"} <= set(words.values())


def test_type_words_are_exactly_the_object_types(kb: KnowledgeBase) -> None:
    from groundsight.sim.bodies import OBJECT_TYPES

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


# ---- vocabulary, inference over user files ---------------------------------------------------------------
_USER_PREFIXES = (
    "@prefix gs: <https://groundsight.dev/ontology#> .\n"
    "@prefix ex: <https://example.org/mine#> .\n"
    "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
    "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
)


def _user_kb(tmp_path, body: str) -> KnowledgeBase:
    path = tmp_path / "mine.ttl"
    path.write_text(_USER_PREFIXES + body)
    return KnowledgeBase([path])


def test_class_words_are_not_type_words(kb: KnowledgeBase) -> None:
    words = kb.class_words()
    assert words["toy"] == "toy" and words["kitchenware"] == "kitchenware" and words["container"] == "container"
    assert words["thing"] == words["item"] == words["object"] == "object"
    assert not set(words) & set(kb.type_words())
    assert "inside" not in words and "on" not in words


@pytest.mark.parametrize(
    ("word", "types"),
    [
        ("kitchenware", ["bowl", "mug", "plate", "tray"]),
        ("toy", ["ball", "block", "cylinder"]),
        ("container", ["bowl", "mug", "tray"]),
        ("Toy", ["ball", "block", "cylinder"]),
        ("thing", ["ball", "block", "bowl", "cylinder", "mug", "plate", "tray"]),
        ("cup", ["mug"]),
        ("block", ["block"]),
        ("spaceship", []),
    ],
)
def test_types_of_class(kb: KnowledgeBase, word: str, types: list[str]) -> None:
    assert kb.types_of_class(word) == types


def test_user_subclass_changes_kitchenware_selection(tmp_path) -> None:
    scene = [make_object("pink_cylinder", "cylinder", "pink", 0.5, 0.1, size=(0.05, 0.05, 0.075))]
    scene.append(make_object("blue_bowl", "bowl", "blue", 0.6, -0.1))
    base = KnowledgeBase()
    base.set_scene(scene)
    assert base.types_of_class("kitchenware") == ["bowl", "mug", "plate", "tray"]
    assert base.objects_of_class("kitchenware") == ["blue_bowl"]

    kb = _user_kb(tmp_path, "gs:Cylinder rdfs:subClassOf gs:Kitchenware .\n")
    kb.set_scene(scene)
    assert kb.types_of_class("kitchenware") == ["bowl", "cylinder", "mug", "plate", "tray"]
    assert kb.objects_of_class("kitchenware") == ["blue_bowl", "pink_cylinder"]
    assert kb.categories("cylinder") == ["kitchenware", "toy"]


def test_user_subclass_chain_synonym_and_equivalence_apply_through_inference(tmp_path) -> None:
    kb = _user_kb(
        tmp_path,
        'ex:Drinkware rdfs:subClassOf gs:Kitchenware ; rdfs:label "drinkware" .\n'
        "gs:Mug rdfs:subClassOf ex:Drinkware .\n"
        'ex:Holder owl:equivalentClass gs:Container ; rdfs:label "holder" .\n'
        "ex:nickname rdfs:subPropertyOf skos:altLabel .\n"
        'gs:Ball ex:nickname "orb" .\n'
        'gs:Mug skos:altLabel "beaker" .\n',
    )
    assert kb.types_of_class("drinkware") == ["mug"]
    assert kb.class_words()["drinkware"] == "drinkware"
    assert kb.types_of_class("holder") == ["bowl", "mug", "tray"]  # owl:equivalentClass (OWL-RL)
    assert kb.type_words()["orb"] == "ball"  # rdfs:subPropertyOf skos:altLabel
    assert kb.type_words()["beaker"] == "mug"
    assert kb.is_a("beaker", "Kitchenware").value
    kb.set_scene([make_object("m", "mug", "red", 0.5, 0.0, size=(0.06, 0.06, 0.08))])
    assert kb.objects_of_class("drinkware") == ["m"]
    assert kb.objects_of_class("holder") == ["m"]


def test_user_subproperty_of_scene_relation_is_entailed(tmp_path) -> None:
    kb = _user_kb(tmp_path, 'gs:restsOn rdfs:subPropertyOf gs:on ; rdfs:label "rests_on" .\n')
    kb.set_scene(
        [make_object("a", "block", "red", 0.5, 0.0, z=0.075), make_object("b", "block", "blue", 0.5, 0.0)],
        [("a", "rests_on", "b")],
    )
    assert kb.sparql("SELECT ?x ?y WHERE { ?x gs:on ?y }") == [
        {"x": "https://groundsight.dev/scene/a", "y": "https://groundsight.dev/scene/b"}
    ]


def test_symmetric_relation_is_entailed(kb: KnowledgeBase) -> None:
    kb.set_scene(
        [make_object("a", "block", "red", 0.5, 0.0), make_object("b", "bowl", "blue", 0.6, 0.0)], [("a", "near", "b")]
    )
    rows = kb.sparql("SELECT ?x WHERE { scene:b gs:near ?x }")
    assert rows == [{"x": "https://groundsight.dev/scene/a"}]


def test_set_scene_replaces_only_scene_triples(kb: KnowledgeBase) -> None:
    before = len(kb.ontology)
    kb.set_scene([make_object("a", "block", "red", 0.5, 0.0)], [])
    kb.set_scene([make_object("c", "tray", "red", 0.5, 0.0)], [])
    assert kb.objects_of_class("PhysicalObject") == ["c"]
    kb.set_scene([])
    assert kb.objects_of_class("PhysicalObject") == []
    assert len(kb.graph) == len(kb.ontology) == before


# ---- physical properties and stacking -----------------------------------------------------------------
def test_properties_match_the_simulator_masses(kb: KnowledgeBase) -> None:
    from groundsight.sim.bodies import _MASS

    for type_name, mass in _MASS.items():
        assert kb.properties(type_name)["mass"] == pytest.approx(mass), type_name


def test_properties(kb: KnowledgeBase) -> None:
    mug = kb.properties("cup")
    assert mug == {"mass": 0.15, "fragile": True, "material": "ceramic", "capacity": 1, "maxLoad": 0.2}
    assert kb.properties("bowl")["capacity"] == 3 and kb.properties("tray")["capacity"] == 6
    assert "capacity" not in kb.properties("plate")
    assert kb.properties("ball")["fragile"] is False
    assert kb.properties("spaceship") == {}


def test_user_value_overrides_and_subclass_inherits(tmp_path) -> None:
    kb = _user_kb(
        tmp_path,
        "gs:Block gs:typicalMass 2.5 .\n"
        'ex:Tumbler a gs:ObjectType ; rdfs:subClassOf gs:Mug ; rdfs:label "tumbler" ; gs:capacity 2 .\n',
    )
    assert kb.properties("block")["mass"] == 2.5
    tumbler = kb.properties("tumbler")
    assert tumbler["capacity"] == 2 and tumbler["mass"] == 0.15 and tumbler["material"] == "ceramic"
    assert kb.affords("tumbler", "inside").value


@pytest.mark.parametrize(
    ("type_name", "expected"),
    [("block", True), ("cylinder", True), ("mug", True), ("plate", True), ("ball", False), ("bowl", False)],
)
def test_stackable(kb: KnowledgeBase, type_name: str, expected: bool) -> None:
    answer = kb.stackable(type_name)
    assert answer.value is expected
    assert answer.facts and ("does not" in answer.facts[0]) is (not expected)


# ---- SPARQL tool ----------------------------------------------------------------------------------------
def test_sparql_sees_inferred_superclasses(kb: KnowledgeBase) -> None:
    kb.set_scene([make_object("r", "block", "red", 0.5, 0.0), make_object("b", "bowl", "blue", 0.6, 0.0)])
    rows = kb.sparql("SELECT ?o WHERE { ?o a gs:Toy }")
    assert rows == [{"o": "https://groundsight.dev/scene/r"}]


@pytest.mark.parametrize(
    "query",
    ["SELECT ?o WHERE { ?o a gs:Toy", "SELEKT ?o WHERE { }", "ASK { ?o a gs:Toy }", "SELECT ?o WHERE { ?o nope:x ?y }"],
)
def test_bad_sparql_is_one_line_error(kb: KnowledgeBase, query: str) -> None:
    with pytest.raises(KnowledgeError) as info:
        kb.sparql(query)
    message = str(info.value)
    assert message.startswith("SPARQL query:") and "\n" not in message


def test_sparql_error_counts_lines_in_the_users_query(kb: KnowledgeBase) -> None:
    with pytest.raises(KnowledgeError, match=r"\(line 2, column \d+\)$"):
        kb.sparql("SELECT ?o\nWHERE { ?o a gs:Toy")


def test_is_a_and_affords_give_their_sparql_answers(kb: KnowledgeBase) -> None:
    """The answers come from the closure's tables; rdflib, asked the query each answer carries, agrees."""
    asked = 0
    for word in sorted({*kb.type_words(), "spaceship"}):
        answers = [kb.is_a(word, c) for c in ("Container", "Graspable", "Stackable", "kitchenware", "toy", "Nope")]
        answers += [kb.affords(word, relation) for relation in ("inside", "on", "near")]
        for answer in answers:
            if "no class is labelled" not in answer.facts[0]:
                assert answer.value == bool(kb.ontology.query(answer.query).askAnswer), answer.query
                asked += 1
    assert asked > 50
