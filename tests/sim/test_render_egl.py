"""The EGL renderer plugin, where the machine has one (Mesa's software EGL counts); skipped otherwise."""

from __future__ import annotations

import pytest

from groundsight.perception.perceivers import make_perceiver
from groundsight.sim.bodies import ObjectSpec
from groundsight.sim.world import World


def test_egl_frames_perceive_like_tiny_renderer(monkeypatch) -> None:
    monkeypatch.setenv("GROUNDSIGHT_RENDERER", "egl")
    with World() as world:
        if world.renderer != "egl":
            pytest.skip("PyBullet's EGL plugin does not load on this machine")
        world.add_object(ObjectSpec("red_block", "block", "red", x=0.5, y=0.1))
        world.add_object(ObjectSpec("blue_bowl", "bowl", "blue", x=0.6, y=-0.1))
        world.settle()
        percept = make_perceiver("classical").perceive([world.cameras[0].read()])
        truth = world.truth_by_id()
    seen = {o.description: o for o in percept.objects}
    assert set(seen) == {"red block", "blue bowl"}
    for oid, words in (("red_block", "red block"), ("blue_bowl", "blue bowl")):
        assert all(abs(a - b) < 0.01 for a, b in zip(seen[words].position, truth[oid].position, strict=True))
