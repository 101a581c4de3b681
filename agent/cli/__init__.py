"""The ``groundsight`` command line."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from groundsight.agent.evaluation.metrics import ROW_COLUMNS, family_rows, scenario_rows
from groundsight.agent.evaluation.pool import BACKENDS, run_jobs
from groundsight.agent.evaluation.report import ReportError, render_reports
from groundsight.agent.loop.runner import REASONERS, Summary, resume_run, run_episode
from groundsight.agent.loop.tools import (
    ToolError,
    default_registry,
    describe_tools,
    parse_call_args,
    result_text,
    scene_context,
)
from groundsight.agent.tasks.scenario import Scenario, ScenarioError, find_scenarios, load_scenario
from groundsight.agent.tasks.solver import solve_episode
from groundsight.knowledge import GS, KnowledgeBase, KnowledgeError
from groundsight.perception.perceivers import MORE_PERCEIVERS, PERCEIVERS, is_perceiver_name

app = typer.Typer(
    help="groundsight: embodied agents that reason before they act.\n\n"
    "Run a scenario: groundsight run scenarios/pick_place/red_block_in_blue_bowl.yaml\n\n"
    "Evaluate a suite: groundsight eval scenarios/ --seeds 20 --workers 2",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
scenarios_app = typer.Typer(help="Work with scenario files.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

STATUS_WORDS = {
    "succeeded": "success",
    "failed": "failed",
    "refused": "refused",
    "needs_clarification": "ask",
}


def _bad_input(message: str) -> typer.Exit:
    err.print(f"error: {message}", markup=False, soft_wrap=True)
    return typer.Exit(2)


def _check_backends(perception: str, reasoner: str, model: str | None = None) -> None:
    if not is_perceiver_name(perception):
        known = ", ".join((*PERCEIVERS, *MORE_PERCEIVERS))
        raise _bad_input(f"--perception: unknown perceiver {perception!r} (known: {known})")
    if perception.split(":")[-1] == "detector" and not model:  # vlm without --model: the shipped checkpoint
        raise _bad_input(f"--model: the {perception} perceiver needs a model folder or hub id")
    if reasoner not in REASONERS:
        raise _bad_input(f"--reasoner: unknown reasoner {reasoner!r} (known: {', '.join(REASONERS)})")


def _ask_in_terminal(question: str) -> str | None:
    """Ask the person at the terminal; an empty answer leaves the question open."""
    console.print(f"[bold yellow]?[/] {question}", highlight=False)
    answer = console.input("[bold]your answer[/] (empty to stop): ").strip()
    return answer or None


def _llm_options(
    reasoner: str, model: str | None, base_url: str | None, device: str, dtype: str | None
) -> dict[str, Any] | None:
    """Options for the llm reasoner; one-line errors when it has no model to talk to."""
    if reasoner != "llm":
        return None
    if base_url:
        if not model:
            raise _bad_input("--llm-model: name the model the --llm-base-url server serves")
        return {"base_url": base_url, "llm_model": model}
    if not model:
        raise _bad_input("--model: the llm reasoner needs a local model folder or hub id, or --llm-base-url URL")
    return {"model": model, "device": device, "dtype": dtype or "auto"}


def _check_kg(files: list[Path]) -> list[str]:
    """Load the knowledge graph once with the user's files, so a broken file is a one-line error up front."""
    try:
        KnowledgeBase(files)
    except KnowledgeError as exc:
        raise _bad_input(f"--kg: {exc}") from None
    return [str(f) for f in files]


def _check_tools(specs: list[str]) -> None:
    """Load the tool registry once up front, so that a bad --tools spec is a one-line error."""
    try:
        registry = default_registry(specs)
    except ToolError as exc:
        raise _bad_input(f"--tools: {exc}") from None
    for problem in registry.load_errors:
        err.print(f"warning: {problem}", markup=False, soft_wrap=True)


