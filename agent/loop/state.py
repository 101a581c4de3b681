"""The typed agent state that flows through the LangGraph graph and is checkpointed to SQLite."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from groundsight.perception.objects import Percept
from groundsight.reasoning.thought import CheckResult, Thought

Status = Literal["running", "succeeded", "failed", "refused", "needs_clarification"]
TERMINAL: tuple[Status, ...] = ("succeeded", "failed", "refused", "needs_clarification")


class ActionRecord(BaseModel):
    """One skill the robot executed, and what it reported."""

    step: str
    skill: str
    ok: bool
    reason: str | None = None
    message: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class AgentState(BaseModel):
    """Everything the agent knows between graph steps (serialisable; no simulator handles)."""

    instruction: str
    max_steps: int = 30
    max_retries: int = 2
    max_looks: int = Field(3, description="most looks again in a row before the verifier's doubt is a refusal")
    status: Status = "running"
    reason: str = ""
    question: str | None = None
    percept: Percept | None = None
    relations: list[tuple[str, str, str]] = Field(default_factory=list)
    thought: Thought | None = None
    checks: list[CheckResult] = Field(default_factory=list)
    plan_index: int = 0
    actions: list[ActionRecord] = Field(default_factory=list)
    held: str | None = Field(None, description="the object the robot picked and still holds")
    expected: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="where moved objects were put (x, y), to keep their ids at the next look"
    )
    asking: str | None = Field(None, description="the binding key of the pending question")
    answers: dict[str, list[str]] = Field(default_factory=dict, description="binding key -> objects the person chose")
    frame_files: list[str] = Field(default_factory=list, description="the stored frames of the latest look")
    robot_calls: int = Field(0, description="robot calls completed so far (what a resumed run replays)")
    screen: list[CheckResult] = Field(default_factory=list, description="the screening checks of the latest look")
    doubtful: bool = Field(False, description="that screen found a contradicted claim or an unclaimed object")
    retries: int = 0
    looks: int = 0
    relooks: int = Field(0, description="looks again asked for by the verifier since the last action")
    steps: int = 0
    route: str = ""
