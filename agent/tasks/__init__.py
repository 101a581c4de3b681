"""Tasks: the scenario model, goals and the success check, the scripted solver, the gym env task."""
