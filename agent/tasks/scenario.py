"""The scenario file (YAML): model, validation and loading with one-line errors.

See ``docs/contract.md`` for the contract. Every problem is reported as ``FILE: FIELD: PROBLEM``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from groundsight.agent.tasks.scenario_paths import (  # noqa: F401  (re-exported: their home was here)
    DEMO_SCENARIO,
    PACKAGED_SCENARIOS,
    find_scenarios,
    resolve_scenario_path,
)
from groundsight.inputs import InputFileError, clip, load_yaml_file
from groundsight.perception.validation import describe_error, field_path
from groundsight.sim.bodies import COLORS, OBJECT_TYPES, footprint_radius
from groundsight.sim.scene import PlacementError, PlacementRequest, place_objects
from groundsight.sim.world import TABLE_CENTRE, TABLE_HALF_EXTENTS

PAIR_PREDICATES = ("inside", "on", "left_of", "right_of", "in_front_of", "behind", "near")
LIST_PREDICATES = ("stacked", "on_table", "unchanged", "handed_over", "lifted")
MAP_PREDICATES = ("displaced",)
"""``displaced: {red_block: [dx, dy]}``: each object's base moved by about (dx, dy) metres."""
COMBINATORS = ("all", "any", "not")
PREDICATES = PAIR_PREDICATES + LIST_PREDICATES + MAP_PREDICATES + COMBINATORS
MAX_OBJECTS = 24
"""Most objects a scene may hold (more do not fit on the table with room to grasp)."""
PLACEMENT_CHECK_SEEDS = 3
"""Seeded placements tried at validation: a scene none of them can place is refused before it runs."""
TABLE_X = (TABLE_CENTRE[0] - TABLE_HALF_EXTENTS[0], TABLE_CENTRE[0] + TABLE_HALF_EXTENTS[0])
TABLE_Y = (TABLE_CENTRE[1] - TABLE_HALF_EXTENTS[1], TABLE_CENTRE[1] + TABLE_HALF_EXTENTS[1])


