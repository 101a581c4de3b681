"""The tool registry (agent.tools) and the LLM reasoner's tool-call loop.

Everything is real (the knowledge base, the relations, LangChain's StructuredTool, importlib.metadata's entry
point discovery) except two stand-ins, each named where it is used: a recording robot for the skill tools (it
stands in for the simulated or real arm, whose motion is tested elsewhere; here only the geometry it is given
matters), and a scripted tool-calling chat model for the LLM loop (it stands in for a real LLM, which cannot
run here).
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from groundsight.agent.loop.tools import (
    ENTRY_POINT_GROUP,
    Tool,
    ToolContext,
    ToolError,
    ToolRegistry,
    builtin_tools,
    default_registry,
    describe_tools,
    llm_tools,
    make_tool,
    parse_call_args,
    parse_docstring,
    scene_context,
    tool,
)
from groundsight.knowledge import KnowledgeBase
from groundsight.perception.objects import Percept
from groundsight.perception.relations import RELATIONS
from groundsight.reasoning.llm import EXAMPLE_ANSWER, EXAMPLE_INSTRUCTION, LLMReasoner, make_llm_reasoner
from groundsight.reasoning.placement import CONTAINER_FLOOR, PlanStep, release_point_for
from groundsight.reasoning.verifier import Verifier, decide
from tests.conftest import make_object

EXAMPLE_DIR = Path(__file__).resolve().parents[3] / "examples" / "groundsight-tools-example"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """A knowledge base of this module's own (its scene is set here; the session one is left alone)."""
    return KnowledgeBase()


@pytest.fixture()
def percept() -> Percept:
    return Percept(
        objects=[
            make_object("red_block", "block", "red", 0.40, 0.10),
            make_object("green_block", "block", "green", 0.43, 0.14),
            make_object("blue_bowl", "bowl", "blue", 0.60, -0.10),
            make_object("red_mug", "mug", "red", 0.50, -0.20),
            # resting inside the bowl: bottom 1 cm above the bowl's
            make_object("yellow_ball", "ball", "yellow", 0.60, -0.10, z=0.035),
        ],
        cameras=["top"],
        perceiver="test",
    )


@pytest.fixture()
def ctx(percept: Percept, kb: KnowledgeBase) -> ToolContext:
    kb.set_scene(percept.objects)
    return ToolContext(percept, (), kb)


@pytest.fixture()
def registry() -> ToolRegistry:
    return ToolRegistry(builtin_tools())


# ---------------------------------------------------------------- built-ins


def test_list_objects_reports_every_object(registry: ToolRegistry, ctx: ToolContext, percept: Percept) -> None:
    rows = registry.call("list_objects", ctx)
    assert [r["id"] for r in rows] == percept.ids
    assert rows[2] == {"id": "blue_bowl", "type": "bowl", "color": "blue", "size": None, "position": [0.6, -0.1, 0.025]}
    json.dumps(rows)  # what a language model reads


def test_find_objects_by_type_class_and_colour(registry: ToolRegistry, ctx: ToolContext) -> None:
    assert registry.call("find_objects", ctx, type="block") == ["red_block", "green_block"]
    assert registry.call("find_objects", ctx, color="RED") == ["red_block", "red_mug"]
    assert registry.call("find_objects", ctx, type="block", color="red") == ["red_block"]
    # a class word: the knowledge graph says which types are containers
    containers = registry.call("find_objects", ctx, type="container")
    assert "blue_bowl" in containers and "red_block" not in containers
    assert registry.call("find_objects", ctx) == ctx.percept.ids
    no_kb = ToolContext(ctx.percept)  # without a knowledge base only the type word itself matches
    assert registry.call("find_objects", no_kb, type="container") == []


def test_distance_and_object_size(registry: ToolRegistry, ctx: ToolContext) -> None:
    assert registry.call("distance", ctx, a="red_block", b="green_block") == pytest.approx(0.05)  # 3-4-5
    assert registry.call("distance", ctx, a="blue_bowl", b="yellow_ball") == 0.0
    assert registry.call("object_size", ctx, a="blue_bowl") == {"x": 0.16, "y": 0.16, "z": 0.05, "size": None}


