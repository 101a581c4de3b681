"""The robot interface the agent acts through: the PyBullet Panda implements it, and so can a real robot.

A real robot driver implements these methods (for example over ROS 2 MoveIt and a gripper action
server) and is passed to :func:`agent.graph.build_graph` in place of the simulated one. Geometry is
always what the agent perceived, in the world frame of ``DESIGN.md`` (metres, radians).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

Vec3 = tuple[float, float, float]


class SkillOutcome(Protocol):
    """What a skill reports: ``ok``, a short machine reason on failure, a human message."""

    skill: str
    ok: bool
    reason: str | None
    message: str
    detail: dict[str, Any]


@runtime_checkable
class RobotInterface(Protocol):
    """Skill-level robot API."""

    def pick(self, position: Vec3, extent: Vec3, yaw: float) -> SkillOutcome:
        """Grasp the object whose axis-aligned box has this centre and size, and lift it."""
        ...

    def place(self, position: Vec3) -> SkillOutcome:
        """Put the held object down with its bottom at ``position``, release it, retreat."""
        ...

    def handover(self) -> SkillOutcome:
        """Hold the grasped object out to the person (in the handover zone) and wait, still holding it."""
        ...

    def home(self) -> SkillOutcome:
        """Move out of the cameras' view, keeping whatever is held."""
        ...

    @property
    def holding(self) -> bool:
        """Proprioception: is something held between the fingers?"""
        ...
