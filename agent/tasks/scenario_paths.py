"""Where scenario files are: the packaged suites and the names that resolve to them. Imports nothing heavy, so
the command line resolves (and rejects) a scenario argument without loading the simulator's modules."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGED_SCENARIOS = Path(str(resources.files("groundsight.scenarios")))
"""The folder of the scenario suites shipped in the package (``groundsight.scenarios``)."""

DEMO_SCENARIO = PACKAGED_SCENARIOS / "pick_place" / "red_block_in_blue_bowl.yaml"
"""The default scenario of ``make demo``, LangGraph Studio and the gymnasium env."""


def resolve_scenario_path(name: str | Path) -> Path:
    """A path as given if it exists, else a packaged scenario or suite: ``pick_place/red_block_in_blue_bowl``,
    ``pick_place`` or ``scenarios/pick_place`` (with or without ``.yaml``). Unknown names are returned as given,
    so the caller's error names what the user typed."""
    path = Path(name)
    if path.exists():
        return path
    relative = Path(*path.parts[1:]) if path.parts[:1] == ("scenarios",) else path
    if relative == Path():
        return PACKAGED_SCENARIOS
    for candidate in (PACKAGED_SCENARIOS / relative, PACKAGED_SCENARIOS / relative.with_suffix(".yaml")):
        if candidate.exists() and candidate.name != "__init__.py":
            return candidate
    return path


def find_scenarios(paths: list[str | Path]) -> list[Path]:
    """Scenario files under the given files and folders (or packaged names), sorted."""
    out: list[Path] = []
    for p in map(resolve_scenario_path, paths):
        out.extend(sorted(p.rglob("*.yaml")) if p.is_dir() else [p])
    return out