@pytest.mark.parametrize(
    ("relation", "a", "b", "expected"),
    [
        ("left_of", "red_block", "blue_bowl", True),
        ("left_of", "blue_bowl", "red_block", False),
        ("inside", "yellow_ball", "blue_bowl", True),
        ("inside", "red_block", "blue_bowl", False),
        ("behind", "blue_bowl", "red_block", True),
        ("near", "red_block", "green_block", True),
    ],
)
def test_relation_holds(registry: ToolRegistry, ctx: ToolContext, relation: str, a: str, b: str, expected: bool):
    assert registry.call("relation_holds", ctx, relation=relation, a=a, b=b) is expected
    assert expected == RELATIONS[relation](ctx.percept.by_id(a), ctx.percept.by_id(b))


def test_knowledge_tools(registry: ToolRegistry, ctx: ToolContext, kb: KnowledgeBase) -> None:
    rows = registry.call("sparql", ctx, query="SELECT ?o WHERE { ?o a gs:Container } ORDER BY ?o")
    ids = [r["o"].rsplit("/", 1)[-1] for r in rows]
    assert "blue_bowl" in ids and "red_block" not in ids
    kinds = registry.call("types_of_class", ctx, word="container")
    assert "bowl" in kinds and "block" not in kinds
    assert registry.call("affords", ctx, type="bowl", relation="inside") == {
        "affords": True,
        "facts": ["a bowl affords 'inside'"],
    }
    assert registry.call("affords", ctx, type="block", relation="inside")["affords"] is False
    with pytest.raises(ToolError, match=r"^tool sparql: SPARQL query: invalid: ") as err:
        registry.call("sparql", ctx, query="SELECT WHERE {")
    assert "\n" not in str(err.value)
    with pytest.raises(ToolError, match=r"^tool types_of_class: no knowledge base in this context$"):
        registry.call("types_of_class", ToolContext(ctx.percept), word="container")


