"""Package layout: the repository's top-level folders are installed as one namespace, ``groundsight``.

``agent/``, ``perception/``, ``reasoning/``, ``knowledge/``, ``sim/`` and ``scenarios/`` stay at the repository
root (the project's fixed layout) and are mapped to ``groundsight.agent``, ``groundsight.perception``, ... with
setuptools' ``package_dir``, so a user's own ``agent.py`` or ``sim.py`` never shadows ours. Everything else is
in ``pyproject.toml``; this file only lists the packages, which ``pyproject.toml`` cannot compute for a mapping.
"""

from setuptools import find_packages, setup

ROOTS = ("agent", "perception", "reasoning", "knowledge", "sim", "scenarios")


def mapped_packages() -> tuple[list[str], dict[str, str]]:
    """Every package under each root, named inside ``groundsight``, and the folder of each root."""
    packages = ["groundsight"]
    package_dir = {"groundsight": "groundsight"}
    for root in ROOTS:
        package_dir[f"groundsight.{root}"] = root
        packages += [f"groundsight.{root}", *(f"groundsight.{root}.{sub}" for sub in find_packages(root))]
    return packages, package_dir


PACKAGES, PACKAGE_DIR = mapped_packages()
setup(packages=PACKAGES, package_dir=PACKAGE_DIR)
