"""The decision loop: the LangGraph graph, its state, the robot interface, runner, twin, tools."""