class RecordingRobot:
    """Stands in for the arm (simulated or real): records the geometry it is asked to move to."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def _outcome(self, skill: str) -> Any:
        class Outcome:
            ok, reason, message = True, None, f"{skill} done"
            detail = {"wall_time_s": 1.5, "attempts": 1}

        Outcome.skill = skill
        return Outcome()

    def pick(self, position, extent, yaw):
        self.calls.append(("pick", (position, extent, yaw)))
        return self._outcome("pick")

    def place(self, position):
        self.calls.append(("place", (position,)))
        return self._outcome("place")

    def handover(self):
        return self._outcome("handover")

    def home(self):
        return self._outcome("home")

    @property
    def holding(self) -> bool:
        return False


def test_skills_move_the_robot_with_the_act_nodes_geometry(registry: ToolRegistry, ctx: ToolContext) -> None:
    robot = RecordingRobot()
    ctx.robot = robot
    out = registry.call("pick", ctx, object_id="red_block")
    assert out == {"skill": "pick", "ok": True, "reason": None, "message": "pick done", "attempts": 1}
    assert robot.calls[-1] == ("pick", ((0.40, 0.10, 0.025), (0.05, 0.05, 0.05), 0.0))
    registry.call("place", ctx, object_id="red_block", relation="inside", target="blue_bowl")
    point = robot.calls[-1][1][0]
    step = PlanStep(skill="place", object="red_block", relation="inside", target="blue_bowl")
    assert point == release_point_for(step, ctx.percept.by_id("red_block"), ctx.percept.objects)
    assert point[2] == pytest.approx(0.0 + CONTAINER_FLOOR)  # the bowl's floor, whatever else is in it
    assert (point[0], point[1]) != (0.60, -0.10)  # the ball sits in the middle: a free spot is chosen
    registry.call("place", ctx, object_id="red_block", relation="table")
    assert robot.calls[-1][1][0][2] == 0.0


def test_skill_errors_are_one_line(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match=r"^tool pick: no robot in this context$"):
        registry.call("pick", ctx, object_id="red_block")
    ctx.robot = RecordingRobot()
    with pytest.raises(ToolError, match=r"^tool place: target: needed for relation on$"):
        registry.call("place", ctx, object_id="red_block", relation="on")
    with pytest.raises(ToolError, match=r"^tool place: target: no perceived object 'plate_9'"):
        registry.call("place", ctx, object_id="red_block", relation="on", target="plate_9")
    assert ctx.robot.calls == []


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("distance", {"a": "red_block"}, "tool distance: b: Field required"),
        ("distance", {"a": "red_block", "b": "blue_bowl", "c": 1}, "tool distance: c: Extra inputs are not permitted"),
        ("distance", {"a": 3, "b": "blue_bowl"}, "tool distance: a: Input should be a valid string"),
        ("distance", {"a": "red_block", "b": "nope"}, "tool distance: b: no perceived object 'nope' (seen: red_block,"),
        ("relation_holds", {"relation": "under", "a": "x", "b": "y"}, "tool relation_holds: relation: Input should be"),
        ("place", {"object_id": "red_block", "relation": "up"}, "tool place: relation: Input should be 'behind'"),
        ("lasso", {}, "tool 'lasso': unknown (known: affords, distance,"),
    ],
)
def test_bad_calls_are_one_line(registry: ToolRegistry, ctx: ToolContext, name: str, kwargs: dict, message: str):
    with pytest.raises(ToolError) as err:
        registry.call(name, ctx, **kwargs)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_tools_own_exception_becomes_one_line(ctx: ToolContext) -> None:
    @tool(kind="measure")
    def broken(ctx: ToolContext, n: int = 2) -> float:
        """Divides by zero."""
        return n / 0

    with pytest.raises(ToolError, match=r"^tool broken: ZeroDivisionError: division by zero$") as err:
        broken(ctx)
    assert isinstance(err.value.__cause__, ZeroDivisionError)  # kept for debugging


# ---------------------------------------------------------------- building tools


def test_decorator_builds_args_model_and_description() -> None:
    @tool(kind="knowledge")
    def weigh(ctx: ToolContext, a: str, scale: float = 1.0, *, unit: str = "kg") -> float:
        """Weigh an object.

        Args:
            a: id of the object
            scale: multiply by this,
                for calibration
        """
        return 0.0

    assert isinstance(weigh, Tool) and weigh.kind == "knowledge" and weigh.source == "builtin"
    assert weigh.description == "Weigh an object."
    schema = weigh.args_model.model_json_schema()
    assert schema["required"] == ["a"] and schema["additionalProperties"] is False
    assert schema["properties"]["scale"] == {
        "default": 1.0,
        "description": "multiply by this, for calibration",
        "title": "Scale",
        "type": "number",
    }
    assert weigh.signature() == "a: str, scale: float = 1.0, unit: str = 'kg'"
    assert weigh.arguments({"a": "x", "scale": "2"}) == {"a": "x", "scale": 2.0, "unit": "kg"}


def test_parse_docstring_keeps_other_sections() -> None:
    text, args = parse_docstring("Do it.\n\nArgs:\n    x (int): the x\n    y: the y\n\nReturns:\n    nothing")
    assert text == "Do it.\n\n\nReturns:\n    nothing" and args == {"x": "the x", "y": "the y"}


def _no_doc(ctx, a: str):
    return a


def _no_hint(ctx, a):
    """Doc."""


def _no_ctx():
    """Doc."""


def _star(ctx, *names: str):
    """Doc."""


@pytest.mark.parametrize(
    ("fn", "options", "message"),
    [
        (_no_doc, {}, "tool _no_doc: needs a docstring"),
        (_no_hint, {}, "tool _no_hint: parameter a: needs a type hint"),
        (_no_ctx, {}, "tool _no_ctx: the first parameter must take the ToolContext"),
        (_star, {}, "tool _star: parameter names: *args, **kwargs and positional-only are not supported"),
        (_no_hint, {"name": "bad name"}, "tool bad name: the name must match"),
        (_no_hint, {"kind": "magic"}, "tool _no_hint: kind 'magic' is not one of perception, measure"),
    ],
)
def test_bad_tool_functions_are_one_line(fn: Any, options: dict, message: str) -> None:
    with pytest.raises(ToolError) as err:
        make_tool(fn, **options)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_register_refuses_a_second_tool_of_the_same_name(registry: ToolRegistry) -> None:
    with pytest.raises(ToolError, match=r"^tool distance: already registered \(from builtin\)$"):
        registry.register(registry.get("distance"))
    registry.register(registry.get("distance").model_copy(update={"source": "mine"}), replace=True)
    assert registry.get("distance").source == "mine"


def test_describe_tools_rows(registry: ToolRegistry) -> None:
    rows = describe_tools(registry)
    assert [r["name"] for r in rows] == sorted(t.name for t in builtin_tools())
    assert {r["kind"] for r in rows} == {"perception", "measure", "knowledge", "skill"}
    dist = next(r for r in rows if r["name"] == "distance")
    assert dist == {
        "name": "distance",
        "kind": "measure",
        "args": "a: str, b: str",
        "description": "Distance in metres between two perceived objects' centres in the table plane.",
        "source": "builtin",
    }
    assert next(r for r in rows if r["name"] == "affords")["args"] == "type: str, relation: inside|on"
    assert registry.names("skill") == ["pick", "place"]


def test_parse_call_args() -> None:
    assert parse_call_args(["a=red_block", "n=3", "ok=true", "q=SELECT ?o WHERE { }"]) == {
        "a": "red_block",
        "n": 3,
        "ok": True,
        "q": "SELECT ?o WHERE { }",
    }
    with pytest.raises(ToolError, match=r"^tool argument 'red_block': expected key=value$"):
        parse_call_args(["red_block"])


# ---------------------------------------------------------------- LangChain


def test_structured_tool_round_trip(registry: ToolRegistry, ctx: ToolContext) -> None:
    tools = {t.name: t for t in registry.as_langchain(ctx)}
    assert sorted(tools) == [n for n in registry.names() if n not in ("pick", "place")]  # skills are opt-in
    assert {"pick", "place"} <= {t.name for t in registry.as_langchain(ctx, skills=True)}
    assert [t.name for t in registry.as_langchain(ctx, kinds=["measure"])] == [
        "distance",
        "object_size",
        "relation_holds",
    ]
    dist = tools["distance"]
    assert dist.args == {
        "a": {"description": "id of a perceived object", "title": "A", "type": "string"},
        "b": {"description": "id of another perceived object", "title": "B", "type": "string"},
    }
    spec = convert_to_openai_tool(tools["find_objects"])["function"]
    assert spec["name"] == "find_objects" and spec["description"].startswith("Ids of the perceived objects")
    assert set(spec["parameters"]["properties"]) == {"type", "color"}
    assert dist.invoke({"a": "red_block", "b": "green_block"}) == "0.05"
    assert json.loads(tools["find_objects"].invoke({"color": "red"})) == ["red_block", "red_mug"]
    # failures come back as text the model can read
    assert dist.invoke({"a": "red_block"}) == "error: tool distance: b: Field required"
    assert dist.invoke({"a": "red_block", "b": "x"}).startswith("error: tool distance: b: no perceived object 'x'")
    message = dist.invoke({"type": "tool_call", "id": "c1", "name": "distance", "args": {"a": "red_block", "b": "x"}})
    assert isinstance(message, ToolMessage) and message.tool_call_id == "c1" and message.status == "error"


# ---------------------------------------------------------------- entry points and specs

PLUGIN = '''
from groundsight.agent.loop.tools import ToolContext, tool

@tool(kind="perception")
def how_many(ctx: ToolContext) -> int:
    """How many objects are perceived."""
    return len(ctx.percept.objects)

@tool(kind="measure")
def distance(ctx: ToolContext, a: str) -> int:
    """Clashes with the built-in distance."""
    return 0

def tools():
    return [how_many]

def clashing():
    return [distance]

def needs_args(x):
    return [how_many]

NOT_A_TOOL = 42
'''


def _site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, entry_points: str, dist: str) -> None:
    """An installed distribution as importlib.metadata finds it: a module and ``<dist>.dist-info`` on sys.path."""
    site = tmp_path / "site"
    info = site / f"{dist}-1.2.dist-info"
    info.mkdir(parents=True)
    (site / f"{module}.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_points}", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, module, raising=False)  # imported afresh, removed again after the test


def test_entry_points_are_discovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ctx: ToolContext) -> None:
    entries = (
        "a_good = gs_test_plugin:tools\n"
        "b_clash = gs_test_plugin:clashing\n"
        "c_missing = gs_test_plugin_nowhere:tools\n"
        "d_args = gs_test_plugin:needs_args\n"
        "e_value = gs_test_plugin:NOT_A_TOOL\n"
    )
    _site(tmp_path, monkeypatch, "gs_test_plugin", entries, "gs-test-plugin")
    registry = default_registry()
    assert "how_many" in registry and registry.call("how_many", ctx) == 5
    assert registry.get("how_many").source == "entry point a_good (gs-test-plugin 1.2)"
    assert registry.get("distance").source == "builtin"  # the clash was refused, the built-in kept
    errors = registry.load_errors
    assert len(errors) == 4 and all("\n" not in e for e in errors)
    assert errors[0] == (
        "entry point b_clash = gs_test_plugin:clashing (gs-test-plugin 1.2): tool distance is already registered "
        "(from builtin)"
    )
    assert errors[1].startswith(
        "entry point c_missing = gs_test_plugin_nowhere:tools (gs-test-plugin 1.2): cannot load: "
        "ModuleNotFoundError: No module named 'gs_test_plugin_nowhere'"
    )
    assert "needs_args takes arguments" in errors[2]
    assert errors[3].endswith("gave int, expected a Tool, a list of Tools, or a function returning them")
    assert default_registry(entry_points=False).names() == sorted(t.name for t in builtin_tools())


def test_the_example_package_is_found_as_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example plugin's own pyproject entry point, as pip would install it (a dist-info, its folder on path)."""
    import tomllib

    pyproject = tomllib.loads((EXAMPLE_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    value = pyproject["project"]["entry-points"][ENTRY_POINT_GROUP]["example"]
    info = tmp_path / "groundsight_tools_example-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: groundsight-tools-example\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nexample = {value}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(EXAMPLE_DIR))
    registry = default_registry()
    assert {"distance_between", "count_colour"} <= set(registry.names())
    assert registry.get("count_colour").source == "entry point example (groundsight-tools-example 0.1.0)"
    assert not registry.load_errors


def test_load_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ctx: ToolContext) -> None:
    _site(tmp_path, monkeypatch, "gs_spec_plugin", "", "gs-spec-plugin")
    registry = ToolRegistry(builtin_tools())
    assert registry.load_spec("gs_spec_plugin:tools") == ["how_many"]  # a function returning tools
    assert registry.get("how_many").source == "--tools gs_spec_plugin:tools"
    other = ToolRegistry()
    assert other.load_spec("gs_spec_plugin:how_many") == ["how_many"]  # a decorated function itself
    assert other.call("how_many", ctx) == 5


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gs_spec_plugin", "--tools 'gs_spec_plugin': expected module:function, e.g. mytools:tools"),
        ("gs_spec_plugin:", "--tools 'gs_spec_plugin:': expected module:function"),
        (
            "gs_no_such_module:tools",
            "--tools 'gs_no_such_module:tools': cannot import module 'gs_no_such_module': ModuleNotFoundError: No "
            "module named 'gs_no_such_module'",
        ),
        ("gs_spec_plugin:nope", "--tools 'gs_spec_plugin:nope': module 'gs_spec_plugin' has no attribute 'nope'"),
        ("gs_spec_plugin:NOT_A_TOOL", "--tools 'gs_spec_plugin:NOT_A_TOOL': gave int, expected a Tool"),
        ("gs_spec_plugin:needs_args", "--tools 'gs_spec_plugin:needs_args': needs_args takes arguments"),
        ("gs_spec_plugin:clashing", "--tools 'gs_spec_plugin:clashing': tool distance is already registered"),
    ],
)
def test_bad_specs_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, message: str) -> None:
    _site(tmp_path, monkeypatch, "gs_spec_plugin", "", "gs-spec-plugin")
    registry = ToolRegistry(builtin_tools())
    with pytest.raises(ToolError) as err:
        registry.load_spec(spec)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    assert len(registry) == len(builtin_tools())  # nothing half-registered


