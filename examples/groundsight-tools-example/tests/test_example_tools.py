"""The example plugin's tools, checked through groundsight's tool registry (no installation needed)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1]
if str(HERE) not in sys.path:  # the package folder, importable as `pip install -e` would make it
    sys.path.append(str(HERE))

from groundsight_tools_example import count_colour, distance_between  # noqa: E402

from groundsight.agent.loop.tools import ToolContext, ToolError, ToolRegistry, default_registry  # noqa: E402
from groundsight.perception.objects import Percept, SceneObject  # noqa: E402


def _obj(oid: str, color: str, x: float, y: float) -> SceneObject:
    return SceneObject(
        id=oid, type="block", color=color, position=(x, y, 0.025), extent=(0.05, 0.05, 0.05), confidence=0.9
    )


@pytest.fixture()
def ctx() -> ToolContext:
    percept = Percept(
        objects=[_obj("a", "red", 0.40, 0.00), _obj("b", "red", 0.43, 0.04), _obj("c", "blue", 0.60, -0.10)],
        cameras=["top"],
        perceiver="test",
    )
    return ToolContext(percept)


def _entry_point() -> str:
    data = tomllib.loads((HERE / "pyproject.toml").read_text(encoding="utf-8"))
    return data["project"]["entry-points"]["groundsight.tools"]["example"]


def test_the_entry_point_names_both_tools(ctx: ToolContext) -> None:
    registry = ToolRegistry()
    assert registry.load_spec(_entry_point()) == ["distance_between", "count_colour"]
    assert registry.get("distance_between").kind == "measure"
    assert registry.get("count_colour").kind == "perception"
    assert registry.call("distance_between", ctx, a="a", b="b") == 5.0  # a 3-4-5 triangle, in cm
    assert registry.call("count_colour", ctx, colour="Red") == 2


def test_they_sit_beside_the_builtins(ctx: ToolContext) -> None:
    registry = default_registry([_entry_point()], entry_points=False)
    assert {"distance", "distance_between", "count_colour"} <= set(registry.names())
    metres = registry.call("distance", ctx, a="a", b="c")
    assert registry.call("distance_between", ctx, a="a", b="c") == pytest.approx(100 * metres, abs=0.1)


def test_bad_arguments_are_one_line(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match=r"^tool distance_between: b: no perceived object 'zz'"):
        distance_between(ctx, a="a", b="zz")
    with pytest.raises(ToolError, match=r"^tool count_colour: colour: Field required$"):
        count_colour(ctx)
    with pytest.raises(ToolError, match=r"^tool count_colour: colour: empty$"):
        count_colour(ctx, colour="  ")


def test_offered_to_a_language_model_as_langchain_tools(ctx: ToolContext) -> None:
    registry = ToolRegistry([distance_between, count_colour])  # the example's tools only
    by_name = {t.name: t for t in registry.as_langchain(ctx)}
    assert sorted(by_name) == ["count_colour", "distance_between"]
    assert by_name["distance_between"].args["a"]["description"] == "id of a perceived object"
    assert by_name["count_colour"].invoke({"colour": "blue"}) == "1"
