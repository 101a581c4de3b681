"""groundsight's own compact vision-language model: a small LLaVA built from configs, and its processor.

The model is a standard :class:`transformers.LlavaForConditionalGeneration` (a small CLIP vision tower, a
two-layer projector, a small Llama decoder), so the ``vlm`` perceiver loads it like any hub checkpoint
(``AutoProcessor`` / ``AutoModelForImageTextToText.from_pretrained``) with no special case.

**Tokenizer** (:func:`~groundsight.perception.vlm.vocabulary.build_tokenizer`, built with the ``tokenizers``
library, no training): word level over a fixed vocabulary. The pre-tokenizer splits text, longest alternative
first, into: the perceiver's whole formatted :data:`~groundsight.perception.vlm.vocabulary.PROMPT` for a 640x480
image (one token: the prompt is constant, and a constant prefix of a hundred tokens would only cost time), the
constant JSON pieces of an answer (``[{"type":"``, ``","color":"``, ``","box":[``, ``]},{"type":"``, ``]}]``),
every integer (0..640 are in the vocabulary, so a coordinate is one token), words, spaces and single
punctuation marks. Every word of the prompt is in the vocabulary too, so another prompt still tokenizes (the
model was not trained on it).

**Answer format** (what the model is trained to write, :func:`format_answer`): the compact JSON list
``[{"type":"block","color":"red","box":[440,232,496,280]},...]`` with objects in raster order of their
boxes' top-left corners and coordinates rounded outwards to multiples of :data:`QUANTUM` pixels, no
confidence (the perceiver then uses its default). :func:`~groundsight.perception.vlm.perceiver.parse_answer`
reads it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from groundsight.perception.vlm.vocabulary import ANSWER_START, MAX_COORD, build_tokenizer, prompt_text

__all__ = [
    "CHAT_TEMPLATE",
    "QUANTUM",
    "ModelSpec",
    "build_model",
    "build_processor",
    "build_tokenizer",
    "count_parameters",
    "format_answer",
    "load_model",
    "prompt_text",
    "save",
    "sincos",
    "spec_of",
]

QUANTUM = 8
"""Coordinates in trained answers are multiples of this many pixels (x0, y0 rounded down, x1, y1 up)."""
CHAT_TEMPLATE = (
    "{% for m in messages %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}{% endfor %}"
    "{% if add_generation_prompt %}" + ANSWER_START + "{% endif %}"
)


class ModelSpec(BaseModel):
    """Sizes of the compact model (the defaults are the shipped model's)."""

    model_config = ConfigDict(frozen=True)

    image_size: int = Field(160, ge=32)
    patch_size: int = Field(16, ge=4)
    vision_hidden: int = Field(128, ge=16)
    vision_layers: int = Field(3, ge=1)
    vision_heads: int = Field(4, ge=1)
    text_hidden: int = Field(192, ge=16)
    text_layers: int = Field(3, ge=1)
    text_heads: int = Field(4, ge=1)
    max_positions: int = Field(512, ge=64)


def _quantised(v: float, up: bool) -> int:
    """``v`` rounded down (or up) to a multiple of :data:`QUANTUM`, within 0..MAX_COORD."""
    n = int(v) // QUANTUM * QUANTUM
    if up and n < v:
        n += QUANTUM
    return max(0, min(MAX_COORD, n))


def format_answer(objects: Iterable[dict[str, Any]]) -> str:
    """The compact JSON answer the model is trained to give for ``objects`` (dicts with type, color, box).

    Objects are sorted by their box's top edge, then left edge; boxes are rounded outwards to multiples of
    :data:`QUANTUM`.
    """
    items = []
    for o in objects:
        x0, y0, x1, y1 = o["box"]
        box = [_quantised(x0, False), _quantised(y0, False), _quantised(x1, True), _quantised(y1, True)]
        items.append({"type": o["type"], "color": o["color"], "box": box})
    items.sort(key=lambda d: (d["box"][1], d["box"][0], d["type"], d["color"]))
    return json.dumps(items, separators=(",", ":"))


def build_processor(spec: ModelSpec | None = None):
    """The :class:`~transformers.LlavaProcessor`: a CLIP image processor squashing the image to a square
    of ``spec.image_size`` (no crop), the word-level tokenizer and the chat template."""
    from transformers import CLIPImageProcessor, LlavaProcessor

    spec = spec or ModelSpec()
    size = spec.image_size
    image_processor = CLIPImageProcessor(
        size={"height": size, "width": size},
        do_center_crop=False,
        crop_size={"height": size, "width": size},
        do_convert_rgb=True,
    )
    return LlavaProcessor(
        image_processor=image_processor,
        tokenizer=build_tokenizer(),
        patch_size=spec.patch_size,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,  # the CLS token, dropped by the "default" strategy
        chat_template=CHAT_TEMPLATE,
    )


def build_model(tokenizer, spec: ModelSpec | None = None, seed: int = 0):
    """A randomly initialised :class:`~transformers.LlavaForConditionalGeneration` of ``spec``'s sizes."""
    import torch
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    spec = spec or ModelSpec()
    vision = CLIPVisionConfig(
        image_size=spec.image_size,
        patch_size=spec.patch_size,
        hidden_size=spec.vision_hidden,
        intermediate_size=4 * spec.vision_hidden,
        num_hidden_layers=spec.vision_layers,
        num_attention_heads=spec.vision_heads,
        projection_dim=spec.vision_hidden,
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.text_hidden,
        intermediate_size=4 * spec.text_hidden,
        num_hidden_layers=spec.text_layers,
        num_attention_heads=spec.text_heads,
        num_key_value_heads=spec.text_heads,
        max_position_embeddings=spec.max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
        image_seq_length=(spec.image_size // spec.patch_size) ** 2,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config)
    _structured_init(model, tokenizer, spec)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def sincos(values, dim: int, shortest: float, longest: float, amplitude: float):
    """A ``(len(values), dim)`` tensor: sines and cosines of ``values`` at ``dim // 2`` periods spaced
    geometrically from ``shortest`` to ``longest`` (nearby values get similar rows), times ``amplitude``."""
    import torch

    v = torch.as_tensor(values, dtype=torch.float32)[:, None]
    half = dim // 2
    periods = shortest * (longest / shortest) ** (torch.arange(half, dtype=torch.float32) / max(half - 1, 1))
    angle = 2 * math.pi * v / periods
    out = torch.zeros(len(v), dim)
    out[:, 0 : 2 * half : 2] = torch.sin(angle)
    out[:, 1 : 2 * half : 2] = torch.cos(angle)
    return amplitude * out


def _structured_init(model, tokenizer, spec: ModelSpec) -> None:
    """Give the two things the model must learn to connect a geometric starting point (everything else
    stays random; all of it is trained):

    - the embedding of each coordinate token ``0..MAX_COORD`` (tied to the output layer) is a sinusoidal code
      of its value, so neighbouring coordinates start out similar and a near miss costs less than a far one;
    - the vision tower's position embedding is a 2D sinusoidal code of each patch's row and column.

    The amplitude matches the random initialisation's standard deviation.
    """
    import torch

    std = model.config.text_config.initializer_range
    with torch.no_grad():
        embeddings = model.get_input_embeddings().weight
        ids = tokenizer.convert_tokens_to_ids([str(n) for n in range(MAX_COORD + 1)])
        embeddings[ids] = sincos(range(MAX_COORD + 1), embeddings.shape[1], 2 * QUANTUM, 4 * MAX_COORD, std * 2**0.5)
        tower = model.model.vision_tower
        position = getattr(tower, "vision_model", tower).embeddings.position_embedding.weight
        grid = spec.image_size // spec.patch_size
        half = position.shape[1] // 2
        rows, cols = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
        code = [sincos(axis.flatten(), half, 2.0, 4.0 * grid, std * 2**0.5) for axis in (rows, cols)]
        position[1:, : 2 * half] = torch.cat(code, dim=1)


def spec_of(model) -> ModelSpec:
    """The :class:`ModelSpec` of a model built by :func:`build_model` (read back from its config)."""
    vision, text = model.config.vision_config, model.config.text_config
    return ModelSpec(
        image_size=vision.image_size,
        patch_size=vision.patch_size,
        vision_hidden=vision.hidden_size,
        vision_layers=vision.num_hidden_layers,
        vision_heads=vision.num_attention_heads,
        text_hidden=text.hidden_size,
        text_layers=text.num_hidden_layers,
        text_heads=text.num_attention_heads,
        max_positions=text.max_position_embeddings,
    )


def load_model(path: str | Path):
    """A saved compact model (float32, for training), through ``from_pretrained``.

    Raises:
        ValueError: ``path`` holds no loadable model (one line naming it).
    """
    import torch
    from transformers import LlavaForConditionalGeneration

    try:
        return LlavaForConditionalGeneration.from_pretrained(path, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a loadable model ({str(exc).splitlines()[0]})") from None


def count_parameters(model) -> int:
    """Number of distinct parameters (tied ones counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def save(model, processor, path: str | Path, dtype: str = "float16") -> None:
    """Save ``model`` (stored as ``dtype``; the model is cast back afterwards) and ``processor`` in the
    transformers format."""
    import torch

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    original = next(model.parameters()).dtype
    model.to(getattr(torch, dtype))
    try:
        model.save_pretrained(path, safe_serialization=True)
    finally:
        model.to(original)
    processor.save_pretrained(path)
