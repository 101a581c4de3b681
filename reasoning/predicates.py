"""Ground symbolic atoms: the vocabulary shared by goals, the planner and the plan checker."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Atom(BaseModel):
    """A ground predicate such as ``inside(red_block, blue_bowl)`` or ``handed_over(red_mug)``.

    Goal predicates are those of the scenario file's goal (``inside``, ``on``, ``left_of``, ``right_of``,
    ``in_front_of``, ``behind``, ``near``, ``handed_over``); the planner adds its own state predicates
    (``holding``, ``hand_empty``, ``clear``, ``on_table``).
    """

    model_config = ConfigDict(frozen=True)

    predicate: str
    args: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.predicate}({', '.join(self.args)})"

    def __str__(self) -> str:
        return self.text


def atom(predicate: str, *args: str) -> Atom:
    """Shorthand: ``atom("on", "a", "b")``."""
    return Atom(predicate=predicate, args=tuple(args))
