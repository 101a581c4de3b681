"""``groundsight eval``, ``solve`` and ``report``: many episodes in a worker pool, their tables and reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from groundsight.agent.cli.app import (
    PERCEIVER_NAMES,
    SCENARIO_ARGUMENT,
    bad_input,
    check_backends,
    check_kg,
    check_tools,
    console,
    err,
    llm_options,
    load_or_exit,
    vlm_server_options,
)
from groundsight.agent.cli.options import Device, Dtype, KgFiles, Twin, Verify, VlmBaseUrl, VlmModel
from groundsight.agent.cli.run import check_record, write_recordings_or_exit
from groundsight.agent.evaluation.pool import BACKENDS, run_jobs


def _episode(args: tuple[str, int, str, str, str, dict[str, Any]]) -> dict[str, Any]:
    """One eval job in a worker: run the episode, return its summary with the scenario file."""
    from groundsight.agent.loop.runner import RunConfig, run_episode
    from groundsight.agent.tasks.scenario import load_scenario

    path, seed, perception, reasoner, out, options = args
    scenario = load_scenario(path)
    summary = run_episode(
        scenario,
        RunConfig(seed=seed, perception=perception, reasoner=reasoner, **options),
        Path(out) / scenario.name / f"seed{seed}",
    )
    return {**summary.model_dump(), "file": path}


def _check_unique_names(files: list[Path]) -> None:
    """Load every file (a bad one exits 2) and refuse two that share a ``name``: each episode's folder is
    ``OUT/NAME/seedN``, so they would overwrite each other."""
    seen: dict[str, Path] = {}
    for f in files:
        name = load_or_exit(f).name
        if name in seen:
            raise bad_input(f"{f}: name: {name!r} is also the name of {seen[name]}; scenario names must be unique")
        seen[name] = f


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, sort_keys=True) + "\n" for r in rows)


def _results_table(results: list[dict[str, Any]]) -> Table:
    from groundsight.agent.evaluation.metrics import ROW_COLUMNS, scenario_rows

    table = Table(title="groundsight eval")
    for col in ROW_COLUMNS:
        table.add_column(col, justify="left" if col in ("scenario", "expect") else "right", overflow="fold")
    for row in scenario_rows(results):
        table.add_row(*row)
    return table


def evaluate(
    paths: Annotated[
        list[Path], typer.Argument(help=f"Scenario files or folders (searched recursively), {SCENARIO_ARGUMENT}.")
    ],
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 per scenario.")] = 5,
    workers: Annotated[int, typer.Option(help="Parallel worker processes.")] = 1,
    perception: Annotated[str, typer.Option(help=f"Perceiver name: {PERCEIVER_NAMES}.")] = "classical",
    reasoner: Annotated[str, typer.Option(help="Reasoner name.")] = "rules",
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/eval"),
    model: Annotated[
        str | None, typer.Option(help="vlm / detector: a local model folder or hub id (vlm: default shipped).")
    ] = None,
    device: Device = "cpu",
    dtype: Dtype = None,
    vlm_base_url: VlmBaseUrl = None,
    vlm_model: VlmModel = None,
    kg: KgFiles = None,
    twin: Twin = False,
    llm_model: Annotated[str | None, typer.Option(help="llm: local model folder / hub id, or the served name.")] = None,
    llm_base_url: Annotated[str | None, typer.Option(help="llm: an OpenAI-compatible server (vLLM).")] = None,
    noise: Annotated[float, typer.Option(help="noisy:<inner> perception: rate of every injected hallucination.")] = 0.2,
    verify: Verify = True,
    tools: Annotated[list[str] | None, typer.Option(help="Extra tools, module:function (repeatable).")] = None,
    backend: Annotated[str, typer.Option(help="Where episodes run: process (local pool) or ray.")] = "process",
    address: Annotated[str | None, typer.Option(help="ray: cluster address (default: a local Ray).")] = None,
    record: Annotated[
        tuple[str, Path] | None, typer.Option(help="Also write every episode to a dataset: lerobot DIR (appends).")
    ] = None,
) -> None:
    """Run every scenario under PATHS for N seeds; write OUT/results.jsonl, OUT/report.md and OUT/report.html.

    Example ablation: groundsight eval scenarios --seeds 10 --perception noisy:classical --noise 0.2 --no-verify
    """
    from groundsight.agent.tasks.scenario_paths import find_scenarios

    check_backends(perception, reasoner, model)  # the checks that need no file come first: they import nothing
    server = vlm_server_options(perception, vlm_base_url, vlm_model)
    if backend not in BACKENDS:
        raise bad_input(f"--backend: unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
    check_record(record)
    files = find_scenarios(paths)
    if not files:
        raise bad_input(f"no scenario files under {', '.join(map(str, paths))}")
    _check_unique_names(files)
    check_tools(tools or [])
    out.mkdir(parents=True, exist_ok=True)
    options = {
        "kg_files": check_kg(kg or []),
        "twin": twin,
        "reasoner_options": llm_options(reasoner, llm_model, llm_base_url, "cpu", None),
        "verify": verify,
        "perception_options": {"noise": noise, "model": model, "device": device, "dtype": dtype, **server},
        "tool_specs": tools or [],
    }
    jobs = [(str(f), s, perception, reasoner, str(out), options) for f in files for s in range(seeds)]
    results = run_jobs(_episode, jobs, workers, backend, address, console=err)  # type: ignore[arg-type]
    _write_jsonl(out / "results.jsonl", results)
    console.print(_results_table(results))
    from groundsight.agent.evaluation.report import render_reports

    md, html = render_reports(out)
    console.print(f"wrote {out / 'results.jsonl'}, {md} and {html}", markup=False)
    write_recordings_or_exit([out / r["scenario"] / f"seed{r['seed']}" for r in results], record)
    passed = sum(r["passed"] for r in results)
    print(f"eval: {passed}/{len(results)} episodes passed")


def _solve(args: tuple[str, int, str | None]) -> dict[str, Any]:
    """One solver job in a worker (writing a run directory when the episodes are recorded)."""
    from groundsight.agent.recording.episode import solve_to_run_dir
    from groundsight.agent.tasks.scenario import load_scenario
    from groundsight.agent.tasks.solver import solve_episode

    path, seed, run_dir = args
    result = solve_to_run_dir(path, seed, run_dir) if run_dir else solve_episode(load_scenario(path), seed)
    return {**result.model_dump(), "file": path, "family": Path(path).parent.name}


def _solver_table(results: list[dict[str, Any]]) -> Table:
    from groundsight.agent.evaluation.metrics import family_rows

    table = Table(title="scripted solver (upper bound)")
    for col in ("family", "scenarios", "passed", "rate", "median time (s)"):
        table.add_column(col, justify="left" if col == "family" else "right")
    for family, passed, total, n, median_time in family_rows(results):
        table.add_row(family, str(n), f"{passed}/{total}", f"{passed / total:.0%}", f"{median_time:.2f}")
    return table


def solve(
    paths: Annotated[
        list[Path], typer.Argument(help=f"Scenario files or folders (searched recursively), {SCENARIO_ARGUMENT}.")
    ],
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 per scenario.")] = 20,
    workers: Annotated[int, typer.Option(help="Parallel worker processes.")] = 1,
    out: Annotated[Path, typer.Option(help="Output directory for solver.jsonl.")] = Path("runs/solve"),
    record: Annotated[
        tuple[str, Path] | None,
        typer.Option(help="Also write every episode (a demonstration) to a dataset: lerobot DIR (appends)."),
    ] = None,
) -> None:
    """Run the scripted solver on every success scenario: simulator truth and the goal, no perception
    and no reasoning. It proves each scenario solvable and is the upper bound for agents."""
    from groundsight.agent.tasks.scenario_paths import find_scenarios

    files = [f for f in find_scenarios(paths) if load_or_exit(f).expect == "success"]
    if not files:
        raise bad_input(f"no success scenarios under {', '.join(map(str, paths))}")
    check_record(record)
    out.mkdir(parents=True, exist_ok=True)
    runs = {
        (str(f), s): str(out / "episodes" / f.parent.name / f.stem / f"seed{s}") for f in files for s in range(seeds)
    }
    jobs = [(f, s, runs[f, s] if record else None) for f, s in runs]
    results = run_jobs(_solve, jobs, workers, console=err)
    _write_jsonl(out / "solver.jsonl", results)
    console.print(_solver_table(results))
    write_recordings_or_exit([Path(runs[r["file"], r["seed"]]) for r in results], record)
    print(f"solve: {sum(r['passed'] for r in results)}/{len(results)} episodes passed")


def report(out: Annotated[Path, typer.Argument(help="An eval output folder (with results.jsonl).")]) -> None:
    """Re-render OUT/report.md and OUT/report.html from OUT/results.jsonl and the episode folders."""
    from groundsight.agent.evaluation.report import ReportError, render_reports

    try:
        md, html = render_reports(out)
    except ReportError as exc:
        raise bad_input(str(exc)) from None
    print(f"wrote {md} and {html}")
