"""``agent.training.datagen``: VLM training data from simulator truth (real PyBullet DIRECT, a few scenes)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from groundsight.agent.training.datagen import (
    DatagenConfig,
    _jitter,
    caption,
    generate,
    populate,
    prompt,
    scene_spec,
)
from groundsight.perception.perceivers.boxes import project_box
from groundsight.perception.relations import RELATIONS
from groundsight.perception.vlm.perceiver import Detection2D, parse_answer
from groundsight.sim.camera import camera_config
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import World

CAMERAS = ("top", "front")
SCENES = 4


def _config(out: Path, **kw) -> DatagenConfig:
    # seed 4: every split's first rows hold a relation. Hugging Face's imagefolder infers each split's column types
    # from its first rows, and a split whose rows all have empty relation lists gets a null-typed column that
    # does not match the other split (with the region model of left/right/front/behind, two far-apart objects
    # have no relation); real datasets of hundreds of scenes always have some.
    return DatagenConfig(scenes=SCENES, out=out, cameras=CAMERAS, seed=4, test_fraction=0.25, **kw)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("datagen") / "data"
    calls: list[tuple[int, int]] = []
    summary = generate(_config(out), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, SCENES) for i in range(1, SCENES + 1)]
    return out, summary


def _rows(out: Path, split: str) -> list[dict]:
    return [json.loads(line) for line in (out / split / "metadata.jsonl").read_text().splitlines()]


def test_files_and_counts(dataset):
    out, summary = dataset
    train, test = _rows(out, "train"), _rows(out, "test")
    assert summary.scenes == {"train": 3, "test": 1}
    assert summary.images == {"train": 3 * len(CAMERAS), "test": len(CAMERAS)} == {"train": len(train), "test": 2}
    for split, rows in (("train", train), ("test", test)):
        pngs = sorted(p.name for p in (out / split).glob("*.png"))
        assert pngs == sorted(r["file_name"] for r in rows)
        assert all(re.fullmatch(r"\d{6}_(top|front)\.png", name) for name in pngs)
        llava = json.loads((out / "llava" / f"{split}.json").read_text())
        assert [c["image"] for c in llava] == [f"{split}/{r['file_name']}" for r in rows]
        for conv, row in zip(llava, rows, strict=True):
            turns = conv["conversations"]
            assert conv["id"] == row["file_name"].removesuffix(".png")
            assert turns[0] == {"from": "human", "value": "<image>\n" + prompt(640, 480)}
            assert turns[1] == {"from": "gpt", "value": row["target"]}
            assert [t["from"] for t in turns] == ["human", "gpt"] * (1 + len(row["qa"]))
            assert [t["value"] for t in turns[2::2]] == [q["question"] for q in row["qa"]]
    # test split: the last scene, disjoint from train
    assert {r["scene"] for r in test} == {SCENES - 1}
    assert not {r["scene"] for r in train} & {r["scene"] for r in test}
    info = json.loads((out / "info.json").read_text())
    assert info["complete"] and info["counts"]["objects"] == summary.objects == sum(
        len(r["objects"]) for r in train + test
    )
    assert info["config"]["cameras"] == list(CAMERAS) and summary.scenes_per_second > 0


def test_boxes_match_the_simulator(dataset):
    """Rebuild every scene: each row's objects are the visible truth, boxes lie inside the projected 3D boxes."""
    out, _ = dataset
    rows = {(r["scene"], r["camera"]): r for split in ("train", "test") for r in _rows(out, split)}
    config = _config(out)
    for scene in range(SCENES):
        configs = [camera_config(name) for name in CAMERAS]
        with World(cameras=configs, jitter=_jitter(config, scene)) as world:
            populate(world, scene_spec(scene, config.seed, config.contained))
            truths = world.truth_by_id()
            for cam in world.cameras:
                row = rows[(scene, cam.name)]
                frame = cam.read()
                assert (row["width"], row["height"]) == (640, 480)
                boxes = [o["box"] for o in row["objects"]]
                assert boxes == sorted(boxes, key=lambda b: (b[1], b[0]))  # top to bottom, then left to right
                for obj in row["objects"]:
                    truth = truths[obj["id"]]
                    assert (obj["type"], obj["color"], obj["size"]) == (truth.type, truth.color, truth.size)
                    assert obj["position"] == pytest.approx(truth.position, abs=1e-4)
                    x0, y0, x1, y1 = obj["box"]
                    assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 480
                    assert config.min_pixels <= obj["pixels"] <= (x1 - x0) * (y1 - y0)
                    px0, py0, px1, py1 = project_box(frame, truth.position, truth.extent)
                    assert px0 - 2 <= x0 and py0 - 2 <= y0 and x1 <= px1 + 2 and y1 <= py1 + 2, (obj, scene)
                    assert (frame.segmentation == truth.body).sum() == obj["pixels"]
                hidden = set(truths) - {o["id"] for o in row["objects"]}
                assert all((frame.segmentation == truths[i].body).sum() < config.min_pixels for i in hidden)