# ---------------------------------------------------------------- the LLM reasoner's tool loop


def call(name: str, args: dict[str, Any], cid: str) -> dict[str, Any]:
    return {"name": name, "args": args, "id": cid, "type": "tool_call"}


class ToolCallingModel(BaseChatModel):
    """Stands in for a real tool-calling LLM, which cannot run here: answers the k-th reply of a conversation
    with ``script[k]`` (an AIMessage, possibly with tool calls; the last one again when it runs out), and keeps
    every conversation and the tools it was offered."""

    script: list[AIMessage]
    _seen: list[tuple[list[Any], list[str]]] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-tools"

    def bind_tools(self, tools, **kwargs):
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        offered = [t["function"]["name"] for t in kwargs.get("tools", [])]
        self._seen.append((list(messages), offered))
        turn = sum(isinstance(m, AIMessage) for m in messages)
        reply = self.script[min(turn, len(self.script) - 1)]
        return ChatResult(generations=[ChatGeneration(message=reply.model_copy())])


@pytest.fixture()
def scene() -> Percept:
    """The scene of the prompt's worked example, so that its answer is the right one here."""
    return Percept(
        objects=[
            make_object("obj_1", "bowl", "blue", 0.60, -0.10),
            make_object("obj_2", "plate", "green", 0.45, 0.20),
            make_object("obj_3", "block", "red", 0.40, 0.05),
        ],
        cameras=["top"],
        perceiver="test",
    )


