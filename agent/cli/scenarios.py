"""``groundsight scenarios``: list the packaged scenarios and check scenario files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from groundsight.agent.cli.app import SCENARIO_ARGUMENT, bad_input, console, err

scenarios_app = typer.Typer(help="Work with scenario files.", no_args_is_help=True)


def packaged_families() -> list[str]:
    """The families (folders) of the packaged scenarios, sorted."""
    from groundsight.agent.tasks.scenario_paths import PACKAGED_SCENARIOS

    return sorted(p.name for p in PACKAGED_SCENARIOS.iterdir() if p.is_dir() and any(p.glob("*.yaml")))


@scenarios_app.command("list")
def list_scenarios(
    family: Annotated[str | None, typer.Option(help="Only this family (e.g. pick_place).")] = None,
) -> None:
    """List the packaged scenarios: the name to run them by (family/name), instruction and expected outcome.

    Example: groundsight run pick_place/red_block_in_blue_bowl
    """
    from groundsight.agent.tasks.scenario_paths import PACKAGED_SCENARIOS

    families = packaged_families()
    if family is not None and family not in families:
        raise bad_input(f"--family: unknown family {family!r} (known: {', '.join(families)})")
    from groundsight.agent.tasks.scenario import load_scenario

    table = Table("scenario", "instruction", "expect")
    table.columns[0].no_wrap = True
    count = 0
    for name in [family] if family else families:
        for path in sorted((PACKAGED_SCENARIOS / name).glob("*.yaml")):
            spec = load_scenario(path)
            table.add_row(f"{name}/{path.stem}", spec.instruction, spec.expect)
            count += 1
    console.print(table)
    print(f"{count} packaged scenarios" + (f" in {family}" if family else f" in {len(families)} families"))


@scenarios_app.command("validate")
def validate(
    paths: Annotated[list[Path], typer.Argument(help=f"Scenario files or folders; {SCENARIO_ARGUMENT}.")],
) -> None:
    """Check scenario files; print one line per problem. Exit code 2 if any file is invalid."""
    from groundsight.agent.tasks.scenario import ScenarioError, load_scenario
    from groundsight.agent.tasks.scenario_paths import find_scenarios

    files = find_scenarios(paths)
    bad = 0
    for f in files:
        try:
            load_scenario(f)
        except ScenarioError as exc:
            bad += 1
            err.print(f"error: {exc}", markup=False, soft_wrap=True)
    print(f"{len(files) - bad}/{len(files)} scenario files valid")
    raise typer.Exit(2 if bad else 0)