def _load(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise _bad_input(str(exc)) from None


def result_line(summary: Summary) -> str:
    """The last line ``run`` prints: ``result: <status> ...``."""
    verdict = "passed" if summary.passed else "NOT passed"
    text = f"result: {STATUS_WORDS.get(summary.status, summary.status)} ({verdict}, expected {summary.expected};"
    text += f" {summary.steps} steps, {summary.wall_time_s:.1f} s)"
    detail = summary.question or summary.reason
    return text + (f" -- {detail}" if detail else "")


def _describe(node: str, update: dict[str, Any]) -> str:
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


@app.command()
def run(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario YAML file (not with --resume).")] = None,
    seed: Annotated[int, typer.Option(help="Seed for object placement jitter.")] = 0,
    perception: Annotated[
        str, typer.Option(help="Perceiver: classical (OpenCV on RGB-D) or oracle (truth).")
    ] = "classical",
    reasoner: Annotated[
        str, typer.Option(help="Reasoner: rules (grammar + knowledge graph + planner) or llm (a chat model, verified).")
    ] = "rules",
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/<scenario>-seed<N>).")] = None,
    answer: Annotated[
        list[str] | None,
        typer.Option(help="Answer to the agent's question (e.g. 'the left one'); repeat for several questions."),
    ] = None,
    kg: Annotated[
        list[Path] | None, typer.Option(help="Extra Turtle file merged into the knowledge graph (repeatable).")
    ] = None,
    twin: Annotated[bool, typer.Option(help="Roll every plan out on a copy of the world before acting.")] = False,
    llm_model: Annotated[
        str | None,
        typer.Option(help="llm: local model folder / hub id, or the model name a --llm-base-url server serves."),
    ] = None,
    llm_base_url: Annotated[
        str | None, typer.Option(help="llm: an OpenAI-compatible server, e.g. vLLM at http://localhost:8000/v1.")
    ] = None,
    gui: Annotated[bool, typer.Option(help="Open the PyBullet GUI (needs a display).")] = False,
    video: Annotated[bool, typer.Option(help="Also write OUT/episode.mp4 from the front camera.")] = False,
    model: Annotated[
        str | None, typer.Option(help="vlm / detector / llm: a local model folder or hub id (--llm-model if both).")
    ] = None,
    noise: Annotated[float, typer.Option(help="noisy:<inner>: rate of every injected hallucination.")] = 0.2,
    device: Annotated[str, typer.Option(help="vlm: cpu or cuda.")] = "cpu",
    dtype: Annotated[str | None, typer.Option(help="vlm: float32 or bfloat16 (default bf16 on cuda).")] = None,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="--no-verify: act whatever the checks say (ablation).")
    ] = True,
    resume: Annotated[
        Path | None, typer.Option(help="Continue a run from its directory's checkpoint (after a crash or a question).")
    ] = None,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never ask in the terminal; pause instead.")] = False,
    tools: Annotated[
        list[str] | None, typer.Option(help="Extra tools for the llm reasoner, module:function (repeatable).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result line.")] = False,
) -> None:
    """Run one episode and judge it on simulator truth.

    Writes OUT/summary.json, OUT/trace.jsonl (one JSON object per graph step), OUT/checkpoint.sqlite,
    OUT/run.json, OUT/robot.jsonl and OUT/frames/. When the agent asks which object you mean, an interactive
    terminal asks you; --answer answers ahead; otherwise the run pauses and `--resume OUT --answer TEXT` goes on.
    Exit code: 0 passed, 1 ran but did not pass, 2 bad input.
    """
    ask = None if no_input or not sys.stdin.isatty() else _ask_in_terminal

    def show(i: int, node: str, update: dict[str, Any]) -> None:
        if not quiet:
            console.print(f"  [dim]{i:>3}[/] [cyan]{node:<20}[/] ", end="")
            console.print(_describe(node, update), markup=False)

    if resume is not None:
        if scenario is not None:
            raise _bad_input("give either a scenario file or --resume RUN_DIR, not both")
        if not (resume / "run.json").exists() or not (resume / "checkpoint.sqlite").exists():
            raise _bad_input(f"--resume: {resume} holds no run (run.json and checkpoint.sqlite are missing)")
        if not quiet:
            console.print(f"resuming {resume}", markup=False)
        try:
            summary = resume_run(resume, answers=answer or [], ask=ask, on_step=show)
        except (ValueError, ScenarioError) as exc:
            raise _bad_input(f"--resume: {str(exc).splitlines()[0]}") from None
        print(result_line(summary))
        raise typer.Exit(0 if summary.passed else 1)
    if scenario is None:
        raise _bad_input("name a scenario file (or --resume RUN_DIR)")
    spec = _load(scenario)
    _check_backends(perception, reasoner, model)
    out = out or Path("runs") / f"{spec.name}-seed{seed}"
    if not quiet:
        console.print(f"[bold]{spec.name}[/] (seed {seed}, perception {perception}, reasoner {reasoner})")
        console.print(f"instruction: {spec.instruction}", markup=False)

    options = {"model": model, "noise": noise, "device": device, "dtype": dtype}
    needs_model = perception.split(":")[-1] in ("vlm", "detector")
    llm = _llm_options(reasoner, llm_model or (None if needs_model else model), llm_base_url, device, dtype)
    kg_files = _check_kg(kg or [])
    _check_tools(tools or [])
    summary = run_episode(
        spec,
        seed,
        perception,
        reasoner,
        out,
        gui=gui,
        video=video,
        perception_options=options,
        on_step=show,
        answers=answer or [],
        kg_files=kg_files,
        twin=twin,
        reasoner_options=llm,
        verify=verify,
        ask=ask,
        tool_specs=tools or [],
    )
    if not quiet:
        console.print(f"run directory: {out}", markup=False)
        if summary.status == "needs_clarification":
            console.print(f"answer it with: groundsight run --resume {out} --answer 'the left one'", markup=False)
    print(result_line(summary))
    raise typer.Exit(0 if summary.passed else 1)


