"""``groundsight run``: one episode, printed step by step, judged on simulator truth."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from groundsight.agent.cli.app import (
    PERCEIVER_NAMES,
    STATUS_WORDS,
    bad_input,
    check_backends,
    check_kg,
    check_tools,
    console,
    llm_options,
    load_or_exit,
    result_line,
    vlm_server_options,
)
from groundsight.agent.cli.options import Device, Dtype, KgFiles, Twin, Verify, VlmBaseUrl, VlmModel
from groundsight.agent.recording import record_target, write_recordings

if TYPE_CHECKING:
    from groundsight.agent.loop.runner import Summary

PERCEPTION_HELP = (
    "Perceiver: classical (OpenCV on RGB-D), oracle (simulator truth), vlm (the shipped compact VLM, or --model),"
    " detector (OWLv2, needs --model) or noisy:<inner> (injects hallucinations at --noise)."
    f" Names: {PERCEIVER_NAMES}."
)
"""``run --perception``'s help: every perceiver name, from the perceivers package itself."""

StepPrinter = Callable[[int, str, dict[str, Any]], None]
"""What the runner calls after every graph step: ``(step index, node name, the node's state update)``."""


def _ask_in_terminal(question: str) -> str | None:
    """Ask the person at the terminal; an empty answer leaves the question open."""
    console.print(f"[bold yellow]?[/] {question}", highlight=False)
    answer = console.input("[bold]your answer[/] (empty to stop): ").strip()
    return answer or None


def _terminal_asker(no_input: bool) -> Callable[[str], str | None] | None:
    """The terminal prompt for the agent's questions, or None when nobody can answer (``--no-input``, a pipe)."""
    return None if no_input or not sys.stdin.isatty() else _ask_in_terminal


def describe_step(node: str, update: dict[str, Any]) -> str:
    """One line saying what a graph node just did (what ``run`` prints after the node's name)."""
    if node == "perceive" and update.get("percept") is not None:
        objs = update["percept"].objects
        repaired = sum(not c.passed for c in update.get("screen") or [])
        screened = f" (screen: {repaired} repaired)" if repaired else ""
        return f"saw {len(objs)} objects: " + ", ".join(o.id for o in objs) + screened
    if node == "reason" and update.get("thought") is not None:
        return update["thought"].steps[-1].text
    if node == "verify" and update.get("checks") is not None:
        checks = update["checks"]
        return f"{sum(c.passed for c in checks)}/{len(checks)} checks passed" + (
            "" if all(c.passed for c in checks) else f"; failed: {next(c for c in checks if not c.passed).name}"
        )
    if node == "act" and update.get("actions"):
        a = update["actions"][-1]
        return f"{a.step}: {'ok' if a.ok else 'FAILED ' + str(a.reason)}"
    if node == "observe" and update.get("checks"):
        c = update["checks"][-1]
        return f"{c.claim}: {'observed' if c.passed else 'NOT observed'}"
    return update.get("reason", "") if node in STATUS_WORDS else ""


def step_printer(quiet: bool) -> StepPrinter:
    """Prints ``  <i> <node> <what it did>`` per graph step (nothing with ``--quiet``)."""

    def show(i: int, node: str, update: dict[str, Any]) -> None:
        if not quiet:
            console.print(f"  [dim]{i:>3}[/] [cyan]{node:<20}[/] ", end="")
            console.print(describe_step(node, update), markup=False)

    return show


def finish(summary: Summary) -> typer.Exit:
    """Print the result line; the exit to raise (0 passed, 1 ran but did not pass)."""
    print(result_line(summary))
    return typer.Exit(0 if summary.passed else 1)


def resume_episode(run_dir: Path, answers: list[str], no_input: bool, quiet: bool) -> Summary:
    """Continue the run in ``run_dir`` from its checkpoint; one-line errors if it holds no run."""
    if not (run_dir / "run.json").exists():  # without a checkpoint yet, the runner starts the episode afresh
        raise bad_input(f"--resume: {run_dir} holds no run (run.json is missing)")
    if not quiet:
        console.print(f"resuming {run_dir}", markup=False)
    from groundsight.agent.loop.runner import resume_run
    from groundsight.agent.tasks.scenario import ScenarioError

    try:
        return resume_run(run_dir, answers=answers, ask=_terminal_asker(no_input), on_step=step_printer(quiet))
    except (ValueError, ScenarioError) as exc:
        raise bad_input(f"--resume: {str(exc).splitlines()[0]}") from None


