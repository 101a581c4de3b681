"""Scenario files: every shipped file loads; every kind of bad input gets one line naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundsight.agent.tasks.scenario import ScenarioError, find_scenarios, load_scenario

ROOT = Path(__file__).resolve().parents[3]
GOOD = """\
name: t
instruction: Put the red block in the blue bowl.
scene:
  objects:
    - {type: block, color: red}
    - {type: bowl, color: blue, position: [0.55, -0.1]}
goal: {inside: [red_block, blue_bowl]}
"""


def test_shipped_scenarios_load() -> None:
    files = find_scenarios([ROOT / "scenarios"])
    assert len(files) >= 6
    for f in files:
        load_scenario(f)


def test_default_ids_are_numbered_when_repeated(tmp_path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(GOOD.replace("goal: {inside: [red_block, blue_bowl]}", "expect: ask") + "")
    text = f.read_text().replace(
        "    - {type: block, color: red}", "    - {type: bowl, color: blue}\n    - {type: block, color: red}"
    )
    f.write_text(text)
    assert load_scenario(f).object_ids == ["blue_bowl_1", "red_block", "blue_bowl_2"]


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ("color: red}", "color: teal}", "scene.objects[0].color", "unknown colour 'teal'"),
        ("instruction: Put the red block in the blue bowl.\n", "", "instruction", "missing required field"),
        ("[red_block, blue_bowl]", "[red_block, green_bowl]", "goal.inside[1]", "unknown object id 'green_bowl'"),
        ("[0.55, -0.1]", "[0.55, left]", "scene.objects[1].position[1]", "valid number"),
        ("{type: block, color: red}", "{type: spaceship, color: red}", "scene.objects[0].type", "unknown object type"),
        ("goal: {inside:", "goal: {under:", "goal.under", "unknown predicate"),
        ("objects:\n", "objects: []\n  old:\n", "scene.objects", "at least 1"),
        ("name: t", "name: T t", "name", "not a slug"),
    ],
)
def test_bad_scenarios_get_one_line(tmp_path, old: str, new: str, field: str, problem: str) -> None:
    f = tmp_path / "bad.yaml"
    assert old in GOOD
    f.write_text(GOOD.replace(old, new))
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{f}: {field}: "), message
    assert problem in message


def test_broken_yaml_names_the_line(tmp_path) -> None:
    f = tmp_path / "broken.yaml"
    f.write_text("name: x\ninstruction: [unclosed\nscene: {}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    assert str(info.value).startswith(f"{f}: line ") and "invalid YAML" in str(info.value)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")


def test_overlapping_fixed_positions_are_bad_input(tmp_path) -> None:
    f = tmp_path / "overlap.yaml"
    f.write_text(GOOD.replace("{type: block, color: red}", "{type: block, color: red, position: [0.56, -0.1]}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    assert str(info.value).startswith(f"{f}: scene.objects[1].position: blue_bowl overlaps red_block by ")
