"""Reading untrusted input files safely: decoded, size- and depth-limited, finite, one-line errors.

Every file format groundsight reads (scenario and calibration YAML, Turtle, JSON journals) goes through these
helpers, so a hostile or damaged file gives ``FILE: FIELD: PROBLEM`` on one line and never a traceback, a hang
or a silently wrong value. This module depends on nothing else of groundsight; every package may use it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 2_000_000
"""Largest input file read (scenario, calibration, Turtle): 2 MB, far above any real one."""

MAX_DEPTH = 32
"""Deepest nesting of mappings and lists accepted in a YAML file."""

MAX_MESSAGE_VALUE = 80
"""Longest value echoed in an error message; longer ones are clipped."""


class InputFileError(ValueError):
    """A file cannot be read as the format it should be. ``str()`` is one line: ``FILE: FIELD: PROBLEM``."""

    def __init__(self, path: str | Path, field: str, problem: str) -> None:
        self.path, self.field, self.problem = str(path), field, one_line(problem, 200)
        super().__init__(f"{path}: {field}: {self.problem}")


def one_line(text: object, limit: int = 300) -> str:
    """``text`` on one line, whitespace collapsed, clipped to ``limit`` characters with an ellipsis."""
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def clip(value: object, limit: int = MAX_MESSAGE_VALUE) -> str:
    """``repr(value)`` clipped for an error message (a 100 kB value never floods the terminal)."""
    return one_line(repr(value), limit)


def read_text(path: str | Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a file; :class:`InputFileError` if it is missing, not a file, too large or not UTF-8."""
    path = Path(path)
    try:
        if not path.is_file():
            problem = "No such file or directory" if not path.exists() else "not a regular file"
            raise InputFileError(path, "(file)", f"cannot read: {problem}")
        size = path.stat().st_size
        if size > limit:
            raise InputFileError(path, "(file)", f"too large ({size:,} bytes; the limit is {limit:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, "(file)", f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "(file)", f"not UTF-8 text (byte {exc.start})") from None


class _NoDuplicateKeys:
    """Mixin for a safe YAML loader: reject duplicate keys (YAML says they are an error; PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key (a list or mapping as key)
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {clip(key)}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]


@functools.cache
def strict_loader(base: type[yaml.SafeLoader] = yaml.SafeLoader) -> type[yaml.SafeLoader]:
    """A loader class deriving from ``base`` (a SafeLoader subclass) that rejects duplicate keys."""
    return type(f"Strict{base.__name__}", (_NoDuplicateKeys, base), {})


def _depth_of(node: yaml.Node, limit: int) -> int:
    """Nesting depth of a composed YAML node tree, stopping early once past ``limit`` (iterative: no recursion)."""
    stack, deepest = [(node, 1)], 0
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(current, yaml.MappingNode):
            stack.extend((child, depth + 1) for pair in current.value for child in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in current.value)
    return deepest


def load_yaml(text: str, path: str | Path, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> Any:
    """Parse YAML text safely: duplicate keys, nesting past :data:`MAX_DEPTH`, aliases and syntax errors are
    :class:`InputFileError` naming the line."""
    strict = strict_loader(loader)
    if _flow_depth(text) > MAX_DEPTH:
        raise InputFileError(path, "(yaml)", f"nested deeper than {MAX_DEPTH} levels")
    try:
        node = yaml.compose(text, Loader=strict)  # noqa: S506 - a SafeLoader subclass
        if node is None:
            return None
        if _depth_of(node, MAX_DEPTH) > MAX_DEPTH:
            raise InputFileError(path, "(yaml)", f"nested deeper than {MAX_DEPTH} levels")
        if "*" in text and _has_alias(text, strict):
            raise InputFileError(path, "(yaml)", "YAML aliases (*name) are not accepted")
        return strict(text).get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(yaml)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputFileError(path, where, f"invalid YAML: {problem}") from None
    except RecursionError:
        raise InputFileError(path, "(yaml)", "nested too deeply") from None


def _flow_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` outside quoted strings (checked before parsing: PyYAML recurses, and a
    document 5,000 brackets deep takes seconds to fail)."""
    depth = deepest = 0
    for token in re.finditer(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'|[\[\]{}]", text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in "]}":
            depth = max(0, depth - 1)
    return deepest


def _has_alias(text: str, loader: type[yaml.SafeLoader]) -> bool:
    """True if the YAML text uses an alias (``*name``): aliases allow exponential 'billion laughs' documents."""
    return any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=loader))  # noqa: S506


def non_finite_path(value: Any, where: str = "") -> str | None:
    """The field path of the first NaN or infinite number inside ``value`` (mappings and lists), or None."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        current, at = stack.pop()
        if isinstance(current, float) and not math.isfinite(current):
            return at or "(top level)"
        if isinstance(current, dict):
            stack.extend((v, f"{at}.{k}" if at else str(k)) for k, v in current.items())
        elif isinstance(current, list | tuple):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(current))
    return None


def load_yaml_file(path: str | Path, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> Any:
    """Read and parse a YAML file with every check of :func:`read_text` and :func:`load_yaml`, and reject
    NaN and infinite numbers anywhere in it."""
    data = load_yaml(read_text(path), path, loader)
    bad = non_finite_path(data)
    if bad is not None:
        raise InputFileError(path, bad, "must be a finite number (NaN and infinity are not accepted)")
    return data


class TimeLimitExceeded(RuntimeError):
    """Work on a user's input ran past its time limit (see :func:`time_limit`)."""


@contextlib.contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` inside the block once ``seconds`` have passed (pure-Python work such as a
    SPARQL query or an OWL-RL closure is interrupted between bytecodes). Uses a real-time interval timer, so it
    applies in the main thread of a process; elsewhere the block runs unbounded (callers add their own bounds)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def _expired(signum: int, frame: Any) -> None:
        raise TimeLimitExceeded(f"{what} took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
