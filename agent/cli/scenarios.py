"""``groundsight scenarios``: check scenario files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from groundsight.agent.cli.app import err
from groundsight.agent.tasks.scenario import ScenarioError, find_scenarios, load_scenario

scenarios_app = typer.Typer(help="Work with scenario files.", no_args_is_help=True)


@scenarios_app.command("validate")
def validate(paths: Annotated[list[Path], typer.Argument(help="Scenario files or folders.")]) -> None:
    """Check scenario files; print one line per problem. Exit code 2 if any file is invalid."""
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
