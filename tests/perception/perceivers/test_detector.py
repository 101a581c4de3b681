"""The ``detector`` perceiver with a tiny, randomly initialised OWLv2 built from configs.

No weights can be downloaded here, so the module builds a tiny ``Owlv2ForObjectDetection`` (1-layer text
and vision towers, hidden size 32, 64x64 images in 16x16 patches: 16 boxes per image) and a
``CLIPTokenizer`` constructed offline from a hand-made BPE vocabulary (every character, every word of the
query phrases with CLIP's ``</w>`` suffix and the merges that build them; ``<|endoftext|>`` gets the
highest id, as OWL's text tower pools at the argmax of the ids), plus an ``Owlv2ImageProcessor`` at 64x64
(without torchvision transformers falls back to ``Owlv2ImageProcessorPil``). Both are saved with
``save_pretrained`` and loaded through the perceiver's own ``from_pretrained`` path. A random model detects
garbage: the perceiver must survive it and whatever it reports must be well formed. (The box head's last
layer is zeroed so that every patch predicts its own grid cell: random regressions give degenerate boxes.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL", reason="transformers image processors need Pillow (or torchvision)")
pytest.importorskip("transformers")

from groundsight.perception.colors import COLOR_NAMES  # noqa: E402
from groundsight.perception.objects import Percept  # noqa: E402
from groundsight.perception.perceivers import MORE_PERCEIVERS, PerceptionError, is_perceiver_name, make_perceiver  # noqa: E402
from groundsight.perception.perceivers.detector import (  # noqa: E402
    TYPES,
    DetectorPerceiver,
    nms,
    phrase_to_labels,
    vocabulary_queries,
)
from groundsight.perception.perceivers.noisy import NoisyPerceiver  # noqa: E402
from groundsight.sim.bodies import ObjectSpec  # noqa: E402
from groundsight.sim.world import World  # noqa: E402

IMAGE = 64


def build_tiny_owlv2(path: Path) -> None:
    """Save a tiny random OWLv2 checkpoint (model + processor) to ``path``."""
    import torch
    from transformers import (
        CLIPTokenizer,
        Owlv2Config,
        Owlv2ForObjectDetection,
        Owlv2ImageProcessor,
        Owlv2Processor,
    )

    words = sorted({w for q in vocabulary_queries() for w in q.split()} | {"a", "photo", "of", "cube", "grey"})
    vocab: dict[str, int] = {"<|pad|>": 0, "<|startoftext|>": 1}
    for ch in sorted(set("".join(words))):
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(f"{ch}</w>", len(vocab))
    merges: list[tuple[str, str]] = []
    for word in words:
        current = word[0]
        for i, ch in enumerate(word[1:], 1):
            right = ch + ("</w>" if i == len(word) - 1 else "")
            if (current, right) not in merges:
                merges.append((current, right))
            current += right
            vocab.setdefault(current, len(vocab))
    vocab["<|endoftext|>"] = len(vocab)  # the highest id: the text tower pools there
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, pad_token="<|pad|>", model_max_length=16)
    config = Owlv2Config(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 16,
            "pad_token_id": 0,
            "bos_token_id": 1,
            "eos_token_id": vocab["<|endoftext|>"],
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": IMAGE,
            "patch_size": 16,
        },
        projection_dim=32,
    )
    torch.manual_seed(0)
    model = Owlv2ForObjectDetection(config)
    with torch.no_grad():  # random box regressions are degenerate: predict each patch's own grid box instead
        model.box_head.dense2.weight.zero_()
        model.box_head.dense2.bias.zero_()
    model.save_pretrained(path)
    image_processor = Owlv2ImageProcessor(size={"height": IMAGE, "width": IMAGE})
    Owlv2Processor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(path)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny-owlv2")
    build_tiny_owlv2(path)
    return path


@pytest.fixture(scope="module")
def detector(model_dir: Path) -> DetectorPerceiver:
    perceiver = make_perceiver("detector", model=str(model_dir), device="cpu")
    assert isinstance(perceiver, DetectorPerceiver)
    return perceiver


@pytest.fixture(scope="module")
def frames():
    with World(cameras=["top", "front"]) as world:
        world.add_object(ObjectSpec(id="red_block", type="block", color="red", x=0.5, y=0.1))
        world.settle()
        yield [cam.read() for cam in world.cameras]


# ---------------------------------------------------------------- phrases and NMS


@pytest.mark.parametrize(
    ("phrase", "labels"),
    [
        ("red block", ("red", "block")),
        ("the big Grey cube", ("gray", "block")),
        ("a blue cup", ("blue", "mug")),
        ("bowl", (None, "bowl")),
        ("purple thing", ("purple", None)),
        ("", (None, None)),
    ],
)
def test_phrase_to_labels(phrase: str, labels: tuple[str | None, str | None]) -> None:
    assert phrase_to_labels(phrase) == labels


def test_vocabulary_queries_cover_every_colour_and_type() -> None:
    queries = vocabulary_queries()
    assert len(queries) == len(COLOR_NAMES) * len(TYPES) == 98  # 14 colours since issue 13
    assert {phrase_to_labels(q) for q in queries} == {(c, t) for c in COLOR_NAMES for t in TYPES}


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10], [21, 20, 30, 30]], float)
    scores = np.array([0.5, 0.9, 0.3, 0.1, 0.4])
    assert nms(boxes, scores, iou=0.5) == [1, 4]
    assert nms(boxes, scores, iou=1.0) == [1, 0, 4, 2, 3]  # nothing overlaps by more than everything
    assert nms(np.zeros((0, 4)), np.zeros(0)) == []
    assert nms(np.array([[5, 5, 5, 5], [5, 5, 5, 5]]), np.array([0.2, 0.3])) == [1, 0]  # empty boxes: no overlap


# ---------------------------------------------------------------- the tiny model


def test_names_are_registered() -> None:
    assert "detector" in MORE_PERCEIVERS and "noisy:detector" in MORE_PERCEIVERS
    assert is_perceiver_name("detector") and is_perceiver_name("noisy:detector")
    with pytest.raises(ValueError, match="needs a model"):
        make_perceiver("detector")


def test_unloadable_model_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(PerceptionError, match=r"detector: cannot load model") as err:
        make_perceiver("detector", model=str(tmp_path / "nowhere"))
    assert "\n" not in str(err.value) and "nowhere" in str(err.value)


def test_random_model_gives_a_valid_percept(detector: DetectorPerceiver, frames) -> None:
    percept = detector.perceive(frames[:1])
    assert isinstance(percept, Percept) and percept.perceiver == "detector" and percept.cameras == ["top"]
    assert len(detector.last_detections) == 1
    again = detector.perceive(frames[:1])
    assert again == percept  # deterministic


def test_low_threshold_objects_are_well_formed(model_dir: Path, frames) -> None:
    perceiver = make_perceiver("detector", model=str(model_dir))
    assert isinstance(perceiver, DetectorPerceiver)
    perceiver.config = perceiver.config.model_copy(update={"threshold": 0.0, "nms_iou": 0.9})
    percept = perceiver.perceive(frames)  # both cameras in one forward pass
    assert percept.cameras == ["top", "front"]
    assert all(len(d) <= 16 for d in perceiver.last_detections)  # 16 patches: 16 boxes per image
    assert sum(len(d) for d in perceiver.last_detections) > 0
    assert percept.objects
    sizes = {f.camera: (f.intrinsics.width, f.intrinsics.height) for f in frames}
    for obj in percept.objects:
        assert obj.color in COLOR_NAMES and obj.type in TYPES
        assert 0.0 <= obj.confidence <= 1.0 and obj.evidence
        for ev in obj.evidence:
            w, h = sizes[ev.camera]
            x0, y0, x1, y1 = ev.box
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert len({o.id for o in percept.objects}) == len(percept.objects)


def test_explicit_queries_and_noisy_wrapper(model_dir: Path, frames) -> None:
    perceiver = make_perceiver("detector", model=str(model_dir), queries=["red block", "bowl", "spaceship"])
    assert isinstance(perceiver, DetectorPerceiver)
    assert perceiver.phrases == ["red block", "bowl"] and perceiver.labels == [("red", "block"), (None, "bowl")]
    perceiver.config = perceiver.config.model_copy(update={"threshold": 0.0})
    percept = perceiver.perceive(frames[:1])
    for obj in percept.objects:
        assert (obj.color, obj.type) == ("red", "block") or (obj.type == "bowl" and obj.color in COLOR_NAMES)
    with pytest.raises(PerceptionError, match="no query names a known type"):
        make_perceiver("detector", model=str(model_dir), queries=["spaceship"])
    noisy = make_perceiver("noisy:detector", model=str(model_dir), queries=["red block"], noise=0.0)
    assert isinstance(noisy, NoisyPerceiver)
    assert isinstance(noisy.perceive(frames[:1]), Percept)
