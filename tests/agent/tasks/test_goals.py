"""Goal predicates on hand-built simulator-truth states, with the documented tolerances."""

from __future__ import annotations

import pytest

from groundsight.agent.tasks.goals import goal_holds, moved_objects
from groundsight.sim.truth import ObjectTruth


def box(oid: str, x: float, y: float, z_bottom: float, size: tuple[float, float, float]) -> ObjectTruth:
    return ObjectTruth(
        id=oid,
        body=0,
        type="block",
        color="red",
        size="medium",
        position=(x, y, z_bottom + size[2] / 2),
        extent=size,
        base_position=(x, y, z_bottom),
        orientation=(0, 0, 0, 1),
    )


BOWL = box("bowl", 0.6, 0.0, 0.0, (0.16, 0.16, 0.05))
PLATE = box("plate", 0.4, 0.2, 0.0, (0.2, 0.2, 0.015))


@pytest.mark.parametrize(
    ("goal", "cube", "expected"),
    [
        ({"inside": ["cube", "bowl"]}, box("cube", 0.6, 0.0, 0.006, (0.05,) * 3), True),
        ({"inside": ["cube", "bowl"]}, box("cube", 0.75, 0.0, 0.0, (0.05,) * 3), False),  # beside the bowl
        ({"inside": ["cube", "bowl"]}, box("cube", 0.6, 0.0, 0.05, (0.05,) * 3), False),  # on the rim
        ({"on": ["cube", "plate"]}, box("cube", 0.42, 0.18, 0.015, (0.05,) * 3), True),
        ({"on": ["cube", "plate"]}, box("cube", 0.42, 0.18, 0.08, (0.05,) * 3), False),  # hovering
        ({"left_of": ["cube", "bowl"]}, box("cube", 0.6, 0.1, 0.0, (0.05,) * 3), True),
        ({"right_of": ["cube", "bowl"]}, box("cube", 0.6, 0.1, 0.0, (0.05,) * 3), False),
        ({"in_front_of": ["cube", "bowl"]}, box("cube", 0.4, 0.0, 0.0, (0.05,) * 3), True),
        ({"behind": ["cube", "bowl"]}, box("cube", 0.4, 0.0, 0.0, (0.05,) * 3), False),
        ({"near": ["cube", "bowl"]}, box("cube", 0.7, 0.05, 0.0, (0.05,) * 3), True),
        ({"on_table": ["cube"]}, box("cube", 0.3, 0.0, 0.0, (0.05,) * 3), True),
        ({"on_table": ["cube"]}, box("cube", 0.42, 0.18, 0.015, (0.05,) * 3), False),
        ({"not": {"on_table": ["cube"]}}, box("cube", 0.42, 0.18, 0.015, (0.05,) * 3), True),
        ({"lifted": ["cube"]}, box("cube", 0.45, 0.1, 0.15, (0.05,) * 3), True),  # held in the air
        ({"lifted": ["cube"]}, box("cube", 0.45, 0.1, 0.0, (0.05,) * 3), False),  # on the table
        ({"lifted": ["cube"]}, box("cube", 0.6, 0.0, 0.05, (0.05,) * 3), False),  # resting on the bowl's rim
        (
            {"any": [{"inside": ["cube", "bowl"]}, {"on": ["cube", "plate"]}]},
            box("cube", 0.4, 0.2, 0.015, (0.05,) * 3),
            True,
        ),
        (
            {"all": [{"inside": ["cube", "bowl"]}, {"on": ["cube", "plate"]}]},
            box("cube", 0.4, 0.2, 0.015, (0.05,) * 3),
            False,
        ),
    ],
)
def test_predicates(goal, cube, expected) -> None:
    truth = {"bowl": BOWL, "plate": PLATE, "cube": cube}
    assert goal_holds(goal, truth, truth) is expected


def test_stacked_and_unchanged() -> None:
    a = box("a", 0.5, 0.0, 0.0, (0.05,) * 3)
    b = box("b", 0.5, 0.0, 0.05, (0.05,) * 3)
    c = box("c", 0.51, 0.0, 0.10, (0.05,) * 3)
    truth = {"a": a, "b": b, "c": c}
    assert goal_holds({"stacked": ["c", "b", "a"]}, truth, truth)
    assert not goal_holds({"stacked": ["a", "b", "c"]}, truth, truth)
    before = {**truth, "c": box("c", 0.3, 0.0, 0.0, (0.05,) * 3)}
    assert not goal_holds({"unchanged": ["c"]}, truth, before)
    assert goal_holds({"unchanged": ["a", "b"]}, truth, before)
    assert moved_objects(truth, before) == ["c"]


def test_handed_over_means_held_in_the_zone() -> None:
    held = box("cube", 0.55, 0.0, 0.25, (0.05,) * 3)
    resting = box("cube", 0.55, 0.0, 0.0, (0.05,) * 3)
    assert goal_holds({"handed_over": ["cube"]}, {"cube": held}, {"cube": resting})
    assert not goal_holds({"handed_over": ["cube"]}, {"cube": resting}, {"cube": resting})
