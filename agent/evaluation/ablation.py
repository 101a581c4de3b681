"""The hallucination ablation: noisy perception at several rates, with and without verification.

:func:`run_ablation` runs every scenario under the given paths for each seed, each ``noise`` rate of
``noisy:<perception>`` and each verify setting, through the same pool as ``groundsight eval``
(:func:`groundsight.agent.evaluation.pool.run_jobs`). Each episode's trace is accounted for in its worker
(:func:`groundsight.agent.evaluation.metrics.hallucination_accounting`). It writes, under ``out``:

- ``<condition>/results.jsonl`` and the episode folders, one condition per ``noise<rate>-verify|noverify``;
- ``ablation.jsonl``: one row per condition (what :func:`groundsight.agent.evaluation.report.load_ablation` reads);
- ``results.jsonl``, ``report.md`` and ``report.html`` for the noisiest verified condition, with the
  ablation table and plot.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groundsight.agent.evaluation.metrics import ablation_row, hallucination_accounting, wilson_interval
from groundsight.agent.evaluation.pool import run_jobs
from groundsight.agent.loop.runner import RunConfig, run_episode
from groundsight.agent.tasks.scenario import find_scenarios, load_scenario

log = logging.getLogger(__name__)

TABLE_COLUMNS = (
    "noise",
    "verify",
    "passed",
    "rate (95% interval)",
    "injected",
    "caught/all",
    "relevant",
    "caught/relevant",
    "false rejections/claims",
    "failed and moved",
)


def condition_name(noise: float, verify: bool, audit: bool = False) -> str:
    """The folder of one condition, e.g. ``noise0.2-verify`` (``audit-verify`` when auditing)."""
    return f"{'audit' if audit else f'noise{noise:g}'}-{'verify' if verify else 'noverify'}"


def ablation_episode(args: tuple[str, int, str, float, bool, str]) -> dict[str, Any]:
    """One episode of the grid (a picklable job): its summary, ``file``, ``family``, ``noise`` and accounting.

    A ``noisy:`` perception records what it injected; any other is audited against simulator truth."""
    path, seed, perception, noise, verify, out = args
    scenario = load_scenario(path)
    audit = not perception.startswith("noisy:")
    run_dir = Path(out) / condition_name(noise, verify, audit) / scenario.name / f"seed{seed}"
    options = {} if audit else {"noise": noise}
    summary = run_episode(
        scenario,
        RunConfig(seed=seed, perception=perception, perception_options=options, verify=verify, audit=audit),
        run_dir,
    )
    result = {**summary.model_dump(mode="json"), "file": path, "family": Path(path).parent.name, "noise": noise}
    trace = run_dir / "trace.jsonl"
    records = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines() if line.strip()]
    result.update(hallucination_accounting(result, records))
    return result


def run_ablation(
    paths: Sequence[str | Path],
    seeds: int | Sequence[int] = 5,
    noise_rates: Sequence[float] = (0.0, 0.1, 0.2),
    verify: Sequence[bool] = (True, False),
    perception: str = "classical",
    workers: int = 2,
    out: str | Path = "runs/ablation",
    report: bool = True,
    audit: bool = False,
) -> list[dict[str, Any]]:
    """Run the grid and return the ``ablation.jsonl`` rows (also written to ``out``; see the module).

    ``seeds``: a count (seeds 0..N-1) or the seeds themselves. ``perception`` is the inner perceiver of
    ``noisy:<perception>`` (noise 0 injects nothing: the inner percepts unchanged). With ``audit=True``
    nothing is injected: ``perception`` itself runs (noise is ignored) and its own mistakes against
    simulator truth are accounted for in the same way (:mod:`groundsight.perception.perceivers.audit`).
    """
    files = find_scenarios([Path(p) for p in paths])
    if not files:
        raise ValueError(f"no scenario files under {', '.join(map(str, paths))}")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if audit:
        name, noise_rates = perception.removeprefix("noisy:"), (0.0,)
    else:
        name = perception if perception.startswith("noisy:") else f"noisy:{perception}"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (str(f), s, name, float(n), bool(v), str(out))
        for n in noise_rates
        for v in verify
        for f in files
        for s in seed_list
    ]
    results = run_jobs(ablation_episode, jobs, workers, label="ablation episodes")
    rows = []
    for n in noise_rates:
        for v in verify:
            rs = sorted(
                (r for r in results if r["noise"] == float(n) and r["verify"] == bool(v)),
                key=lambda r: (r["file"], r["seed"]),
            )
            folder = out / condition_name(float(n), bool(v), audit)
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "results.jsonl", "w", encoding="utf-8") as fh:
                fh.writelines(json.dumps(r, sort_keys=True) + "\n" for r in rs)
            rows.append(ablation_row(rs, name, float(n), bool(v)))
    with open(out / "ablation.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    if report:
        _report(out, condition_name(max(noise_rates), True, audit))
    print(ablation_markdown(rows))
    return rows


def _report(out: Path, verified: str) -> None:
    """``out/report.md`` and ``report.html``: the episodes of condition ``verified`` (the noisiest verified
    one) and the ablation."""
    from groundsight.agent.evaluation.report import render_reports

    source = out / verified / "results.jsonl"
    if not source.is_file():
        return
    lines = source.read_text(encoding="utf-8").splitlines()
    # the report finds each episode's folder at OUT/<scenario>/seed<N>: point it there through the condition
    (out / "results.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    for line in lines:
        r = json.loads(line)
        link = out / r["scenario"]
        if not link.exists():
            link.symlink_to(Path(verified) / r["scenario"], target_is_directory=True)
    render_reports(out)


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}%" if n else "–"


def ablation_markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table (the columns of :data:`TABLE_COLUMNS`)."""
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + " ---: |" * len(TABLE_COLUMNS)]
    for r in rows:
        k, n = r["passed"], r["total"]
        lo, hi = wilson_interval(k, n)
        cells = (
            f"{r['noise']:g}",
            "on" if r["verify"] else "off",
            f"{k}/{n}",
            f"{_pct(k, n)} ({100 * lo:.0f}–{100 * hi:.0f}%)",
            str(r["injected"]),
            f"{r['caught']}/{r['injected']} ({_pct(r['caught'], r['injected'])})",
            str(r["relevant"]),
            f"{r['caught_relevant']}/{r['relevant']} ({_pct(r['caught_relevant'], r['relevant'])})",
            f"{r['false_rejections']}/{r['claims']} ({_pct(r['false_rejections'], r['claims'])})",
            str(r["moved_and_failed"]),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
