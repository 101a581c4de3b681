"""Typed chain of thought: steps, bindings and check verdicts, all serialisable for the trace."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from perception.objects import Evidence
from reasoning.instruction import Goal, Referent
from reasoning.planner import PlanStep

Outcome = Literal["refuse", "ask", "reperceive"]
"""What the agent does when a check fails: refuse, ask the user, or look again."""


class CheckResult(BaseModel):
    """The verdict of one named check on one claim."""

    model_config = ConfigDict(frozen=True)

    name: str
    claim: str
    passed: bool
    reason: str = ""
    on_fail: Outcome = "refuse"
    facts: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()

    def line(self) -> str:
        mark = "ok" if self.passed else "FAIL"
        return f"[{mark}] {self.name}: {self.claim}" + ("" if self.passed else f" -- {self.reason}")


class EvidenceRef(BaseModel):
    """An object and where it was seen."""

    model_config = ConfigDict(frozen=True)

    object_id: str
    evidence: tuple[Evidence, ...] = ()


class ThoughtStep(BaseModel):
    """One step of the chain of thought."""

    kind: Literal["describe", "parse", "resolve", "knowledge", "goal", "plan", "verify"]
    text: str
    evidence: list[EvidenceRef] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    checks: list[CheckResult] = Field(default_factory=list)


class Binding(BaseModel):
    """A referent and the perceived objects that match it."""

    role: Literal["object", "target"]
    referent: Referent
    candidates: list[str]

    @property
    def chosen(self) -> str | None:
        """The single matching object id, or None when there are none or several."""
        return self.candidates[0] if len(self.candidates) == 1 else None


class Thought(BaseModel):
    """The reasoner's output: the chain of thought, the goal, its bindings and the plan."""

    steps: list[ThoughtStep] = Field(default_factory=list)
    goal: Goal | None = None
    parse_error: str | None = None
    bindings: list[Binding] = Field(default_factory=list)
    plan: list[PlanStep] = Field(default_factory=list)

    def binding(self, role: str) -> Binding | None:
        return next((b for b in self.bindings if b.role == role), None)