def _episode(args: tuple[str, int, str, str, str, dict[str, Any]]) -> dict[str, Any]:
    path, seed, perception, reasoner, out, options = args
    scenario = load_scenario(path)
    summary = run_episode(scenario, seed, perception, reasoner, Path(out) / scenario.name / f"seed{seed}", **options)
    return {**summary.model_dump(), "file": path}


@app.command("eval")
def evaluate(
    paths: Annotated[list[Path], typer.Argument(help="Scenario files or folders (searched recursively).")],
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 per scenario.")] = 5,
    workers: Annotated[int, typer.Option(help="Parallel worker processes.")] = 1,
    perception: Annotated[str, typer.Option(help="Perceiver name.")] = "classical",
    reasoner: Annotated[str, typer.Option(help="Reasoner name.")] = "rules",
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/eval"),
    model: Annotated[
        str | None, typer.Option(help="vlm / detector: a local model folder or hub id (vlm: default shipped).")
    ] = None,
    device: Annotated[str, typer.Option(help="vlm: cpu or cuda.")] = "cpu",
    dtype: Annotated[str | None, typer.Option(help="vlm: float32 or bfloat16 (default bf16 on cuda).")] = None,
    kg: Annotated[
        list[Path] | None, typer.Option(help="Extra Turtle file merged into the knowledge graph (repeatable).")
    ] = None,
    twin: Annotated[bool, typer.Option(help="Roll every plan out on a copy of the world before acting.")] = False,
    llm_model: Annotated[str | None, typer.Option(help="llm: local model folder / hub id, or the served name.")] = None,
    llm_base_url: Annotated[str | None, typer.Option(help="llm: an OpenAI-compatible server (vLLM).")] = None,
    noise: Annotated[float, typer.Option(help="noisy:<inner> perception: rate of every injected hallucination.")] = 0.2,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="--no-verify: act whatever the checks say (ablation).")
    ] = True,
    tools: Annotated[list[str] | None, typer.Option(help="Extra tools, module:function (repeatable).")] = None,
    backend: Annotated[str, typer.Option(help="Where episodes run: process (local pool) or ray.")] = "process",
    address: Annotated[str | None, typer.Option(help="ray: cluster address (default: a local Ray).")] = None,
) -> None:
    """Run every scenario under PATHS for N seeds; write OUT/results.jsonl, OUT/report.md and OUT/report.html.

    Example ablation: groundsight eval scenarios --seeds 10 --perception noisy:classical --noise 0.2 --no-verify
    """
    files = find_scenarios(paths)
    if not files:
        raise _bad_input(f"no scenario files under {', '.join(map(str, paths))}")
    for f in files:
        _load(f)
    _check_backends(perception, reasoner, model)
    if backend not in BACKENDS:
        raise _bad_input(f"--backend: unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
    _check_tools(tools or [])
    out.mkdir(parents=True, exist_ok=True)
    llm = _llm_options(reasoner, llm_model, llm_base_url, "cpu", None)
    options = {
        "kg_files": _check_kg(kg or []),
        "twin": twin,
        "reasoner_options": llm,
        "verify": verify,
        "perception_options": {"noise": noise, "model": model, "device": device, "dtype": dtype},
        "tool_specs": tools or [],
    }
    jobs = [(str(f), s, perception, reasoner, str(out), options) for f in files for s in range(seeds)]
    results = run_jobs(_episode, jobs, workers, backend, address, console=err)  # type: ignore[arg-type]
    with open(out / "results.jsonl", "w", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps(r, sort_keys=True) + "\n")
    console.print(_results_table(results))
    md, html = render_reports(out)
    console.print(f"wrote {out / 'results.jsonl'}, {md} and {html}", markup=False)
    passed = sum(r["passed"] for r in results)
    print(f"eval: {passed}/{len(results)} episodes passed")


def _solve(args: tuple[str, int]) -> dict[str, Any]:
    path, seed = args
    result = solve_episode(load_scenario(path), seed)
    return {**result.model_dump(), "file": path, "family": Path(path).parent.name}


@app.command()
def solve(
    paths: Annotated[list[Path], typer.Argument(help="Scenario files or folders (searched recursively).")],
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 per scenario.")] = 20,
    workers: Annotated[int, typer.Option(help="Parallel worker processes.")] = 1,
    out: Annotated[Path, typer.Option(help="Output directory for solver.jsonl.")] = Path("runs/solve"),
) -> None:
    """Run the scripted solver on every success scenario: simulator truth and the goal, no perception
    and no reasoning. It proves each scenario solvable and is the upper bound for agents."""
    files = [f for f in find_scenarios(paths) if _load(f).expect == "success"]
    if not files:
        raise _bad_input(f"no success scenarios under {', '.join(map(str, paths))}")
    out.mkdir(parents=True, exist_ok=True)
    results = run_jobs(_solve, [(str(f), s) for f in files for s in range(seeds)], workers, console=err)
    with open(out / "solver.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, sort_keys=True) + "\n" for r in results)
    table = Table(title="scripted solver (upper bound)")
    for col in ("family", "scenarios", "passed", "rate", "median time (s)"):
        table.add_column(col, justify="left" if col == "family" else "right")
    for family, passed, total, n, median_time in family_rows(results):
        table.add_row(family, str(n), f"{passed}/{total}", f"{passed / total:.0%}", f"{median_time:.2f}")
    console.print(table)
    print(f"solve: {sum(r['passed'] for r in results)}/{len(results)} episodes passed")


def _results_table(results: list[dict[str, Any]]) -> Table:
    table = Table(title="groundsight eval")
    for col in ROW_COLUMNS:
        table.add_column(col, justify="left" if col in ("scenario", "expect") else "right", overflow="fold")
    for row in scenario_rows(results):
        table.add_row(*row)
    return table


@app.command()
def camera(
    source: Annotated[
        str, typer.Option("--source", help="Device index (0), video file, rtsp/http URL, or image folder.")
    ],
    calibration: Annotated[Path | None, typer.Option(help="Calibration YAML (intrinsics, distortion, pose).")] = None,
    perception: Annotated[str, typer.Option(help="Perceiver that needs no simulator: classical.")] = "classical",
    instruction: Annotated[str | None, typer.Option(help="Ground this instruction; report the plan only.")] = None,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/camera"),
    max_frames: Annotated[
        int | None, typer.Option(help="Stop after N frames (default: until the source ends).")
    ] = None,
    fuse: Annotated[
        bool, typer.Option("--fuse", help="Fuse percepts over frames (tracker); report fused objects.")
    ] = False,
) -> None:
    """Perceive a real camera feed; write OUT/scene_graph.jsonl, OUT/annotated.mp4 and OUT/summary.json.

    With --instruction, prints the plan the agent would execute (nothing moves).
    Exit code: 0 ran (a camera that stops mid-stream is reported, not an error), 2 bad input.
    """
    import os

    import cv2

    if not logging.getLogger().isEnabledFor(logging.INFO):  # OpenCV and FFmpeg chatter stays off unless -v
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    from groundsight.agent.loop.live_camera import camera_perceiver, run_camera
    from groundsight.perception.calibration import CalibrationError, load_calibration
    from groundsight.perception.frame import CameraError
    from groundsight.perception.sources import open_source

    try:
        perceiver = camera_perceiver(perception)
    except ValueError as exc:
        raise _bad_input(f"--perception: {exc}") from None
    if max_frames is not None and max_frames < 1:
        raise _bad_input(f"--max-frames: must be at least 1, got {max_frames}")
    try:
        calib = load_calibration(calibration) if calibration is not None else None
    except CalibrationError as exc:
        raise _bad_input(str(exc)) from None
    try:
        src = open_source(source, calib)
    except CameraError as exc:
        raise _bad_input(f"--source: {exc}") from None
    console.print(f"[bold]camera[/] {source} (perception {perception})", markup=True, highlight=False)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, TextColumn("{task.fields[fps]:.1f} fps"), console=err) as progress:
        total = max_frames if max_frames is not None else getattr(src, "frame_count", None) or _length(src)
        task = progress.add_task("frames", total=total, fps=0.0)

        def show(i: int, frame: Any, percept: Any, fps: float) -> None:
            progress.update(task, advance=1, fps=fps)

        try:
            summary = run_camera(
                src, calib, perception, instruction, out, max_frames, on_frame=show, perceiver=perceiver, fuse=fuse
            )
        finally:
            close = getattr(src, "close", None)
            if close is not None:
                close()
    console.print(
        f"frames: {summary.frames} ({summary.perceived_frames} perceived), {summary.fps:.1f} fps; {summary.reason}",
        markup=False,
    )
    if summary.objects_last:
        console.print("last frame: " + ", ".join(summary.objects_last), markup=False)
    console.print(f"wrote {out / 'scene_graph.jsonl'} and {out / 'annotated.mp4'}", markup=False)
    if summary.plan_line:
        print(summary.plan_line)


def _length(src: Any) -> int | None:
    try:
        return len(src)
    except TypeError:
        return None


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


kg_app = typer.Typer(help="Query and check the knowledge graph (ontology + your Turtle files).", no_args_is_help=True)
app.add_typer(kg_app, name="kg")


def _kb(files: list[Path] | None) -> KnowledgeBase:
    try:
        return KnowledgeBase(files or [])
    except KnowledgeError as exc:
        raise _bad_input(f"--kg: {exc}") from None


@kg_app.command("query")
def kg_query(
    query: Annotated[
        str, typer.Argument(help="A SPARQL SELECT query; prefixes gs:, rdf:, rdfs:, owl:, skos: are bound.")
    ],
    kg: Annotated[list[Path] | None, typer.Option(help="Extra Turtle file (repeatable).")] = None,
) -> None:
    """Run a SPARQL SELECT over the inferred knowledge graph and print the rows.

    Example: groundsight kg query 'SELECT ?t WHERE { ?t rdfs:subClassOf gs:Kitchenware }'
    """
    try:
        rows = _kb(kg).sparql(query)
    except KnowledgeError as exc:
        raise _bad_input(str(exc)) from None
    if not rows:
        print("no rows")
        return
    if "order by" not in query.lower():  # rdflib's row order is not stable between runs
        rows = sorted(rows, key=lambda r: tuple(r.values()))
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*(str(v).replace(str(GS), "gs:") for v in row.values()))
    console.print(table)


