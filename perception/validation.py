"""One-line descriptions of pydantic validation errors, for every file format (``FILE: FIELD: PROBLEM``)."""

from __future__ import annotations

from typing import Any

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
        return f"{msg} (got {error.get('input')!r})"
    return msg
