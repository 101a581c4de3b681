"""The checkpoint's serializer accepts every type the agent state can hold.

LangGraph's serializer refuses (logs "Blocked deserialization" and hands back a plain dict) any type not on
its allow list; a type missing there silently breaks ``run --resume``. The list is derived from the state's
annotations, and this test reads back a real classical-perception checkpoint to show nothing was blocked.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from groundsight.agent.loop.runner import RunConfig, _checkpoint_types, open_checkpointer, run_episode
from groundsight.agent.loop.state import AgentState
from groundsight.agent.tasks.scenario import load_scenario
from groundsight.perception.perceivers.classical import ClassicalPercept
from groundsight.reasoning import logical_form as lf

ROOT = Path(__file__).resolve().parents[3]


def test_every_command_and_percept_type_is_allowed() -> None:
    allowed = {name for _, name in _checkpoint_types()}
    commands = {cls.__name__ for cls in (lf.Put, lf.HandOver, lf.Lift, lf.Shift, lf.Stack, lf.Sort)}
    assert commands <= allowed
    assert {"AgentState", "ClassicalPercept", "SceneObject", "Thought", "CheckResult"} <= allowed


def test_a_classical_checkpoint_reads_back_unblocked(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "pick_place" / "red_block_in_blue_bowl.yaml")
    summary = run_episode(scenario, RunConfig(perception="classical", seed=0), tmp_path)
    assert summary.status == "succeeded"
    saver = open_checkpointer(tmp_path / "checkpoint.sqlite")
    with caplog.at_level(logging.WARNING):
        values = [t.checkpoint["channel_values"] for t in saver.list(None)]
    assert not [r for r in caplog.records if "Blocked" in r.getMessage()]
    percepts = [v["percept"] for v in values if v.get("percept") is not None]
    assert percepts and all(isinstance(p, ClassicalPercept) for p in percepts)
    AgentState.model_validate({k: v for k, v in values[0].items() if k in AgentState.model_fields})