def test_targets_round_trip(dataset):
    out, _ = dataset
    for row in _rows(out, "train") + _rows(out, "test"):
        parsed = parse_answer(row["target"])
        assert not parsed.errors and parsed.dropped == 0
        expected = [Detection2D(o["type"], o["color"], tuple(float(v) for v in o["box"]), 1.0) for o in row["objects"]]
        assert parsed.detections == expected


def test_answers_agree_with_objects(dataset):
    out, _ = dataset
    kinds: Counter[str] = Counter()
    for row in _rows(out, "train") + _rows(out, "test"):
        objs = row["objects"]
        present = {(o["color"], o["type"]) for o in objs}
        by_name = {f"{o['color']} {o['type']}": o for o in objs}
        counts = Counter(o["type"] for o in objs)
        existence: Counter[tuple[str, str]] = Counter()
        for qa in row["qa"]:
            q, a, kind = qa["question"], qa["answer"], qa["kind"]
            kinds[kind] += 1
            if kind.startswith("existence_"):
                m = re.fullmatch(r"Is there an? (\w+) (\w+) in the image\?", q)
                assert m, q
                assert a == ("yes" if (m[1], m[2]) in present else "no"), q
                existence[(kind, a)] += 1
            elif kind == "count":
                m = re.fullmatch(r"How many (\w+)s are there\?", q)
                assert m and a == str(counts[m[1]]), q
            elif kind == "color":
                m = re.fullmatch(r"What colour is the (\w+)\?", q)
                assert m and counts[m[1]] == 1 and a == next(o["color"] for o in objs if o["type"] == m[1])
            else:
                assert kind == "spatial"
                m = re.fullmatch(r"Is the (\w+ \w+) (left of|right of|in front of|behind) the (\w+ \w+), from .*\?", q)
                assert m, q
                rel = m[2].replace(" ", "_")
                a_obj, b_obj = (by_name[m[i]] for i in (1, 3))
                a_box = _Boxed(a_obj["position"])
                b_box = _Boxed(b_obj["position"])
                assert a == ("yes" if RELATIONS[rel](a_box, b_box) else "no"), q
        for split in ("random", "popular", "adversarial"):
            assert existence[(f"existence_{split}", "no")] == 1
            assert existence[(f"existence_{split}", "yes")] == (1 if objs else 0)
        rel_names = {r[1] for r in row["relations"]}
        ids = {o["id"] for o in objs}
        assert rel_names <= set(RELATIONS) and all(r[0] in ids and r[2] in ids for r in row["relations"])
    assert kinds["count"] and kinds["spatial"] and kinds["color"]


class _Boxed:
    def __init__(self, position):
        self.position = tuple(position)
        self.extent = (0.01, 0.01, 0.01)


