"""The compiled base shapes give pyshacl's verdicts and messages on every scenario's states (real pyshacl)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from groundsight.agent.tasks.scenario import find_scenarios, load_scenario
from groundsight.knowledge import KnowledgeBase

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

State = tuple[dict[str, str], list[tuple[str, str, str]]]


@dataclass(frozen=True)
class Weighed:
    """An object with its own mass (overriding its type's), as the agent's perceived objects may carry."""

    id: str
    type: str
    mass: float


def _states(objects: dict[str, str], goal_relations: list[tuple[str, str, str]]) -> list[State]:
    """The empty state, the goal state, and for one object of each type every other object on it and every other
    inside it (which breaks each base shape somewhere: a ball, a block, a full mug, a fragile bowl)."""
    states: list[State] = [(objects, []), (objects, goal_relations)]
    holders = {typ: oid for oid, typ in reversed(objects.items())}
    for holder in sorted(holders.values()):
        others = [o for o in objects if o != holder]
        states += [(objects, [(o, rel, holder) for o in others]) for rel in ("on", "inside")]
    return states


def _signature(state: State) -> tuple:
    """The state up to the objects' names (two scenarios with the same types and relations are one case)."""
    objects, relations = state
    names: dict[str, str] = {}
    for oid in sorted(objects, key=lambda o: (objects[o], o)):
        names[oid] = f"{objects[oid]}{sum(n.startswith(objects[oid]) for n in names.values())}"
    return tuple(sorted(names.values())), tuple(sorted((names[a], r, names[b]) for a, r, b in relations))


def _scenario_states() -> list[State]:
    seen: dict[tuple, State] = {}
    for path in find_scenarios([SCENARIOS]):
        scenario = load_scenario(path)
        objects = {o.id: o.type for o in scenario.scene.objects}
        goal = scenario.goal or {}
        parts = goal.get("all", [goal]) if goal else []
        goal_relations = [(g[k][0], k, g[k][1]) for g in parts for k in ("on", "inside") if k in g]
        if len(objects) >= 2:
            for state in _states(objects, goal_relations):
                seen.setdefault(_signature(state), state)
    return list(seen.values())


STATES = _scenario_states()


def test_the_states_break_every_base_shape(kb: KnowledgeBase) -> None:
    broken = {v.shape for objects, relations in STATES for v in kb.validate_state(objects, relations)}
    assert broken == {
        "nothing_on_ball",
        "on_needs_support",
        "inside_needs_container",
        "container_capacity",
        "fragile_under_heavy",
    }
    assert kb.shapes_compiled


@pytest.mark.parametrize("index", range(len(STATES)))
def test_compiled_shapes_equal_pyshacl(kb: KnowledgeBase, index: int) -> None:
    objects, relations = STATES[index]
    assert kb.validate_state(objects, relations) == kb.validate_state(objects, relations, engine="pyshacl")


def test_compiled_shapes_with_masses_of_their_own(kb: KnowledgeBase) -> None:
    heavy = [Weighed("anvil", "block", 0.75), Weighed("feather", "block", 0.01)]
    for holder, typ in (("m", "mug"), ("p", "plate"), ("w", "bowl")):
        objects = [*heavy, Weighed(holder, typ, 0.3)]
        for rel in ("on", "inside"):
            relations = [("anvil", rel, holder), ("feather", rel, holder)]
            compiled = kb.validate_state(objects, relations)
            assert compiled == kb.validate_state(objects, relations, engine="pyshacl")
    assert any(v.shape == "fragile_under_heavy" for v in compiled)


def test_user_shapes_or_individuals_fall_back_to_pyshacl(tmp_path) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix gs: <https://groundsight.dev/ontology#> .\n@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        '<https://example.org/s> a sh:NodeShape ; sh:targetClass gs:Plate ; sh:message "x" .\n'
    )
    placed = tmp_path / "placed.ttl"
    placed.write_text(
        "@prefix gs: <https://groundsight.dev/ontology#> .\n<https://example.org/a> gs:on <https://example.org/b> .\n"
    )
    assert not KnowledgeBase(shape_files=[shapes]).shapes_compiled
    assert not KnowledgeBase([placed]).shapes_compiled
