"""The tool registry: typed tools over what the agent perceives, measures, knows and can do.

A tool is a plain function whose first parameter takes a :class:`ToolContext` (the percept, its relations,
the knowledge base, the robot, the camera frames) and whose other parameters are typed; :func:`tool` turns it
into a :class:`Tool` with a pydantic model of its arguments (from the type hints and defaults) and a
description (from the docstring; an ``Args:`` section describes the arguments)::

    @tool(kind="measure")
    def distance(ctx: ToolContext, a: str, b: str) -> float:
        '''Distance in metres between two perceived objects' centres in the table plane.'''

A :class:`ToolRegistry` holds tools by name, validates arguments before calling (bad input is one
:class:`ToolError` line naming the tool and the field), and offers them as LangChain ``StructuredTool`` s bound
to a context (:meth:`ToolRegistry.as_langchain`), which is how the LLM reasoner gets them
(:func:`llm_tools`). Users add tools from an installed package's ``groundsight.tools`` entry points
(:meth:`ToolRegistry.load_entry_points`) or a ``module:function`` spec (:meth:`ToolRegistry.load_spec`); both
name a :class:`Tool`, a list of them, or a function taking no arguments that returns either.

Built-in tools (:func:`builtin_tools`): perception ``list_objects``, ``find_objects``; measure ``distance``,
``relation_holds``, ``object_size``; knowledge ``sparql``, ``types_of_class``, ``affords``; skill ``pick``,
``place``. Skills move the robot with the same geometry as the graph's act node; they are offered to a
language model only when asked for (``skills=True``), since in the agent the graph acts, not the model.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from langchain_core.tools import StructuredTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from groundsight.agent.loop.robot_interface import RobotInterface
from groundsight.knowledge import KnowledgeBase
from groundsight.knowledge.base import KnowledgeError
from groundsight.perception.frame import Frame
from groundsight.perception.objects import Percept, SceneObject
from groundsight.perception.relations import RELATIONS
from groundsight.perception.validation import error_line, one_line
from groundsight.reasoning.placement import PlanStep, grasp_of, release_point_for

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "groundsight.tools"
"""The entry-point group installed packages declare their tools in."""

ToolKind = Literal["perception", "measure", "knowledge", "skill"]
KINDS: tuple[str, ...] = ("perception", "measure", "knowledge", "skill")
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
"""Tool names: what OpenAI-style function calling accepts."""

Relation = Literal["behind", "in_front_of", "inside", "left_of", "near", "on", "right_of"]
"""The relation words of :data:`groundsight.perception.relations.RELATIONS`."""
assert set(Relation.__args__) == set(RELATIONS)  # type: ignore[attr-defined]
PlaceRelation = Literal["behind", "in_front_of", "inside", "left_of", "near", "on", "right_of", "table"]


class ToolError(ValueError):
    """A tool cannot be found, built, loaded or called; the message is one line naming the tool (and field)."""


def _error_text(exc: BaseException) -> str:
    """An exception as one line: our own errors by their message, others with their type."""
    if isinstance(exc, ToolError | KnowledgeError):
        return one_line(exc)
    detail = one_line(exc)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


# ---- context -------------------------------------------------------------------------------------------------


@dataclass
class ToolContext:
    """What a tool call may look at and act through: one view of the scene, the knowledge, the robot."""

    percept: Percept
    relations: Sequence[tuple[str, str, str]] = ()
    kb: KnowledgeBase | None = None
    robot: RobotInterface | None = None
    frames: Sequence[Frame] = ()

    def object(self, object_id: str, field: str) -> SceneObject:
        """The perceived object ``object_id``; a :class:`ToolError` naming ``field`` when nothing has that id."""
        try:
            return self.percept.by_id(object_id)
        except KeyError:
            seen = ", ".join(self.percept.ids) or "nothing"
            raise ToolError(f"{field}: no perceived object {object_id!r} (seen: {seen})") from None

    def knowledge(self) -> KnowledgeBase:
        """The knowledge base; a :class:`ToolError` when this context has none."""
        if self.kb is None:
            raise ToolError("no knowledge base in this context")
        return self.kb


# ---- tools ---------------------------------------------------------------------------------------------------


class Tool(BaseModel):
    """A named, typed, described function over a :class:`ToolContext`."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    description: str = Field(min_length=1)
    kind: ToolKind
    args_model: type[BaseModel]
    fn: Callable[..., Any]
    source: str = "builtin"

    def arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """``kwargs`` validated by :attr:`args_model` (defaults filled in); a one-line :class:`ToolError` if bad."""
        try:
            args = self.args_model.model_validate(kwargs)
        except ValidationError as exc:
            raise ToolError(f"tool {self.name}: {error_line(exc)}") from None
        return {name: getattr(args, name) for name in type(args).model_fields}

    def call(self, ctx: ToolContext, **kwargs: Any) -> Any:
        """Validate the arguments and run the tool; any failure is a one-line :class:`ToolError`."""
        arguments = self.arguments(kwargs)
        try:
            return self.fn(ctx, **arguments)
        except Exception as exc:  # noqa: BLE001 - a tool's failure becomes one line naming the tool
            raise ToolError(f"tool {self.name}: {_error_text(exc)}") from exc

    def __call__(self, ctx: ToolContext, /, **kwargs: Any) -> Any:
        return self.call(ctx, **kwargs)

    def signature(self) -> str:
        """The arguments as ``name: type = default``, e.g. ``a: str, b: str``."""
        parts = []
        for name, info in self.args_model.model_fields.items():
            hint = _type_name(info.annotation)
            parts.append(f"{name}: {hint}" + ("" if info.is_required() else f" = {info.default!r}"))
        return ", ".join(parts)


