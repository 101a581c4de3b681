"""``groundsight datagen``: training data for a vision-language model, written from simulator truth.

The LLaVA recipe with a simulator instead of COCO annotations: every image's caption, boxes and
question-answer pairs are written from ground truth, so they are exactly right.

**Scenes** (:func:`scene_spec`, deterministic per ``(seed, index)``): 1-6 random objects of all seven types,
ten colours and three sizes, collision-free with a random yaw (``groundsight.sim.scene``); a fraction ``contained`` of
the scenes also gets a small object put into a container or onto a support (a block, ball or cylinder into
a bowl or tray or onto a plate, a block onto a block, a small block or ball into a large mug), dropped
onto its host after the others have settled. ``benchmarks/perception_quality.py`` builds its scenes with
the same code (:func:`build_scene`).

**Rendering**: the agent's cameras (``groundsight.sim.camera.CAMERAS``: top, front, wrist) at the agent's resolution,
TinyRenderer unless ``GROUNDSIGHT_RENDERER=egl``; with ``jitter``, a random light and a slightly moved
camera per scene. The segmentation buffer gives each object's visible pixels.

**Domain randomisation** (``randomise``, off by default; :mod:`groundsight.agent.training.randomisation`): each
scene also gets a random support (the table in a random colour or procedural texture, pybullet_data's wooden
table or checkered plane), floor, light, camera poses from top to front and focal lengths, paints jittered within
their colour names, object sizes, and distractor robots; its rows carry a ``randomisation`` record.

**Output** (the format the VLM trainer reads; see :func:`generate`)::

    OUT/train/metadata.jsonl, OUT/train/<scene:06d>_<camera>.png   (Hugging Face imagefolder layout)
    OUT/test/metadata.jsonl,  OUT/test/<scene:06d>_<camera>.png    (the last scenes, held out)
    OUT/llava/train.json, OUT/llava/test.json                      (LLaVA-style conversations)
    OUT/info.json                                                  (config, counts, versions, timing)

Every scene is generated alone (its own world, its own random streams), so the output does not depend on
``workers`` or on how many scenes are generated before it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import shutil
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from groundsight.agent.training import randomisation
from groundsight.perception.hallucination import SPLITS, LabelledObject, Pair, pair_popularity, pope_questions
from groundsight.perception.relations import RELATIONS
from groundsight.perception.vlm.vocabulary import PROMPT_COLORS, TYPES, prompt_text
from groundsight.sim.bodies import SIZES, ObjectSpec, dimensions
from groundsight.sim.camera import CAMERAS, CameraJitter, camera_config
from groundsight.sim.scene import PlacementError, PlacementRequest, place_objects, random_requests
from groundsight.sim.truth import ObjectTruth
from groundsight.sim.world import World

log = logging.getLogger(__name__)

GENERATOR = "groundsight datagen"
"""``info.json``'s ``generator``: marks a folder this module wrote (and may overwrite)."""
FORMAT_VERSION = 1

# ---------------------------------------------------------------------------------------------- scenes

CONTAINERS = ("bowl", "tray", "plate")
HOSTS = (*CONTAINERS, "block", "mug")
"""What a scene's extra object is put into or onto (a block: stacked on it; a mug: only a large one)."""
CONTENTS = {"bowl": ("block", "ball", "cylinder"), "tray": ("block", "ball", "cylinder"), "plate": ("block", "ball")}
CONTENTS |= {"block": ("block",), "mug": ("block", "ball")}
"""What may be put into or onto each host type (a mug takes only small things, see :func:`content_size`)."""
REFERENCE_SCENES = 1000
"""Scene specs per seed over which the POPE ``popular`` split counts colour-type pairs."""
POSE_JITTER = (0.01, 2.0)
"""With ``jitter``: each camera is moved by up to 1 cm along each axis and turned by up to 2 deg."""


def floor_height(obj_type: str, size: str) -> float:
    """Height of the surface an object lands on in a container, on a plate or on a block."""
    d = dimensions(obj_type, size)
    if obj_type == "block":
        return d["side"]
    return d["height"] if obj_type == "plate" else d["floor"]


