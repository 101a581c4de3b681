"""Multi-camera fusion (:func:`groundsight.perception.perceivers.boxes.fuse`), one function for every perceiver."""

from __future__ import annotations

from groundsight.perception.objects import Evidence, SceneObject
from groundsight.perception.perceivers.boxes import fuse


def view(camera: str, kind: str, position: tuple[float, float, float], confidence: float, pixels: int = 100):
    """A red object of ``kind`` as one camera saw it."""
    return SceneObject(
        id=f"red_{kind}",
        type=kind,
        color="red",
        position=position,
        extent=(0.04, 0.04, 0.04),
        confidence=confidence,
        evidence=(Evidence(camera=camera, box=(0, 0, 10, 10), pixels=pixels),),
    )


def test_views_of_one_name_merge_weighted_by_confidence() -> None:
    top = view("top", "block", (0.50, 0.00, 0.02), 0.9)
    side = view("side", "block", (0.51, 0.00, 0.02), 0.3)
    far = view("side", "block", (0.60, 0.00, 0.02), 0.8)
    fused = fuse([[top], [side, far]], distance=0.04)
    assert len(fused) == 2
    merged = next(o for o in fused if len(o.evidence) == 2)
    assert {e.camera for e in merged.evidence} == {"top", "side"}
    assert merged.confidence == 0.9
    assert abs(merged.position[0] - (0.9 * 0.50 + 0.3 * 0.51) / 1.2) < 1e-12


def test_one_camera_never_merges_with_itself() -> None:
    a, b = view("top", "block", (0.50, 0.0, 0.02), 0.9), view("top", "block", (0.51, 0.0, 0.02), 0.8)
    assert len(fuse([[a, b]], distance=0.04)) == 2


def test_type_vote_merges_same_coloured_views_of_different_types() -> None:
    sure = view("top", "mug", (0.50, 0.0, 0.04), 0.9, pixels=100)
    unsure_but_large = view("side", "bowl", (0.51, 0.0, 0.04), 0.4, pixels=300)
    assert len(fuse([[sure], [unsure_but_large]], distance=0.03)) == 2  # without the vote: two names, two objects
    (voted,) = fuse([[sure], [unsure_but_large]], distance=0.03, vote_type=True)
    assert voted.type == "mug"  # 0.81 * 100 outvotes 0.16 * 300
    assert voted.position == sure.position  # only the winning type's views place it
    assert len(voted.evidence) == 2
    share = 0.81 * 100 / (0.81 * 100 + 0.16 * 300)
    assert voted.confidence == round(share * 0.9, 4)


def test_type_vote_needs_height_as_well_as_footprint_close() -> None:
    low, high = view("top", "block", (0.5, 0.0, 0.02), 0.9), view("side", "block", (0.5, 0.0, 0.07), 0.9)
    assert len(fuse([[low], [high]], distance=0.03, vote_type=True)) == 2