def _type_name(annotation: Any) -> str:
    """A short type name for a table: ``str``, ``str | None``, ``inside|on`` for a Literal."""
    if get_origin(annotation) is Literal:
        return "|".join(str(a) for a in get_args(annotation))
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


_ARGS_HEADER = re.compile(r"^(Args|Arguments|Parameters):\s*$")
_ARG_LINE = re.compile(r"^\s+(\*{0,2}\w+)(?:\s*\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """A docstring's description (without its ``Args:`` section) and the argument descriptions in that section."""
    lines = inspect.cleandoc(doc).splitlines()
    kept: list[str] = []
    args: dict[str, str] = {}
    current: str | None = None
    in_args = False
    for line in lines:
        if _ARGS_HEADER.match(line):
            in_args, current = True, None
            continue
        if in_args:
            if not line.strip() or not line[:1].isspace():
                in_args = False  # a blank or unindented line ends the section
            else:
                match = _ARG_LINE.match(line)
                if match and (current is None or len(line) - len(line.lstrip()) <= 4):
                    current = match.group(1)
                    args[current] = match.group(2).strip()
                elif current is not None:
                    args[current] = f"{args[current]} {line.strip()}".strip()
                continue
        kept.append(line)
    return "\n".join(kept).strip(), args


def make_tool(
    fn: Callable[..., Any],
    *,
    kind: ToolKind = "measure",
    name: str | None = None,
    description: str | None = None,
    source: str = "builtin",
) -> Tool:
    """A :class:`Tool` from a function ``fn(ctx, arg: type, ...)``: arguments from its hints and defaults,
    description from its docstring (``Args:`` lines describe the arguments). Bad functions are a one-line
    :class:`ToolError` naming the tool."""
    tool_name = name or getattr(fn, "__name__", "")
    label = f"tool {tool_name or repr(fn)}"
    if not re.match(NAME_PATTERN, tool_name):
        raise ToolError(f"{label}: the name must match {NAME_PATTERN}")
    if kind not in KINDS:
        raise ToolError(f"{label}: kind {kind!r} is not one of {', '.join(KINDS)}")
    doc = description if description is not None else inspect.getdoc(fn)
    if not doc or not doc.strip():
        raise ToolError(f"{label}: needs a docstring (it is the description a language model reads)")
    text, arg_docs = parse_docstring(doc)
    try:
        params = list(inspect.signature(fn).parameters.values())
        hints = get_type_hints(fn, include_extras=True)
    except (TypeError, ValueError, NameError) as exc:
        raise ToolError(f"{label}: cannot read its signature: {_error_text(exc)}") from None
    if not params or params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        raise ToolError(f"{label}: the first parameter must take the ToolContext")
    fields: dict[str, Any] = {}
    for p in params[1:]:
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            raise ToolError(f"{label}: parameter {p.name}: *args, **kwargs and positional-only are not supported")
        if p.name not in hints:
            raise ToolError(f"{label}: parameter {p.name}: needs a type hint")
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (hints[p.name], Field(default, description=arg_docs.get(p.name)))
    model_name = "".join(part.capitalize() for part in re.split(r"[_-]", tool_name)) + "Args"
    try:
        args_model = create_model(model_name, __config__=ConfigDict(extra="forbid"), __doc__=text, **fields)
    except Exception as exc:  # noqa: BLE001 - pydantic cannot build a schema for some hints
        raise ToolError(f"{label}: {_error_text(exc)}") from None
    return Tool(name=tool_name, description=text or doc, kind=kind, args_model=args_model, fn=fn, source=source)


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    kind: ToolKind = "measure",
    name: str | None = None,
    description: str | None = None,
) -> Any:
    """Decorator: ``@tool`` or ``@tool(kind="knowledge", name=...)`` turns a function into a :class:`Tool`."""

    def wrap(f: Callable[..., Any]) -> Tool:
        return make_tool(f, kind=kind, name=name, description=description)

    return wrap if fn is None else wrap(fn)


