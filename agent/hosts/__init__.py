"""The agent in a world it did not build: the host's cameras, robot, named places and success check.

:func:`run_in_host` runs one episode through the same decision loop as a scenario run;
:class:`PyBulletCamera` renders frames from any PyBullet client; :class:`NamedPlace` makes a point of the
host's world ("the target") something the instruction can name; :class:`Appearance` calibrates the
classical perceiver to the host's paints. Adapters: :mod:`groundsight.agent.hosts.panda_gym`.
See ``docs/host-worlds.md``.
"""

from groundsight.agent.hosts.api import HostResult, run_in_host
from groundsight.agent.hosts.appearance import Appearance
from groundsight.agent.hosts.camera import PyBulletCamera, translation
from groundsight.agent.hosts.places import NamedPlace

__all__ = ["Appearance", "HostResult", "NamedPlace", "PyBulletCamera", "run_in_host", "translation"]
