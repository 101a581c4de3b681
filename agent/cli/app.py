"""The ``groundsight`` typer app and what every command group shares: consoles, one-line input errors, the
checks of backend names, knowledge files and tool specs, and the logging callback."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from groundsight.agent.loop.reasoners import REASONERS
from groundsight.perception.perceivers.names import MORE_PERCEIVERS, PERCEIVERS, is_perceiver_name

if TYPE_CHECKING:
    from groundsight.agent.loop.runner import Summary
    from groundsight.agent.tasks.scenario import Scenario

app = typer.Typer(
    help="groundsight: embodied agents that reason before they act.\n\n"
    "Run a scenario: groundsight run pick_place/red_block_in_blue_bowl (a packaged name, or a YAML file)\n\n"
    "Evaluate a suite: groundsight eval scenarios/ --seeds 20 --workers 2",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

STATUS_WORDS = {
    "succeeded": "success",
    "failed": "failed",
    "refused": "refused",
    "needs_clarification": "ask",
}
"""The word ``result_line`` prints for each episode status."""

PERCEIVER_NAMES = ", ".join((*PERCEIVERS, *MORE_PERCEIVERS))
"""Every perceiver name ``--perception`` accepts, for help texts and errors."""

SCENARIO_ARGUMENT = "or packaged names such as pick_place/red_block_in_blue_bowl (see `groundsight scenarios list`)"
"""How a scenario argument's help says that packaged scenarios are accepted by name from any directory."""


def bad_input(message: str) -> typer.Exit:
    """Print ``error: MESSAGE`` on stderr and return the exit (code 2) for the caller to raise."""
    err.print(f"error: {message}", markup=False, soft_wrap=True)
    return typer.Exit(2)


def check_backends(perception: str, reasoner: str, model: str | None = None) -> None:
    """One-line errors for an unknown perceiver or reasoner, or a detector without its model."""
    if not is_perceiver_name(perception):
        raise bad_input(f"--perception: unknown perceiver {perception!r} (known: {PERCEIVER_NAMES})")
    if perception.split(":")[-1] == "detector" and not model:  # vlm without --model: the shipped checkpoint
        raise bad_input(f"--model: the {perception} perceiver needs a model folder or hub id")
    if reasoner not in REASONERS:
        raise bad_input(f"--reasoner: unknown reasoner {reasoner!r} (known: {', '.join(REASONERS)})")


def vlm_server_options(perception: str, base_url: str | None, model: str | None) -> dict[str, Any]:
    """``base_url`` and ``model`` for the ``vlm-server`` perceiver (nothing for the others); one-line errors
    when one is missing or the flags are given to another perceiver."""
    if perception.split(":")[-1] != "vlm-server":
        if base_url or model:
            raise bad_input("--vlm-base-url / --vlm-model: only for --perception vlm-server")
        return {}
    if not base_url:
        raise bad_input(
            "--vlm-base-url: the vlm-server perceiver needs the server's URL, e.g. http://localhost:8000/v1"
        )
    if not model:
        raise bad_input("--vlm-model: name the model the --vlm-base-url server serves")
    return {"base_url": base_url, "model": model}


def llm_options(
    reasoner: str, model: str | None, base_url: str | None, device: str, dtype: str | None
) -> dict[str, Any] | None:
    """Options for the llm reasoner; one-line errors when it has no model to talk to."""
    if reasoner != "llm":
        return None
    if base_url:
        if not model:
            raise bad_input("--llm-model: name the model the --llm-base-url server serves")
        return {"base_url": base_url, "llm_model": model}
    if not model:
        raise bad_input("--model: the llm reasoner needs a local model folder or hub id, or --llm-base-url URL")
    return {"model": model, "device": device, "dtype": dtype or "auto"}


def check_kg(files: list[Path]) -> list[str]:
    """Load the knowledge graph once with the user's files, so a broken file is a one-line error up front."""
    from groundsight.knowledge import KnowledgeBase, KnowledgeError

    try:
        KnowledgeBase(files)
    except KnowledgeError as exc:
        raise bad_input(f"--kg: {exc}") from None
    return [str(f) for f in files]


def check_tools(specs: list[str]) -> list[str]:
    """Load the tool registry once up front, so that a bad --tools spec is a one-line error; the specs back."""
    from groundsight.agent.loop.tools import ToolError, default_registry

    try:
        registry = default_registry(specs)
    except ToolError as exc:
        raise bad_input(f"--tools: {exc}") from None
    warn_load_errors(registry.load_errors)
    return specs


def warn_load_errors(problems: list[str]) -> None:
    """One ``warning:`` line on stderr per tool plugin that failed to load."""
    for problem in problems:
        err.print(f"warning: {problem}", markup=False, soft_wrap=True)


def load_or_exit(path: Path) -> Scenario:
    """The scenario at ``path`` (or a packaged name); a one-line error naming file and field if invalid.
    A missing file is told without loading the scenario model (and with it the simulator's modules)."""
    from groundsight.agent.tasks.scenario_paths import resolve_scenario_path
    from groundsight.inputs import InputFileError, read_text

    resolved = resolve_scenario_path(path)
    if not resolved.is_file():
        try:
            read_text(resolved)  # the same one-line message load_scenario gives
        except InputFileError as exc:
            raise bad_input(str(exc)) from None
    from groundsight.agent.tasks.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise bad_input(str(exc)) from None


def result_line(summary: Summary) -> str:
    """The last line ``run`` prints: ``result: <status> ...``."""
    verdict = "passed" if summary.passed else "NOT passed"
    text = f"result: {STATUS_WORDS.get(summary.status, summary.status)} ({verdict}, expected {summary.expected};"
    text += f" {summary.steps} steps, {summary.wall_time_s:.1f} s)"
    detail = summary.question or summary.reason
    return text + (f" -- {detail}" if detail else "")


@app.callback()
def _configure(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what the libraries do (to stderr).")] = False,
) -> None:
    """Library logs stay quiet unless asked for: every outcome is in the trace and the summary."""
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Console-script entry point (``groundsight`` and ``python -m groundsight``).

    The last line of defence for the exit codes: a bad input that reached no command's own check (a busy or
    unusable run directory, an unreadable file) is one line and exit 2; an internal failure is one line and exit 1
    (the traceback with ``GROUNDSIGHT_DEBUG=1``); Ctrl-C is exit 130. Never a traceback.
    """
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        raise SystemExit(130) from None
    except Exception as exc:
        from groundsight.agent.loop.run_dir import RunDirError  # imported here: light, but not needed by --help
        from groundsight.inputs import InputFileError, one_line

        if isinstance(exc, RunDirError | InputFileError):
            err.print(f"error: {one_line(exc, 300)}", markup=False, soft_wrap=True)
            raise SystemExit(2) from None
        if os.environ.get("GROUNDSIGHT_DEBUG"):
            raise
        err.print(f"internal error: {type(exc).__name__}: {one_line(exc, 300)}", markup=False, soft_wrap=True)
        raise SystemExit(1) from None