# ---- the registry --------------------------------------------------------------------------------------------


def result_text(result: Any) -> str:
    """A tool result as the text a language model reads: strings as they are, anything else as JSON."""
    if isinstance(result, str):
        return result
    return json.dumps(result, default=str)


def _tools_from(obj: Any, where: str) -> list[Tool]:
    """The tools ``obj`` stands for: a Tool, a list of Tools, or a function with no arguments returning either."""
    if callable(obj) and not isinstance(obj, Tool):
        try:
            required = [
                p
                for p in inspect.signature(obj).parameters.values()
                if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]
        except (TypeError, ValueError):
            required = []
        if required:
            raise ToolError(
                f"{where}: {getattr(obj, '__name__', obj)!s} takes arguments; decorate it with "
                "@groundsight.agent.loop.tools.tool, or give a function with no arguments that returns tools"
            )
        try:
            obj = obj()
        except SystemExit as exc:
            raise ToolError(f"{where}: calling it called sys.exit({exc.code!r})") from None
        except Exception as exc:  # noqa: BLE001 - a plugin's failure is one line naming it
            raise ToolError(f"{where}: calling it failed: {_error_text(exc)}") from None
    items = [obj] if isinstance(obj, Tool) else obj
    if isinstance(items, list | tuple) and items and all(isinstance(t, Tool) for t in items):
        return list(items)
    raise ToolError(
        f"{where}: gave {type(obj).__name__}, expected a Tool, a list of Tools, or a function returning them"
    )


