"""Model-family adapters: golden answers in each family's documented format land on the right pixels, and a
tiny random model of each family's exact architecture, with its processor built offline, loads through the
``vlm`` perceiver's ``from_pretrained`` path and answers without crashing.

Golden answers: a real rendered frame (PyBullet, top camera) and the simulator's truth give each object's true
pixel box (:func:`~perception.perceivers.boxes.project_box`); the answer string is written in the family's own
format and coordinates (0..1000 grid, 1024 grid y-first, the processor's resized pixels, percent points ...)
from those boxes, then parsed and transformed back: every box must land within 2 px of the true one.

Tiny models: configs of one layer and hidden size 32, a word-level tokenizer built with the ``tokenizers``
library holding the family's special tokens, the family's own (PIL) image processor and processor class, all
constructed locally and saved with ``save_pretrained``: nothing is downloaded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("PIL", reason="transformers image processors need Pillow (or torchvision)")

from groundsight.perception.perceivers import PerceptionError, make_perceiver  # noqa: E402
from groundsight.perception.perceivers.boxes import project_box  # noqa: E402
from groundsight.perception.vlm.families import (  # noqa: E402
    FAMILIES,
    GRID,
    PALIGEMMA_GRID,
    Florence2Family,
    Qwen25VLFamily,
    box_from_point,
    colour_in_box,
    family_for,
    phrases,
)
from groundsight.perception.vlm.perceiver import VLMPerceiver  # noqa: E402
from groundsight.perception.vlm.vocabulary import PROMPT  # noqa: E402
from groundsight.sim.bodies import ObjectSpec  # noqa: E402
from groundsight.sim.world import World  # noqa: E402

# ---------------------------------------------------------------------------------------------- tiny models

SIMPLE_CHAT = (
    "{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}{{ image }}{% else %}{{ c['text'] }}{% endif %}{% endfor %}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def chat_template(image: str) -> str:
    """A minimal chat template that places ``image`` (the family's image placeholder) before the text."""
    return SIMPLE_CHAT.replace("{{ image }}", image)


def tiny_tokenizer(special: list[str], extra: dict[str, str] | None = None, words: list[str] | None = None):
    """A word-level fast tokenizer over the prompts' and answers' words plus ``special`` tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = [PROMPT, " ".join(phrases()), "detect ; ( ) , 0 1 2 3 4 5 6 7 8 9 assistant user : bbox_2d label"]
    corpus += [f.prompt(640, 480) for f in FAMILIES.values()] + (words or [])
    base = ["<unk>", "<s>", "</s>", "<pad>"]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=base + special))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens=extra or {},
    )


def text_dict(tokenizer, **more) -> dict:
    """A one-layer text-model config for ``tokenizer``."""
    return dict(
        vocab_size=len(tokenizer) + 8,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **more,
    )


def _qwen(path: Path, version: str):
    allow_missing_video_processor()
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    specials = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
    specials += ["<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>"]
    tok = tiny_tokenizer(specials)
    ids = {t: tok.convert_tokens_to_ids(t) for t in specials}
    vision = dict(depth=1, embed_dim=32, hidden_size=32, num_heads=2, patch_size=14, spatial_merge_size=2)
    if version == "qwen2_5_vl":
        vision.update(intermediate_size=64, out_hidden_size=32, fullatt_block_indexes=[0], window_size=56)
        from transformers import Qwen2_5_VLProcessor as Processor
    else:
        from transformers import Qwen2VLProcessor as Processor
    config = AutoConfig.for_model(
        version,
        text_config=text_dict(tok, rope_scaling={"type": "mrope", "mrope_section": [2, 2, 4]}),
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(0)
    AutoModelForImageTextToText.from_config(config).save_pretrained(path)
    image_processor = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=112 * 112)
    processor = Processor(
        image_processor=image_processor,
        tokenizer=tok,
        chat_template=chat_template("<|vision_start|><|image_pad|><|vision_end|>"),
    )
    save_processor(processor, path)
    return processor


def build_qwen2_vl(path: Path):
    """Tiny Qwen2-VL (``Qwen2VLForConditionalGeneration``) with a ``Qwen2VLProcessor``."""
    return _qwen(path, "qwen2_vl")


def build_qwen2_5_vl(path: Path):
    """Tiny Qwen2.5-VL with a ``Qwen2_5_VLProcessor``."""
    return _qwen(path, "qwen2_5_vl")


def _save_model(config, path: Path) -> None:
    import torch
    from transformers import AutoModelForImageTextToText

    torch.manual_seed(0)
    AutoModelForImageTextToText.from_config(config).save_pretrained(path)


def build_paligemma(path: Path):
    """Tiny PaliGemma (SigLIP tower, Gemma decoder) with a ``PaliGemmaProcessor`` (it adds the <loc> tokens)."""
    from transformers import AutoConfig, PaliGemmaProcessor
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

    tok = tiny_tokenizer(["<image>"], {"image_token": "<image>"})
    image_processor = SiglipImageProcessorPil(size={"height": 32, "width": 32})
    image_processor.image_seq_length = 16
    processor = PaliGemmaProcessor(image_processor=image_processor, tokenizer=tok)
    text = text_dict(processor.tokenizer, head_dim=16, model_type="gemma")
    text["vocab_size"] = len(processor.tokenizer)
    vision = dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                  num_attention_heads=2, projection_dim=32)  # fmt: skip
    config = AutoConfig.for_model(
        "paligemma", text_config=text, vision_config=vision, projection_dim=32, hidden_size=32,
        image_token_index=processor.image_token_id,
    )  # fmt: skip
    _save_model(config, path)
    processor.save_pretrained(path)
    return processor


def build_florence2(path: Path):
    """Tiny Florence-2 (DaViT tower, BART encoder-decoder) with a ``Florence2Processor`` and its task parsing."""
    from transformers import AutoConfig, Florence2Processor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    locs = [f"<loc_{i}>" for i in range(1000)]
    tok = tiny_tokenizer(["<image>", "<od>", "</od>", "<ground>", "<obj>", *locs], {"image_token": "<image>"})
    image_processor = CLIPImageProcessorPil(
        size={"height": 64, "width": 64}, crop_size={"height": 64, "width": 64}, do_center_crop=False
    )
    image_processor.image_seq_length = 5
    post = {"phrase_grounding": {"banned_grounding_tokens": []}, "description_with_bboxes": {}, "pure_text": {}}
    processor = Florence2Processor(image_processor=image_processor, tokenizer=tok, post_processor_config=post)
    text = dict(vocab_size=len(tok) + 8, d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=2048,
                bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                decoder_start_token_id=tok.eos_token_id, model_type="bart")  # fmt: skip
    vision = dict(depths=(1, 1, 1, 1), embed_dim=(8, 8, 16, 16), num_heads=(1, 1, 2, 2), num_groups=(1, 1, 2, 2),
                  window_size=2, projection_dim=32, max_position_embeddings=8)  # fmt: skip
    config = AutoConfig.for_model(
        "florence2", text_config=text, vision_config=vision, image_token_id=tok.convert_tokens_to_ids("<image>")
    )
    _save_model(config, path)
    processor.save_pretrained(path)
    return processor


def _idefics(path: Path, kind: str):
    from transformers import AutoConfig

    specials = ["<image>", "<fake_token_around_image>", "<end_of_utterance>", "<global-img>"]
    tok = tiny_tokenizer(specials, {"image_token": "<image>"} if kind == "smolvlm" else None)
    if kind == "smolvlm":
        allow_missing_video_processor()
        from transformers import SmolVLMProcessor as Processor
        from transformers.models.smolvlm.image_processing_pil_smolvlm import SmolVLMImageProcessorPil as Images
    else:
        from transformers import Idefics3Processor as Processor
        from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil as Images
    images = Images(size={"longest_edge": 32}, max_image_size={"longest_edge": 32}, do_image_splitting=False)
    kwargs = {"video_processor": None} if kind == "smolvlm" else {}
    processor = Processor(
        image_processor=images, tokenizer=tok, image_seq_len=4, chat_template=chat_template("<image>"), **kwargs
    )
    vision = dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                  num_attention_heads=2)  # fmt: skip
    text = text_dict(processor.tokenizer, model_type="llama")
    config = AutoConfig.for_model(
        kind, text_config=text, vision_config=vision, scale_factor=2,
        image_token_id=processor.tokenizer.convert_tokens_to_ids("<image>"),
    )  # fmt: skip
    _save_model(config, path)
    save_processor(processor, path)
    return processor


def build_idefics3(path: Path):
    """Tiny Idefics3 with an ``Idefics3Processor`` (no image splitting)."""
    return _idefics(path, "idefics3")


def build_smolvlm(path: Path):
    """Tiny SmolVLM with a ``SmolVLMProcessor`` (no image splitting, no video processor)."""
    return _idefics(path, "smolvlm")


def build_llava_onevision(path: Path):
    """Tiny LLaVA-OneVision (SigLIP tower, Qwen2 decoder, one 32x32 grid pinpoint)."""
    from transformers import AutoConfig, LlavaOnevisionProcessor
    from transformers.models.llava_onevision.image_processing_pil_llava_onevision import (
        LlavaOnevisionImageProcessorPil,
    )

    allow_missing_video_processor()
    tok = tiny_tokenizer(["<image>", "<video>"], {"image_token": "<image>", "video_token": "<video>"})
    images = LlavaOnevisionImageProcessorPil(size={"height": 32, "width": 32}, image_grid_pinpoints=[[32, 32]])
    processor = LlavaOnevisionProcessor(
        image_processor=images, tokenizer=tok, video_processor=None, num_image_tokens=16,
        vision_feature_select_strategy="full", chat_template=chat_template("<image>"),
    )  # fmt: skip
    vision = dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                  num_attention_heads=2, model_type="siglip_vision_model")  # fmt: skip
    config = AutoConfig.for_model(
        "llava_onevision", text_config=text_dict(tok, model_type="qwen2"), vision_config=vision,
        image_token_index=tok.convert_tokens_to_ids("<image>"), video_token_index=tok.convert_tokens_to_ids("<video>"),
        image_grid_pinpoints=[[32, 32]], vision_feature_select_strategy="full", vision_feature_layer=-1,
    )  # fmt: skip
    _save_model(config, path)
    save_processor(processor, path)
    return processor


BUILDERS: dict[str, Callable[[Path], object]] = {
    "qwen2_vl": build_qwen2_vl,
    "qwen2_5_vl": build_qwen2_5_vl,
    "paligemma": build_paligemma,
    "florence2": build_florence2,
    "idefics3": build_idefics3,
    "smolvlm": build_smolvlm,
    "llava_onevision": build_llava_onevision,
}
"""Tiny-model builders by ``model_type``; each saves model and processor and returns the processor."""


def allow_missing_video_processor() -> None:
    """Without torchvision, transformers has no video processors, yet Qwen2-VL, SmolVLM and LLaVA-OneVision
    processors name one: let them be built and loaded with ``video_processor=None`` (images only)."""
    from transformers.processing_utils import ProcessorMixin

    if getattr(ProcessorMixin, "_groundsight_video_patch", False):
        return
    check = ProcessorMixin.check_argument_for_proper_class

    def lenient(self, name, argument):
        if argument is None and "video" in name:
            return None
        return check(self, name, argument)

    ProcessorMixin.check_argument_for_proper_class = lenient
    ProcessorMixin._groundsight_video_patch = True


def save_processor(processor, path: Path) -> None:
    """``processor.save_pretrained(path)``, or its parts one by one when it holds no video processor."""
    if getattr(processor, "video_processor", True) is not None:
        processor.save_pretrained(path)
        return
    processor.tokenizer.save_pretrained(path)
    processor.image_processor.save_pretrained(path)
    (path / "processor_config.json").write_text(json.dumps({"processor_class": type(processor).__name__}))
    if processor.chat_template:
        (path / "chat_template.jinja").write_text(processor.chat_template)


# ---------------------------------------------------------------------------------------------- golden answers


@pytest.fixture(scope="module")
def scene():
    """A rendered top-camera frame of three objects and each object's true pixel box and label."""
    with World(cameras=["top"]) as world:
        world.add_object(ObjectSpec(id="red_block", type="block", color="red", x=0.50, y=0.12))
        world.add_object(ObjectSpec(id="blue_bowl", type="bowl", color="blue", x=0.58, y=-0.12))
        world.add_object(ObjectSpec(id="green_cylinder", type="cylinder", color="green", x=0.40, y=-0.02))
        world.settle()
        frame = world.cameras[0].read()
        truth = world.truth_by_id()
    boxes = {f"{t.color} {t.type}": project_box(frame, t.position, t.extent) for t in truth.values()}
    assert all(b is not None for b in boxes.values())
    return frame, boxes, truth


def qwen2_vl_answer(boxes, w, h) -> str:
    return "".join(
        f"<|object_ref_start|>{label}<|object_ref_end|><|box_start|>"
        f"({round(b[0] / w * GRID)},{round(b[1] / h * GRID)}),({round(b[2] / w * GRID)},{round(b[3] / h * GRID)})"
        "<|box_end|>"
        for label, b in boxes.items()
    )


def qwen2_5_vl_answer(boxes, w, h) -> str:
    rw, rh = Qwen25VLFamily().resized(w, h)
    items = [
        {
            "bbox_2d": [round(b[0] * rw / w), round(b[1] * rh / h), round(b[2] * rw / w), round(b[3] * rh / h)],
            "label": label,
        }
        for label, b in boxes.items()
    ]
    return "```json\n" + json.dumps(items, indent=2) + "\n```"


def paligemma_answer(boxes, w, h) -> str:
    def loc(v: float, size: int) -> str:
        return f"<loc{min(PALIGEMMA_GRID - 1, round(v / size * PALIGEMMA_GRID)):04d}>"

    return " ; ".join(f"{loc(b[1], h)}{loc(b[0], w)}{loc(b[3], h)}{loc(b[2], w)} {label}" for label, b in boxes.items())


def florence2_answer(boxes, w, h) -> str:
    def loc(v: float, size: int) -> str:
        return f"<loc_{min(GRID - 1, math.floor(v / size * GRID))}>"

    return "".join(f"{label}{loc(b[0], w)}{loc(b[1], h)}{loc(b[2], w)}{loc(b[3], h)}" for label, b in boxes.items())


def normalized_answer(boxes, w, h) -> str:
    items = [
        {"type": label.split()[1], "color": label.split()[0],
         "box": [round(b[0] / w * GRID), round(b[1] / h * GRID), round(b[2] / w * GRID), round(b[3] / h * GRID)]}
        for label, b in boxes.items()
    ]  # fmt: skip
    return json.dumps(items)


def centre(b) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def molmo_answer(boxes, w, h) -> str:
    return " ".join(
        f'<point x="{centre(b)[0] / w * 100:.1f}" y="{centre(b)[1] / h * 100:.1f}" alt="{label}">{label}</point>'
        for label, b in boxes.items()
    )


def molmo2_answer(boxes, w, h) -> str:
    return " ".join(
        f'<points coords="1 1 {round(centre(b)[0] / w * GRID):03d} {round(centre(b)[1] / h * GRID):03d}">'
        f"{label}</points>"
        for label, b in boxes.items()
    )


GOLDEN = {
    "qwen2_vl": qwen2_vl_answer,
    "qwen2_5_vl": qwen2_5_vl_answer,
    "paligemma": paligemma_answer,
    "florence2": florence2_answer,
    "normalized": normalized_answer,
}
"""Golden answers in each box-answering family's documented format, written from true pixel boxes."""
POINT_GOLDEN = {"molmo": molmo_answer, "molmo2": molmo2_answer}


def _by_label(result) -> dict[str, tuple[float, ...]]:
    return {f"{d.color} {d.type}": d.box for d in result.detections}


@pytest.mark.parametrize("family", sorted(GOLDEN))
def test_golden_boxes_land_on_the_true_pixels(family: str, scene) -> None:
    frame, boxes, _ = scene
    k = frame.intrinsics
    answer = GOLDEN[family](boxes, k.width, k.height)
    result = FAMILIES[family].parse(answer, k.width, k.height)
    assert result.errors == [] and result.dropped == 0, result.errors
    got = _by_label(result)
    assert set(got) == set(boxes)
    for label, box in boxes.items():
        assert max(abs(a - b) for a, b in zip(got[label], box, strict=True)) <= 2.0, (family, label, got[label], box)


def test_qwen2_5_vl_coordinates_are_of_the_resized_image(scene) -> None:
    """A 640x480 frame is seen as 644x476 (sides rounded to multiples of 28): reading its pixels as the frame's
    would shift a box at the right edge by 4 px; the family scales them back."""
    assert Qwen25VLFamily().resized(640, 480) == (644, 476)
    answer = '[{"bbox_2d": [644, 476, 644, 476], "label": "red block"}]'
    assert FAMILIES["qwen2_5_vl"].parse(answer, 640, 480).detections[0].box == (640.0, 480.0, 640.0, 480.0)


def test_paligemma_reads_y_before_x() -> None:
    box = FAMILIES["paligemma"].parse("<loc0256><loc0512><loc0768><loc1023> red block", 640, 480).detections[0].box
    assert box == pytest.approx((320.0, 120.0, 639.375, 360.0))


@pytest.mark.parametrize("family", sorted(POINT_GOLDEN))
def test_golden_points_land_on_the_objects_and_grow_into_their_boxes(family: str, scene) -> None:
    frame, boxes, _ = scene
    k = frame.intrinsics
    result = FAMILIES["molmo"].parse(POINT_GOLDEN[family](boxes, k.width, k.height), k.width, k.height)
    assert result.errors == [] and len(result.detections) == 3
    for det in result.detections:
        label = f"{det.color} {det.type}"
        assert math.dist(det.point, centre(boxes[label])) <= 2.0
        grown = box_from_point(frame, *det.point)
        assert grown is not None
        true = boxes[label]
        inter = max(0, min(grown[2], true[2]) - max(grown[0], true[0])) * max(
            0, min(grown[3], true[3]) - max(grown[1], true[1])
        )
        union = (grown[2] - grown[0]) * (grown[3] - grown[1]) + (true[2] - true[0]) * (true[3] - true[1]) - inter
        assert inter / union > 0.5, (label, grown, true)


def test_a_point_on_the_bare_table_grows_no_box(scene) -> None:
    frame, _, _ = scene
    assert box_from_point(frame, 2, 2) is None


def test_florence_od_labels_take_their_colour_from_the_pixels(scene) -> None:
    frame, boxes, _ = scene
    k = frame.intrinsics
    od = Florence2Family(task="<OD>")
    assert od.prompt(k.width, k.height) == "<OD>"
    answer = florence2_answer({label.split()[1]: b for label, b in boxes.items()}, k.width, k.height)
    result = od.parse(answer, k.width, k.height)
    assert sorted(d.type for d in result.detections) == ["block", "bowl", "cylinder"]
    assert all(d.color is None for d in result.detections)  # read from the pixels by the perceiver
    for label, box in boxes.items():
        assert colour_in_box(frame, box) == label.split()[0]


def test_unparseable_answers_are_errors_not_crashes() -> None:
    for family in FAMILIES.values():
        for text in (
            "",
            "nothing",
            "<|box_start|>(1,2)",
            "<loc0001> red",
            '<point x="a" y="b">red block</point>',
            "[{",
        ):
            result = family.parse(text, 640, 480)
            assert result.detections == [] and result.errors, (family.name, text)


def test_family_for_model_types_and_overrides() -> None:
    assert family_for("llava").name == "generic" and family_for(None).name == "generic"
    assert family_for("qwen2_5_vl").name == "qwen2_5_vl" and family_for("molmo2").name == "molmo"
    assert family_for("smolvlm").name == "normalized" and family_for("llava_onevision").name == "normalized"
    assert family_for("llava", "paligemma").name == "paligemma"
    with pytest.raises(ValueError, match="unknown VLM family 'gpt'"):
        family_for("llava", "gpt")


# ---------------------------------------------------------------------------------------------- tiny models


def _torchvision() -> bool:
    try:
        import torchvision  # noqa: F401
    except ImportError:
        return False
    return True


TINY = {
    **{name: (name, None) for name in ("qwen2_vl", "qwen2_5_vl", "paligemma", "florence2")},
    "idefics3": ("normalized", None),
    "smolvlm": ("normalized", "num2words"),
    "llava_onevision": ("normalized", None),
}
"""model_type -> (the family the perceiver must choose, a package the processor needs besides transformers)."""


@pytest.fixture(scope="module")
def top_frame():
    with World(cameras=["top"]) as world:
        world.add_object(ObjectSpec(id="red_block", type="block", color="red", x=0.50, y=0.10))
        world.settle()
        return world.cameras[0].read()


def load_tiny(model_type: str, path: Path, monkeypatch) -> VLMPerceiver:
    """Build the tiny model and load it through ``make_perceiver("vlm", model=path)``; a processor that names
    a video processor cannot load without torchvision, so there the processor built in memory stands in for
    ``AutoProcessor.from_pretrained`` (the model itself still loads from ``path``)."""
    import groundsight.perception.vlm.perceiver as vlm_module

    processor = BUILDERS[model_type](path)
    try:
        perceiver = make_perceiver("vlm", model=str(path))
    except PerceptionError as exc:
        if _torchvision() or "Torchvision" not in str(exc):
            raise
        from transformers import AutoModelForImageTextToText

        def in_memory(*_args):
            return processor, AutoModelForImageTextToText.from_pretrained(path)

        monkeypatch.setattr(vlm_module, "load_pretrained", in_memory)
        perceiver = make_perceiver("vlm", model=str(path))
    assert isinstance(perceiver, VLMPerceiver)
    return perceiver


@pytest.mark.parametrize("model_type", sorted(TINY))
def test_tiny_model_of_each_family_loads_and_answers(model_type: str, tmp_path: Path, top_frame, monkeypatch) -> None:
    family, needs = TINY[model_type]
    if needs:
        pytest.importorskip(needs, reason=f"the {model_type} processor needs {needs}, not installed here")
    perceiver = load_tiny(model_type, tmp_path, monkeypatch)
    assert perceiver.model.config.model_type == model_type
    assert perceiver.family.name == family
    perceiver.config = perceiver.config.model_copy(update={"max_new_tokens": 8})
    percept = perceiver.perceive([top_frame, top_frame])  # one batch of two
    assert percept.perceiver == "vlm" and len(perceiver.last_answers) == 2
    assert perceiver.last_errors  # a random model does not answer in the family's format
    assert all(e.startswith("top:") for e in perceiver.last_errors)


def test_tiny_qwen2_5_vl_binds_its_processors_resize_limits(tmp_path: Path, monkeypatch) -> None:
    perceiver = load_tiny("qwen2_5_vl", tmp_path, monkeypatch)
    assert (perceiver.family.min_pixels, perceiver.family.max_pixels, perceiver.family.factor) == (
        56 * 56,
        112 * 112,
        28,
    )
    assert perceiver.family.resized(640, 480) == (112, 84)


def test_tiny_florence2_parses_with_its_processors_post_processing(tmp_path: Path, scene, monkeypatch) -> None:
    frame, boxes, _ = scene
    perceiver = load_tiny("florence2", tmp_path, monkeypatch)
    assert perceiver.family.processor is perceiver.processor
    k = frame.intrinsics
    result = perceiver.family.parse(florence2_answer(boxes, k.width, k.height), k.width, k.height)
    got = _by_label(result)
    assert set(got) == set(boxes)
    for label, box in boxes.items():
        assert max(abs(a - b) for a, b in zip(got[label], box, strict=True)) <= 2.0


def test_molmo2_needs_torchvision_for_its_image_processor() -> None:
    """Molmo2's image processor exists only as a torchvision backend; without torchvision no processor can be
    built here (its answers are covered by the golden tests and the vlm-server stub)."""
    if not _torchvision():
        pytest.skip("Molmo2ImageProcessor needs torchvision (not installed): no offline Molmo2 processor here")
    from transformers import AutoConfig

    assert AutoConfig.for_model("molmo2").model_type == "molmo2"
    assert family_for("molmo2").name == "molmo"


def test_family_override_through_make_perceiver(tmp_path: Path, monkeypatch) -> None:
    BUILDERS["idefics3"](tmp_path)
    perceiver = make_perceiver("vlm", model=str(tmp_path), family="qwen2_vl")
    assert isinstance(perceiver, VLMPerceiver) and perceiver.family.name == "qwen2_vl"
    with pytest.raises(PerceptionError, match="unknown VLM family"):
        make_perceiver("vlm", model=str(tmp_path), family="nonsense")
