"""Wall-clock timings of a run, kept out of the trace so that ``trace.jsonl`` stays deterministic.

A :class:`Timer` lives on the :class:`~groundsight.agent.loop.graph.Runtime`; the graph's nodes and the look inside
them add phases to it (``perceive``, ``reason``, ``verify``, ``act``, ``observe``, ``needs_clarification`` for the
node itself; ``render``, ``perception``, ``screen``, ``frames`` inside a look), and the checkpointer's writes add
``checkpoint`` (one entry per write). The runner takes the phases after every graph step and appends them to
``timing.jsonl`` next to the trace, one :class:`StepTiming` a line; ``python -m benchmarks.latency`` reads it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel

TIMING_FILE = "timing.jsonl"


class StepTiming(BaseModel):
    """One line of ``timing.jsonl``: what one graph step spent, in seconds."""

    step: int
    """The step's number in ``trace.jsonl``."""
    node: str
    at: float
    """Wall-clock time (``time.time()``) when the step was recorded."""
    seconds: dict[str, float]
    """Total seconds per phase during the step (the node's own name for the whole node)."""
    checkpoint: list[float] = []
    """Seconds of each checkpoint write since the previous step."""


class Timer:
    """Accumulates seconds per phase until :meth:`take` hands them over."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.checkpoint: list[float] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the wall time of the ``with`` block to phase ``name``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` with every call's wall time added to phase ``name``."""

        @functools.wraps(fn)  # LangGraph reads a node's signature and type hints through ``__wrapped__``
        def call(*args: Any, **kwargs: Any) -> Any:
            with self.phase(name):
                return fn(*args, **kwargs)

        return call

    def time_checkpoints(self, saver: Any) -> Any:
        """Time every write of a LangGraph checkpointer (``put``, ``put_writes``) into :attr:`checkpoint`."""
        for method in ("put", "put_writes"):
            original = getattr(saver, method)

            def write(*args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.checkpoint.append(time.perf_counter() - started)

            setattr(saver, method, write)
        return saver

    def take(self, step: int, node: str) -> StepTiming:
        """The phases since the last call, as the record of graph step ``step``; starts afresh."""
        record = StepTiming(
            step=step,
            node=node,
            at=time.time(),
            seconds={k: round(v, 6) for k, v in sorted(self.seconds.items())},
            checkpoint=[round(v, 6) for v in self.checkpoint],
        )
        self.seconds, self.checkpoint = {}, []
        return record
