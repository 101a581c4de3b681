"""The report's tables, computed once from the results and the traces and rendered as Markdown and HTML."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from groundsight.agent.evaluation.metrics import family_rows, scenario_rows, wilson_interval
from groundsight.agent.evaluation.report.episodes import Episode, verdicts


@dataclass(frozen=True)
class Table:
    """One table of the report: rendered as Markdown and as HTML from the same cells."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    right: tuple[bool, ...] = ()
    note: str = ""
    anchor: str = ""


def percent(x: float) -> str:
    return f"{100 * x:.0f}%"


def _interval(passed: int, total: int) -> str:
    lo, hi = wilson_interval(passed, total)
    return f"{percent(lo)}–{percent(hi)}"


def rate_text(passed: int, total: int) -> str:
    return percent(passed / total) if total else "–"


def headline(results: list[dict[str, Any]]) -> str:
    """The report's first sentence: episodes passed, rate and its 95% Wilson interval."""
    passed = sum(bool(r["passed"]) for r in results)
    lo, hi = wilson_interval(passed, len(results))
    interval = f"95% interval {percent(lo)}–{percent(hi)}"
    return f"{passed}/{len(results)} episodes passed ({rate_text(passed, len(results))}, {interval})."


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


def overall_table(results: list[dict[str, Any]]) -> Table:
    """Pass rate over every episode, and by what was expected (success / refuse / ask)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        groups[f"expect {r['expected']}"].append(r)
    rows = []
    for name, rs in [("all episodes", results), *sorted(groups.items())]:
        k = sum(bool(r["passed"]) for r in rs)
        rows.append((name, f"{k}/{len(rs)}", rate_text(k, len(rs)), _interval(k, len(rs))))
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
        (family, str(n), f"{k}/{total}", rate_text(k, total), _interval(k, total), f"{median_time:.2f}")
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
    for r in sorted_ablation(rows):
        k, n = int(r["passed"]), int(r["total"])
        injected, caught = r.get("injected"), r.get("caught")
        catch_rate = (
            rate_text(int(caught), int(injected)) if isinstance(caught, int) and isinstance(injected, int) else "–"
        )
        cells.append(
            (
                str(r.get("perception", "")),
                f"{float(r.get('noise', 0.0)):g}",
                "on" if r.get("verify", True) else "off",
                f"{k}/{n}",
                rate_text(k, n),
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


def sorted_ablation(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
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
