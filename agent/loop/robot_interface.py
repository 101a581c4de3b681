"""The robot interface the agent acts through: the PyBullet Panda implements it, and so can a real robot.

A real robot driver implements these methods (for example over ROS 2 MoveIt and a gripper action
server) and is passed to :func:`groundsight.agent.loop.graph.build_graph` in place of the simulated one. Geometry is
always what the agent perceived, in the world frame of ``docs/contract.md`` (metres, radians).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
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


@dataclass(frozen=True)
class RecordedOutcome:
    """A skill outcome read back from the robot journal."""

    skill: str
    ok: bool
    reason: str | None
    message: str
    detail: dict[str, Any]


class RecordingRobot:
    """A :class:`RobotInterface` that passes every call on and writes it, once done, to a journal.

    The journal (one JSON object per line: ``method``, ``args`` and the outcome) is what ``groundsight run
    --resume`` replays on a freshly built simulated world to bring it back to where a killed run left it.
    Calls the journal holds but the agent's last checkpoint does not (the process died between the two) are
    ``pending``: when the resumed graph makes the same call again, its recorded outcome is returned and the
    robot does not move a second time. A call that was still running when the process died is not in the
    journal: it was not completed, so it runs.
    """

    def __init__(
        self, robot: RobotInterface, journal: str | None = None, done: int = 0, pending: list[dict[str, Any]] = ()
    ) -> None:
        self.robot = robot
        self.journal = journal
        self.count = done
        """Completed calls, those replayed before this object existed included."""
        self.pending = list(pending)

    def _call(self, method: str, *args: Any) -> SkillOutcome:
        plain = [list(a) if isinstance(a, tuple) else a for a in args]
        self.count += 1
        if self.pending and self.pending[0]["method"] == method and self.pending[0]["args"] == plain:
            entry = self.pending.pop(0)
            return RecordedOutcome(
                **{**entry["outcome"], "detail": {**entry["outcome"]["detail"], "from_journal": True}}
            )
        self.pending = []
        outcome = getattr(self.robot, method)(*args)
        if self.journal is not None:
            recorded = {
                "skill": outcome.skill,
                "ok": outcome.ok,
                "reason": outcome.reason,
                "message": outcome.message,
                "detail": {k: v for k, v in outcome.detail.items() if k != "wall_time_s"},
            }
            append_line(self.journal, json.dumps({"method": method, "args": plain, "outcome": recorded}))
        return outcome

    def pick(self, position: Vec3, extent: Vec3, yaw: float) -> SkillOutcome:
        return self._call("pick", position, extent, yaw)

    def place(self, position: Vec3) -> SkillOutcome:
        return self._call("place", position)

    def handover(self) -> SkillOutcome:
        return self._call("handover")

    def home(self) -> SkillOutcome:
        return self._call("home")

    @property
    def holding(self) -> bool:
        return self.robot.holding


class JournalError(ValueError):
    """A robot journal is damaged before its last line (a torn last line is only what a kill leaves)."""


def append_line(path: str, line: str) -> None:
    """Append one line with a single write and fsync it, so a kill leaves either the whole line or a torn tail."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_journal(journal: str) -> list[dict[str, Any]]:
    """The calls of a robot journal, in order. A torn last line (a kill in mid-write) is dropped, so that call
    runs again on resume; damage anywhere else raises :class:`JournalError` naming the line."""
    with open(journal, "rb") as fh:
        lines = fh.read().split(b"\n")
    calls: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
            if not isinstance(entry, dict) or not {"method", "args", "outcome"} <= entry.keys():
                raise ValueError("not a journal entry")
        except ValueError as exc:
            if number >= len(lines) - 1 and not raw.endswith(b"}"):
                break  # the torn tail of the last write
            raise JournalError(f"{journal}: line {number}: damaged ({str(exc)[:80]})") from None
        calls.append(entry)
    return calls


def replay(robot: RobotInterface, calls: list[dict[str, Any]]) -> None:
    """Make the calls of a journal on ``robot`` (a simulated robot then ends where the recorded one was)."""
    for entry in calls:
        getattr(robot, entry["method"])(*(tuple(a) if isinstance(a, list) else a for a in entry["args"]))