class ToolRegistry:
    """Tools by name: look up, validate and call, offer to LangChain, load from entry points and specs."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self.load_errors: list[str] = []
        """One line per entry point that could not be loaded (they are skipped, and logged)."""
        for t in tools:
            self.register(t)

    def register(self, tool: Tool, *, replace: bool = False) -> Tool:
        """Add ``tool``; a second tool of the same name is a :class:`ToolError` unless ``replace``."""
        if not isinstance(tool, Tool):
            raise ToolError(f"register: expected a Tool, got {type(tool).__name__}")
        old = self._tools.get(tool.name)
        if old is not None and not replace:
            raise ToolError(f"tool {tool.name}: already registered (from {old.source})")
        self._tools[tool.name] = tool
        return tool

    def get(self, name: str) -> Tool:
        """The tool called ``name``; a :class:`ToolError` listing the known ones when there is none."""
        try:
            return self._tools[name]
        except KeyError:
            raise ToolError(f"tool {name!r}: unknown (known: {', '.join(self.names()) or 'none'})") from None

    def names(self, kind: str | None = None) -> list[str]:
        """Tool names, sorted; only those of ``kind`` when given."""
        return sorted(n for n, t in self._tools.items() if kind is None or t.kind == kind)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter([self._tools[n] for n in self.names()])

    def call(self, name: str, ctx: ToolContext, **kwargs: Any) -> Any:
        """Call tool ``name`` with validated ``kwargs``; every failure is a one-line :class:`ToolError`."""
        return self.get(name).call(ctx, **kwargs)

    def as_langchain(
        self, ctx: ToolContext, *, kinds: Sequence[str] | None = None, skills: bool = False
    ) -> list[StructuredTool]:
        """The tools as LangChain ``StructuredTool`` s bound to ``ctx``, sorted by name.

        ``kinds`` keeps only those kinds; skill tools are left out unless ``skills=True``. A tool's result comes
        back as text (JSON unless it is a string); a failure comes back as ``error: <one line>``, not raised, so
        that the model can read it.
        """
        out = []
        for t in self:
            if (kinds is not None and t.kind not in kinds) or (t.kind == "skill" and not skills):
                continue
            out.append(_structured(t, ctx))
        return out

    # ---- loading ---------------------------------------------------------------------------------------------
    def _add(self, tools: list[Tool], source: str, where: str) -> list[str]:
        """Register every one of ``tools`` as coming from ``source``, or none of them (``where`` names the place)."""
        clashes = [t.name for t in tools if t.name in self._tools]
        if clashes:
            raise ToolError(f"{where}: tool {clashes[0]} is already registered (from {self._tools[clashes[0]].source})")
        for t in tools:
            self.register(t.model_copy(update={"source": source}))
        return [t.name for t in tools]

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Register the tools of every installed ``group`` entry point, in name order; returns their names.

        An entry point that cannot be loaded, gives no tools or clashes with a registered name is skipped, logged
        and recorded in :attr:`load_errors` (a broken plugin must not stop the agent).
        """
        loaded: list[str] = []
        for ep in sorted(metadata.entry_points(group=group), key=lambda e: (e.name, e.value)):
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "unknown distribution"
            where = f"entry point {ep.name} = {ep.value} ({dist})"
            try:
                try:
                    obj = ep.load()
                except Exception as exc:  # noqa: BLE001 - any import error of a plugin
                    raise ToolError(f"{where}: cannot load: {_error_text(exc)}") from None
                loaded += self._add(_tools_from(obj, where), f"entry point {ep.name} ({dist})", where)
            except ToolError as exc:
                log.warning("%s", exc)
                self.load_errors.append(str(exc))
        return loaded

    def load_spec(self, spec: str) -> list[str]:
        """Register the tools named by ``module:attribute`` (``--tools``); returns their names.

        The attribute is a :class:`Tool`, a list of them, or a function taking no arguments that returns
        either. A module that is not importable is also looked for in the current directory. A bad spec is a
        one-line :class:`ToolError`.
        """
        where = f"--tools {spec!r}"
        module_name, sep, attr = spec.partition(":")
        if not sep or not module_name or not attr:
            raise ToolError(f"{where}: expected module:function, e.g. mytools:tools")
        module = _import(module_name, where)
        obj: Any = module
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise ToolError(f"{where}: module {module_name!r} has no attribute {attr!r}")
            obj = getattr(obj, part)
        return self._add(_tools_from(obj, where), f"--tools {spec}", where)


