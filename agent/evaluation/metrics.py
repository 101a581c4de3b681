"""Turning many episode summaries into numbers: per-scenario and per-family pass rates, Wilson intervals, a
Markdown report, and the hallucination accounting of ``noisy:`` runs (which injections the verifier caught
before any action, and how many true claims it rejected).

Definitions (see :func:`hallucination_accounting`):

- an injection is *relevant* when it touches an object that a plan step uses or that an instruction phrase
  resolves to or among (any binding's candidates), in any thought of the episode; position noise only when
  it moved the claim more than :data:`~perception.evidence.POSITION_TOLERANCE`;
- it is *caught* when a failed check of the same look (perceiver call), recorded before the next action,
  concerns it: it names the injected claim (its id or claimed x, y), or, for a missed object, reports an
  object within :data:`MISSED_GATE` of where the missed one is;
- a *true claim rejected* is a failed ``claim_remeasured`` or ``evidence_grounded`` check on an object that
  had no injection in that look; ``claims`` counts every such verdict.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from groundsight.perception.evidence import POSITION_TOLERANCE

Z95 = 1.959963984540054
"""The normal quantile of a two-sided 95% interval."""
CLAIM_GATE = 0.002
"""A check's x, y names an injected claim when it is this close (metres) to the claim's (rounding included)."""
MISSED_GATE = 0.03
"""A check reports a missed object when it names an object or a position this close to it (metres)."""
CLAIM_CHECKS = ("claim_remeasured", "evidence_grounded")
"""Checks whose verdicts are claims about one object (counted for true claims rejected)."""


def wilson_interval(passed: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a pass rate (95% by default); ``(0, 1)`` for no episodes."""
    if total <= 0:
        return 0.0, 1.0
    p = passed / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


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


# ---------------------------------------------------------------------------------------------- hallucinations

_XY = re.compile(r"x=([-+]?\d+\.\d+), y=([-+]?\d+\.\d+)")
_ID = re.compile(r"\b[a-z]+_[a-z]+(?:_\d+|_new\d+)?\b")


class _Look:
    """What one look (perceiver call) of a trace holds: where each id was, and its failed checks."""

    def __init__(self) -> None:
        self.where: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.failed: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []
        self.acted = False

    def add_percept(self, percept: Any) -> None:
        if isinstance(percept, dict):
            for obj in percept.get("objects") or []:
                self.where[str(obj.get("id"))].append((float(obj["position"][0]), float(obj["position"][1])))

    def add_checks(self, checks: Iterable[Any]) -> None:
        if self.acted:  # after the look's action: too late to count as caught
            return
        for c in checks:
            if not isinstance(c, dict):
                continue
            if c.get("name") in CLAIM_CHECKS:
                self.claims.append(c)
            if not c.get("passed", True):
                self.failed.append(c)

    def positions(self, check: dict[str, Any]) -> list[tuple[float, float]]:
        """Every x, y a check names: written out, or the positions of the ids it mentions."""
        text = f"{check.get('claim', '')} {check.get('reason', '')}"
        out = [(float(x), float(y)) for x, y in _XY.findall(text)]
        for name in [*_ID.findall(text), *(check.get("candidates") or ())]:
            out += self.where.get(name, [])
        return out


def _looks(records: Iterable[dict[str, Any]]) -> dict[int, _Look]:
    """Per look index (the perceiver call: ``looks - 1``) the ids seen and the checks recorded before acting."""
    looks: dict[int, _Look] = defaultdict(_Look)
    current = -1
    seen_checks = 0
    for r in records:
        node = r.get("node")
        if node in ("perceive", "observe") and isinstance(r.get("looks"), int) and r.get("percept") is not None:
            current = int(r["looks"]) - 1
        look = looks[current]
        look.add_percept(r.get("percept"))
        if node == "act":
            look.acted = True
            continue
        if node in ("perceive", "observe"):  # the look's screen (Verifier.screen), recorded once per look
            look.add_checks(r.get("screen") or [])
        if node == "verify" and isinstance(r.get("checks"), list):
            look.add_checks(r["checks"])
        if node == "observe" and isinstance(r.get("checks"), list):
            look.add_checks(r["checks"][seen_checks:])
        if isinstance(r.get("checks"), list):
            seen_checks = len(r["checks"])
    return looks


