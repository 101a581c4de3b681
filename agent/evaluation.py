"""Turning many episode summaries into per-scenario numbers and a Markdown report."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

ROW_COLUMNS = ("scenario", "expect", "passed", "median steps", "median time (s)")


def scenario_rows(results: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One row per scenario (in first-seen order) with the columns of :data:`ROW_COLUMNS`."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        groups[r["scenario"]].append(r)
    return [
        (
            name,
            rs[0]["expected"],
            f"{sum(r['passed'] for r in rs)}/{len(rs)}",
            f"{statistics.median(r['steps'] for r in rs):.0f}",
            f"{statistics.median(r['wall_time_s'] for r in rs):.2f}",
        )
        for name, rs in groups.items()
    ]


def family_rows(results: list[dict[str, Any]]) -> list[tuple[str, int, int, int, float]]:
    """Per family (the scenario file's folder): passed, episodes, scenarios, median wall time."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        groups[r["family"]].append(r)
    return [
        (
            family,
            sum(r["passed"] for r in rs),
            len(rs),
            len({r["scenario"] for r in rs}),
            statistics.median(r["wall_time_s"] for r in rs),
        )
        for family, rs in sorted(groups.items())
    ]


def report_markdown(results: list[dict[str, Any]]) -> str:
    """``report.md``: the per-scenario table and every episode that did not pass, with its reason."""
    lines = [
        "# groundsight evaluation",
        "",
        "| " + " | ".join(ROW_COLUMNS) + " |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in scenario_rows(results)]
    passed = sum(r["passed"] for r in results)
    lines += ["", f"{passed}/{len(results)} episodes passed."]
    failures = [r for r in results if not r["passed"]]
    if failures:
        lines += ["", "## Episodes that did not pass", ""]
        lines += [f"- {r['scenario']} seed {r['seed']}: {r['status']} -- {r['reason']}" for r in failures]
    return "\n".join(lines) + "\n"