def _llm_steps(thought) -> list[str]:
    return [s.text for s in thought.steps if s.kind == "llm"]


def test_the_model_calls_tools_then_answers(kb: KnowledgeBase, scene: Percept) -> None:
    model = ToolCallingModel(
        script=[
            AIMessage(content="", tool_calls=[call("find_objects", {"type": "block", "color": "red"}, "c1")]),
            AIMessage(
                content="",
                tool_calls=[
                    call("affords", {"type": "bowl", "relation": "inside"}, "c2"),
                    call("distance", {"a": "obj_3", "b": "obj_9"}, "c3"),
                    call("lasso", {}, "c4"),
                ],
            ),
            AIMessage(content=EXAMPLE_ANSWER),
        ]
    )
    tools = llm_tools(ToolRegistry(builtin_tools()), kb)
    reasoner = make_llm_reasoner(kb, Verifier(kb), chat_model=model, tools=tools)
    thought = reasoner.think(EXAMPLE_INSTRUCTION, scene)
    assert decide(Verifier(kb).check(thought, scene)) is None
    assert [s.text for s in thought.plan] == ["pick(obj_3)", "place(obj_3, inside, obj_1)"]
    # three model calls, each offered the scene's tools but no skills
    assert len(model._seen) == 3
    assert model._seen[0][1] == sorted(t.name for t in builtin_tools() if t.kind != "skill")
    results = [m for m in reasoner.last_messages if isinstance(m, ToolMessage)]
    assert [m.tool_call_id for m in results] == ["c1", "c2", "c3", "c4"]
    assert results[0].content == '["obj_3"]'  # the real tool ran on the scene the reasoner was given
    assert json.loads(results[1].content)["affords"] is True
    assert results[2].content.startswith("error: tool distance: b: no perceived object 'obj_9'")
    assert results[3].content.startswith("error: unknown tool 'lasso' (tools: affords, distance,")
    steps = _llm_steps(thought)
    assert steps[0] == 'Attempt 1: tool find_objects({"color": "red", "type": "block"}) -> ["obj_3"]'
    assert steps[2].startswith("Attempt 1: tool distance(") and "error: tool distance: b:" in steps[2]
    assert len(steps) == 5 and steps[4].startswith("Attempt 1: The red block is obj_3.")


