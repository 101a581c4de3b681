"""SHACL validation of world states (real pyshacl, shapes in knowledge/shapes, the OWL-RL closed ontology)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from groundsight.agent.tasks.scenario import find_scenarios, load_scenario
from groundsight.knowledge import KnowledgeBase, KnowledgeError, Violation

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
_USER_PREFIXES = (
    "@prefix gs: <https://groundsight.dev/ontology#> .\n"
    "@prefix gsh: <https://example.org/shapes#> .\n"
    "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
)


def _shapes(violations: list[Violation]) -> list[str]:
    return sorted({v.shape for v in violations})


def test_block_on_ball_violates_nothing_on_ball(kb: KnowledgeBase) -> None:
    objects = {"red_block": "block", "green_ball": "ball"}
    assert kb.validate_state(objects, []) == []
    violations = kb.validate_state(objects, [("red_block", "on", "green_ball")])
    assert violations == [
        Violation(
            shape="nothing_on_ball",
            focus="green_ball",
            message="nothing can rest on a ball, but red_block is on green_ball",
            value="red_block",
        )
    ]


def test_ball_on_plate_and_block_on_block_are_fine(kb: KnowledgeBase) -> None:
    objects = {"a": "block", "b": "block", "ball": "ball", "plate": "plate"}
    assert kb.validate_state(objects, [("a", "on", "b"), ("ball", "on", "plate")]) == []


def test_on_needs_support_and_inside_needs_container(kb: KnowledgeBase) -> None:
    objects = {"a": "block", "bowl": "bowl", "b": "block"}
    violations = kb.validate_state(objects, [("a", "on", "bowl"), ("b", "inside", "a")])
    assert [(v.shape, v.focus, v.value) for v in violations] == [
        ("inside_needs_container", "a", "b"),
        ("on_needs_support", "bowl", "a"),
    ]
    assert all("\n" not in v.message for v in violations)


@pytest.mark.parametrize(("count", "violates"), [(3, False), (4, True)])
def test_bowl_capacity(kb: KnowledgeBase, count: int, violates: bool) -> None:
    objects = {f"block_{i}": "block" for i in range(count)} | {"blue_bowl": "bowl"}
    relations = [(f"block_{i}", "inside", "blue_bowl") for i in range(count)]
    violations = kb.validate_state(objects, relations)
    if not violates:
        assert violations == []
        return
    assert _shapes(violations) == ["container_capacity"]
    (violation,) = violations
    assert violation.focus == "blue_bowl"
    assert violation.message == "blue_bowl holds 4 objects but its capacity is 3"


def test_mug_holds_one(kb: KnowledgeBase) -> None:
    objects = {"a": "ball", "b": "ball", "m": "cup"}
    assert kb.validate_state(objects, [("a", "inside", "m")]) == []
    assert _shapes(kb.validate_state(objects, [("a", "inside", "m"), ("b", "inside", "m")])) == ["container_capacity"]


def test_heavy_block_on_fragile_objects(tmp_path, kb: KnowledgeBase) -> None:
    on_mug = [("red_block", "on", "red_mug")]
    on_plate = [("red_block", "on", "white_plate")]
    objects = {"red_block": "block", "red_mug": "mug", "white_plate": "plate"}
    assert _shapes(kb.validate_state(objects, on_mug)) == ["on_needs_support"]  # 0.08 kg: not too heavy
    assert kb.validate_state(objects, on_plate) == []

    heavy = tmp_path / "heavy.ttl"
    heavy.write_text(_USER_PREFIXES + "gs:Block gs:typicalMass 2.0 .\n")
    heavy_kb = KnowledgeBase([heavy])
    assert _shapes(heavy_kb.validate_state(objects, on_mug)) == ["fragile_under_heavy", "on_needs_support"]
    (violation,) = heavy_kb.validate_state(objects, on_plate)
    assert (violation.shape, violation.focus, violation.value) == ("fragile_under_heavy", "white_plate", "red_block")
    assert violation.message == "red_block (2.0 kg) rests on fragile white_plate, which bears at most 1.0 kg"


def test_object_mass_overrides_type_mass(kb: KnowledgeBase) -> None:
    class Heavy:
        id, type, mass = "anvil", "block", 5.0

    class Plate:
        id, type = "p", "plate"

    assert _shapes(kb.validate_state([Heavy(), Plate()], [("anvil", "on", "p")])) == ["fragile_under_heavy"]


def test_user_subclass_applies_to_shapes(tmp_path) -> None:
    user = tmp_path / "round.ttl"
    user.write_text(_USER_PREFIXES + 'gs:Orange rdfs:subClassOf gs:Ball ; a gs:ObjectType ; rdfs:label "orange" .\n')
    kb = KnowledgeBase([user])
    assert _shapes(kb.validate_state({"o": "orange", "b": "block"}, [("b", "on", "o")])) == ["nothing_on_ball"]


def _no_trays_on_plates(path: Path) -> None:
    path.write_text(
        _USER_PREFIXES
        + "gsh:no_tray_on_plate a sh:NodeShape ; sh:targetClass gs:Plate ;\n"
        + "  sh:property [ sh:path [ sh:inversePath gs:on ] ; sh:not [ sh:class gs:Tray ] ;\n"
        + '    sh:message "no tray on a plate" ] .\n'
    )


def test_user_shapes_in_kg_file_and_shape_files(tmp_path) -> None:
    objects, relations = {"t": "tray", "p": "plate"}, [("t", "on", "p")]
    assert KnowledgeBase().validate_state(objects, relations) == []
    _no_trays_on_plates(tmp_path / "shapes.ttl")
    for kb in (KnowledgeBase([tmp_path / "shapes.ttl"]), KnowledgeBase(shape_files=[tmp_path / "shapes.ttl"])):
        violations = kb.validate_state(objects, relations)
        assert [(v.shape, v.focus, v.value, v.message) for v in violations] == [
            ("no_tray_on_plate", "p", "t", "no tray on a plate")
        ]


def test_bad_state_input_is_one_line(kb: KnowledgeBase) -> None:
    with pytest.raises(KnowledgeError, match=r"^object 'x': unknown type 'spaceship'$"):
        kb.validate_state({"x": "spaceship"}, [])
    with pytest.raises(KnowledgeError, match=r"^relation \(a, on, ghost\): unknown object 'ghost'$"):
        kb.validate_state({"a": "block"}, [("a", "on", "ghost")])


def test_broken_shape_file_names_file_and_line(tmp_path) -> None:
    bad = tmp_path / "bad.shapes.ttl"
    bad.write_text(_USER_PREFIXES + "gsh:x a sh:NodeShape ;\n  sh:targetClass \n")
    with pytest.raises(KnowledgeError) as info:
        KnowledgeBase(shape_files=[bad])
    assert str(info.value).startswith(f"{bad}: line ") and "\n" not in str(info.value)


# ---- the scenarios' goal states are valid ------------------------------------------------------------------
def _goal_states(goal: dict) -> list[list[tuple[str, str, str]]]:
    """Every alternative end state of a goal, as relation triples (``any`` branches are alternatives)."""
    (key, arg), *_ = goal.items()
    if key in ("on", "inside"):
        return [[(arg[0], key, arg[1])]]
    if key == "stacked":
        return [[(top, "on", below) for top, below in itertools.pairwise(arg)]]
    if key == "all":
        return [sum(parts, []) for parts in itertools.product(*(_goal_states(g) for g in arg))]
    if key == "any":
        return [state for g in arg for state in _goal_states(g)]
    return [[]]  # not, unchanged, handed_over, ...: no resting relation


def _success_scenarios() -> list[Path]:
    return [p for p in find_scenarios([SCENARIOS]) if load_scenario(p).goal is not None]


def test_there_are_goal_scenarios_with_resting_relations() -> None:
    relations = [r for p in _success_scenarios() for s in _goal_states(load_scenario(p).goal) for r in s]
    assert {"on", "inside"} <= {rel for _, rel, _ in relations}
    assert len(_success_scenarios()) >= 20


@pytest.mark.parametrize("path", _success_scenarios(), ids=lambda p: p.stem)
def test_scenario_goal_states_are_valid(kb: KnowledgeBase, path: Path) -> None:
    scenario = load_scenario(path)
    objects = {o.id: o.type for o in scenario.scene.objects}
    for relations in _goal_states(scenario.goal):
        assert kb.validate_state(objects, relations) == [], relations