@kg_app.command("types")
def kg_types(kg: Annotated[list[Path] | None, typer.Option(help="Extra Turtle file (repeatable).")] = None) -> None:
    """List every object type with its categories and physical properties (after inference)."""
    kb = _kb(kg)
    table = Table("type", "words", "categories", "properties")
    words = kb.type_words()
    for t in kb.object_types():
        props = ", ".join(f"{k}={v}" for k, v in sorted(kb.properties(t).items()))
        table.add_row(t, ", ".join(sorted(w for w, c in words.items() if c == t)), ", ".join(kb.categories(t)), props)
    console.print(table)


@app.command()
def report(out: Annotated[Path, typer.Argument(help="An eval output folder (with results.jsonl).")]) -> None:
    """Re-render OUT/report.md and OUT/report.html from OUT/results.jsonl and the episode folders."""
    try:
        md, html = render_reports(out)
    except ReportError as exc:
        raise _bad_input(str(exc)) from None
    print(f"wrote {md} and {html}")


@app.command()
def datagen(
    out: Annotated[Path, typer.Option(help="Output folder (imagefolder + LLaVA conversations).")],
    scenes: Annotated[int, typer.Option(help="Random scenes to render.")] = 200,
    cameras: Annotated[str, typer.Option(help="Comma-separated cameras: top, front, wrist.")] = "top",
    seed: Annotated[int, typer.Option(help="Base seed (scene i uses seed + i).")] = 0,
    test_fraction: Annotated[float, typer.Option(help="Share of scenes held out as the test split.")] = 0.1,
    contained: Annotated[float, typer.Option(help="Share of scenes with an object put in or on another.")] = 0.3,
    jitter: Annotated[bool, typer.Option("--jitter/--no-jitter", help="Lighting and camera pose jitter.")] = True,
    workers: Annotated[int, typer.Option(help="Worker processes (the output is the same for any number).")] = 1,
) -> None:
    """Generate VLM training data from simulator truth: images, boxes, captions, question-answer pairs."""
    from groundsight.agent.training.datagen import DatagenConfig, generate

    try:
        config = DatagenConfig(
            scenes=scenes,
            out=out,
            cameras=tuple(c.strip() for c in cameras.split(",") if c.strip()),
            seed=seed,
            test_fraction=test_fraction,
            contained=contained,
            jitter=jitter,
            workers=workers,
        )
    except ValueError as exc:  # DatagenConfig's own one-line message names the field
        raise _bad_input(str(exc).splitlines()[0]) from None
    columns = (TextColumn("scenes"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("scenes", total=scenes)
        try:
            summary = generate(config, progress=lambda done, total: progress.update(task, completed=done))
        except ValueError as exc:
            raise _bad_input(str(exc)) from None
    print(
        f"datagen: {summary.images} images, {summary.objects} objects, {summary.questions} questions "
        f"from {summary.scenes} scenes in {summary.seconds:.1f} s -> {summary.out}"
    )


@app.command("train-vlm")
def train_vlm(
    data: Annotated[Path, typer.Option(help="A `groundsight datagen` output folder.")],
    out: Annotated[Path, typer.Option(help="Where the trained model goes (transformers format).")],
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 3000,
    batch_size: Annotated[int, typer.Option(help="Examples per step.")] = 16,
    lr: Annotated[float, typer.Option(help="Peak learning rate (warm-up, then cosine decay).")] = 1e-3,
    seed: Annotated[int, typer.Option(help="Seed of the initial weights and the batch order.")] = 0,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 2,
    checkpoint_dir: Annotated[Path | None, typer.Option(help="Checkpoints (default OUT/checkpoint).")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="Continue from the checkpoint.")] = True,
    init_from: Annotated[
        Path | None, typer.Option(help="Start from this saved model's weights (fine-tune), not random ones.")
    ] = None,
) -> None:
    """Train groundsight's compact VLM (a transformers LlavaForConditionalGeneration) on datagen output.

    The result loads with `--perception vlm --model OUT`, like any hub checkpoint. Running it again resumes.
    """
    from groundsight.agent.training.vlm_trainer import RichProgress, TrainConfig, train

    try:
        config = TrainConfig(
            data=data,
            out=out,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            device=device,
            threads=threads,
            resume=resume,
            checkpoint_dir=checkpoint_dir,
            init_from=init_from,
        )
        with RichProgress() as bar:
            summary = train(config, progress=bar)
    except ValueError as exc:
        raise _bad_input(str(exc).splitlines()[0]) from None
    loss = f"train loss {summary.train_loss:.3f}" + (
        f", held-out {summary.eval_loss:.3f}" if summary.eval_loss is not None else ""
    )
    print(
        f"train-vlm: {summary.steps - summary.start_step} steps ({summary.start_step}->{summary.steps}) on "
        f"{summary.train_images} images, {summary.params:,} parameters, {loss}, {summary.seconds:.0f} s on "
        f"{summary.device} -> {summary.out}"
    )


tools_app = typer.Typer(help="The typed tools: built-ins, plugins (groundsight.tools) and --tools specs.")
app.add_typer(tools_app, name="tools")


@tools_app.command("list")
def tools_list(tools: Annotated[list[str] | None, typer.Option(help="Extra tools, module:function.")] = None) -> None:
    """List every tool with its kind, arguments and description."""
    try:
        registry = default_registry(tools or [])
    except ToolError as exc:
        raise _bad_input(f"--tools: {exc}") from None
    table = Table("name", "kind", "args", "description", "source")
    for row in describe_tools(registry):
        table.add_row(row["name"], row["kind"], row["args"], row["description"], row["source"])
    console.print(table)
    for problem in registry.load_errors:
        err.print(f"warning: {problem}", markup=False, soft_wrap=True)


@tools_app.command("call")
def tools_call(
    scenario: Annotated[Path, typer.Argument(help="Scenario whose scene the tool looks at.")],
    name: Annotated[str, typer.Argument(help="Tool name (see `groundsight tools list`).")],
    args: Annotated[list[str] | None, typer.Argument(help="Arguments as key=value.")] = None,
    seed: Annotated[int, typer.Option(help="Scene seed.")] = 0,
    perception: Annotated[str, typer.Option(help="Perceiver for the look.")] = "oracle",
    kg: Annotated[list[Path] | None, typer.Option(help="Extra Turtle file (repeatable).")] = None,
    tools: Annotated[list[str] | None, typer.Option(help="Extra tools, module:function.")] = None,
) -> None:
    """Call one tool on one look at a scenario's scene and print its result.

    Example: groundsight tools call scenarios/pick_place/red_block_in_blue_bowl.yaml distance a=red_block b=blue_bowl
    """
    spec = _load(scenario)
    _check_backends(perception, "rules")
    try:
        registry = default_registry(tools or [])
        ctx = scene_context(spec, seed, perception, _check_kg(kg or []))
        print(result_text(registry.call(name, ctx, **parse_call_args(args or []))))
    except ToolError as exc:
        raise _bad_input(str(exc)) from None


@app.callback()
def _configure(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what the libraries do (to stderr).")] = False,
) -> None:
    """Library logs stay quiet unless asked for: every outcome is in the trace and the summary."""
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Console-script entry point."""
    app()
