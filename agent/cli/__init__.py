"""The ``groundsight`` command line: one module per command group, registered here in the order ``--help``
lists them.

- :mod:`.app`: the typer app, shared checks and one-line errors, ``main``
- :mod:`.run`: ``run`` (one episode)
- :mod:`.evaluate`: ``eval``, ``solve``, ``report``
- :mod:`.camera`: ``camera`` (a real camera feed)
- :mod:`.training`: ``datagen``, ``train-vlm``
- :mod:`.scenarios`, :mod:`.kg`, :mod:`.tools`: the ``scenarios``, ``kg`` and ``tools`` groups
"""

from __future__ import annotations

from groundsight.agent.cli import camera, evaluate, kg, run, scenarios, tools, training
from groundsight.agent.cli.app import app, main, result_line

app.command()(run.run)
app.command("eval")(evaluate.evaluate)
app.command()(evaluate.solve)
app.command()(camera.camera)
app.command()(evaluate.report)
app.command()(training.datagen)
app.command("train-vlm")(training.train_vlm)
app.add_typer(scenarios.scenarios_app, name="scenarios")
app.add_typer(kg.kg_app, name="kg")
app.add_typer(tools.tools_app, name="tools")

__all__ = ["app", "main", "result_line"]
