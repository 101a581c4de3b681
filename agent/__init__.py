"""Agent: the LangGraph graph, agent state, scenarios, runner, evaluation and the command line.

The only package where perception, reasoning, knowledge and sim meet. Importing it registers the
gymnasium environment ``groundsight/Tabletop-v0`` (see :mod:`groundsight.agent.tasks.scenario_env`).
"""

import gymnasium as _gym

if "groundsight/Tabletop-v0" not in _gym.registry:
    _gym.register(
        id="groundsight/Tabletop-v0",
        entry_point="groundsight.agent.tasks.scenario_env:make_env",
        max_episode_steps=None,
    )
