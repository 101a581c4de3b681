"""The names :func:`~groundsight.perception.perceivers.make_perceiver` knows, in a module that imports nothing,
so the command line can check and list them without loading OpenCV or a model."""

from __future__ import annotations

PERCEIVERS: tuple[str, ...] = ("classical", "oracle")
"""Base names :func:`make_perceiver` knows without further options (see also :data:`MORE_PERCEIVERS`)."""

MORE_PERCEIVERS: tuple[str, ...] = (
    "vlm",
    *(f"noisy:{n}" for n in (*PERCEIVERS, "vlm")),
    "vlm-server",
    "noisy:vlm-server",
    "detector",
    "noisy:detector",
)
"""Further names: ``vlm`` (default: the shipped model), ``detector`` (needs ``model=``) and ``noisy:<inner>``."""

NOISY_PREFIX = "noisy:"
"""The prefix of a perceiver that wraps another and injects hallucinations."""


def is_perceiver_name(name: str) -> bool:
    """True if :func:`make_perceiver` knows ``name`` (options aside)."""
    return name in PERCEIVERS or name in MORE_PERCEIVERS
