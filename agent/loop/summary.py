"""``summary.json``: the outcome of one episode, in a module that imports nothing heavy (the report reads it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Summary(BaseModel):
    """``summary.json``: the outcome of one episode."""

    scenario: str
    seed: int
    status: str
    expected: str
    passed: bool
    steps: int
    wall_time_s: float
    reason: str
    question: str | None = None
    perception: str
    reasoner: str
    goal_satisfied: bool | None = None
    moved: list[str] = []
    actions: int = 0
    looks: int = 0
    verify: bool = True
    injections: list[dict[str, Any]] = []