def test_deterministic_over_workers_and_regeneration(dataset, tmp_path):
    out, _ = dataset
    other = tmp_path / "again"
    generate(_config(other, workers=2))
    generate(_config(other, workers=2))  # a datagen folder may be regenerated in place
    for name in ("train/metadata.jsonl", "test/metadata.jsonl", "llava/train.json", "llava/test.json"):
        assert (out / name).read_bytes() == (other / name).read_bytes(), name
    assert (out / "train/000000_top.png").read_bytes() == (other / "train/000000_top.png").read_bytes()


def test_scene_differs_with_seed_but_not_with_scene_count():
    a = scene_spec(2, seed=3)
    assert scene_spec(2, seed=3) == a
    assert scene_spec(2, seed=4) != a
    assert 1 <= len(a.objects) <= 6


def test_loads_as_hf_imagefolder(dataset):
    datasets = pytest.importorskip("datasets")
    out, _ = dataset
    ds = datasets.load_dataset("imagefolder", data_dir=str(out))
    assert set(ds) == {"train", "test"}
    assert ds["train"].num_rows == 3 * len(CAMERAS) and ds["test"].num_rows == len(CAMERAS)
    row = ds["train"][0]
    assert row["image"].size == (640, 480)
    assert {"scene", "camera", "objects", "relations", "caption", "qa", "target"} <= set(ds["train"].column_names)
    assert row["target"] == _rows(out, "train")[0]["target"]


def test_caption_from_truth():
    def truth(oid: str, pos, ext) -> ObjectTruth:
        colour, kind = oid.split("_")
        return ObjectTruth(
            id=oid, body=0, type=kind, color=colour, size="medium", position=pos, extent=ext,
            base_position=(pos[0], pos[1], 0.0), orientation=(0, 0, 0, 1),
        )  # fmt: skip

    block = truth("red_block", (0.5, 0.0, 0.031), (0.05, 0.05, 0.05))
    bowl = truth("blue_bowl", (0.5, 0.0, 0.025), (0.16, 0.16, 0.05))
    ball = truth("green_ball", (0.5, 0.2, 0.025), (0.05, 0.05, 0.05))
    mug = truth("orange_mug", (0.7, -0.2, 0.04), (0.08, 0.07, 0.08))
    assert caption([block, bowl, ball]) == "A red block sits in a blue bowl; a green ball is left of it."
    assert caption([ball, mug, block, bowl]) == (
        "A red block sits in a blue bowl; a green ball is left of it. Also on the table: an orange mug."
    )
    assert caption([mug]) == "An orange mug sits on the table."
    assert caption([]) == "The table is empty."


def test_bad_config(tmp_path):
    with pytest.raises(ValueError, match=r"^datagen: scenes: must be at least 1, got 0$"):
        DatagenConfig(scenes=0, out=tmp_path / "x")
    with pytest.raises(ValueError, match=r"^datagen: cameras: unknown camera 'side' \(known: top, front, wrist\)$"):
        DatagenConfig(out=tmp_path / "x", cameras=("top", "side"))
    with pytest.raises(ValueError, match=r"^datagen: test_fraction: "):
        DatagenConfig(out=tmp_path / "x", test_fraction=1.0)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"^datagen: out: .* non-empty folder that datagen did not write$"):
        generate(DatagenConfig(scenes=1, out=foreign))
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]  # nothing touched
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(ValueError, match=r"^datagen: out: .* is not a folder$"):
        generate(DatagenConfig(scenes=1, out=afile))


def test_image_size_and_min_pixels(tmp_path):
    summary = generate(
        DatagenConfig(scenes=1, out=tmp_path / "small", image_size=(320, 240), min_pixels=10**6, jitter=False)
    )
    row = _rows(tmp_path / "small", "train")[0]
    assert (row["width"], row["height"]) == (320, 240) and summary.scenes == {"train": 1, "test": 0}
    assert row["objects"] == [] and row["target"] == "[]" and row["caption"] == "The table is empty."