def host_ok(spec: ObjectSpec | PlacementRequest) -> bool:
    """True if something can be put into or onto this object (a mug must be large to take a small block)."""
    return spec.type in HOSTS and (spec.type != "mug" or spec.size == "large")


def content_size(host: ObjectSpec, rng: np.random.Generator) -> str:
    """Size of the object put into or onto ``host``: no larger than a host block, small in a mug."""
    if host.type == "mug":
        return "small"
    return str(rng.choice(SIZES[: SIZES.index(host.size) + 1] if host.type == "block" else SIZES))


def drop_into(world: World, spec: ObjectSpec, z: float) -> int:
    """Add ``spec`` with its bottom at height ``z`` (into a container, onto a plate or a block)."""
    body = world.add_object(spec)
    world.set_object_pose(spec.id, (spec.x, spec.y, z), spec.yaw)
    return body


@dataclass(frozen=True)
class SceneSpec:
    """What one random scene holds: objects placed on the table, and maybe one put into or onto a host.

    ``content``'s x and y are filled in from the host's settled position when the scene is built.
    """

    index: int
    objects: tuple[ObjectSpec, ...]
    host: str | None = None
    content: ObjectSpec | None = None

    def all_objects(self) -> tuple[ObjectSpec, ...]:
        """The table objects, then the content (if any)."""
        return self.objects + ((self.content,) if self.content else ())


def scene_spec(
    index: int, seed: int, contained: float = 0.3, same_colour: float = 0.0, n_objects: tuple[int, int] = (1, 6)
) -> SceneSpec:
    """The random scene ``index`` of ``seed`` (pure: draws only, no physics).

    Args:
        contained: probability that the scene gets an object in a container, on a plate or on a block.
        same_colour: probability that this object is a block of its host's colour (when that name is free).
        n_objects: fewest and most objects on the table (the content comes on top).

    Raises:
        PlacementError: no collision-free placement in 100 attempts (sub-seeds ``[seed, index, attempt]``).
    """
    for attempt in range(100):
        rng = np.random.default_rng([seed, index, attempt])
        n = int(rng.integers(n_objects[0], n_objects[1] + 1))
        requests = random_requests(rng, n)
        with_content = bool(rng.random() < contained)
        if with_content and not any(host_ok(r) for r in requests):
            c = str(rng.choice(list(PROMPT_COLORS)))
            t = str(rng.choice(HOSTS))
            requests[0] = PlacementRequest(f"{c}_{t}", t, c, "large" if t == "mug" else str(rng.choice(SIZES)))
            if len({(r.color, r.type) for r in requests}) < len(requests):
                continue
        try:
            specs = place_objects(requests, rng)
        except PlacementError:
            continue
        if not with_content:
            return SceneSpec(index, tuple(specs))
        host = specs[int(rng.choice([i for i, s in enumerate(specs) if host_ok(s)]))]
        kind = str(rng.choice(CONTENTS[host.type]))
        taken = {(s.color, s.type) for s in specs}
        colours = [c for c in PROMPT_COLORS if c != host.color and (c, kind) not in taken]
        if rng.random() < same_colour and (host.color, "block") not in taken:
            kind, colours = "block", [host.color]  # same colour: always a block (what perception splits)
        colour = str(rng.choice(colours))
        size = content_size(host, rng)
        yaw = float(rng.uniform(-math.pi / 4, math.pi / 4))
        content = ObjectSpec(f"{colour}_{kind}", kind, colour, size, host.x, host.y, yaw)
        return SceneSpec(index, tuple(specs), host.id, content)
    raise PlacementError(f"scene {index}: no placement after 100 attempts")


def populate(world: World, spec: SceneSpec) -> None:
    """Add ``spec``'s objects to ``world`` and settle; then drop the content onto its settled host and settle."""
    for obj in spec.objects:
        world.add_object(obj)
    world.settle()
    if spec.content is not None and spec.host is not None:
        host = world.specs[spec.host]
        x, y = world.truth_by_id()[host.id].base_position[:2]
        drop_into(world, replace(spec.content, x=x, y=y), floor_height(host.type, host.size) + 0.002)
        world.settle()


