"""Agent: the LangGraph graph, agent state, scenarios, runner, evaluation and the command line.

The only package where perception, reasoning, knowledge and sim meet.
"""
