"""The decision loop's graph has only its real transitions, the documented ones, and episodes keep to them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langgraph.graph import END, START

from groundsight.agent.loop.graph import EDGES, ROUTERS, after_perceive, after_verify, path_map
from groundsight.agent.loop.runner import RunConfig, run_episode
from groundsight.agent.loop.state import AgentState
from groundsight.agent.loop.studio import make_graph
from groundsight.agent.tasks.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[3]
MERMAID = ROOT / "docs" / "graph.mmd"
REGENERATE = (
    'python -c "import sys; from groundsight.agent.loop.studio import make_graph; '
    'sys.stdout.write(make_graph().get_graph().draw_mermaid())" > docs/graph.mmd'
)


@pytest.fixture(scope="module")
def studio_graph():
    """The graph ``langgraph.json`` serves (LangGraph Studio, ``langgraph dev``), drawn as LangGraph sees it."""
    return make_graph({"configurable": {"perception": "oracle"}}).get_graph()


def test_the_compiled_graph_has_exactly_the_documented_edges(studio_graph) -> None:
    compiled = {(edge.source, edge.target) for edge in studio_graph.edges}
    assert compiled == set(EDGES), f"undocumented: {compiled - EDGES}; missing: {EDGES - compiled}"
    assert len(compiled) < 58  # every node wired to every target was 58 edges


def test_the_committed_diagram_is_the_compiled_graph(studio_graph) -> None:
    assert studio_graph.draw_mermaid() == MERMAID.read_text(encoding="utf-8"), f"regenerate it: {REGENERATE}"


def test_each_router_maps_only_to_its_own_documented_targets() -> None:
    for node, router in ROUTERS.items():
        targets = set(path_map(router))
        assert targets == {target for source, target in EDGES if source == node}, node
    assert "failed" in path_map(after_perceive) and "act" not in path_map(after_perceive)


def test_a_route_outside_the_routers_targets_is_an_error() -> None:
    assert after_verify(AgentState(instruction="x", route="reason")) == "reason"
    with pytest.raises(ValueError, match="'act' is not a transition"):
        after_perceive(AgentState(instruction="x", route="act"))


def _transitions(trace: Path) -> list[tuple[str, str]]:
    """The node sequence of a trace as (source, target) pairs, from START to END (interrupts are pauses)."""
    nodes = [json.loads(line)["node"] for line in trace.read_text(encoding="utf-8").splitlines()]
    nodes = [START, *(n for n in nodes if n != "__interrupt__")]
    if nodes[-1] in ("succeeded", "failed", "refused"):
        nodes.append(END)
    return list(zip(nodes, nodes[1:], strict=False))


@pytest.mark.parametrize(
    ("scenario", "options", "answers", "status", "must_visit"),
    [
        ("pick_place/red_block_in_blue_bowl", {}, [], "succeeded", {("observe", "act"), ("observe", "succeeded")}),
        ("pick_place/block_into_block_refuse", {}, [], "refused", {("verify", "refused")}),
        (
            "pick_place/two_blue_bowls_ask",
            {},
            ["the purple one", "the left one"],
            "succeeded",
            {("needs_clarification", "needs_clarification"), ("needs_clarification", "reason")},
        ),
        ("infeasible/ambiguous_block_ask", {"verify": False}, [], "succeeded", {("verify", "reason")}),
    ],
)
def test_episodes_only_take_documented_edges(
    tmp_path: Path, scenario: str, options: dict, answers: list[str], status: str, must_visit: set[tuple[str, str]]
) -> None:
    summary = run_episode(
        load_scenario(ROOT / "scenarios" / f"{scenario}.yaml"),
        RunConfig(seed=1, perception="oracle", **options),
        tmp_path,
        answers=answers,
    )
    assert summary.status == status, summary.reason
    taken = _transitions(tmp_path / "trace.jsonl")
    assert set(taken) <= EDGES, f"undocumented transitions: {set(taken) - EDGES}"
    assert must_visit <= set(taken)