def populate_scaled(world: World, spec: SceneSpec, scales: dict[str, float]) -> None:
    """:func:`populate` with every object scaled by ``scales`` (by id; see ``randomisation.add_scaled``): the
    content lands on its scaled host's floor."""
    for obj in spec.objects:
        randomisation.add_scaled(world, obj, scales.get(obj.id, 1.0))
    world.settle()
    if spec.content is not None and spec.host is not None:
        host = world.specs[spec.host]
        s = scales.get(spec.host, 1.0)
        x, y = randomisation.scaled_truth(world, scales)[list(world.bodies).index(host.id)].base_position[:2]
        z = floor_height(host.type, host.size) * s + 0.002
        scale = scales.get(spec.content.id, 1.0)
        randomisation.add_scaled(world, spec.content, scale)
        randomisation.place_scaled(world, spec.content.id, (x, y, z), spec.content.yaw, scale)
        world.settle()


def build_scene(
    index: int,
    seed: int,
    contained: float,
    same_colour: float = 0.0,
    lighting_jitter: bool = False,
    cameras: tuple[str, ...] = ("top",),
    n_objects: tuple[int, int] = (3, 6),
) -> tuple[World, bool]:
    """A settled random world for scene ``index`` (as the perception benchmark builds them); True if an
    object was put into or onto another one. ``lighting_jitter``: the cameras render under a random light
    seeded by ``seed`` and ``index``; see :func:`scene_spec` for the rest."""
    spec = scene_spec(index, seed, contained, same_colour, n_objects)
    jitter = CameraJitter(seed=seed * 100_000 + index, lighting=True) if lighting_jitter else None
    world = World(cameras=list(cameras), jitter=jitter)
    populate(world, spec)
    return world, spec.content is not None


@lru_cache(maxsize=8)
def reference_popularity(seed: int, contained: float, n_objects: tuple[int, int] = (1, 6)) -> tuple[Pair, ...]:
    """Colour-type pairs, most frequent first, over the first :data:`REFERENCE_SCENES` scene specs of ``seed``
    (what the POPE ``popular`` split draws its negatives from; independent of how many scenes are made)."""
    scenes = [scene_spec(i, seed, contained, 0.0, n_objects).all_objects() for i in range(REFERENCE_SCENES)]
    return tuple(pair_popularity(scenes))


# ---------------------------------------------------------------------------------------------- config


