"""The reasoner names :func:`groundsight.agent.loop.runner.make_reasoner` knows, in a module that imports
nothing, so the command line can check and list them without loading LangGraph or the knowledge graph."""

from __future__ import annotations

REASONERS: tuple[str, ...] = ("rules", "llm")
"""``rules`` (grammar + knowledge graph + planner) or ``llm`` (a chat model whose claims are verified)."""