def _relevant_positions(records: Iterable[dict[str, Any]]) -> list[tuple[float, float]]:
    """Where the objects were that a plan step uses or that a phrase resolves to or among (any thought)."""
    out: list[tuple[float, float]] = []
    where: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in records:
        percept = r.get("percept")
        if isinstance(percept, dict):
            where = defaultdict(list)
            for obj in percept.get("objects") or []:
                where[str(obj.get("id"))].append((float(obj["position"][0]), float(obj["position"][1])))
        thought = r.get("thought")
        if not isinstance(thought, dict):
            continue
        ids: set[str] = set()
        for b in thought.get("bindings") or []:
            ids.update(b.get("candidates") or [])
            ids.update(b.get("chosen") or [])
        for step in thought.get("plan") or []:
            ids.update(x for x in (step.get("object"), step.get("target")) if x)
        for name in sorted(ids):
            out += where.get(name, [])
    return out


def _inner_xy(injection: dict[str, Any]) -> tuple[float, float] | None:
    at = (injection.get("detail") or {}).get("at")
    if not at:
        return None
    offset = (injection.get("detail") or {}).get("offset") or (0.0, 0.0)
    return float(at[0]) - float(offset[0]), float(at[1]) - float(offset[1])


def hallucination_accounting(result: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """Injections of one episode (``result["injections"]``) against the checks of its trace ``records``.

    Returns ``injected``, ``relevant``, ``caught`` (per kind), ``caught_all``, ``caught_relevant``,
    ``relevant_by_kind``, ``claims`` and ``false_rejections`` (see the module's definitions).
    """
    looks = _looks(records)
    relevant_xy = _relevant_positions(records)
    injections = [i for i in result.get("injections") or [] if isinstance(i, dict)]
    caught: Counter[str] = Counter()
    relevant_by_kind: Counter[str] = Counter()
    caught_relevant = 0
    injected_at: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for inj in injections:
        kind, call = str(inj.get("kind")), int(inj.get("call", 0))
        detail = inj.get("detail") or {}
        at = detail.get("at")
        claim_xy = (float(at[0]), float(at[1])) if at else None
        if claim_xy is not None and kind != "missed":
            injected_at[call].append(claim_xy)
        inner = _inner_xy(inj) or claim_xy
        relevant = inner is not None and any(math.dist(inner, p) <= MISSED_GATE for p in relevant_xy)
        if kind == "phantom" and claim_xy is not None:
            relevant = any(math.dist(claim_xy, p) <= CLAIM_GATE for p in relevant_xy)
        if kind == "position_noise":
            relevant = relevant and math.hypot(*(detail.get("offset") or (0.0, 0.0))) > POSITION_TOLERANCE
        look = looks.get(call)
        hit = False
        if look is not None and claim_xy is not None:
            gate = MISSED_GATE if kind == "missed" else CLAIM_GATE
            for check in look.failed:
                if kind == "missed" and check.get("name") in CLAIM_CHECKS:
                    continue  # a claim's verdict is about that claim, not about an object it left out
                if any(math.dist(claim_xy, p) <= gate for p in look.positions(check)):
                    hit = True
                    break
        caught[kind] += hit
        if relevant:
            relevant_by_kind[kind] += 1
            caught_relevant += hit
    claims = false_rejections = 0
    for call, look in sorted(looks.items()):
        for check in look.claims:
            claims += 1
            if check.get("passed", True):
                continue
            text = str(check.get("claim", ""))
            named = [(float(x), float(y)) for x, y in _XY.findall(text)] or look.positions({"claim": text})
            if not any(math.dist(p, q) <= CLAIM_GATE for p in named[:1] for q in injected_at[call]):
                false_rejections += 1
    return {
        "injected": len(injections),
        "relevant": sum(relevant_by_kind.values()),
        "caught": dict(sorted(caught.items())),
        "caught_all": sum(caught.values()),
        "caught_relevant": caught_relevant,
        "relevant_by_kind": dict(sorted(relevant_by_kind.items())),
        "claims": claims,
        "false_rejections": false_rejections,
    }


def ablation_row(results: list[dict[str, Any]], perception: str, noise: float, verify: bool) -> dict[str, Any]:
    """One row of ``ablation.jsonl`` (what :func:`agent.evaluation.report.load_ablation` reads) from results that carry
    :func:`hallucination_accounting`'s keys."""
    total = len(results)

    def add(key: str) -> int:
        return sum(int(r.get(key) or 0) for r in results)

    by_kind: Counter[str] = Counter()
    for r in results:
        by_kind.update({k: int(v) for k, v in (r.get("caught") or {}).items()})
    return {
        "perception": perception,
        "noise": noise,
        "verify": verify,
        "passed": sum(bool(r["passed"]) for r in results),
        "total": total,
        "injected": add("injected"),
        "caught": add("caught_all"),
        "relevant": add("relevant"),
        "caught_relevant": add("caught_relevant"),
        "caught_by_kind": dict(sorted(by_kind.items())),
        "false_rejections": add("false_rejections"),
        "claims": add("claims"),
        "moved_and_failed": sum(1 for r in results if not r["passed"] and r.get("moved")),
    }
