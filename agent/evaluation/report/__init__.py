"""Evaluation reports: ``report.md`` and a self-contained ``report.html`` for an eval output folder.

The folder is what ``groundsight eval`` writes: ``results.jsonl`` (one :class:`agent.loop.runner.Summary` per line,
plus ``file``), one run folder per episode (``<scenario>/seed<N>/`` with ``summary.json``, ``trace.jsonl`` and
``frames/*.jpg``) and, from the ablation runner, an optional ``ablation.jsonl``. Both reports hold the same
tables; the HTML adds plots (matplotlib, Agg), and per episode its frames, chain of thought and check
verdicts. Nothing in them depends on the clock: the same folder gives the same bytes.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from groundsight.agent.evaluation.metrics import family_rows, scenario_rows, wilson_interval
from groundsight.agent.loop.runner import Summary

log = logging.getLogger(__name__)

MAX_FRAMES_PER_EPISODE = 6
FRAMES_ONLY_FAILED_ABOVE = 150
"""With more episodes than this, frames are embedded only for the episodes that did not pass."""
FRAME_WIDTH = 240
"""Width in pixels of an embedded frame (downscaled from the stored JPEG)."""
FRAME_BUDGET_BYTES = 24_000_000
"""At most this many bytes of embedded frames in one ``report.html``; later episodes are shown without."""
UNKNOWN_FAMILY = "(unknown)"


class ReportError(ValueError):
    """An eval folder that cannot be reported on; the message is one line naming the file."""


@dataclass(frozen=True)
class Table:
    """One table of the report: rendered as Markdown and as HTML from the same cells."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    right: tuple[bool, ...] = ()
    note: str = ""
    anchor: str = ""


@dataclass
class Episode:
    """One episode's result and what its run folder holds."""

    result: dict[str, Any]
    dir: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: int = 0
    error: str = ""

    @property
    def key(self) -> str:
        return f"{self.result['scenario']} seed {self.result['seed']}"

    @property
    def anchor(self) -> str:
        return _slug(f"ep-{self.result['scenario']}-seed{self.result['seed']}")


# ---------------------------------------------------------------------------------------------- numbers


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _interval(passed: int, total: int) -> str:
    lo, hi = wilson_interval(passed, total)
    return f"{_pct(lo)}–{_pct(hi)}"


def _rate(passed: int, total: int) -> str:
    return _pct(passed / total) if total else "–"


def failure_category(result: dict[str, Any]) -> str:
    """A short, stable name for why an episode did not pass (its reason without the specifics)."""
    reason = str(result.get("reason") or "").strip()
    status = str(result.get("status", ""))
    head = reason.split(":", 1)[0].strip()
    if reason.startswith("internal error:"):
        parts = reason.split(":")
        return f"internal error: {parts[1].strip()}" if len(parts) > 1 else "internal error"
    if reason.startswith("step budget"):
        return "step budget exhausted"
    if reason.startswith("not verified"):
        return f"{status}: acted without verification"
    if head and head.replace("_", "").isalnum() and head.islower() and " " not in head and ":" in reason:
        return f"{status}: {head}"  # a check's name, e.g. "refused: referent_exists"
    expected = result.get("expected", "")
    if status == "succeeded" and expected == "success":
        return "succeeded but the goal does not hold on simulator truth"
    if status == "needs_clarification" and expected == "ask":
        return "asked, but the question does not name the candidates"
    if expected != "success" and status == "succeeded":
        return f"succeeded where it should {'refuse' if expected == 'refuse' else 'ask'}"
    return f"{status}: {' '.join(reason.split()[:6])}" if reason else status


# ---------------------------------------------------------------------------------------------- loading