class DatagenConfig(BaseModel):
    """Options of :func:`generate` (and of ``groundsight datagen``).

    A bad value raises ``ValueError`` with one line naming the field (not pydantic's multi-line report).

    Attributes:
        scenes: number of random scenes (each rendered by every camera).
        out: output folder; it must not exist, be empty, or hold an earlier datagen output (replaced).
        cameras: camera names from ``groundsight.sim.camera.CAMERAS`` (top, front, wrist).
        seed: base seed; scene ``i`` is the same for the same seed whatever ``scenes`` is.
        test_fraction: the last ``round(scenes * test_fraction)`` scenes (at least one when the fraction is
            positive and there are two scenes or more) go to the held-out ``test`` split.
        image_size: (width, height) of the rendered images (the agent's cameras: 640 x 480).
        min_pixels: objects with fewer visible pixels are not annotated (not in boxes, captions or answers).
        jitter: per-scene random light and camera pose (up to :data:`POSE_JITTER`).
        randomise: domain randomisation (:mod:`groundsight.agent.training.randomisation`: supports, floors and
            textures, light, camera poses and focal lengths, paints, sizes, distractor robots); replaces ``jitter``.
            Off by default: the default data is the same as before the option existed.
        contained: probability that a scene has an object put into or onto another one.
        workers: worker processes (the output is the same for any number).
    """

    model_config = ConfigDict(frozen=True)

    scenes: int = 200
    out: Path
    cameras: tuple[str, ...] = ("top",)
    seed: int = 0
    test_fraction: float = 0.1
    image_size: tuple[int, int] = (640, 480)
    min_pixels: int = 30
    jitter: bool = True
    randomise: bool = False
    contained: float = 0.3
    workers: int = 1

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "config"
            msg = str(err["msg"]).removeprefix("Value error, ")
            raise ValueError(f"datagen: {field}: {msg}") from None

    @field_validator("scenes")
    @classmethod
    def _scenes(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"must be at least 1, got {v}")
        return v

    @field_validator("cameras")
    @classmethod
    def _cameras(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("give at least one camera")
        for name in v:
            if name not in CAMERAS:
                raise ValueError(f"unknown camera {name!r} (known: {', '.join(CAMERAS)})")
        if len(set(v)) < len(v):
            raise ValueError(f"a camera is named twice: {', '.join(v)}")
        return v

    @field_validator("test_fraction", "contained")
    @classmethod
    def _fraction(cls, v: float) -> float:
        if not 0.0 <= v < 1.0 or not math.isfinite(v):
            raise ValueError(f"must be in [0, 1), got {v}")
        return v

    @field_validator("image_size")
    @classmethod
    def _size(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not all(16 <= s <= 4096 for s in v):
            raise ValueError(f"width and height must be 16..4096 pixels, got {v[0]}x{v[1]}")
        return v

    @field_validator("min_pixels", "workers")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"must be at least 1, got {v}")
        return v

    def test_scenes(self) -> int:
        """How many of the last scenes are held out for the ``test`` split."""
        if self.test_fraction <= 0 or self.scenes < 2:
            return 0
        return min(self.scenes - 1, max(1, round(self.scenes * self.test_fraction)))


class DatagenSummary(BaseModel):
    """What :func:`generate` wrote."""

    out: Path
    scenes: dict[str, int]
    """Scenes per split (``train``, ``test``)."""
    images: dict[str, int]
    """Images per split."""
    objects: int
    """Visible objects annotated, over all images."""
    questions: int
    """Question-answer pairs, over all images."""
    renderer: str
    seconds: float
    scenes_per_second: float


# ---------------------------------------------------------------------------------------------- annotation


class AnnotatedObject(BaseModel):
    """One visible object of one image, as written to ``metadata.jsonl``'s ``objects``."""

    id: str
    type: str
    color: str
    size: str
    box: tuple[int, int, int, int]
    pixels: int
    position: tuple[float, float, float]


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _indefinite(o: ObjectTruth) -> str:
    """``a red block``, ``an orange bowl``."""
    return f"{_article(o.color)} {o.color} {o.type}"


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _direction(a: ObjectTruth, b: ObjectTruth) -> str:
    """Where ``a`` is relative to ``b`` along the dominant axis, in perception.relations' words."""
    dx, dy = a.position[0] - b.position[0], a.position[1] - b.position[1]
    rel = ("left_of" if dy > 0 else "right_of") if abs(dy) >= abs(dx) else ("behind" if dx > 0 else "in_front_of")
    return rel if RELATIONS[rel](a, b) else "near"


_PHRASE = {"left_of": "left of", "right_of": "right of", "behind": "behind", "in_front_of": "in front of"}


def caption(objects: Sequence[ObjectTruth]) -> str:
    """One or two sentences naming every object: a containment (or the first object), its nearest neighbour,
    then the rest. E.g. "A red block sits in a blue bowl; a green ball is left of it."."""
    if not objects:
        return "The table is empty."
    pair = next(
        (
            (a, rel, b)
            for rel in ("inside", "on")
            for a in objects
            for b in objects
            if a is not b and RELATIONS[rel](a, b)
        ),
        None,
    )
    if pair is not None:
        a, rel, anchor = pair
        first = f"{_indefinite(a)} sits {'in' if rel == 'inside' else 'on'} {_indefinite(anchor)}"
        mentioned = [a, anchor]
    else:
        anchor = objects[0]
        first, mentioned = f"{_indefinite(anchor)} sits on the table", [anchor]
    rest = [o for o in objects if all(o is not m for m in mentioned)]
    if rest:
        c = min(rest, key=lambda o: math.dist(o.position[:2], anchor.position[:2]))
        rel = _direction(c, anchor)
        first += f"; {_indefinite(c)} is {_PHRASE[rel]} it" if rel != "near" else f"; {_indefinite(c)} is next to it"
        rest = [o for o in rest if o is not c]
    text = first[0].upper() + first[1:] + "."
    if rest:
        text += " Also on the table: " + _join([_indefinite(o) for o in rest]) + "."
    return text


def relations(objects: Sequence[ObjectTruth]) -> list[list[str]]:
    """``[a, relation, b]`` for every ordered pair of ``objects`` and every relation of perception.relations."""
    return [
        [a.id, name, b.id] for a in objects for b in objects if a is not b for name, fn in RELATIONS.items() if fn(a, b)
    ]


def questions(
    objects: Sequence[ObjectTruth], rng: np.random.Generator, popularity: Sequence[Pair]
) -> list[dict[str, str]]:
    """Question-answer pairs about the visible ``objects``, each ``{question, answer, kind}``.

    - ``existence_<split>`` for each POPE split (random, popular, adversarial): one present colour-type pair
      (yes) and one absent pair sampled the split's way (no) (``groundsight.perception.hallucination.pope_questions``);
    - ``color``: "What colour is the <type>?" for one type seen exactly once;
    - ``count``: "How many <type>s are there?" for a type present and for any type (may be 0);
    - ``spatial``: two "Is the X left of / in front of the Y, from the robot's point of view?" (yes or no,
      half and half), from perception.relations (left: +y, in front: toward the robot).
    """
    out: list[dict[str, str]] = []
    labelled = [LabelledObject(o.type, o.color, o.position) for o in objects]

    def yes_no(b: bool) -> str:
        return "yes" if b else "no"

    for split in SPLITS:
        polled = pope_questions(
            labelled, split, rng, colors=PROMPT_COLORS, types=TYPES, popularity=popularity, negatives=1
        )
        positives = [q for q in polled if q.present]
        negatives = [q for q in polled if not q.present]
        picked = [positives[int(rng.integers(len(positives)))]] if positives else []
        for q in picked + negatives[:1]:
            text = f"Is there {_article(q.color)} {q.color} {q.type} in the image?"
            out.append({"question": text, "answer": yes_no(q.present), "kind": f"existence_{split}"})
    counts = Counter(o.type for o in objects)
    single = sorted(t for t, n in counts.items() if n == 1)
    if single:
        t = single[int(rng.integers(len(single)))]
        colour = next(o.color for o in objects if o.type == t)
        out.append({"question": f"What colour is the {t}?", "answer": colour, "kind": "color"})
    asked = sorted(counts)[int(rng.integers(len(counts)))] if counts else None
    for t in dict.fromkeys([asked, TYPES[int(rng.integers(len(TYPES)))]]):
        if t is not None:
            out.append({"question": f"How many {t}s are there?", "answer": str(counts.get(t, 0)), "kind": "count"})
    pairs = [(a, b) for a in objects for b in objects if a is not b]
    for _ in range(min(2, len(pairs))):
        a, b = pairs[int(rng.integers(len(pairs)))]
        lateral = abs(a.position[1] - b.position[1]) >= abs(a.position[0] - b.position[0])
        options = ("left_of", "right_of") if lateral else ("in_front_of", "behind")
        rel = options[int(rng.integers(2))]
        text = f"Is the {a.color} {a.type} {_PHRASE[rel]} the {b.color} {b.type}, from the robot's point of view?"
        out.append({"question": text, "answer": yes_no(RELATIONS[rel](a, b)), "kind": "spatial"})
    return out


def target(objects: Sequence[AnnotatedObject]) -> str:
    """What the ``vlm`` perceiver should answer to :data:`~groundsight.perception.vlm.vocabulary.PROMPT` for the
    image."""
    items = [{"type": o.type, "color": o.color, "box": list(o.box), "confidence": 1.0} for o in objects]
    return json.dumps(items, separators=(", ", ": "))


def prompt(width: int, height: int) -> str:
    """The ``vlm`` perceiver's instruction for an image of this size."""
    return prompt_text(width, height)


def visible_objects(
    segmentation: np.ndarray, truths: Sequence[ObjectTruth], min_pixels: int
) -> list[tuple[AnnotatedObject, ObjectTruth]]:
    """Objects with at least ``min_pixels`` pixels in the segmentation, with their visible pixel box (end
    exclusive), ordered top to bottom, then left to right (then by id)."""
    out = []
    for t in truths:
        ys, xs = np.nonzero(segmentation == t.body)
        if len(xs) < min_pixels:
            continue
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        position = tuple(round(v, 4) for v in t.position)
        out.append(
            (
                AnnotatedObject(
                    id=t.id, type=t.type, color=t.color, size=t.size, box=box, pixels=len(xs), position=position
                ),
                t,
            )
        )  # type: ignore[arg-type]
    return sorted(out, key=lambda p: (p[0].box[1], p[0].box[0], p[0].id))


# ---------------------------------------------------------------------------------------------- one scene


@dataclass(frozen=True)
class _Job:
    index: int
    split: str
    config: DatagenConfig
    popularity: tuple[Pair, ...]


def _jitter(config: DatagenConfig, index: int) -> CameraJitter | None:
    if not config.jitter:
        return None
    seed = int(np.random.SeedSequence([config.seed, index, 11]).generate_state(1)[0])
    return CameraJitter(seed=seed, lighting=True, pose_translation=POSE_JITTER[0], pose_rotation_deg=POSE_JITTER[1])


def _scene(job: _Job) -> tuple[list[dict[str, Any]], str]:
    """Build, render and annotate one scene; writes its PNGs and returns its metadata rows and the renderer."""
    c = job.config
    width, height = c.image_size
    spec = scene_spec(job.index, c.seed, c.contained)
    configs = [replace(camera_config(name), width=width, height=height) for name in c.cameras]
    look = None
    if c.randomise:
        look = randomisation.draw(spec.objects, c.seed, job.index, c.cameras, c.image_size, spec.host, spec.content)
        configs = list(look.cameras)
    rows = []
    with World(cameras=configs, jitter=look.light if look else _jitter(c, job.index)) as world:
        if look is None:
            populate(world, spec)
            truths = world.truth()
        else:
            populate_scaled(world, spec, look.scales)
            truths = randomisation.scaled_truth(world, look.scales)
            randomisation.apply(world, look)
        for cam in world.cameras:
            frame = cam.read()
            assert frame.segmentation is not None
            seen = visible_objects(frame.segmentation, truths, c.min_pixels)
            annotated = [a for a, _ in seen]
            objs = [t for _, t in seen]
            rng = np.random.default_rng([c.seed, job.index, zlib.crc32(cam.name.encode())])
            name = f"{job.index:06d}_{cam.name}.png"
            ok, png = cv2.imencode(".png", cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
            if not ok:
                raise RuntimeError(f"could not encode {name}")
            (c.out / job.split / name).write_bytes(png.tobytes())
            rows.append(
                {
                    "file_name": name,
                    "scene": job.index,
                    "camera": cam.name,
                    "width": width,
                    "height": height,
                    "objects": [a.model_dump(mode="json") for a in annotated],
                    "relations": relations(objs),
                    "caption": caption(objs),
                    "qa": questions(objs, rng, job.popularity),
                    "target": target(annotated),
                }
            )
            if look is not None:
                rows[-1]["randomisation"] = look.summary()
        renderer = world.renderer
    return rows, renderer


def llava_record(row: dict[str, Any], split: str) -> dict[str, Any]:
    """One LLaVA conversation: the ``vlm`` prompt and its target, then the question-answer turns."""
    stem = row["file_name"].removesuffix(".png")
    turns = [
        {"from": "human", "value": "<image>\n" + prompt(row["width"], row["height"])},
        {"from": "gpt", "value": row["target"]},
    ]
    for qa in row["qa"]:
        turns += [{"from": "human", "value": qa["question"]}, {"from": "gpt", "value": qa["answer"]}]
    return {"id": stem, "image": f"{split}/{row['file_name']}", "conversations": turns}


# ---------------------------------------------------------------------------------------------- generate


def _prepare(out: Path) -> None:
    """Make ``out`` ready: new or empty, or an earlier datagen output (whose files are removed)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"datagen: out: {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        try:
            info = json.loads((out / "info.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = None
        if not isinstance(info, dict) or info.get("generator") != GENERATOR:
            raise ValueError(f"datagen: out: {out} is a non-empty folder that datagen did not write")
        for sub in ("train", "test", "llava"):
            shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "info.json").write_text(json.dumps({"generator": GENERATOR, "complete": False}) + "\n", encoding="utf-8")
    for sub in ("train", "test", "llava"):
        (out / sub).mkdir()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("groundsight", "pybullet", "numpy", "opencv-python-headless"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def _results(jobs: list[_Job], workers: int) -> Iterator[tuple[list[dict[str, Any]], str]]:
    if workers == 1 or len(jobs) == 1:
        yield from map(_scene, jobs)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        yield from pool.map(_scene, jobs, chunksize=max(1, min(8, len(jobs) // (4 * workers))))


def generate(config: DatagenConfig, progress: Callable[[int, int], None] | None = None) -> DatagenSummary:
    """Generate ``config.scenes`` scenes and write the dataset under ``config.out`` (see the module docs).

    Args:
        config: the options.
        progress: called with (scenes done, scenes in all) after every scene, in scene order.

    Raises:
        ValueError: ``out`` is a file, or a non-empty folder datagen did not write (one line).
    """
    t0 = time.perf_counter()
    out = config.out
    _prepare(out)
    popularity = reference_popularity(config.seed, config.contained)
    n_test = config.test_scenes()
    n_train = config.scenes - n_test
    jobs = [_Job(i, "train" if i < n_train else "test", config, popularity) for i in range(config.scenes)]
    rows: dict[str, list[dict[str, Any]]] = {"train": [], "test": []}
    renderer = "tiny"
    results = _results(jobs, config.workers)
    for done, (job, (scene_rows, renderer_used)) in enumerate(zip(jobs, results, strict=True), 1):
        rows[job.split].extend(scene_rows)
        renderer = renderer_used
        if progress is not None:
            progress(done, config.scenes)
    for split, split_rows in rows.items():
        with open(out / split / "metadata.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in split_rows)
        records = [llava_record(r, split) for r in split_rows]
        (out / "llava" / f"{split}.json").write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    seconds = time.perf_counter() - t0
    all_rows = rows["train"] + rows["test"]
    summary = DatagenSummary(
        out=out,
        scenes={"train": n_train, "test": n_test},
        images={split: len(r) for split, r in rows.items()},
        objects=sum(len(r["objects"]) for r in all_rows),
        questions=sum(len(r["qa"]) for r in all_rows),
        renderer=renderer,
        seconds=round(seconds, 3),
        scenes_per_second=round(config.scenes / seconds, 3),
    )
    kinds = Counter(qa["kind"] for r in all_rows for qa in r["qa"])
    info = {
        "generator": GENERATOR,
        "format_version": FORMAT_VERSION,
        "complete": True,
        "config": config.model_dump(mode="json", exclude=None if config.randomise else {"randomise"}),
        "counts": {
            "scenes": summary.scenes,
            "images": summary.images,
            "objects": summary.objects,
            "questions": summary.questions,
            "questions_by_kind": dict(sorted(kinds.items())),
            "objects_by_type": dict(sorted(Counter(o["type"] for r in all_rows for o in r["objects"]).items())),
        },
        "renderer": renderer,
        "renderer_env": os.environ.get("GROUNDSIGHT_RENDERER", "tiny"),
        "versions": _versions(),
        "timing": {"seconds": summary.seconds, "scenes_per_second": summary.scenes_per_second},
    }
    (out / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    log.info(
        "datagen: %d scenes in %.1f s (%.2f scenes/s) -> %s", config.scenes, seconds, summary.scenes_per_second, out
    )
    return summary


__all__ = [
    "CONTAINERS",
    "CONTENTS",
    "HOSTS",
    "DatagenConfig",
    "DatagenSummary",
    "SceneSpec",
    "build_scene",
    "caption",
    "generate",
    "populate",
    "populate_scaled",
    "questions",
    "relations",
    "scene_spec",
    "target",
]
