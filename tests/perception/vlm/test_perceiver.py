"""The ``vlm`` perceiver with a tiny, randomly initialised LLaVA model built from configs.

No weights can be downloaded here, so the module builds a tiny LLaVA (``LlavaForConditionalGeneration``:
a 1-layer CLIP vision tower at 32x32 pixels and a 1-layer Llama text model, hidden size 32), a word-level
tokenizer trained on the JSON vocabulary with the ``tokenizers`` library, a CLIP image processor and a
``LlavaProcessor`` with a chat template, saves them with ``save_pretrained`` and loads them through the
perceiver's own ``AutoProcessor`` / ``AutoModelForImageTextToText.from_pretrained`` path. A random model
answers garbage: the perceiver must survive it. Where a *trained* model's answer is needed (lifting boxes to
3D), a hand-made answer stands in for it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("PIL", reason="transformers image processors need Pillow (or torchvision)")

from groundsight.perception.colors import COLOR_NAMES  # noqa: E402
from groundsight.perception.perceivers import PerceptionError, make_perceiver  # noqa: E402
from groundsight.perception.perceivers.boxes import project_box  # noqa: E402
from groundsight.perception.vlm.perceiver import DEFAULT_VLM, PROMPT, TYPES, VLMPerceiver, parse_answer  # noqa: E402
from groundsight.sim.bodies import ObjectSpec  # noqa: E402
from groundsight.sim.world import World  # noqa: E402

CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'].upper() }}: {% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %} {% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)


def build_tiny_llava(path: Path) -> None:
    """Save a tiny random LLaVA checkpoint (model + processor) to ``path``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    corpus = [
        json.dumps([{"type": t, "color": c, "box": [0, 10, 200, 480], "confidence": 0.9}])
        for t, c in zip(TYPES, COLOR_NAMES, strict=False)
    ] + [PROMPT, "USER: ASSISTANT: 0123456789"]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        corpus, trainers.WordLevelTrainer(special_tokens=["<unk>", "<s>", "</s>", "<pad>", "<image>"])
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens={"image_token": "<image>"},
    )
    vision = CLIPVisionConfig(
        image_size=32, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(path)
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        tokenizer=tokenizer,
        patch_size=8,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,  # the CLS token
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(path)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny-llava")
    build_tiny_llava(path)
    return path


@pytest.fixture(scope="module")
def vlm(model_dir: Path) -> VLMPerceiver:
    perceiver = make_perceiver("vlm", model=str(model_dir), device="cpu")
    assert isinstance(perceiver, VLMPerceiver)
    perceiver.config = perceiver.config.model_copy(update={"max_new_tokens": 24})
    return perceiver


@pytest.fixture(scope="module")
def scene():
    with World(cameras=["top", "front"]) as world:
        world.add_object(ObjectSpec(id="red_block", type="block", color="red", x=0.50, y=0.12))
        world.add_object(ObjectSpec(id="blue_bowl", type="bowl", color="blue", x=0.58, y=-0.12))
        world.add_object(ObjectSpec(id="green_cylinder", type="cylinder", color="green", x=0.40, y=-0.02))
        world.settle()
        yield [cam.read() for cam in world.cameras], world.truth_by_id()


# ---------------------------------------------------------------- parsing


def test_parse_valid_list() -> None:
    r = parse_answer('[{"type": "block", "color": "Red", "box": [1, 2, 30, 40], "confidence": 0.8}]')
    assert len(r.detections) == 1 and r.errors == [] and r.dropped == 0
    d = r.detections[0]
    assert (d.type, d.color, d.box, d.confidence) == ("block", "red", (1, 2, 30, 40), 0.8)


def test_parse_partial_keeps_the_valid_prefix() -> None:
    text = (
        'Sure! ```json\n[{"type": "block", "color": "red", "box": [1, 2, 30, 40]}, '
        '{"type": "bowl", "color": "blue", "box": [5, 5, 50, 50]}, {"type": "plate", "color": "gre'
    )
    r = parse_answer(text)
    assert [(d.type, d.color) for d in r.detections] == [("block", "red"), ("bowl", "blue")]
    assert r.detections[0].confidence is None
    assert any("broken JSON after 2 object(s)" in e for e in r.errors)


def test_parse_drops_and_counts_unknown_words_and_bad_boxes() -> None:
    text = json.dumps(
        [
            {"type": "block", "color": "chartreuse", "box": [1, 2, 3, 4]},
            {"type": "spaceship", "color": "red", "box": [1, 2, 3, 4]},
            {"type": "ball", "color": "grey", "box": [1, 2, 3]},
            {"type": "ball", "color": "grey", "box": [1, 2, 3, 4], "score": 7},
            "block",
        ]
    )
    r = parse_answer(text)
    assert r.dropped == 4 and any("dropped 4" in e for e in r.errors)
    assert [(d.type, d.color, d.confidence) for d in r.detections] == [("ball", "gray", 1.0)]


@pytest.mark.parametrize("text", ["", "no objects here", "[", "]]]{{{", "[1, 2", '{"objects": [{"type": 3}]}', "\x00"])
def test_parse_never_raises_on_garbage(text: str) -> None:
    r = parse_answer(text)
    assert r.detections == [] and r.errors


def test_parse_unterminated_list_and_objects_key() -> None:
    r = parse_answer('[{"type": "mug", "color": "white", "box": [0, 0, 9, 9]}')
    assert len(r.detections) == 1 and any("unterminated" in e for e in r.errors)
    r = parse_answer('{"objects": [{"type": "tray", "color": "brown", "box": [0, 0, 9, 9]}]}')
    assert [d.type for d in r.detections] == ["tray"] and r.errors == []


# ---------------------------------------------------------------- the tiny model


def test_tiny_model_garbage_gives_a_percept_and_recorded_errors(vlm: VLMPerceiver, scene) -> None:
    frames, _ = scene
    percept = vlm.perceive(frames)  # both cameras in one batched generate call
    assert percept.perceiver == "vlm" and percept.cameras == ["top", "front"]
    assert len(vlm.last_answers) == 2
    assert vlm.last_errors  # a random model does not answer with our JSON
    assert all(e.startswith(("top:", "front:")) for e in vlm.last_errors)
    answers = list(vlm.last_answers)
    again = vlm.perceive(frames)
    assert again == percept and vlm.last_answers == answers  # greedy decoding: deterministic


def test_prompt_uses_the_chat_template(vlm: VLMPerceiver, scene) -> None:
    frames, _ = scene
    prompt = vlm._prompt(frames[0])
    assert prompt.startswith("USER: <image>") and prompt.endswith("ASSISTANT:")
    assert f"{frames[0].intrinsics.width}x{frames[0].intrinsics.height} pixels" in prompt


def test_unloadable_model_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(PerceptionError, match=r"vlm: cannot load model") as err:
        make_perceiver("vlm", model=str(tmp_path / "nowhere"))
    assert "\n" not in str(err.value)
    assert make_perceiver("vlm").config.model == str(DEFAULT_VLM)  # no --model: the shipped checkpoint


def test_hand_made_answer_is_lifted_to_the_right_3d_positions(vlm: VLMPerceiver, scene, monkeypatch) -> None:
    """The answer a trained model would give (boxes around the true objects) stands in for generation."""
    frames, truth = scene

    def answers(batch):
        out = []
        for frame in batch:
            items = []
            for t in truth.values():
                box = project_box(frame, t.position, t.extent)
                items.append({"type": t.type, "color": t.color, "box": list(box), "confidence": 0.9})
            text = json.dumps(items)
            out.append(text[:-30] if frame.camera == "front" else text)  # the front answer is cut short
        return out

    monkeypatch.setattr(vlm, "generate", answers)
    for use in (frames[:1], frames):
        percept = vlm.perceive(use)
        assert {o.id for o in percept.objects} == set(truth)
        for obj in percept.objects:
            t = truth[obj.id]
            assert math.dist(obj.position, t.position) < 0.02, (obj.id, obj.position, t.position)
            assert obj.confidence == 0.9 and obj.evidence
    assert any(e.startswith("front: broken JSON") for e in vlm.last_errors)
    fused = vlm.perceive(frames).by_id("red_block")
    assert {e.camera for e in fused.evidence} == {"top", "front"}


def test_an_object_named_twice_in_one_answer_is_kept_once(vlm: VLMPerceiver, scene, monkeypatch) -> None:
    """A small model sometimes repeats an object with a slightly different box; two blocks of one colour at
    one place would make the agent ask which one is meant."""
    frames, truth = scene
    t = truth["red_block"]
    box = list(project_box(frames[0], t.position, t.extent))
    shifted = [box[0] + 4, box[1] + 2, box[2] + 4, box[3] + 2]
    items = [{"type": "block", "color": "red", "box": b} for b in (box, shifted)]
    monkeypatch.setattr(vlm, "generate", lambda batch: [json.dumps(items) for _ in batch])
    percept = vlm.perceive(frames[:1])
    assert [o.id for o in percept.objects] == ["red_block"]
    assert any("repeats an earlier one" in e for e in vlm.last_errors)
