"""groundsight: embodied agents that reason before they act.

One import namespace over the repository's top-level folders (see ``setup.py``)::

    groundsight.agent       the decision loop, tasks, evaluation, training and the command line
    groundsight.perception  frames, camera sources, perceivers, the scene graph
    groundsight.reasoning   instruction -> goal, referents, chain of thought, planning, verification
    groundsight.knowledge   the rdflib knowledge base, ontology and SHACL shapes
    groundsight.sim         the PyBullet world, robot, objects, cameras, skills, simulator truth
    groundsight.scenarios   the packaged scenario suites (YAML)

Nothing heavy is imported here, so ``import groundsight`` and ``groundsight --help`` start at once.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("groundsight")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
