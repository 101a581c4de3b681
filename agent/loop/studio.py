"""The agent graph for the LangGraph dev server and LangGraph Studio (``langgraph.json`` points here).

``langgraph dev`` (from ``pip install "langgraph-cli[inmem]"``) calls :func:`make_graph` with the run's
config; its ``configurable`` may name a ``scenario`` file, a ``seed``, a ``perception`` and a ``reasoner``
(default: the demo scenario, seed 0, classical, rules). The graph is compiled without a checkpointer: the
server brings its own, so ``needs_clarification`` interrupts and resumes from Studio. The input is an
:class:`~groundsight.agent.loop.state.AgentState`; at least ``{"instruction": "Put the red block in the blue bowl."}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.graph.state import CompiledStateGraph

from groundsight.agent.loop.graph import Runtime, build_graph
from groundsight.agent.loop.runner import make_reasoner
from groundsight.agent.tasks.scenario import DEMO_SCENARIO, load_scenario
from groundsight.agent.tasks.sim_bridge import SimTruthSource, build_world
from groundsight.knowledge import KnowledgeBase
from groundsight.perception.evidence import colour_contradiction
from groundsight.perception.perceivers import make_perceiver
from groundsight.reasoning.verifier import Verifier
from groundsight.sim.skills import Skills

DEMO = DEMO_SCENARIO


def make_graph(config: dict[str, Any] | None = None) -> CompiledStateGraph:
    """A compiled graph over a freshly built simulated scene."""
    options = (config or {}).get("configurable", {})
    scenario = load_scenario(options.get("scenario", DEMO))
    seed = int(options.get("seed", 0))
    world = build_world(scenario, np.random.default_rng(seed))
    kb = KnowledgeBase(options.get("kg_files", ()))
    verifier = Verifier(kb, colour_probe=colour_contradiction)
    runtime = Runtime(
        cameras=world.cameras,
        perceiver=make_perceiver(options.get("perception", "classical"), truth=SimTruthSource(world), seed=seed),
        reasoner=make_reasoner(options.get("reasoner", "rules"), kb, verifier),
        verifier=verifier,
        kb=kb,
        robot=Skills(world),
    )
    return build_graph(runtime).compile()