def test_tool_rounds_are_bounded(kb: KnowledgeBase, scene: Percept) -> None:
    asks_forever = AIMessage(content="", tool_calls=[call("list_objects", {}, "c")])
    model = ToolCallingModel(script=[asks_forever, asks_forever, AIMessage(content=EXAMPLE_ANSWER)])
    tools = llm_tools(ToolRegistry(builtin_tools()), kb)
    reasoner = LLMReasoner(kb, Verifier(kb), model, tools=tools, max_tool_rounds=2)
    thought = reasoner.think(EXAMPLE_INSTRUCTION, scene)
    assert decide(Verifier(kb).check(thought, scene)) is None
    told = [m.content for m in reasoner.last_messages if isinstance(m, HumanMessage)]
    assert told[-1] == "No more tool calls (2 rounds). Answer with the JSON object only."
    assert len(model._seen) == 3 and len(_llm_steps(thought)) == 3
    listed = json.loads(next(m for m in reasoner.last_messages if isinstance(m, ToolMessage)).content)
    assert [o["id"] for o in listed] == ["obj_1", "obj_2", "obj_3"]


def test_feedback_after_a_wrong_answer_allows_new_tool_calls(kb: KnowledgeBase, scene: Percept) -> None:
    wrong = json.loads(EXAMPLE_ANSWER)
    wrong["bindings"]["step1.object"] = ["obj_2"]
    model = ToolCallingModel(
        script=[
            AIMessage(content=json.dumps(wrong)),
            AIMessage(content="", tool_calls=[call("find_objects", {"color": "red"}, "c1")]),
            AIMessage(content=EXAMPLE_ANSWER),
        ]
    )
    reasoner = LLMReasoner(kb, Verifier(kb), model, tools=llm_tools(ToolRegistry(builtin_tools()), kb))
    thought = reasoner.think(EXAMPLE_INSTRUCTION, scene)
    assert decide(Verifier(kb).check(thought, scene)) is None
    steps = _llm_steps(thought)
    assert "Check claim_matches failed" in steps[0]
    assert steps[1] == 'Attempt 2: tool find_objects({"color": "red"}) -> ["obj_3"]'
    assert steps[2].startswith("Attempt 2: ")


