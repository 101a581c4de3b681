"""``groundsight tools``: list the typed tools and call one on a scenario's scene."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from groundsight.agent.cli.app import bad_input, check_backends, check_kg, console, load_or_exit, warn_load_errors

tools_app = typer.Typer(help="The typed tools: built-ins, plugins (groundsight.tools) and --tools specs.")


@tools_app.command("list")
def tools_list(tools: Annotated[list[str] | None, typer.Option(help="Extra tools, module:function.")] = None) -> None:
    """List every tool with its kind, arguments and description."""
    from groundsight.agent.loop.tools import ToolError, default_registry, describe_tools

    try:
        registry = default_registry(tools or [])
    except ToolError as exc:
        raise bad_input(f"--tools: {exc}") from None
    table = Table("name", "kind", "args", "description", "source")
    for row in describe_tools(registry):
        table.add_row(row["name"], row["kind"], row["args"], row["description"], row["source"])
    console.print(table)
    warn_load_errors(registry.load_errors)


@tools_app.command("call")
def tools_call(
    scenario: Annotated[Path, typer.Argument(help="Scenario (file or packaged name) whose scene the tool looks at.")],
    name: Annotated[str, typer.Argument(help="Tool name (see `groundsight tools list`).")],
    args: Annotated[list[str] | None, typer.Argument(help="Arguments as key=value.")] = None,
    seed: Annotated[int, typer.Option(help="Scene seed.")] = 0,
    perception: Annotated[str, typer.Option(help="Perceiver for the look.")] = "oracle",
    kg: Annotated[list[Path] | None, typer.Option(help="Extra Turtle file (repeatable).")] = None,
    tools: Annotated[list[str] | None, typer.Option(help="Extra tools, module:function.")] = None,
) -> None:
    """Call one tool on one look at a scenario's scene and print its result.

    Example: groundsight tools call pick_place/red_block_in_blue_bowl distance a=red_block b=blue_bowl
    """
    check_backends(perception, "rules")
    spec = load_or_exit(scenario)
    from groundsight.agent.loop.tools import ToolError, default_registry, parse_call_args, result_text, scene_context

    try:
        registry = default_registry(tools or [])
        ctx = scene_context(spec, seed, perception, check_kg(kg or []))
        print(result_text(registry.call(name, ctx, **parse_call_args(args or []))))
    except ToolError as exc:
        raise bad_input(str(exc)) from None
