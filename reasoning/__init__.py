"""Reasoning: instruction -> logical form, referent resolution, chain of thought, planning and verification.

Depends on ``perception`` (scene objects, relations, frames) and ``groundsight.knowledge`` (the knowledge base).
Names are imported lazily, so that ``import reasoning.logical_form`` does not load the planner or lark.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Program": "groundsight.reasoning.logical_form",
    "NounPhrase": "groundsight.reasoning.logical_form",
    "InstructionError": "groundsight.reasoning.language",
    "Lexicon": "groundsight.reasoning.language",
    "parse": "groundsight.reasoning.language",
    "Atom": "groundsight.reasoning.predicates",
    "PlanStep": "groundsight.reasoning.placement",
    "Resolver": "groundsight.reasoning.referents",
    "RulesReasoner": "groundsight.reasoning.reasoner",
    "Binding": "groundsight.reasoning.thought",
    "CheckResult": "groundsight.reasoning.thought",
    "Thought": "groundsight.reasoning.thought",
    "ThoughtStep": "groundsight.reasoning.thought",
    "Verifier": "groundsight.reasoning.verifier",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'groundsight.reasoning' has no attribute {name!r}")
