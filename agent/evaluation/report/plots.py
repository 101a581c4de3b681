"""The report's plots as PNG bytes (matplotlib's Agg backend, imported only when a plot is drawn)."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from groundsight.agent.evaluation.metrics import family_rows, wilson_interval
from groundsight.agent.evaluation.report.tables import sorted_ablation


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def plot_families(results: list[dict[str, Any]]) -> bytes:
    """PNG: pass rate per family, bars with Wilson 95% error bars."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = family_rows(results)
    names = [r[0] for r in rows]
    rates = [r[1] / r[2] for r in rows]
    lows = [max(0.0, rate - wilson_interval(r[1], r[2])[0]) for rate, r in zip(rates, rows, strict=True)]
    highs = [max(0.0, wilson_interval(r[1], r[2])[1] - rate) for rate, r in zip(rates, rows, strict=True)]
    fig = Figure(figsize=(max(4.0, 0.9 * len(names) + 2), 3.2))
    ax = fig.add_subplot()
    ax.bar(range(len(names)), rates, yerr=[lows, highs], capsize=4, color="#4a7fb5", ecolor="#333333")
    ax.set_xticks(
        range(len(names)), names, rotation=30 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center"
    )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("pass rate")
    ax.set_title("Pass rate by family (95% Wilson interval)")
    fig.tight_layout()
    return _png(fig)


def plot_ablation(rows: list[dict[str, Any]]) -> bytes:
    """PNG: success rate against hallucination rate (``noise``), one line per perception and verify setting."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 3.4))
    ax = fig.add_subplot()
    lines: dict[tuple[str, bool], list[dict[str, Any]]] = defaultdict(list)
    for r in sorted_ablation(rows):
        lines[(str(r.get("perception", "")), bool(r.get("verify", True)))].append(r)
    for (perception, verify), rs in sorted(lines.items()):
        x = [float(r.get("noise", 0.0)) for r in rs]
        y = [int(r["passed"]) / int(r["total"]) if int(r["total"]) else 0.0 for r in rs]
        bounds = [wilson_interval(int(r["passed"]), int(r["total"])) for r in rs]
        err = [
            [max(0.0, v - b[0]) for v, b in zip(y, bounds, strict=True)],
            [max(0.0, b[1] - v) for v, b in zip(y, bounds, strict=True)],
        ]
        label = f"{perception}, verification {'on' if verify else 'off'}"
        ax.errorbar(
            x, y, yerr=err, marker="o" if verify else "s", linestyle="-" if verify else "--", capsize=3, label=label
        )
    ax.set_xlabel("injected hallucination rate")
    ax.set_ylabel("success rate")
    ax.set_ylim(0, 1.05)
    ax.set_title("Success vs hallucination rate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)
