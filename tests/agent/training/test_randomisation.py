"""``datagen --randomise``: domain randomisation (real PyBullet DIRECT, TinyRenderer, a few small scenes)."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pybullet as p
import pytest

from groundsight.agent.training import randomisation as rnd
from groundsight.agent.training.datagen import DatagenConfig, generate, populate_scaled, scene_spec
from groundsight.perception.colors import BASE_COLOR_NAMES, REFERENCE_ALBEDO, classify_color
from groundsight.perception.perceivers.boxes import project_box
from groundsight.sim.bodies import ObjectSpec, footprint_radius
from groundsight.sim.world import World

SEED, SCENES, SIZE, CAMERAS = 1, 4, (320, 240), ("top", "front")
"""Seed 1's first four scenes hold every support but the checkered plane, a content in a host, and robots."""


def _config(out: Path, **kw) -> DatagenConfig:
    return DatagenConfig(
        scenes=SCENES, out=out, cameras=CAMERAS, seed=SEED, test_fraction=0.0, image_size=SIZE, randomise=True, **kw
    )


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "train" / "metadata.jsonl").read_text().splitlines()]


def _digest(out: Path) -> str:
    """Hash of the metadata, the LLaVA conversations and every image's pixels."""
    h = hashlib.sha256()
    for split in ("train", "test"):
        h.update((out / split / "metadata.jsonl").read_bytes())
        for png in sorted((out / split).glob("*.png")):
            h.update(cv2.imread(str(png)).tobytes())
    h.update((out / "llava" / "train.json").read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("randomised") / "data"
    generate(_config(out))
    return out


def _rebuild(index: int) -> tuple[World, rnd.Randomisation, list, list[int]]:
    """Scene ``index`` built the way datagen builds it: world, its randomisation, the truth, the robots added."""
    spec = scene_spec(index, SEED, 0.3)
    look = rnd.draw(spec.objects, SEED, index, CAMERAS, SIZE, spec.host, spec.content)
    world = World(cameras=list(look.cameras), jitter=look.light)
    populate_scaled(world, spec, look.scales)
    truths = rnd.scaled_truth(world, look.scales)
    robots = rnd.apply(world, look)
    return world, look, truths, robots


def test_default_output_unchanged(tmp_path):
    """Without ``randomise`` datagen writes what it wrote before the option existed (hash taken at that commit)."""
    out = tmp_path / "d"
    generate(DatagenConfig(scenes=3, out=out, cameras=CAMERAS, seed=7, test_fraction=0.34, image_size=(160, 120)))
    assert _digest(out) == "9d17b06cc2e6df093b4737e42caac21705a2032a3a53e380d7ec68e133233a5c"
    assert "randomise" not in json.loads((out / "info.json").read_text())["config"]
    assert all("randomisation" not in r for r in _rows(out))


def test_deterministic_per_seed(dataset, tmp_path):
    again = tmp_path / "again"
    generate(_config(again, workers=2))
    assert _digest(again) == _digest(dataset)
    info = json.loads((dataset / "info.json").read_text())
    assert info["config"]["randomise"] is True
    first = scene_spec(0, SEED, 0.3)
    drawn = rnd.draw(first.objects, SEED + 1, 0, CAMERAS, SIZE)
    assert drawn != rnd.draw(first.objects, SEED, 0, CAMERAS, SIZE)
    assert drawn == rnd.draw(first.objects, SEED + 1, 0, CAMERAS, SIZE)


def test_scenes_are_varied(dataset):
    """The four scenes differ from the default look: supports, cameras, paints, sizes, robots."""
    rows = _rows(dataset)
    looks = [r["randomisation"] for r in rows]
    assert len({look["support"] for look in looks}) >= 3
    assert any(look["distractors"] for look in looks)
    assert len({json.dumps(look["cameras"]) for look in looks}) == SCENES
    scales = [s for look in looks for s in look["scales"].values()]
    assert min(scales) < 0.95 and max(scales) > 1.05
    for row in rows:
        for oid, paint in row["randomisation"]["paints"].items():
            colour = oid.split("_")[0]
            assert rnd.keeps_name(colour, paint)
        assert any(
            paint != pytest.approx(REFERENCE_ALBEDO[oid.split("_")[0]], abs=0.01)
            for oid, paint in row["randomisation"]["paints"].items()
        )


def test_labels_match_truth_and_robots_are_never_objects(dataset):
    """Every row's objects are the visible truth of the randomised scene (boxes from its segmentation, inside the
    projected 3D boxes of the scaled truth); distractor robots show in the images but never in the labels."""
    rows = {(r["scene"], r["camera"]): r for r in _rows(dataset)}
    robots_seen = 0
    for index in range(SCENES):
        world, look, truths, robots = _rebuild(index)
        with world:
            by_id = {t.id: t for t in truths}
            assert set(by_id) == set(world.bodies) and not set(robots) & set(world.bodies.values())
            for t in truths:
                lo, hi = p.getAABB(world.bodies[t.id], physicsClientId=world.client)
                box_lo = [c - e / 2 for c, e in zip(t.position, t.extent, strict=True)]
                box_hi = [c + e / 2 for c, e in zip(t.position, t.extent, strict=True)]
                assert all(a >= b - 0.003 for a, b in zip(box_lo, lo, strict=True)), t.id
                assert all(a <= b + 0.003 for a, b in zip(box_hi, hi, strict=True)), t.id
                assert box_hi[2] == pytest.approx(hi[2], abs=0.004) and box_lo[2] == pytest.approx(lo[2], abs=0.004)
            for cam in world.cameras:
                row, frame = rows[(index, cam.name)], cam.read()
                robots_seen += int(np.isin(frame.segmentation, robots).sum() > 0)
                labelled = {o["id"] for o in row["objects"]}
                assert labelled <= set(world.bodies)
                for obj in row["objects"]:
                    truth = by_id[obj["id"]]
                    assert (obj["type"], obj["color"], obj["size"]) == (truth.type, truth.color, truth.size)
                    ys, xs = np.nonzero(frame.segmentation == truth.body)
                    assert obj["box"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
                    px0, py0, px1, py1 = project_box(frame, truth.position, truth.extent)
                    x0, y0, x1, y1 = obj["box"]
                    assert px0 - 2 <= x0 and py0 - 2 <= y0 and x1 <= px1 + 2 and y1 <= py1 + 2, (obj, index)
                for oid in set(world.bodies) - labelled:
                    assert (frame.segmentation == world.bodies[oid]).sum() < 30
    assert robots_seen >= 1


def test_jittered_paints_keep_their_names():
    """Paint jitter moves every colour off its reference, and perception's classifier still names it the same."""
    rng = np.random.default_rng(0)
    for name in BASE_COLOR_NAMES:
        paints = [rnd.jitter_paint(name, rng) for _ in range(20)]
        assert all(rnd.keeps_name(name, c) for c in paints), name
        assert all(classify_color(np.asarray(c) * 255 * 0.935) == name for c in paints), name
        moved = [np.abs(np.asarray(c) - REFERENCE_ALBEDO[name]).max() for c in paints]
        assert np.mean(np.asarray(moved) > 0.02) >= 0.5, (name, moved)
    assert not rnd.keeps_name("red", (0.1, 0.3, 0.9))


def test_scales_keep_gaps_and_name_the_nearest_size():
    a = ObjectSpec("a", "tray", "red", "large", 0.4, 0.0)
    b = ObjectSpec("b", "bowl", "blue", "large", 0.4 + 0.2 + 0.095 + 0.05, 0.0)
    sa, sb = rnd.fit_scales([a, b], [1.25, 1.25])
    covered = sa * footprint_radius("tray", "large") + sb * footprint_radius("bowl", "large")
    gap = math.hypot(a.x - b.x, a.y - b.y) - covered
    assert gap >= rnd.GAP - 1e-9 and sa >= 1.0 and sb >= 1.0
    assert rnd.nearest_size("block", "small", 1.0) == "small"
    assert rnd.nearest_size("block", "medium", 1.22) == "large"
    assert rnd.nearest_size("block", "medium", 0.78) == "small"


def test_camera_pose_and_textures():
    eye, target, up = rnd.camera_pose(90.0, 180.0, 1.0, (0.52, 0.0, 0.0))
    assert eye == pytest.approx((0.52, 0.0, 1.0)) and up == pytest.approx((1.0, 0.0, 0.0), abs=1e-9)
    eye, _, up = rnd.camera_pose(0.0, 0.0, 1.0, (0.52, 0.0, 0.0))
    assert eye == pytest.approx((1.52, 0.0, 0.0)) and up == pytest.approx((0.0, 0.0, 1.0))
    rng = np.random.default_rng(3)
    for kind in rnd.TEXTURES:
        image = rnd.texture_image(kind, (0.5, 0.4, 0.3), rng, 64)
        assert image.shape == (64, 64, 3) and image.std() > 2
        assert np.abs(image.reshape(-1, 3).mean(axis=0) - np.array([127, 102, 76])).max() < 40
    with pytest.raises(ValueError, match="unknown texture"):
        rnd.texture_image("plaid", (0.5, 0.5, 0.5), rng)
