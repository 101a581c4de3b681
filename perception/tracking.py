"""Fusion over time and views: a :class:`Tracker` turns successive percepts into one steadier percept.

Every :meth:`Tracker.update` is one time step and takes the percepts of that step (one per camera, or one
percept of several cameras). Each perceived object is associated with a track by 3D proximity: greedy on the
xy distance of centres, gated at :attr:`TrackerConfig.gate_xy`, with a penalty when type or colour differ so that
the same type is preferred. Within one percept the association is one-to-one; the percepts of the same step
may each add to the same track (two cameras seeing one object give one track).

A track keeps a confidence-weighted vote over colour, type and size (the value with the highest summed confidence
wins; on a tie, the one voted for first), a confidence-weighted position and extent with exponential forgetting of
old observations, the evidence it came from (the last :attr:`TrackerConfig.max_evidence`), and its hit count (steps
in which it was seen). A track unseen for more than :attr:`TrackerConfig.max_missed` steps is dropped.
:meth:`Tracker.percept` returns the tracks seen at least :attr:`TrackerConfig.min_hits` times (fewer during the
first steps) as a :class:`~perception.objects.Percept`, named with :func:`~perception.perceivers.base.assign_ids`,
with a confidence that grows with hits and with agreement of the votes. Everything is deterministic.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from groundsight.perception.objects import Evidence, Percept, SceneObject, Vec3
from groundsight.perception.perceivers.base import assign_ids

log = logging.getLogger(__name__)


class TrackerConfig(BaseModel):
    """How a :class:`Tracker` associates, fuses and forgets."""

    model_config = ConfigDict(frozen=True)

    gate_xy: float = Field(0.04, gt=0.0, description="largest xy centre distance of an association, metres")
    type_penalty: float = Field(0.02, ge=0.0, description="cost added when the types differ, metres")
    color_penalty: float = Field(0.01, ge=0.0, description="cost added when the colours differ, metres")
    min_hits: int = Field(2, ge=1, description="steps a track must be seen in to be reported")
    max_missed: int = Field(5, ge=0, description="a track unseen for more steps than this is dropped")
    max_evidence: int = Field(10, ge=1, description="evidence items kept per track (the newest)")
    decay: float = Field(0.8, gt=0.0, le=1.0, description="weight kept by past observations at every step")
    min_weight: float = Field(0.05, gt=0.0, description="weight of an observation reported with confidence 0")


@dataclass
class Track:
    """One object followed over time: votes, a weighted 3D box, evidence and counts."""

    key: int
    colors: dict[str, float] = field(default_factory=dict)
    types: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, float] = field(default_factory=dict)
    position: Vec3 = (0.0, 0.0, 0.0)
    extent: Vec3 = (0.0, 0.0, 0.0)
    yaw: float = 0.0
    weight: float = 0.0
    evidence: deque[Evidence] = field(default_factory=deque)
    hits: int = 0
    observations: int = 0
    confidence_sum: float = 0.0
    missed: int = 0
    last_step: int = -1

    @property
    def color(self) -> str:
        """The colour with the highest summed confidence (ties: the first one voted for)."""
        return _winner(self.colors)

    @property
    def type(self) -> str:
        """The type with the highest summed confidence (ties: the first one voted for)."""
        return _winner(self.types)

    @property
    def size(self) -> str | None:
        """The size with the highest summed confidence, or None if no observation gave one."""
        return _winner(self.sizes) if self.sizes else None

    def agreement(self) -> float:
        """Share of the colour votes times share of the type votes held by the winners (1: unanimous)."""
        return _share(self.colors) * _share(self.types)

    def confidence(self) -> float:
        """Mean observed confidence, compounded over hits (``1 - (1 - c)^hits``), times the vote agreement."""
        mean = self.confidence_sum / max(self.observations, 1)
        return max(0.0, min(1.0, (1.0 - (1.0 - mean) ** self.hits) * self.agreement()))

    def observe(self, obj: SceneObject, step: int, config: TrackerConfig) -> None:
        """Fold one observation into the track (several per step when several cameras see it)."""
        w = max(obj.confidence, config.min_weight)
        if self.last_step != step:
            self.weight *= config.decay  # forget a little at every new step
            self.hits += 1
            self.last_step = step
        total = self.weight + w
        self.position = _blend(self.position, obj.position, self.weight, w, total)
        self.extent = _blend(self.extent, obj.extent, self.weight, w, total)
        if w >= self.weight:
            self.yaw = obj.yaw  # angles do not average well: keep the yaw of the strongest recent observation
        self.weight = total
        self.colors[obj.color] = self.colors.get(obj.color, 0.0) + w
        self.types[obj.type] = self.types.get(obj.type, 0.0) + w
        if obj.size is not None:
            self.sizes[obj.size] = self.sizes.get(obj.size, 0.0) + w
        self.evidence.extend(obj.evidence)
        while len(self.evidence) > config.max_evidence:
            self.evidence.popleft()
        self.observations += 1
        self.confidence_sum += obj.confidence
        self.missed = 0

    def to_object(self) -> SceneObject:
        """The fused object (id ``track<key>`` until :func:`assign_ids` names it)."""
        return SceneObject(
            id=f"track{self.key}",
            type=self.type,
            color=self.color,
            size=self.size,
            position=_round(self.position),
            extent=_round(self.extent),
            yaw=round(self.yaw, 6),
            confidence=round(self.confidence(), 4),
            evidence=tuple(self.evidence),
        )


class Tracker:
    """Fuses percepts over time and cameras into tracks (see the module docstring).

    Args:
        config: association, fusion and forgetting settings.

    Attributes:
        tracks: the live tracks, in creation order.
        steps: the number of :meth:`update` calls so far.
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.tracks: list[Track] = []
        self.steps = 0
        self._next_key = 0
        self._cameras: list[str] = []
        self._perceivers: list[str] = []
        self._t = 0.0

    def update(self, percepts: Percept | Iterable[Percept]) -> None:
        """Fold in the percepts of one time step (one per camera, or a single one) and age the unseen tracks."""
        batch = [percepts] if isinstance(percepts, Percept) else list(percepts)
        step = self.steps
        self.steps += 1
        for percept in batch:
            self._t = max(self._t, percept.t)
            for cam in percept.cameras:
                if cam not in self._cameras:
                    self._cameras.append(cam)
            if percept.perceiver not in self._perceivers:
                self._perceivers.append(percept.perceiver)
            self._associate(percept.objects, step)
        kept = []
        for track in self.tracks:
            if track.last_step != step:
                track.missed += 1
            if track.missed <= self.config.max_missed:
                kept.append(track)
            else:
                log.debug(
                    "dropped track %d (%s %s) after %d missed steps", track.key, track.color, track.type, track.missed
                )
        self.tracks = kept

    def _associate(self, objects: Sequence[SceneObject], step: int) -> None:
        """Greedy one-to-one association of ``objects`` to tracks; the unmatched start new tracks."""
        cfg = self.config
        objects = sorted(objects, key=lambda o: (o.id, o.position))
        pairs: list[tuple[float, int, int]] = []
        for i, obj in enumerate(objects):
            for j, track in enumerate(self.tracks):
                d = math.dist(obj.position[:2], track.position[:2])
                if d >= cfg.gate_xy:
                    continue
                cost = d + cfg.type_penalty * (obj.type != track.type) + cfg.color_penalty * (obj.color != track.color)
                pairs.append((cost, i, j))
        used_o: set[int] = set()
        used_t: set[int] = set()
        for _, i, j in sorted(pairs):
            if i in used_o or j in used_t:
                continue
            used_o.add(i)
            used_t.add(j)
            self.tracks[j].observe(objects[i], step, cfg)
        for i, obj in enumerate(objects):
            if i not in used_o:
                track = Track(key=self._next_key, position=obj.position, extent=obj.extent, yaw=obj.yaw)
                self._next_key += 1
                track.observe(obj, step, cfg)
                self.tracks.append(track)

    def percept(self) -> Percept:
        """The fused percept: tracks seen in at least ``min_hits`` steps (or in every step so far, if fewer)."""
        need = min(self.config.min_hits, max(self.steps, 1))
        objects = [t.to_object() for t in self.tracks if t.hits >= need]
        name = "+".join(self._perceivers) or "none"
        return Percept(objects=assign_ids(objects), cameras=list(self._cameras), perceiver=f"tracked:{name}", t=self._t)

    def reset(self) -> None:
        """Forget every track."""
        self.__init__(self.config)  # type: ignore[misc]


def _winner(votes: dict[str, float]) -> str:
    return max(votes, key=votes.__getitem__)  # max keeps the first of equals: the incumbent wins a tie


def _share(votes: dict[str, float]) -> float:
    total = sum(votes.values())
    return votes[_winner(votes)] / total if total > 0 else 1.0


def _blend(old: Vec3, new: Vec3, w_old: float, w_new: float, total: float) -> Vec3:
    return tuple((w_old * a + w_new * b) / total for a, b in zip(old, new, strict=True))  # type: ignore[return-value]


def _round(v: Vec3) -> Vec3:
    return (round(v[0], 6), round(v[1], 6), round(v[2], 6))


__all__ = ["Track", "Tracker", "TrackerConfig"]