def _backend_options(
    perception: str,
    reasoner: str,
    model: str | None,
    noise: float,
    device: str,
    dtype: str | None,
    vlm_base_url: str | None,
    vlm_model: str | None,
    llm_model: str | None,
    llm_base_url: str | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The perceiver's options and the llm reasoner's options, checked (one-line errors, exit 2).
    ``--model`` goes to the perceiver when it needs one (vlm, detector), else to the llm reasoner."""
    check_backends(perception, reasoner, model)
    server = vlm_server_options(perception, vlm_base_url, vlm_model)
    needs_model = perception.split(":")[-1] in ("vlm", "detector")
    llm = llm_options(reasoner, llm_model or (None if needs_model else model), llm_base_url, device, dtype)
    return {"model": model, "noise": noise, "device": device, "dtype": dtype, **server}, llm


def _print_header(name: str, instruction: str, seed: int, perception: str, reasoner: str) -> None:
    console.print(f"[bold]{name}[/] (seed {seed}, perception {perception}, reasoner {reasoner})")
    console.print(f"instruction: {instruction}", markup=False)


def _print_footer(summary: Summary, out: Path) -> None:
    console.print(f"run directory: {out}", markup=False)
    if summary.status == "needs_clarification":
        console.print(f"answer it with: groundsight run --resume {out} --answer 'the left one'", markup=False)


def check_record(record: tuple[str, Path] | None) -> None:
    """Exit 2 with one line for an unknown ``--record`` format, before any episode runs."""
    try:
        record_target(record)
    except ValueError as exc:
        raise bad_input(str(exc)) from None


def write_recordings_or_exit(
    run_dirs: list[Path], record: tuple[str, Path] | None, rerun_save: Path | None = None, quiet: bool = False
) -> None:
    """Write what ``--record`` and ``--rerun-save`` ask for from finished runs; exit 2 with one line if it fails."""
    try:
        for line in write_recordings(run_dirs, record, rerun_save):
            if not quiet:
                console.print(line, markup=False, soft_wrap=True)
    except ValueError as exc:
        raise bad_input(str(exc)) from None


ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        help="Scenario YAML file or packaged name, e.g. pick_place/red_block_in_blue_bowl (not with --resume)."
    ),
]
REASONER_HELP = "Reasoner: rules (grammar + knowledge graph + planner) or llm (a chat model, verified)."
AnswerOption = Annotated[
    list[str] | None,
    typer.Option(help="Answer to the agent's question (e.g. 'the left one'); repeat for several questions."),
]
LlmModelOption = Annotated[
    str | None,
    typer.Option(help="llm: local model folder / hub id, or the model name a --llm-base-url server serves."),
]
LlmBaseUrlOption = Annotated[
    str | None, typer.Option(help="llm: an OpenAI-compatible server, e.g. vLLM at http://localhost:8000/v1.")
]
ModelOption = Annotated[
    str | None, typer.Option(help="vlm / detector / llm: a local model folder or hub id (--llm-model if both).")
]
ResumeOption = Annotated[
    Path | None, typer.Option(help="Continue a run from its directory's checkpoint (after a crash or a question).")
]
ToolsOption = Annotated[
    list[str] | None, typer.Option(help="Extra tools for the llm reasoner, module:function (repeatable).")
]
RecordOption = Annotated[
    tuple[str, Path] | None, typer.Option(help="Also add the episode to a dataset: lerobot DIR (appends).")
]


def run(
    scenario: ScenarioArg = None,
    seed: Annotated[int, typer.Option(help="Seed for object placement jitter.")] = 0,
    perception: Annotated[str, typer.Option(help=PERCEPTION_HELP)] = "classical",
    reasoner: Annotated[str, typer.Option(help=REASONER_HELP)] = "rules",
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/<scenario>-seed<N>).")] = None,
    answer: AnswerOption = None,
    kg: KgFiles = None,
    twin: Twin = False,
    llm_model: LlmModelOption = None,
    llm_base_url: LlmBaseUrlOption = None,
    gui: Annotated[bool, typer.Option(help="Open the PyBullet GUI (needs a display).")] = False,
    video: Annotated[bool, typer.Option(help="Also write OUT/episode.mp4 from the front camera.")] = False,
    model: ModelOption = None,
    noise: Annotated[float, typer.Option(help="noisy:<inner>: rate of every injected hallucination.")] = 0.2,
    device: Device = "cpu",
    dtype: Dtype = None,
    vlm_base_url: VlmBaseUrl = None,
    vlm_model: VlmModel = None,
    verify: Verify = True,
    resume: ResumeOption = None,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never ask in the terminal; pause instead.")] = False,
    tools: ToolsOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result line.")] = False,
    record: RecordOption = None,
    rerun_save: Annotated[Path | None, typer.Option(help="Also log the run to a Rerun recording FILE.rrd.")] = None,
) -> None:
    """Run one episode and judge it on simulator truth.

    Writes OUT/summary.json, OUT/trace.jsonl (one JSON object per graph step), OUT/checkpoint.sqlite,
    OUT/run.json, OUT/robot.jsonl and OUT/frames/. When the agent asks which object you mean, an interactive
    terminal asks you; --answer answers ahead; otherwise the run pauses and `--resume OUT --answer TEXT` goes on.
    Exit code: 0 passed, 1 ran but did not pass, 2 bad input.
    """
    if resume is not None:
        if scenario is not None:
            raise bad_input("give either a scenario file or --resume RUN_DIR, not both")
        raise finish(resume_episode(resume, answer or [], no_input, quiet))
    if scenario is None:
        raise bad_input("name a scenario file (or --resume RUN_DIR)")
    perception_options, llm = _backend_options(  # the checks that need no file come first: they import nothing
        perception, reasoner, model, noise, device, dtype, vlm_base_url, vlm_model, llm_model, llm_base_url
    )
    check_record(record)
    spec = load_or_exit(scenario)
    from groundsight.agent.loop.runner import RunConfig, run_episode

    config = RunConfig(
        seed=seed,
        perception=perception,
        reasoner=reasoner,
        gui=gui,
        video=video,
        perception_options=perception_options,
        kg_files=check_kg(kg or []),
        twin=twin,
        reasoner_options=llm,
        verify=verify,
        tool_specs=check_tools(tools or []),
    )
    out = out or Path("runs") / f"{spec.name}-seed{seed}"
    if not quiet:
        _print_header(spec.name, spec.instruction, seed, perception, reasoner)
    ask = _terminal_asker(no_input)
    summary = run_episode(spec, config, out, on_step=step_printer(quiet), answers=answer or [], ask=ask)
    if not quiet:
        _print_footer(summary, out)
    write_recordings_or_exit([out], record, rerun_save, quiet)
    raise finish(summary)
