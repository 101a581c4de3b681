"""Auditing a perceiver's own mistakes against simulator truth, for evaluation.

:class:`AuditedPerceiver` wraps a perceiver (a learned one: ``vlm``, ``detector``), passes every percept
through unchanged, and compares it with the truth of the same moment. Each mistake is recorded as an
:class:`~perception.perceivers.noisy.Injection` of the kind a ``noisy:`` perceiver would have injected to
cause it, so the evaluation's hallucination accounting (which mistakes the verifier caught before the
action; :func:`agent.evaluation.metrics.hallucination_accounting`) applies to a real model's real mistakes unchanged.

Claims are matched one-to-one to true objects, greedily on table-plane distance (a different colour or type
adds :data:`ATTRIBUTE_COST` metres), within :data:`MATCH_GATE`. Then:

- a true object without a claim: ``missed`` (``at``: where it is);
- a claim without a true object: ``phantom`` (``at``: the claimed x, y);
- a matched claim of another colour: ``color_swap``; of another type: ``type_swap``;
- a matched claim more than :data:`~perception.evidence.POSITION_TOLERANCE` away: ``position_noise``
  (``offset``: claimed minus true x, y).

The wrapper only reads: the agent sees exactly what the inner perceiver saw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from groundsight.perception.evidence import POSITION_TOLERANCE
from groundsight.perception.frame import Frame
from groundsight.perception.objects import Percept, SceneObject
from groundsight.perception.perceivers.base import Perceiver
from groundsight.perception.perceivers.noisy import Injection
from groundsight.perception.perceivers.oracle import TruthObject, TruthSource

MATCH_GATE = 0.05
"""A claim and a true object farther apart than this (metres, table plane) are not the same object."""
ATTRIBUTE_COST = 0.01
"""Matching cost (metres) of a different colour, and of a different type, so that near ties go to the
claim that also names the object right."""


def _xy(p: Sequence[float]) -> tuple[float, float]:
    return round(float(p[0]), 4), round(float(p[1]), 4)


def audit(claims: Sequence[SceneObject], truths: Sequence[TruthObject], call: int = 0) -> list[Injection]:
    """The mistakes of ``claims`` against ``truths`` (see the module for the kinds), for look ``call``."""
    pairs = []
    for i, c in enumerate(claims):
        for j, t in enumerate(truths):
            d = math.dist(c.position[:2], t.position[:2])
            if d <= MATCH_GATE:
                pairs.append((d + ATTRIBUTE_COST * ((c.color != t.color) + (c.type != t.type)), i, j))
    matched: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, j in sorted(pairs):
        if i not in matched and j not in taken:
            matched[i] = j
            taken.add(j)
    out = [
        Injection(kind="missed", object_id=t.id, detail={"true_id": t.id, "at": _xy(t.position)}, call=call)
        for j, t in enumerate(truths)
        if j not in taken
    ]
    for i, c in enumerate(claims):
        at = _xy(c.position)
        if i not in matched:
            out.append(Injection(kind="phantom", object_id=c.id, detail={"at": at}, call=call))
            continue
        t = truths[matched[i]]
        base = {"true_id": t.id, "at": at}
        offset = (round(at[0] - float(t.position[0]), 4), round(at[1] - float(t.position[1]), 4))
        mistakes = [
            ("color_swap", c.color != t.color, {"from": t.color, "to": c.color}),
            ("type_swap", c.type != t.type, {"from": t.type, "to": c.type}),
            ("position_noise", math.hypot(*offset) > POSITION_TOLERANCE, {"offset": offset}),
        ]
        out.extend(
            Injection(kind=kind, object_id=c.id, detail={**base, **detail}, call=call)  # type: ignore[arg-type]
            for kind, made, detail in mistakes
            if made
        )
    return out


class AuditedPerceiver:
    """``inner``, with every percept audited against ``truth`` (see the module).

    Attributes:
        injections: every mistake so far, in order (named as the noisy perceiver's records are, so the
            runner and the evaluation read both alike).
        last_injections: those of the latest ``perceive`` call.
    """

    def __init__(self, inner: Perceiver, truth: TruthSource) -> None:
        self.inner = inner
        self.truth = truth
        self.name = inner.name
        self.calls = 0
        self.injections: list[Injection] = []
        self.last_injections: list[Injection] = []

    def perceive(self, frames: Sequence[Frame]) -> Percept:
        """The inner percept, unchanged; its mistakes go to :attr:`last_injections`."""
        percept = self.inner.perceive(frames)
        self.last_injections = audit(percept.objects, self.truth.truth_objects(), self.calls)
        self.injections.extend(self.last_injections)
        self.calls += 1
        return percept

    def __getattr__(self, name: str) -> Any:  # anything else is the inner perceiver's (last_errors, model, ...)
        return getattr(self.inner, name)
