"""Typed chain of thought: steps, bindings and check verdicts, all serialisable for the trace."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from groundsight.perception.objects import Evidence
from groundsight.reasoning.logical_form import NounPhrase, Program
from groundsight.reasoning.placement import PlanStep
from groundsight.reasoning.predicates import Atom
from groundsight.reasoning.referents import Problem

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


StepKind = Literal["describe", "parse", "llm", "resolve", "knowledge", "goal", "plan", "verify"]


class ThoughtStep(BaseModel):
    """One step of the chain of thought: its text, the evidence and knowledge it rests on, its checks."""

    kind: StepKind
    text: str
    evidence: list[EvidenceRef] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    checks: list[CheckResult] = Field(default_factory=list)


class Binding(BaseModel):
    """A noun phrase of the instruction and the perceived objects it denotes."""

    key: str = Field(description="where the phrase sits in the program, e.g. 'step1.object'")
    role: Literal["object", "target", "reference"]
    phrase: NounPhrase
    candidates: list[str] = Field(default_factory=list, description="objects that fit the description")
    chosen: list[str] = Field(default_factory=list, description="objects meant; empty unless problem is ok")
    problem: Problem = "ok"
    reason: str = ""
    claimed: list[str] | None = Field(None, description="what a language model claimed, checked against chosen")
    answer: str | None = Field(None, description="the person's answer that settled an ambiguity")

    @property
    def text(self) -> str:
        return self.phrase.describe()


class Thought(BaseModel):
    """The reasoner's output: the chain of thought, the program, its bindings, the goal and the plan."""

    steps: list[ThoughtStep] = Field(default_factory=list)
    program: Program | None = None
    reading: Program | None = Field(
        None, description="the grammar's own reading of the instruction, when a language model gave the program"
    )
    parse_error: str | None = None
    bindings: list[Binding] = Field(default_factory=list)
    goal: list[list[Atom]] = Field(default_factory=list, description="goal atoms per stage, in order")
    goal_error: str | None = Field(None, description="why the bindings give no goal (e.g. a sort with no partner)")
    plan: list[PlanStep] = Field(default_factory=list)
    plan_error: str | None = None
    plan_problems: list[str] = Field(default_factory=list, description="what the independent plan check found")

    def binding(self, key: str) -> Binding | None:
        return next((b for b in self.bindings if b.key == key), None)

    @property
    def goal_atoms(self) -> list[Atom]:
        """All goal atoms, every stage, in order."""
        return [a for stage in self.goal for a in stage]
