"""Reasoning: instruction -> logical form, referent resolution, chain of thought, planning and verification.

Depends on ``perception`` (scene objects, relations, frames) and ``knowledge`` (the knowledge base).
Names are imported lazily, so that ``import reasoning.logical_form`` does not load the planner or lark.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Program": "reasoning.logical_form",
    "NounPhrase": "reasoning.logical_form",
    "InstructionError": "reasoning.language",
    "Lexicon": "reasoning.language",
    "parse": "reasoning.language",
    "Atom": "reasoning.predicates",
    "PlanStep": "reasoning.planner",
    "Resolver": "reasoning.referents",
    "RulesReasoner": "reasoning.reasoner",
    "Binding": "reasoning.thought",
    "CheckResult": "reasoning.thought",
    "Thought": "reasoning.thought",
    "ThoughtStep": "reasoning.thought",
    "Verifier": "reasoning.verifier",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'reasoning' has no attribute {name!r}")
