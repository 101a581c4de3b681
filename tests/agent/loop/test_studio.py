"""``langgraph.json``: the LangGraph dev server and Studio load the graph from the path it names."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from groundsight.agent.loop.state import AgentState

ROOT = Path(__file__).resolve().parents[3]


def test_langgraph_json_names_a_graph_that_runs() -> None:
    spec = json.loads((ROOT / "langgraph.json").read_text())
    path, _, attr = spec["graphs"]["groundsight"].partition(":")
    module_spec = importlib.util.spec_from_file_location("studio_graph", ROOT / path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    graph = getattr(module, attr)({"configurable": {"perception": "oracle", "seed": 1}})
    assert {"perceive", "reason", "verify", "act", "observe", "needs_clarification"} <= set(graph.get_graph().nodes)
    final = graph.invoke(AgentState(instruction="Put the red block in the blue bowl."), {"recursion_limit": 100})
    assert final["status"] == "succeeded"
