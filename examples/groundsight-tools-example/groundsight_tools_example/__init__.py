"""Example groundsight tools: a measurement in centimetres and a perception query.

Each tool is a function whose first parameter takes the :class:`agent.loop.tools.ToolContext`; its other parameters
are typed, and its docstring is the description a language model reads (the ``Args:`` lines describe the
arguments). :func:`tools` is what the ``groundsight.tools`` entry point names.
"""

from __future__ import annotations

import math

from groundsight.agent.loop.tools import Tool, ToolContext, ToolError, tool


@tool(kind="measure")
def distance_between(ctx: ToolContext, a: str, b: str) -> float:
    """Distance in centimetres between two perceived objects' centres in the table plane, to a millimetre.

    Args:
        a: id of a perceived object
        b: id of another perceived object
    """
    oa, ob = ctx.object(a, "a"), ctx.object(b, "b")
    return round(100 * math.hypot(oa.position[0] - ob.position[0], oa.position[1] - ob.position[1]), 1)


@tool(kind="perception")
def count_colour(ctx: ToolContext, colour: str) -> int:
    """How many perceived objects have this colour.

    Args:
        colour: a colour word, e.g. red
    """
    word = colour.strip().lower()
    if not word:
        raise ToolError("colour: empty")
    return sum(o.color == word for o in ctx.percept.objects)


def tools() -> list[Tool]:
    """The tools of this package (the entry point's target)."""
    return [distance_between, count_colour]