def load_results(out_dir: Path) -> list[dict[str, Any]]:
    """The episodes of ``out_dir/results.jsonl``, each a Summary's fields plus the extra keys of its line
    (``file``; ``family`` is added: the scenario file's folder, or ``(unknown)``)."""
    path = out_dir / "results.jsonl"
    if not path.is_file():
        raise ReportError(f"{path}: no such file (write it with `groundsight eval ... --out {out_dir}`)")
    results: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReportError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise ReportError(f"{path}:{number}: not a JSON object")
        try:
            summary = Summary.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "line"
            raise ReportError(f"{path}:{number}: {where}: {err['msg']}") from None
        row = {**raw, **summary.model_dump(mode="json")}
        if not row.get("family"):
            row["family"] = Path(str(raw["file"])).parent.name if raw.get("file") else UNKNOWN_FAMILY
        results.append(row)
    if not results:
        raise ReportError(f"{path}: no episodes in it")
    return results


def load_episode(out_dir: Path, result: dict[str, Any]) -> Episode:
    """The run folder ``out_dir/<scenario>/seed<N>`` of one result: its trace records and error, if any. A
    result of unknown family gets the folder of the scenario file its ``run.json`` names."""
    episode = Episode(result=result, dir=out_dir / str(result["scenario"]) / f"seed{result['seed']}")
    trace = episode.dir / "trace.jsonl"
    if trace.is_file():
        for line in trace.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                episode.bad_lines += 1
                continue
            if isinstance(record, dict):
                episode.records.append(record)
    run = episode.dir / "run.json"
    if result.get("family") == UNKNOWN_FAMILY and run.is_file():  # results.jsonl without ``file``
        try:
            scenario_file = json.loads(run.read_text(encoding="utf-8")).get("scenario_file")
        except (json.JSONDecodeError, AttributeError):
            scenario_file = None
        if scenario_file:
            result["family"] = Path(str(scenario_file)).parent.name
    error = episode.dir / "error.txt"
    if error.is_file():
        episode.error = error.read_text(encoding="utf-8", errors="replace")
    return episode


def load_ablation(out_dir: Path) -> list[dict[str, Any]]:
    """The rows of ``out_dir/ablation.jsonl`` (empty when there is none)."""
    path = out_dir / "ablation.jsonl"
    if not path.is_file():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReportError(f"{path}:{number}: not JSON ({exc.msg})") from None
        for key in ("passed", "total"):
            if not isinstance(row, dict) or not isinstance(row.get(key), int):
                raise ReportError(f"{path}:{number}: {key}: expected an integer")
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------- what a trace says


def verdicts(episode: Episode) -> list[tuple[int, str, dict[str, Any]]]:
    """(step, node, check) for every check verdict in the trace: all checks of each verify record and the
    new check of each observe record (observe appends its one check to the state's list)."""
    out: list[tuple[int, str, dict[str, Any]]] = []
    for record in episode.records:
        checks = record.get("checks")
        if not isinstance(checks, list) or not checks:
            continue
        node = str(record.get("node", ""))
        chosen = checks if node == "verify" else checks[-1:] if node == "observe" else []
        out += [(int(record.get("step", 0)), node, c) for c in chosen if isinstance(c, dict)]
    return out


def thought_steps(episode: Episode) -> list[tuple[str, str]]:
    """The chain of thought, (kind, text) in order, over every reason/verify record; a thought that starts
    afresh (after a new look) is marked with a ``new thought`` step."""
    shown: list[tuple[str, str]] = []
    current: list[tuple[str, str]] = []
    for record in episode.records:
        thought = record.get("thought")
        if not isinstance(thought, dict):
            continue
        steps = [(str(s.get("kind", "")), str(s.get("text", ""))) for s in thought.get("steps") or []]
        if steps[: len(current)] == current and current:
            shown += steps[len(current) :]
        elif steps:
            if shown:
                shown.append(("new thought", f"reasoned again at graph step {record.get('step', '?')}"))
            shown += steps
        current = steps
    return shown