class _Yaml12Loader(yaml.SafeLoader):
    """Safe YAML loader where only true/false are booleans, so the goal key ``on:`` stays a string."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class ScenarioError(InputFileError):
    """A scenario file is invalid. ``str()`` is one line: ``FILE: FIELD: PROBLEM``."""


class ObjectEntry(BaseModel):
    """One object of the scene."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: str | None = Field(default=None, max_length=64)
    type: str
    color: str
    size: Literal["small", "medium", "large"] = "medium"
    position: tuple[float, float] | None = None

    @field_validator("position")
    @classmethod
    def _on_the_table(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not (TABLE_X[0] <= v[0] <= TABLE_X[1] and TABLE_Y[0] <= v[1] <= TABLE_Y[1]):
            raise ValueError(
                f"({v[0]:.3g}, {v[1]:.3g}) is off the table (x {TABLE_X[0]:.2f}..{TABLE_X[1]:.2f}, "
                f"y {TABLE_Y[0]:.2f}..{TABLE_Y[1]:.2f} m)"
            )
        return v

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in OBJECT_TYPES:
            raise ValueError(f"unknown object type {v!r} (known: {', '.join(OBJECT_TYPES)})")
        return v

    @field_validator("color")
    @classmethod
    def _known_color(cls, v: str) -> str:
        if v not in COLORS:
            raise ValueError(f"unknown colour {v!r} (known: {', '.join(COLORS)})")
        return v


class SceneSpec(BaseModel):
    """The scene: robot, objects, and whether unplaced objects are jittered per seed."""

    model_config = ConfigDict(extra="forbid")

    robot: Literal["panda"] = "panda"
    objects: list[ObjectEntry] = Field(min_length=1, max_length=MAX_OBJECTS)
    randomize: bool = True


class Scenario(BaseModel):
    """A scenario: an instruction in a scene, and what counts as passing."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(max_length=100)
    instruction: str = Field(min_length=1, max_length=1000)
    scene: SceneSpec
    goal: dict[str, Any] | None = None
    expect: Literal["success", "refuse", "ask"] = "success"
    max_steps: int = Field(default=30, ge=1, le=1000)
    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        """The file it was loaded from (absolute), if any."""
        return self._source

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", v):
            raise ValueError(f"{v!r} is not a slug (lower-case letters, digits, '-' and '_')")
        return v

    @model_validator(mode="after")
    def _assign_ids_and_check_goal(self) -> Scenario:
        counts = Counter(f"{o.color}_{o.type}" for o in self.scene.objects if o.id is None)
        seen: Counter[str] = Counter()
        for obj in self.scene.objects:
            if obj.id is None:
                base = f"{obj.color}_{obj.type}"
                seen[base] += 1
                obj.id = base if counts[base] == 1 else f"{base}_{seen[base]}"
        placed = [o for o in self.scene.objects if o.position is not None]
        for i, a in enumerate(placed):
            for b in placed[:i]:
                gap = (
                    math.dist(a.position, b.position)
                    - footprint_radius(a.type, a.size)
                    - footprint_radius(b.type, b.size)
                )
                if gap < 0:
                    k = self.scene.objects.index(a)
                    where = f"scene.objects[{k}].position"
                    raise _FieldProblem(where, f"{a.id} overlaps {b.id} by {-gap * 100:.1f} cm")
        ids = [o.id for o in self.scene.objects]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate object id {dupes[0]!r}")
        if self.goal is None:
            if self.expect == "success":
                raise ValueError("goal: a scenario that expects success needs a goal")
        else:
            _check_goal(self.goal, "goal", set(ids))  # type: ignore[arg-type]
        _check_fits(self.scene)
        return self

    @property
    def object_ids(self) -> list[str]:
        return [o.id for o in self.scene.objects]  # type: ignore[misc]


class _FieldProblem(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


def _check_displaced(value: Any, here: str, ids: set[str]) -> None:
    """``{object id: [dx, dy]}`` in metres, at least one object."""
    if not isinstance(value, dict) or not value:
        raise _FieldProblem(here, "must map object ids to [dx, dy] in metres")
    for oid, offset in value.items():
        if oid not in ids:
            raise _FieldProblem(f"{here}.{oid}", f"unknown object id {oid!r} (known: {', '.join(sorted(ids))})")
        numbers = isinstance(offset, list) and all(isinstance(v, int | float) for v in offset)
        if not numbers or len(offset) != 2:
            raise _FieldProblem(f"{here}.{oid}", f"must be [dx, dy] in metres, got {clip(offset)}")


def _check_goal(goal: Any, where: str, ids: set[str]) -> None:
    """Validate a goal expression recursively; raise with the exact field path."""
    if not isinstance(goal, dict) or len(goal) != 1:
        raise _FieldProblem(where, f"must be a mapping with exactly one predicate ({', '.join(PREDICATES)})")
    ((key, value),) = goal.items()
    here = f"{where}.{key}"
    if key not in PREDICATES:
        raise _FieldProblem(here, f"unknown predicate {key!r} (known: {', '.join(PREDICATES)})")
    if key == "not":
        _check_goal(value, here, ids)
        return
    if key in MAP_PREDICATES:
        _check_displaced(value, here, ids)
        return
    if not isinstance(value, list) or not value:
        raise _FieldProblem(here, "must be a non-empty list")
    if key in ("all", "any"):
        for i, sub in enumerate(value):
            _check_goal(sub, f"{here}[{i}]", ids)
        return
    if key in PAIR_PREDICATES and len(value) != 2:
        raise _FieldProblem(here, f"takes exactly two object ids, got {len(value)}")
    if key == "stacked" and len(value) < 2:
        raise _FieldProblem(here, "needs at least two object ids, top first")
    for i, oid in enumerate(value):
        if not isinstance(oid, str):
            raise _FieldProblem(f"{here}[{i}]", f"must be an object id, got {clip(oid)}")
        if oid not in ids:
            raise _FieldProblem(f"{here}[{i}]", f"unknown object id {oid!r} (known: {', '.join(sorted(ids))})")


def _check_fits(scene: SceneSpec) -> None:
    """Refuse a scene whose objects cannot all be placed: what validates can be built."""
    requests = [
        PlacementRequest(o.id or "", o.type, o.color, o.size, *(o.position or (None, None))) for o in scene.objects
    ]
    for seed in range(PLACEMENT_CHECK_SEEDS):
        try:
            place_objects(requests, np.random.default_rng(seed), randomize=scene.randomize)
        except PlacementError as exc:
            raise _FieldProblem("scene.objects", f"the objects do not fit on the table ({exc}, seed {seed})") from None


def parse_scenario(data: Any, path: str | Path = "<scenario>") -> Scenario:
    """Validate already-loaded YAML data; raise :class:`ScenarioError` with a one-line message."""
    if not isinstance(data, dict):
        raise ScenarioError(path, "(top level)", "must be a mapping of fields (name, instruction, scene, goal)")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        ctx_error = err.get("ctx", {}).get("error")
        if isinstance(ctx_error, _FieldProblem):
            raise ScenarioError(path, ctx_error.field, ctx_error.problem) from None
        field = field_path(err["loc"])
        problem = describe_error(err)
        if problem.startswith("goal: "):
            field, problem = "goal", problem.removeprefix("goal: ")
        raise ScenarioError(path, field, problem) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (a path, or a packaged name such as ``pick_place/red_block_in_blue_bowl``)."""
    path = resolve_scenario_path(path)
    try:
        data = load_yaml_file(path, loader=_Yaml12Loader)
    except InputFileError as exc:
        raise ScenarioError(exc.path, exc.field, exc.problem) from None
    scenario = parse_scenario(data, path)
    scenario._source = str(path.resolve())
    return scenario