def _import(module_name: str, where: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        cwd = str(Path.cwd())
        if exc.name != module_name.split(".")[0] or cwd in sys.path:
            raise ToolError(f"{where}: cannot import module {module_name!r}: {_error_text(exc)}") from None
        sys.path.append(cwd)  # like `python -m`: a module beside the user is found
        return _import(module_name, where)
    except SystemExit as exc:  # a module that exits while imported must not end groundsight silently
        raise ToolError(f"{where}: module {module_name!r} called sys.exit({exc.code!r}) while being imported") from None
    except Exception as exc:  # noqa: BLE001 - any error while importing the user's module
        raise ToolError(f"{where}: cannot import module {module_name!r}: {_error_text(exc)}") from None


def _structured(t: Tool, ctx: ToolContext) -> StructuredTool:
    def run(**kwargs: Any) -> str:
        try:
            return result_text(t.call(ctx, **kwargs))
        except ToolError as exc:  # LangChain turns a ToolException into the text the model reads
            raise ToolException(str(exc)) from exc

    return StructuredTool.from_function(
        func=run,
        name=t.name,
        description=t.description,
        args_schema=t.args_model,
        handle_tool_error=lambda exc: f"error: {one_line(exc)}",
        handle_validation_error=lambda exc: f"error: tool {t.name}: {error_line(exc)}",
    )


def describe_tools(registry: ToolRegistry) -> list[dict[str, str]]:
    """One row per tool, sorted by name, for a table: name, kind, args, description (first line), source."""
    return [
        {
            "name": t.name,
            "kind": t.kind,
            "args": t.signature(),
            "description": t.description.splitlines()[0],
            "source": t.source,
        }
        for t in registry
    ]


def llm_tools(
    registry: ToolRegistry,
    kb: KnowledgeBase | None,
    *,
    robot: RobotInterface | None = None,
    skills: bool = False,
    frames: Callable[[], Sequence[Frame]] | None = None,
) -> Callable[[Percept, Sequence[tuple[str, str, str]]], list[StructuredTool]]:
    """What :class:`reasoning.llm.LLMReasoner` takes as ``tools``: for each scene it reasons about, the registry's
    tools bound to that scene (skills only with ``skills=True``; ``frames`` gives the current camera frames)."""

    def bind(percept: Percept, relations: Sequence[tuple[str, str, str]]) -> list[StructuredTool]:
        ctx = ToolContext(percept, relations, kb, robot, list(frames()) if frames is not None else [])
        return registry.as_langchain(ctx, skills=skills)

    return bind


def scene_context(
    scenario: Any, seed: int = 0, perception: str = "oracle", kg_files: Sequence[str | Path] = ()
) -> ToolContext:
    """A context over one look at a scenario's scene (built for ``seed``, perceived by ``perception``): percept,
    relations, a knowledge base holding the scene, the frames; no robot (the simulated world is closed again).

    For running tools outside an episode, e.g. ``groundsight tools call SCENARIO distance a=... b=...``.
    """
    import numpy as np

    from groundsight.agent.tasks.sim_bridge import SimTruthSource, build_world
    from groundsight.perception.perceivers import make_perceiver
    from groundsight.perception.scene_graph import scene_relations

    world = build_world(scenario, np.random.default_rng(seed))
    try:
        perceiver = make_perceiver(perception, truth=SimTruthSource(world), seed=seed)
        frames = [camera.read() for camera in world.cameras]
        percept = perceiver.perceive(frames)
    finally:
        world.close()
    relations = scene_relations(percept.objects)
    kb = KnowledgeBase(kg_files)
    kb.set_scene(percept.objects, relations)
    return ToolContext(percept, relations, kb, None, frames)


def parse_call_args(items: Sequence[str]) -> dict[str, Any]:
    """``key=value`` words (``a=red_block``, ``query='SELECT ...'``) as keyword arguments; a value that reads as
    JSON (``3``, ``true``, ``null``, ``[1, 2]``) is that value, anything else a string."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ToolError(f"tool argument {item!r}: expected key=value")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


# ---- built-in tools ------------------------------------------------------------------------------------------


def _mm4(value: float) -> float:
    """Metres rounded to 4 decimals (0.1 mm) for tool answers."""
    return round(float(value), 4)


@tool(kind="perception")
def list_objects(ctx: ToolContext) -> list[dict[str, Any]]:
    """Every perceived object: id, type, colour, size word and the centre (x, y, z) in metres."""
    return [
        {"id": o.id, "type": o.type, "color": o.color, "size": o.size, "position": [_mm4(v) for v in o.position]}
        for o in ctx.percept.objects
    ]


@tool(kind="perception")
def find_objects(ctx: ToolContext, type: str | None = None, color: str | None = None) -> list[str]:
    """Ids of the perceived objects of a type (or of a class of types, such as container) and/or a colour.

    Args:
        type: an object type (block, bowl) or a class word the knowledge graph knows (container, toy)
        color: a colour word (red, blue)
    """
    types: set[str] | None = None
    if type is not None:
        types = {type.lower()}
        if ctx.kb is not None:
            types |= set(ctx.kb.types_of_class(type.lower()))
    return [
        o.id
        for o in ctx.percept.objects
        if (types is None or o.type in types) and (color is None or o.color == color.lower())
    ]


@tool(kind="measure")
def distance(ctx: ToolContext, a: str, b: str) -> float:
    """Distance in metres between two perceived objects' centres in the table plane.

    Args:
        a: id of a perceived object
        b: id of another perceived object
    """
    oa, ob = ctx.object(a, "a"), ctx.object(b, "b")
    return _mm4(math.hypot(oa.position[0] - ob.position[0], oa.position[1] - ob.position[1]))


@tool(kind="measure")
def relation_holds(ctx: ToolContext, relation: Relation, a: str, b: str) -> bool:
    """Whether a spatial relation holds between two perceived objects now (left is +y, in front is toward the robot).

    Args:
        relation: inside, on, left_of, right_of, in_front_of, behind or near
        a: id of the object the relation is about
        b: id of the reference object
    """
    return RELATIONS[relation](ctx.object(a, "a"), ctx.object(b, "b"))


@tool(kind="measure")
def object_size(ctx: ToolContext, a: str) -> dict[str, Any]:
    """A perceived object's box size along x, y and z in metres, and its size word when perception gave one.

    Args:
        a: id of a perceived object
    """
    o = ctx.object(a, "a")
    return {"x": _mm4(o.extent[0]), "y": _mm4(o.extent[1]), "z": _mm4(o.extent[2]), "size": o.size}


@tool(kind="knowledge")
def sparql(ctx: ToolContext, query: str) -> list[dict[str, str]]:
    """Run a SPARQL SELECT over the ontology and the current scene (prefixes gs:, scene:, rdfs:, rdf:, owl: declared).

    Args:
        query: a SELECT query, e.g. SELECT ?o WHERE { ?o a gs:Container }
    """
    return ctx.knowledge().sparql(query)


@tool(kind="knowledge")
def types_of_class(ctx: ToolContext, word: str) -> list[str]:
    """The object types that belong to a class word of the knowledge graph (container -> bowl, mug, ...).

    Args:
        word: a class word or synonym (container, kitchenware, toy) or an object type
    """
    return ctx.knowledge().types_of_class(word)


@tool(kind="knowledge")
def affords(ctx: ToolContext, type: str, relation: Literal["inside", "on"]) -> dict[str, Any]:
    """Whether something can be put inside / on an object of this type, with the facts that say so.

    Args:
        type: an object type (bowl, plate, ball)
        relation: inside or on
    """
    answer = ctx.knowledge().affords(type, relation)
    return {"affords": answer.value, "facts": list(answer.facts)}


def _outcome(result: Any) -> dict[str, Any]:
    detail = {k: v for k, v in dict(result.detail).items() if k != "wall_time_s"}
    return {"skill": result.skill, "ok": result.ok, "reason": result.reason, "message": result.message, **detail}


def _robot(ctx: ToolContext) -> RobotInterface:
    if ctx.robot is None:
        raise ToolError("no robot in this context")
    return ctx.robot


@tool(kind="skill")
def pick(ctx: ToolContext, object_id: str) -> dict[str, Any]:
    """Grasp a perceived object from above and lift it (the robot moves).

    Args:
        object_id: id of the perceived object to pick
    """
    robot = _robot(ctx)
    obj = ctx.object(object_id, "object_id")
    grasp = grasp_of(obj, obj.yaw)
    return _outcome(robot.pick(grasp.position, grasp.extent, grasp.yaw))


@tool(kind="skill")
def place(ctx: ToolContext, object_id: str, relation: PlaceRelation, target: str | None = None) -> dict[str, Any]:
    """Put the held object down relative to a target (inside, on, left_of, ...) or anywhere free on the table.

    Args:
        object_id: id of the held object (as it was perceived)
        relation: inside, on, left_of, right_of, in_front_of, behind, near, or table
        target: id of the perceived target object (not needed for table)
    """
    robot = _robot(ctx)
    obj = ctx.object(object_id, "object_id")
    if relation != "table":
        if target is None:
            raise ToolError(f"target: needed for relation {relation}")
        ctx.object(target, "target")
    step = PlanStep(skill="place", object=object_id, relation=relation, target=None if relation == "table" else target)
    return _outcome(robot.place(release_point_for(step, obj, ctx.percept.objects)))


BUILTIN_TOOLS: tuple[Tool, ...] = (
    list_objects,
    find_objects,
    distance,
    relation_holds,
    object_size,
    sparql,
    types_of_class,
    affords,
    pick,
    place,
)


def builtin_tools() -> list[Tool]:
    """The built-in tools."""
    return list(BUILTIN_TOOLS)


def default_registry(specs: Sequence[str] = (), *, entry_points: bool = True) -> ToolRegistry:
    """The built-ins, then every installed ``groundsight.tools`` entry point, then each ``--tools`` spec."""
    registry = ToolRegistry(builtin_tools())
    if entry_points:
        registry.load_entry_points()
    for spec in specs:
        registry.load_spec(spec)
    return registry
