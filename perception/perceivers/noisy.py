"""``noisy:<inner>``: a perceiver that wraps another one and injects hallucinations at set, seeded rates.

It exists for evaluation: it makes a good perceiver fail in known ways, and records every failure it made
(:class:`Injection`), so a harness can tell whether the verifier caught each one. The kinds:

- ``phantom``: an object that is not there: a random colour and type, at a free spot of the table, with a
  fabricated evidence box (the projection of its 3D box into the first camera). Rate per ``perceive`` call.
- ``color_swap``: an object reported in another colour. Rate per object.
- ``type_swap``: an object reported as another type (extent of that type's medium size). Rate per object.
- ``position_noise``: Gaussian noise (``sigma`` metres) on an object's table x, y. Rate per object.
- ``missed``: an object dropped from the percept. Rate per object; a missed object suffers nothing else.

The random stream is seeded once, at construction: the same seed and the same sequence of calls (and
inner percepts) give the same output. With all rates 0 the inner percept's objects come out unchanged.
Objects are renamed with :func:`~perception.perceivers.base.assign_ids` after a change, so a recolored
``red_block`` is reported as, say, ``blue_block``; :attr:`Injection.object_id` is the id in the returned
percept (for ``missed``, the inner id of the dropped object) and ``detail["inner_id"]`` the inner one;
``detail["at"]`` is the claimed table x, y (for ``missed``: where the dropped object is), for accounting.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from groundsight.perception.colors import BASE_COLOR_NAMES
from groundsight.perception.frame import Frame
from groundsight.perception.objects import Evidence, Percept, SceneObject
from groundsight.perception.perceivers.base import Perceiver, assign_ids
from groundsight.perception.perceivers.boxes import project_box
from groundsight.perception.perceivers.classical import CATALOGUE

log = logging.getLogger(__name__)

InjectionKind = Literal["phantom", "color_swap", "type_swap", "position_noise", "missed"]
INJECTION_KINDS: tuple[str, ...] = ("phantom", "color_swap", "type_swap", "position_noise", "missed")
"""Every kind of injection, in the order they are applied to an object (phantoms last)."""

_MEDIUM = {m.type: m.sizes["medium"] for m in CATALOGUE}
TABLE_AREA: tuple[tuple[float, float], tuple[float, float]] = ((0.30, 0.75), (-0.30, 0.30))
"""Table x and y ranges (world frame, metres) where phantoms are placed: the reachable tabletop."""


class Injection(BaseModel):
    """One fault the noisy perceiver injected.

    Attributes:
        kind: what was done.
        object_id: the object's id in the returned percept (for ``missed``: its id in the inner percept).
        detail: what changed, e.g. ``{"inner_id": "red_block", "from": "red", "to": "blue"}``.
        call: index (from 0) of the ``perceive`` call that made it.
    """

    model_config = ConfigDict(frozen=True)

    kind: InjectionKind
    object_id: str
    detail: dict[str, Any] = Field(default_factory=dict)
    call: int = 0


class NoiseRates(BaseModel):
    """Probabilities of each injection (per object; ``phantom``: per call) and the position noise scale."""

    model_config = ConfigDict(frozen=True)

    phantom: float = Field(0.0, ge=0.0, le=1.0)
    color_swap: float = Field(0.0, ge=0.0, le=1.0)
    type_swap: float = Field(0.0, ge=0.0, le=1.0)
    position_noise: float = Field(0.0, ge=0.0, le=1.0)
    missed: float = Field(0.0, ge=0.0, le=1.0)
    sigma: float = Field(0.03, ge=0.0, description="standard deviation of position noise, metres")

    @classmethod
    def uniform(cls, rate: float, **overrides: float) -> NoiseRates:
        """Every kind at ``rate``, except those given in ``overrides`` (e.g. ``missed=0.0``, ``sigma=0.05``)."""
        values: dict[str, float] = dict.fromkeys(INJECTION_KINDS, rate)
        values.update(overrides)
        return cls(**values)


class NoisyPerceiver:
    """Wraps ``inner`` and injects phantoms, colour and type swaps, position noise and misses.

    Args:
        inner: the perceiver whose percepts are corrupted.
        rate: the rate of every kind unless ``rates`` is given.
        seed: seed of the random stream (one stream for the perceiver's life).
        rates: individual rates (overrides ``rate``); build with :meth:`NoiseRates.uniform` to vary one.

    Attributes:
        injections: every injection so far, in order (see :attr:`Injection.call`).
        last_injections: those of the latest ``perceive`` call.
    """

    def __init__(self, inner: Perceiver, rate: float = 0.2, seed: int = 0, rates: NoiseRates | None = None) -> None:
        self.inner = inner
        self.rates = rates or NoiseRates.uniform(rate)
        self.seed = seed
        self.name = f"noisy:{inner.name}"
        self._rng = np.random.default_rng(seed)
        self.calls = 0
        self.injections: list[Injection] = []
        self.last_injections: list[Injection] = []

    def perceive(self, frames: Sequence[Frame]) -> Percept:
        """The inner percept, corrupted; the injections are in :attr:`last_injections`."""
        frames = list(frames)
        percept = self.inner.perceive(frames)
        rng, rates, call = self._rng, self.rates, self.calls
        self.calls += 1
        kept: list[SceneObject] = []
        pending: list[tuple[int, str, dict[str, Any]]] = []  # (index in kept, kind, detail)
        records: list[Injection] = []
        for obj in sorted(percept.objects, key=lambda o: o.id):
            draws = rng.random(4)  # always four draws per object: the stream does not depend on outcomes
            if draws[0] < rates.missed:
                at = (round(obj.position[0], 4), round(obj.position[1], 4))
                records.append(
                    Injection(kind="missed", object_id=obj.id, detail={"inner_id": obj.id, "at": at}, call=call)
                )
                continue
            new = obj
            if draws[1] < rates.color_swap:
                to = str(rng.choice([c for c in BASE_COLOR_NAMES if c != obj.color]))
                new = new.model_copy(update={"color": to})
                pending.append((len(kept), "color_swap", {"inner_id": obj.id, "from": obj.color, "to": to}))
            if draws[2] < rates.type_swap:
                to = str(rng.choice([t for t in _MEDIUM if t != obj.type]))
                length, width, height = _MEDIUM[to]
                z = new.position[2] - new.extent[2] / 2 + height / 2
                new = new.model_copy(
                    update={
                        "type": to,
                        "size": "medium",
                        "extent": (length, width, height),
                        "position": (new.position[0], new.position[1], z),
                    }
                )
                pending.append((len(kept), "type_swap", {"inner_id": obj.id, "from": obj.type, "to": to}))
            if draws[3] < rates.position_noise:
                dx, dy = (float(v) for v in rng.normal(0.0, rates.sigma, 2))
                x, y, z = new.position
                new = new.model_copy(update={"position": (x + dx, y + dy, z)})
                pending.append((len(kept), "position_noise", {"inner_id": obj.id, "offset": (dx, dy)}))
            kept.append(new)
        if rng.random() < rates.phantom:
            phantom = self._phantom(kept, frames)
            if phantom is not None:
                pending.append((len(kept), "phantom", {"color": phantom.color, "type": phantom.type}))
                kept.append(phantom)
        if not pending and not records:
            self.last_injections = []
            return percept.model_copy(update={"perceiver": self.name})
        # Rename (a recoloured object has a new name) and follow each object to its new id.
        tagged = [o.model_copy(update={"id": f"__{i}"}) for i, o in enumerate(kept)]
        named = assign_ids(tagged)
        renamed = {}
        for tag, final in zip(tagged, _match(tagged, named), strict=True):
            renamed[tag.id] = final.id
        for index, kind, detail in pending:
            at = (round(kept[index].position[0], 4), round(kept[index].position[1], 4))  # where it is claimed
            records.append(
                Injection(kind=kind, object_id=renamed[f"__{index}"], detail={**detail, "at": at}, call=call)  # type: ignore[arg-type]
            )
        for rec in records:
            log.debug("injected %s on %s: %s", rec.kind, rec.object_id, rec.detail)
        self.last_injections = records
        self.injections.extend(records)
        return percept.model_copy(update={"objects": named, "perceiver": self.name})

    def _phantom(self, objects: Sequence[SceneObject], frames: Sequence[Frame]) -> SceneObject | None:
        """A plausible object of random colour and type at a free table spot, with a fabricated box."""
        rng = self._rng
        color = str(rng.choice(BASE_COLOR_NAMES))
        (xlo, xhi), (ylo, yhi) = TABLE_AREA
        for attempt in range(60):
            if attempt % 20 == 0:  # a new type every 20 tries: a small one fits where a tray does not
                kind = str(rng.choice(list(_MEDIUM)))
                length, width, height = _MEDIUM[kind]
                radius = max(length, width) / 2
            x = float(rng.uniform(xlo + length / 2, xhi - length / 2))
            y = float(rng.uniform(ylo + width / 2, yhi - width / 2))
            if all(
                math.dist((x, y), o.position[:2]) > radius + max(o.extent[0], o.extent[1]) / 2 + 0.01 for o in objects
            ):
                break
        else:
            log.debug("no free table spot for a phantom")
            return None
        position = (x, y, height / 2)
        extent = (length, width, height)
        evidence: tuple[Evidence, ...] = ()
        for frame in frames:
            box = project_box(frame, position, extent)
            if box is not None:
                area = (box[2] - box[0]) * (box[3] - box[1])
                evidence = (Evidence(camera=frame.camera, box=box, pixels=int(0.6 * area)),)
                break
        if not evidence:  # no camera sees that spot: a small made-up box all the same
            evidence = (Evidence(camera=frames[0].camera if frames else "camera", box=(0, 0, 16, 16), pixels=150),)
        return SceneObject(
            id=f"{color}_{kind}",
            type=kind,
            color=color,
            size="medium",
            position=position,
            extent=extent,
            confidence=round(float(rng.uniform(0.5, 0.95)), 4),
            evidence=evidence,
        )


def _match(tagged: Sequence[SceneObject], named: Sequence[SceneObject]) -> list[SceneObject]:
    """For each of ``tagged``, the object of ``named`` it became (same everything but the id)."""
    pool = list(named)
    out = []
    for obj in tagged:
        key = obj.model_dump(exclude={"id"})
        for i, cand in enumerate(pool):
            if cand.model_dump(exclude={"id"}) == key:
                out.append(pool.pop(i))
                break
        else:  # cannot happen: assign_ids changes ids only
            raise AssertionError(f"lost object {obj.id} while renaming")
    return out
