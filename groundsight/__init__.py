"""groundsight: embodied agents that reason before they act.

One import namespace over the repository's top-level folders (see ``setup.py``)::

    groundsight.agent       the decision loop, tasks, evaluation, training and the command line
    groundsight.perception  frames, camera sources, perceivers, the scene graph
    groundsight.reasoning   instruction -> goal, referents, chain of thought, planning, verification
    groundsight.knowledge   the rdflib knowledge base, ontology and SHACL shapes
    groundsight.sim         the PyBullet world, robot, objects, cameras, skills, simulator truth
    groundsight.scenarios   the packaged scenario suites (YAML)

Nothing heavy is imported here, so ``import groundsight`` and ``groundsight --help`` start at once (even
``__version__`` is looked up when first read: ``importlib.metadata`` costs tens of milliseconds).
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``__version__``, from the installed package's metadata on first use (PEP 562)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("groundsight")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
