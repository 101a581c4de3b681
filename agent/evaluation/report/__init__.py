"""Evaluation reports: ``report.md`` and a self-contained ``report.html`` for an eval output folder.

The folder is what ``groundsight eval`` writes: ``results.jsonl`` (one :class:`agent.loop.runner.Summary` per line,
plus ``file``), one run folder per episode (``<scenario>/seed<N>/`` with ``summary.json``, ``trace.jsonl`` and
``frames/*.jpg``) and, from the ablation runner, an optional ``ablation.jsonl``. Both reports hold the same
tables; the HTML adds plots (matplotlib, Agg), and per episode its frames, chain of thought and check
verdicts. Nothing in them depends on the clock: the same folder gives the same bytes.

- :mod:`.episodes`: reading the folder (results, run folders, traces, ablation rows)
- :mod:`.tables`: every table, computed once for both formats
- :mod:`.markdown`: ``report.md``
- :mod:`.plots`: the PNG plots (matplotlib imported only when drawing)
- :mod:`.html_page`: ``report.html``, filled into ``templates/report.html`` and ``templates/report.css``
"""

from __future__ import annotations

import logging
from pathlib import Path

from groundsight.agent.evaluation.metrics import wilson_interval
from groundsight.agent.evaluation.report.episodes import (
    Episode,
    ReportError,
    frame_files,
    load_ablation,
    load_episode,
    load_results,
    thought_steps,
    verdicts,
)
from groundsight.agent.evaluation.report.html_page import render_html, table_html
from groundsight.agent.evaluation.report.markdown import render_markdown, table_markdown
from groundsight.agent.evaluation.report.plots import plot_ablation, plot_families
from groundsight.agent.evaluation.report.tables import Table, failure_category, report_tables

log = logging.getLogger(__name__)


def render_reports(out_dir: Path) -> tuple[Path, Path]:
    """Write ``out_dir/report.md`` and ``out_dir/report.html`` from the eval folder ``out_dir``; returns both
    paths. Raises :class:`ReportError` (one line, naming the file) when ``results.jsonl`` is missing or bad."""
    out_dir = Path(out_dir)
    results = load_results(out_dir)
    episodes = [load_episode(out_dir, r) for r in results]
    ablation = load_ablation(out_dir)
    tables = report_tables(results, episodes, ablation)
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text(render_markdown(results, tables), encoding="utf-8")
    html_path.write_text(render_html(results, tables, episodes, ablation), encoding="utf-8")
    log.info("wrote %s and %s", md_path, html_path)
    return md_path, html_path


__all__ = [
    "Episode",
    "ReportError",
    "Table",
    "failure_category",
    "frame_files",
    "load_ablation",
    "load_episode",
    "load_results",
    "plot_ablation",
    "plot_families",
    "render_html",
    "render_markdown",
    "render_reports",
    "report_tables",
    "table_html",
    "table_markdown",
    "thought_steps",
    "verdicts",
    "wilson_interval",
]