def test_fixed_tools_and_models_without_tool_calling(kb: KnowledgeBase, scene: Percept) -> None:
    class NoTools(BaseChatModel):
        """Stands in for a chat model without tool calling (bind_tools raises NotImplementedError)."""

        @property
        def _llm_type(self) -> str:
            return "no-tools"

        def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=EXAMPLE_ANSWER))])

    fixed = ToolRegistry(builtin_tools()).as_langchain(ToolContext(scene, (), kb))
    thought = LLMReasoner(kb, Verifier(kb), NoTools(), tools=fixed).think(EXAMPLE_INSTRUCTION, scene)
    assert decide(Verifier(kb).check(thought, scene)) is None and len(_llm_steps(thought)) == 1
    model = ToolCallingModel(script=[AIMessage(content=EXAMPLE_ANSWER)])
    LLMReasoner(kb, Verifier(kb), model, tools=fixed).think(EXAMPLE_INSTRUCTION, scene)
    assert "distance" in model._seen[0][1]
    with pytest.raises(ValueError, match=r"^llm: max_tool_rounds must be at least 1, not 0$"):
        LLMReasoner(kb, Verifier(kb), model, tools=fixed, max_tool_rounds=0)


# ---------------------------------------------------------------- outside the reasoner, and through a whole episode


def test_scene_context_looks_at_a_scenario() -> None:
    from groundsight.agent.tasks.scenario import load_scenario

    root = Path(__file__).resolve().parents[3]
    scenario = load_scenario(root / "scenarios" / "pick_place" / "red_block_in_blue_bowl.yaml")
    ctx = scene_context(scenario, seed=0, perception="classical")
    assert sorted(ctx.percept.ids) == ["blue_bowl", "green_block", "red_block"] and ctx.robot is None
    registry = default_registry(entry_points=False)
    assert registry.call("find_objects", ctx, type="container") == ["blue_bowl"]
    holds = registry.call("relation_holds", ctx, relation="left_of", a="red_block", b="blue_bowl")
    assert holds is (("red_block", "left_of", "blue_bowl") in ctx.relations)
    rows = registry.call("sparql", ctx, query="SELECT ?c WHERE { scene:red_block gs:color ?c }")
    assert rows == [{"c": ctx.percept.by_id("red_block").color}]


def test_episode_with_a_tool_calling_model(tmp_path: Path, kb: KnowledgeBase) -> None:
    """Scripted tool-calling model (stands in for a real LLM) through the whole agent, oracle perception: it asks
    find_objects, then answers; the tool call and its result are in the trace's chain of thought."""
    from groundsight.agent.loop.runner import RunConfig, run_episode
    from groundsight.agent.tasks.scenario import load_scenario

    root = Path(__file__).resolve().parents[3]
    scenario = load_scenario(root / "scenarios" / "pick_place" / "red_block_in_blue_bowl.yaml")
    answer = json.loads(EXAMPLE_ANSWER)
    answer["bindings"] = {"step1.object": ["red_block"], "step1.target": ["blue_bowl"]}
    answer["rationale"] = ["find_objects says the red block is red_block.", "The blue bowl is blue_bowl."]
    model = ToolCallingModel(
        script=[
            AIMessage(content="", tool_calls=[call("find_objects", {"type": "block", "color": "red"}, "c1")]),
            AIMessage(content=json.dumps(answer)),
        ]
    )
    summary = run_episode(
        scenario,
        RunConfig(
            seed=0,
            reasoner="llm",
            reasoner_options={"chat_model": model, "tools": llm_tools(default_registry(entry_points=False), kb)},
            perception="oracle",
        ),
        tmp_path,
    )
    assert summary.passed, summary.reason
    trace = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    reason = next(r for r in trace if r["node"] == "reason")
    llm = [s["text"] for s in reason["thought"]["steps"] if s["kind"] == "llm"]
    assert llm[0] == 'Attempt 1: tool find_objects({"color": "red", "type": "block"}) -> ["red_block"]'
    assert llm[1].startswith("Attempt 1: find_objects says the red block is red_block.")
