"""Perceivers: frames in, :class:`~perception.objects.Percept` out, chosen by name.

- ``classical``: OpenCV colour/shape segmentation of RGB-D frames (CPU, no downloads).
- ``oracle``: simulator truth through a :class:`TruthSource` (the upper bound).
- ``vlm``: any transformers image-text-to-text model from a local path or hub id (``model=...``); without
  one, groundsight's own compact model shipped in the package (``groundsight.perception.vlm.perceiver.DEFAULT_VLM``).
- ``vlm-server``: any OpenAI-compatible chat-completions server with image input (``base_url=...``,
  ``model=...``, ``family=...``; API key from ``GROUNDSIGHT_VLM_API_KEY`` or ``OPENAI_API_KEY``).
- ``detector``: an OWLv2 open-vocabulary detector from a local path or hub id (``model=...``, ``queries=...``).
- ``noisy:<inner>``: wraps another perceiver and injects hallucinations at seeded rates (for evaluation).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from groundsight.perception.perceivers.names import MORE_PERCEIVERS, NOISY_PREFIX, PERCEIVERS, is_perceiver_name

if TYPE_CHECKING:
    from groundsight.perception.perceivers.base import Perceiver, PerceptionError, assign_ids
    from groundsight.perception.perceivers.classical import CATALOGUE, ClassicalConfig, ClassicalPerceiver, ShapeModel
    from groundsight.perception.perceivers.noisy import Injection, NoiseRates, NoisyPerceiver
    from groundsight.perception.perceivers.oracle import OraclePerceiver, TruthObject, TruthSource

_LAZY: dict[str, str] = {
    **dict.fromkeys(("Perceiver", "PerceptionError", "assign_ids"), "base"),
    **dict.fromkeys(("CATALOGUE", "ClassicalConfig", "ClassicalPerceiver", "ShapeModel"), "classical"),
    **dict.fromkeys(("Injection", "NoiseRates", "NoisyPerceiver"), "noisy"),
    **dict.fromkeys(("OraclePerceiver", "TruthObject", "TruthSource"), "oracle"),
}
"""Names this package re-exports from its submodules, imported when first used (OpenCV loads with
``classical``), so that importing the package, or :mod:`.names` through it, costs nothing."""


def __getattr__(name: str) -> Any:
    """The re-exported name from its submodule (PEP 562), imported on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def make_perceiver(
    name: str,
    truth: TruthSource | None = None,
    *,
    noise: float = 0.2,
    seed: int = 0,
    noise_rates: NoiseRates | None = None,
    model: str | None = None,
    device: str = "cpu",
    dtype: str | None = None,
    queries: Sequence[str] | None = None,
    family: str | None = None,
    base_url: str | None = None,
) -> Perceiver:
    """The perceiver called ``name``.

    Args:
        name: one of :data:`PERCEIVERS` or :data:`MORE_PERCEIVERS`.
        truth: the source of truth; required by ``oracle`` (also inside ``noisy:oracle``), ignored by the others.
        noise: rate of every injection of a ``noisy:`` perceiver.
        seed: seed of a ``noisy:`` perceiver's random stream.
        noise_rates: individual rates of a ``noisy:`` perceiver (overrides ``noise``).
        model: local path or hub id of the ``vlm`` or ``detector`` perceiver's model (``vlm`` default: the
            shipped compact model).
        device: ``vlm``'s or ``detector``'s device (``cpu``, ``cuda``).
        dtype: their dtype (``float32``, ``bfloat16``); default bfloat16 on a GPU, float32 on CPU.
        queries: the ``detector``'s query phrases (default: every colour-type phrase of the vocabulary).
        family: the ``vlm`` model family's adapter (``groundsight.perception.vlm.families``; default: from the
            model config's ``model_type``; ``vlm-server``: from the model name).
        base_url: the ``vlm-server`` API root (``http://host:port/v1``); ``model`` is then the served model's name.

    Raises:
        ValueError: unknown name, ``oracle`` without a truth source, ``detector`` without a model, ``vlm-server``
            without a base URL or model name.
        PerceptionError: the ``vlm`` or ``detector`` model cannot be loaded (a ValueError too).
    """
    if name.startswith(NOISY_PREFIX):
        inner = name[len(NOISY_PREFIX) :]
        known = (*PERCEIVERS, "vlm", "vlm-server", "detector")
        if inner not in known:
            raise ValueError(
                f"unknown perceiver {name!r}: no inner perceiver {inner!r}; known inner: {', '.join(known)}"
            )
        from groundsight.perception.perceivers.noisy import NoisyPerceiver

        base = make_perceiver(
            inner, truth, model=model, device=device, dtype=dtype, queries=queries, family=family, base_url=base_url
        )
        return NoisyPerceiver(base, rate=noise, seed=seed, rates=noise_rates)
    if name == "classical":
        from groundsight.perception.perceivers.classical import ClassicalPerceiver

        return ClassicalPerceiver()
    if name == "oracle":
        if truth is None:
            raise ValueError("perceiver 'oracle' needs a truth source (make_perceiver('oracle', truth=...))")
        from groundsight.perception.perceivers.oracle import OraclePerceiver

        return OraclePerceiver(truth)
    if name == "vlm":
        from groundsight.perception.vlm.perceiver import DEFAULT_VLM, VLMPerceiver

        return VLMPerceiver(model or str(DEFAULT_VLM), device=device, dtype=dtype, family=family)
    if name == "vlm-server":
        if not base_url or not model:
            raise ValueError(
                "perceiver 'vlm-server' needs a base URL and a model name (make_perceiver('vlm-server', "
                "base_url='http://localhost:8000/v1', model=...))"
            )
        from groundsight.perception.vlm.server import VLMServerPerceiver

        return VLMServerPerceiver(base_url, model, family=family)
    if name == "detector":
        if not model:
            raise ValueError(
                "perceiver 'detector' needs a model path or hub id (make_perceiver('detector', model=...))"
            )
        from groundsight.perception.perceivers.detector import DetectorPerceiver

        return DetectorPerceiver(model, device=device, dtype=dtype, queries=queries)
    raise ValueError(f"unknown perceiver {name!r}; known: {', '.join((*PERCEIVERS, *MORE_PERCEIVERS))}")


__all__ = [
    "CATALOGUE",
    "MORE_PERCEIVERS",
    "PERCEIVERS",
    "ClassicalConfig",
    "ClassicalPerceiver",
    "Injection",
    "NoiseRates",
    "NoisyPerceiver",
    "OraclePerceiver",
    "Perceiver",
    "PerceptionError",
    "ShapeModel",
    "TruthObject",
    "TruthSource",
    "assign_ids",
    "is_perceiver_name",
    "make_perceiver",
]