def frame_files(episode: Episode) -> list[Path]:
    """The stored frames of the episode, in look order: from the records' ``frame_files``, or else every
    ``frames/*.jpg`` of the run folder, sorted."""
    names: list[str] = []
    for record in episode.records:
        for name in record.get("frame_files") or []:
            if isinstance(name, str) and name not in names:
                names.append(name)
    paths = [episode.dir / n for n in names] if names else sorted((episode.dir / "frames").glob("*.jpg"))
    return [p for p in paths if p.is_file()]


def _spread(items: Sequence[Path], most: int) -> list[Path]:
    """At most ``most`` items, evenly spaced, the first and the last included."""
    if len(items) <= most:
        return list(items)
    if most == 1:
        return [items[-1]]
    return [items[round(i * (len(items) - 1) / (most - 1))] for i in range(most)]


# ---------------------------------------------------------------------------------------------- tables


def overall_table(results: list[dict[str, Any]]) -> Table:
    """Pass rate over every episode, and by what was expected (success / refuse / ask)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        groups[f"expect {r['expected']}"].append(r)
    rows = []
    for name, rs in [("all episodes", results), *sorted(groups.items())]:
        k = sum(bool(r["passed"]) for r in rs)
        rows.append((name, f"{k}/{len(rs)}", _rate(k, len(rs)), _interval(k, len(rs))))
    configs = sorted({(r["perception"], r["reasoner"], bool(r.get("verify", True))) for r in results})
    note = "; ".join(f"perception {p}, reasoner {q}, verification {'on' if v else 'off'}" for p, q, v in configs)
    return Table(
        "Overall",
        ("episodes", "passed", "rate", "95% interval (Wilson)"),
        rows,
        (False, True, True, True),
        note=note,
        anchor="overall",
    )


def family_table(results: list[dict[str, Any]]) -> Table:
    """Per family (the scenario file's folder), with :func:`groundsight.agent.evaluation.metrics.family_rows`."""
    rows = [
        (family, str(n), f"{k}/{total}", _rate(k, total), _interval(k, total), f"{median_time:.2f}")
        for family, k, total, n, median_time in family_rows(results)
    ]
    cols = ("family", "scenarios", "passed", "rate", "95% interval", "median time (s)")
    return Table("By family", cols, rows, (False, True, True, True, True, True), anchor="families")


def scenario_table(results: list[dict[str, Any]]) -> Table:
    """Per scenario, with :func:`groundsight.agent.evaluation.metrics.scenario_rows` and the Wilson interval added."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        groups[r["scenario"]].append(r)
    rows = []
    for name, expect, passed, median_steps, median_time in (row[:5] for row in scenario_rows(results)):
        rs = groups[name]
        k = sum(bool(r["passed"]) for r in rs)
        rows.append((name, rs[0]["family"], expect, passed, _interval(k, len(rs)), median_steps, median_time))
    cols = ("scenario", "family", "expect", "passed", "95% interval", "median steps", "median time (s)")
    return Table("By scenario", cols, rows, (False, False, False, True, True, True, True), anchor="scenarios")


def failure_table(results: list[dict[str, Any]]) -> Table:
    """Episodes that did not pass, grouped by :func:`failure_category`, most frequent first."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if not r["passed"]:
            groups[failure_category(r)].append(r)
    rows = []
    for category, rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        scenarios = sorted({r["scenario"] for r in rs})
        shown = ", ".join(scenarios[:4]) + (f" (+{len(scenarios) - 4} more)" if len(scenarios) > 4 else "")
        example = rs[0]
        rows.append(
            (category, str(len(rs)), shown, f"{example['scenario']} seed {example['seed']}: {example['reason']}")
        )
    note = "" if rows else "Every episode passed."
    cols = ("reason", "episodes", "scenarios", "example")
    return Table("Why episodes did not pass", cols, rows, (False, True, False, False), note=note, anchor="failures")


def catches_table(episodes: list[Episode]) -> Table:
    """Check verdicts by check name over every trace: how often each failed (a catch), in how many episodes,
    what the agent did on it, and one example reason."""
    total: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    episodes_with: dict[str, set[str]] = defaultdict(set)
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    example: dict[str, str] = {}
    for ep in episodes:
        for _, _, check in verdicts(ep):
            name = str(check.get("name", "?"))
            total[name] += 1
            if check.get("passed"):
                continue
            failed[name] += 1
            episodes_with[name].add(ep.key)
            outcomes[name][str(check.get("on_fail", ""))] += 1
            example.setdefault(name, f"{ep.key}: {check.get('reason', '')}")
    rows = [
        (
            name,
            str(total[name]),
            str(failed[name]),
            str(len(episodes_with[name])),
            ", ".join(f"{o} {n}" for o, n in sorted(outcomes[name].items())),
            example.get(name, ""),
        )
        for name in sorted(total, key=lambda n: (-failed[n], n))
    ]
    note = "" if total else "No check verdicts in the traces."
    if total and not failed:
        note = "No check failed."
    cols = ("check", "verdicts", "failed", "episodes", "on fail", "example")
    return Table(
        "Verifier catches by check", cols, rows, (False, True, True, True, False, False), note=note, anchor="catches"
    )


def _caught(result: dict[str, Any], kind: str | None) -> int | None:
    caught = result.get("caught")
    if isinstance(caught, dict):
        if kind is None:
            return sum(int(v) for v in caught.values() if isinstance(v, int | float))
        value = caught.get(kind, 0)
        return int(value) if isinstance(value, int | float) else None
    if isinstance(caught, int | float) and kind is None:
        return int(caught)
    return None


def hallucination_table(results: list[dict[str, Any]]) -> Table | None:
    """Injected hallucinations (``noisy:`` perception) by kind: how many, in how many episodes, how many of
    those episodes passed, and how many injections were caught (when the results count them)."""
    noisy = [r for r in results if r.get("injections") or str(r.get("perception", "")).startswith("noisy:")]
    if not noisy:
        return None
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    injected: Counter[str] = Counter()
    for r in noisy:
        kinds = Counter(str(i.get("kind", "?")) for i in r.get("injections") or [] if isinstance(i, dict))
        for kind, n in kinds.items():
            injected[kind] += n
            by_kind[kind].append(r)
    rows = []
    for kind in sorted(injected):
        rs = by_kind[kind]
        counts = [_caught(r, kind) for r in rs]
        caught = str(sum(c for c in counts if c is not None)) if any(c is not None for c in counts) else "–"
        k = sum(bool(r["passed"]) for r in rs)
        rows.append((kind, str(injected[kind]), str(len(rs)), f"{k}/{len(rs)}", str(_harmful(rs)), caught))
    hit = [r for r in noisy if r.get("injections")]
    counts = [_caught(r, None) for r in hit]
    caught_all = str(sum(c for c in counts if c is not None)) if any(c is not None for c in counts) else "–"
    k = sum(bool(r["passed"]) for r in hit)
    rows.append(
        ("all kinds", str(sum(injected.values())), str(len(hit)), f"{k}/{len(hit)}", str(_harmful(hit)), caught_all)
    )
    clean = [r for r in noisy if not r.get("injections")]
    note = f"{len(noisy)} episodes with noisy perception, {len(hit)} with at least one injection"
    if clean:
        note += f"; those without passed {sum(bool(r['passed']) for r in clean)}/{len(clean)}"
    note += "."
    note += " Failed and moved: episodes that did not pass and moved an object (acted on a wrong belief)."
    cols = ("kind", "injected", "episodes", "episodes passed", "failed and moved", "caught")
    right = (False, True, True, True, True, True)
    return Table("Injected hallucinations", cols, rows, right, note=note, anchor="hallucinations")


def _harmful(results: list[dict[str, Any]]) -> int:
    """Episodes that did not pass and moved something: the agent acted, and acted wrongly."""
    return sum(1 for r in results if not r["passed"] and r.get("moved"))


def ablation_table(rows: list[dict[str, Any]]) -> Table | None:
    """The rows of ``ablation.jsonl``: success, catches and false rejections with and without verification."""
    if not rows:
        return None
    cells = []
    for r in _sorted_ablation(rows):
        k, n = int(r["passed"]), int(r["total"])
        injected, caught = r.get("injected"), r.get("caught")
        catch_rate = _rate(int(caught), int(injected)) if isinstance(caught, int) and isinstance(injected, int) else "–"
        cells.append(
            (
                str(r.get("perception", "")),
                f"{float(r.get('noise', 0.0)):g}",
                "on" if r.get("verify", True) else "off",
                f"{k}/{n}",
                _rate(k, n),
                _interval(k, n),
                _text(injected),
                _text(caught),
                catch_rate,
                _text(r.get("false_rejections")),
                _text(r.get("claims")),
            )
        )
    cols = (
        "perception",
        "noise",
        "verify",
        "passed",
        "rate",
        "95% interval",
        "injected",
        "caught",
        "caught %",
    )
    cols += ("false rejections", "claims")
    return Table(
        "Ablation: verification under injected hallucinations", cols, cells, (False,) + (True,) * 10, anchor="ablation"
    )


def _sorted_ablation(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (str(r.get("perception", "")), float(r.get("noise", 0.0)), not r.get("verify")))


def _text(value: Any) -> str:
    return "–" if value is None else str(value)


def report_tables(
    results: list[dict[str, Any]], episodes: list[Episode], ablation: list[dict[str, Any]]
) -> list[Table]:
    """Every table of the report, in order (tables with nothing to show are left out)."""
    tables = [overall_table(results), family_table(results), scenario_table(results), failure_table(results)]
    tables.append(catches_table(episodes))
    tables += [t for t in (hallucination_table(results), ablation_table(ablation)) if t is not None]
    return tables


# ---------------------------------------------------------------------------------------------- markdown


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def table_markdown(table: Table) -> list[str]:
    """A table as Markdown lines (a heading, the note, the pipe table)."""
    lines = [f"## {table.title}", ""]
    if table.note:
        lines += [_md_cell(table.note), ""]
    if table.rows:
        right = table.right or (False,) * len(table.columns)
        lines.append("| " + " | ".join(table.columns) + " |")
        lines.append("| " + " | ".join("---:" if r else "---" for r in right) + " |")
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
        lines.append("")
    return lines


def render_markdown(results: list[dict[str, Any]], tables: list[Table]) -> str:
    """``report.md``: a headline, every table, and the list of episodes that did not pass."""
    passed = sum(bool(r["passed"]) for r in results)
    lo, hi = wilson_interval(passed, len(results))
    lines = [
        "# groundsight evaluation",
        "",
        f"{passed}/{len(results)} episodes passed ({_rate(passed, len(results))}, 95% interval {_pct(lo)}–{_pct(hi)}).",
        "",
    ]
    for table in tables:
        lines += table_markdown(table)
    failures = [r for r in results if not r["passed"]]
    if failures:
        lines += ["## Episodes that did not pass", ""]
        lines += [_md_cell(f"- {r['scenario']} seed {r['seed']}: {r['status']} -- {r['reason']}") for r in failures]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------------- plots


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
    for r in _sorted_ablation(rows):
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


# ---------------------------------------------------------------------------------------------- html


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem}
body{color:#222}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f4f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.9rem}.plots img{max-width:100%;margin:.5rem 1rem .5rem 0;border:1px solid #eee}
details.episode{border:1px solid #ddd;border-radius:4px;margin:.3rem 0;padding:.3rem .6rem}
details.episode>summary{cursor:pointer;font-weight:600}
span.pass{color:#17692c}span.fail{color:#b3261e}details.failed{border-left:4px solid #b3261e}
details.passed{border-left:4px solid #17692c}tr.pass td.verdict{background:#e3f4e6;color:#17692c}
tr.fail td.verdict{background:#fbe3e1;color:#b3261e;font-weight:600}
.badge{display:inline-block;min-width:5.5rem;font-size:.75rem;background:#eef;border-radius:3px}
.badge{padding:0 .3rem;margin-right:.4rem}
.frames img{height:135px;margin:.2rem .3rem .2rem 0;border:1px solid #ccc}
ol.thought{padding-left:1.5rem}pre{white-space:pre-wrap;font-size:.8rem;background:#f7f7f7;padding:.5rem}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.1rem .8rem;margin:.3rem 0}dl.facts dt{color:#555}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def table_html(table: Table) -> str:
    """A table as an HTML section (every cell escaped)."""
    parts = [f'<section id="{_e(table.anchor)}"><h2>{_e(table.title)}</h2>']
    if table.note:
        parts.append(f'<p class="note">{_e(table.note)}</p>')
    if table.rows:
        right = table.right or (False,) * len(table.columns)
        head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
        body = "".join(
            "<tr>"
            + "".join(
                f'<td class="num">{_e(c)}</td>' if r else f"<td>{_e(c)}</td>" for c, r in zip(row, right, strict=True)
            )
            + "</tr>"
            for row in table.rows
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</section>")
    return "".join(parts)


def _data_uri(png: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(png).decode('ascii')}"


def _frame_jpeg(path: Path) -> bytes | None:
    """The stored frame downscaled to :data:`FRAME_WIDTH` pixels wide, as JPEG bytes (None if unreadable)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if image.width > FRAME_WIDTH:
                image = image.resize(
                    (FRAME_WIDTH, max(1, round(image.height * FRAME_WIDTH / image.width))), Image.BILINEAR
                )
            buf = io.BytesIO()
            image.save(buf, format="JPEG", quality=70, optimize=True)
            return buf.getvalue()
    except (OSError, UnidentifiedImageError) as exc:
        log.warning("skipping frame %s: %s", path, exc)
        return None


def _episode_html(ep: Episode, frames: list[tuple[str, bytes]], frames_note: str) -> str:
    r = ep.result
    ok = bool(r["passed"])
    mark = "PASS" if ok else "FAIL"
    head = f'<summary><span class="{"pass" if ok else "fail"}">{mark}</span> {_e(ep.key)} — {_e(r["status"])}'
    head += f" (expect {_e(r['expected'])})</summary>"
    facts = [
        ("status", r["status"]),
        ("expected", r["expected"]),
        ("reason", r.get("reason") or "–"),
        ("steps / actions / looks", f"{r['steps']} / {r.get('actions', 0)} / {r.get('looks', 0)}"),
        ("wall time (s)", f"{float(r['wall_time_s']):.2f}"),
        ("perception / reasoner", f"{r['perception']} / {r['reasoner']}"),
    ]
    if r.get("question"):
        facts.append(("question", r["question"]))
    if r.get("moved"):
        facts.append(("moved", ", ".join(map(str, r["moved"]))))
    if r.get("goal_satisfied") is not None:
        facts.append(("goal holds (truth)", "yes" if r["goal_satisfied"] else "no"))
    for inj in r.get("injections") or []:
        if isinstance(inj, dict):
            detail = json.dumps(_rounded(inj.get("detail", {})), sort_keys=True)
            facts.append(("injected", f"{inj.get('kind')} {inj.get('object_id')} (look {inj.get('call')}): {detail}"))
    parts = [
        f'<details class="episode {"passed" if ok else "failed"}" id="{_e(ep.anchor)}">',
        head,
        '<dl class="facts">',
    ]
    parts += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts]
    parts.append("</dl>")
    if not ep.dir.is_dir():
        parts.append(f'<p class="note">No run folder {_e(ep.dir.parent.name)}/{_e(ep.dir.name)}.</p>')
    if ep.bad_lines:
        parts.append(f'<p class="note">{ep.bad_lines} unreadable line(s) in trace.jsonl were skipped.</p>')
    if frames:
        imgs = "".join(
            f'<img class="frame" alt="{_e(name)}" title="{_e(name)}" src="{_data_uri(data, "image/jpeg")}">'
            for name, data in frames
        )
        parts.append(f'<h3>Frames</h3><div class="frames">{imgs}</div>')
    if frames_note:
        parts.append(f'<p class="note">{_e(frames_note)}</p>')
    steps = thought_steps(ep)
    if steps:
        items = "".join(f'<li><span class="badge">{_e(kind)}</span>{_e(text)}</li>' for kind, text in steps)
        parts.append(f'<h3>Chain of thought</h3><ol class="thought">{items}</ol>')
    checks = verdicts(ep)
    if checks:
        rows = "".join(
            f'<tr class="{"pass" if c.get("passed") else "fail"}"><td class="num">{step}</td><td>{_e(node)}</td>'
            f"<td>{_e(c.get('name', ''))}</td><td>{_e(c.get('claim', ''))}</td>"
            f'<td class="verdict">{"pass" if c.get("passed") else "FAIL"}</td>'
            f"<td>{'' if c.get('passed') else _e(c.get('reason', ''))}</td></tr>"
            for step, node, c in checks
        )
        parts.append(
            '<h3>Checks</h3><table class="checks"><thead><tr><th>step</th><th>node</th><th>check</th><th>claim</th>'
            f"<th>verdict</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    if ep.error:
        parts.append(f"<h3>Error</h3><pre>{_e(ep.error[-3000:])}</pre>")
    parts.append("</details>")
    return "".join(parts)


def render_html(
    results: list[dict[str, Any]], tables: list[Table], episodes: list[Episode], ablation: list[dict[str, Any]]
) -> str:
    """``report.html``: one file, no external resources (inline CSS, images as data URIs, no JavaScript)."""
    passed = sum(bool(r["passed"]) for r in results)
    lo, hi = wilson_interval(passed, len(results))
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>groundsight evaluation</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>groundsight evaluation</h1>",
        f'<p class="headline">{passed}/{len(results)} episodes passed ({_rate(passed, len(results))}, '
        f"95% interval {_pct(lo)}–{_pct(hi)}).</p>",
    ]
    plots = [("Pass rate by family", plot_families(results))]
    if ablation:
        plots.append(("Success vs hallucination rate, with and without verification", plot_ablation(ablation)))
    imgs = "".join(f'<img class="plot" alt="{_e(t)}" src="{_data_uri(png)}">' for t, png in plots)
    parts.append(f'<section id="plots" class="plots"><h2>Plots</h2>{imgs}</section>')
    parts += [table_html(t) for t in tables]
    only_failed = len(episodes) > FRAMES_ONLY_FAILED_ABOVE
    intro = f"{len(episodes)} episodes; open one to see its frames, chain of thought and check verdicts."
    if only_failed:
        intro += (
            f" With more than {FRAMES_ONLY_FAILED_ABOVE} episodes, frames are shown only for those that did not pass."
        )
    parts.append(f'<section id="episodes"><h2>Episodes</h2><p class="note">{_e(intro)}</p>')
    budget = FRAME_BUDGET_BYTES
    for ep in episodes:
        frames: list[tuple[str, bytes]] = []
        note = ""
        stored = frame_files(ep)
        if stored and only_failed and ep.result["passed"]:
            note = f"{len(stored)} stored frames not embedded (episode passed)."
        elif stored and budget <= 0:
            note = f"{len(stored)} stored frames not embedded (report size limit reached)."
        elif stored:
            for path in _spread(stored, MAX_FRAMES_PER_EPISODE):
                data = _frame_jpeg(path)
                if data is not None:
                    frames.append(
                        (path.relative_to(ep.dir).as_posix() if path.is_relative_to(ep.dir) else path.name, data)
                    )
                    budget -= len(data)
            if len(stored) > len(frames):
                note = f"{len(frames)} of {len(stored)} stored frames shown."
        parts.append(_episode_html(ep, frames, note))
    parts.append("</section></body></html>")
    return "\n".join(parts) + "\n"


def _rounded(value: Any) -> Any:
    """``value`` with every float rounded to 3 decimals (for display)."""
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


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
