"""Agent: the LangGraph graph, agent state, scenarios, runner, evaluation and the command line.

The only package where perception, reasoning, knowledge and sim meet. Importing it registers the
gymnasium environment ``groundsight/Tabletop-v0`` (see :mod:`groundsight.agent.tasks.scenario_env`): at once
when gymnasium is already imported, else the moment it is. Importing gymnasium here would cost the command line
half a second (it loads numpy) before ``groundsight --help`` prints a word.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType

ENV_ID = "groundsight/Tabletop-v0"
"""The gymnasium id of the scenario environment (same as :data:`groundsight.agent.tasks.scenario_env.ENV_ID`)."""


def register_env(gym: Any) -> None:
    """Register ``groundsight/Tabletop-v0`` with the gymnasium module ``gym`` (once)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="groundsight.agent.tasks.scenario_env:make_env", max_episode_steps=None)


class _RegisterOnGymnasiumImport:
    """A ``sys.meta_path`` finder that registers the env right after ``gymnasium`` is first imported, then
    removes itself. (Duck-typed: importing ``importlib.abc`` for its base class costs tens of milliseconds.)"""

    def find_spec(self, fullname: str, path: Any = None, target: ModuleType | None = None) -> ModuleSpec | None:
        """``gymnasium``'s spec from the finders after this one, its loader wrapped to register the env."""
        if fullname != "gymnasium":
            return None
        sys.meta_path.remove(self)
        spec = next(
            filter(None, (f.find_spec(fullname, path, target) for f in sys.meta_path if hasattr(f, "find_spec"))), None
        )
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run_module = loader.exec_module

        def exec_then_register(module: ModuleType) -> None:
            run_module(module)
            register_env(module)

        loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


if "gymnasium" in sys.modules:
    register_env(sys.modules["gymnasium"])
elif not any(isinstance(f, _RegisterOnGymnasiumImport) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterOnGymnasiumImport())
