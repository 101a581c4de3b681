"""Reasoning: instruction -> goal, referent resolution, chain of thought, planning and verification.

Depends on ``perception`` (scene objects, relations, frames) and ``knowledge`` (the knowledge base).
"""

from reasoning.instruction import Goal, InstructionError, Referent, parse_instruction
from reasoning.planner import Plan, PlanStep
from reasoning.reasoner import RulesReasoner
from reasoning.thought import Binding, CheckResult, Thought, ThoughtStep
from reasoning.verifier import Verifier

__all__ = [
    "Binding",
    "CheckResult",
    "Goal",
    "InstructionError",
    "Plan",
    "PlanStep",
    "Referent",
    "RulesReasoner",
    "Thought",
    "ThoughtStep",
    "Verifier",
    "parse_instruction",
]
