"""One-line descriptions of pydantic validation errors: per error for every file format (``FILE: FIELD: PROBLEM``),
and a whole error as one line for tool calls and model answers (:func:`error_line`)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from groundsight.inputs import clip, one_line

_SHOW_INPUT = ("float_parsing", "float_type", "int_parsing", "int_type", "list_type")


def field_path(loc: tuple[Any, ...]) -> str:
    """``scene.objects[0].color`` from pydantic's ``('scene', 'objects', 0, 'color')``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def describe_error(error: dict[str, Any]) -> str:
    """A short human description of one pydantic error (with the offending input for type errors)."""
    if error["type"] == "missing":
        return "missing required field"
    if error["type"] == "extra_forbidden":
        return "unknown field"
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in _SHOW_INPUT:
        return f"{msg} (got {clip(error.get('input'))})"
    return msg


def error_line(exc: ValidationError) -> str:
    """A pydantic error as one line: the first error's dotted field path and message, and how many more there are
    (``b: Field required (and 1 more)``)."""
    errors = exc.errors()
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return one_line(f"{loc + ': ' if loc else ''}{first['msg']}{more}")
