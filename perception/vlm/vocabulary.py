"""The words of the ``vlm`` perceivers and of groundsight's compact model, in one place.

- What a model is asked and may answer: the object :data:`TYPES`, the colour words (:data:`COLOR_NAMES`, from
  :mod:`groundsight.perception.colors`), the :data:`SYNONYMS` an answer may use instead (:func:`match_word`),
  and the :data:`PROMPT` sent with each image (:func:`prompt_text`). The prompt lists :data:`PROMPT_COLORS`,
  the ten colours the shipped model was trained with; an answer may name any of :data:`COLOR_NAMES` (cyan,
  magenta, black and beige too) or a synonym (teal, turquoise, fuchsia, tan, ...).
- The compact model's word-level tokenizer (:func:`build_tokenizer`): the perceiver's whole formatted prompt
  for a 640x480 image is one token, so are the constant JSON pieces of an answer (:data:`JSON_PIECES`) and
  every integer 0..:data:`MAX_COORD` (a coordinate is one token); every word of the prompt is a token too, so
  another prompt still tokenizes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from groundsight.perception.colors import BASE_COLOR_NAMES, COLOR_NAMES, COLOR_SYNONYMS
from groundsight.perception.perceivers.classical import CATALOGUE

__all__ = [
    "ANSWER_START",
    "COLOR_NAMES",
    "IMAGE_SIZES",
    "JSON_PIECES",
    "MAX_COORD",
    "PROMPT",
    "PROMPT_COLORS",
    "SPECIAL_TOKENS",
    "SYNONYMS",
    "TYPES",
    "build_tokenizer",
    "match_word",
    "prompt_text",
    "tokenizer_vocabulary",
]

TYPES: tuple[str, ...] = tuple(m.type for m in CATALOGUE)
"""The object types the VLM perceiver accepts."""

PROMPT_COLORS: tuple[str, ...] = BASE_COLOR_NAMES
"""The colour words the prompt lists: the ten the shipped model was trained with. Its word-level tokenizer holds
the whole formatted prompt as one token (and the words of these names), so adding a colour to the prompt would
change what the shipped model reads; answers are matched against all of :data:`COLOR_NAMES`."""

SYNONYMS: dict[str, str] = {
    **COLOR_SYNONYMS,
    "cube": "block",
    "cup": "mug",
    "sphere": "ball",
    "dish": "plate",
}
"""Words of an answer read as one of groundsight's colour or type words."""

PROMPT = (
    "You see a robot's tabletop in an image of {width}x{height} pixels. List every object on the table as a "
    'JSON list: [{{"type": TYPE, "color": COLOR, "box": [x0, y0, x1, y1], "confidence": C}}], with box in '
    "pixel coordinates (x to the right, y down, x1 and y1 exclusive), TYPE one of {types}, COLOR one of "
    "{colors}, and C your confidence between 0 and 1. Answer with the JSON list only."
)
"""The instruction sent with each image (``str.format`` fields: width, height, types, colors)."""


def prompt_text(width: int = 640, height: int = 480) -> str:
    """The perceiver's prompt for an image of ``width`` x ``height`` pixels (as :class:`VLMPerceiver` sends it)."""
    return PROMPT.format(width=width, height=height, types=", ".join(TYPES), colors=", ".join(PROMPT_COLORS))


def match_word(value: Any, vocabulary: Sequence[str]) -> str | None:
    """``value`` as a word of ``vocabulary`` (case and surrounding spaces ignored, :data:`SYNONYMS` applied);
    None when it is not a string or not in the vocabulary."""
    if not isinstance(value, str):
        return None
    w = value.strip().lower()
    w = SYNONYMS.get(w, w)
    return w if w in vocabulary else None


# ---------------------------------------------------------------------------------------------- tokenizer

MAX_COORD = 640
"""Every integer 0..MAX_COORD is one token."""
SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>", "<image>")
ANSWER_START = " ANSWER:"
"""What the chat template appends for the generation prompt."""
JSON_PIECES = ('[{"type":"', '","color":"', '","box":[', ']},{"type":"', "]}]", "[]")
"""The constant pieces of an answer, each one token."""
IMAGE_SIZES = ((640, 480),)
"""Image sizes whose whole formatted prompt is one token."""


def _pre_tokenizer_pattern(literals: Sequence[str]) -> str:
    """The regex that splits text into tokens: the literals (longest first), integers, words, spaces, marks."""
    alternatives = [re.escape(s) for s in sorted(set(literals), key=len, reverse=True)]
    return "|".join([*alternatives, r"\d+", r"[A-Za-z]+", r"\s+", r"[^\sA-Za-z\d]"])


def tokenizer_vocabulary() -> tuple[list[str], list[str]]:
    """The tokens (special ones first, then the vocabulary) and the literals the pre-tokenizer keeps whole."""
    prompts = [prompt_text(w, h) for w, h in IMAGE_SIZES]
    literals = [*prompts, *JSON_PIECES, ANSWER_START]
    words: set[str] = set()
    for text in [*prompts, PROMPT, ANSWER_START, *JSON_PIECES, " ".join((*TYPES, *PROMPT_COLORS))]:
        words.update(t for t in re.findall(_pre_tokenizer_pattern([]), text) if not t.isdigit())
    words.update(re.findall(r"[^\sA-Za-z\d]", "".join(JSON_PIECES) + "{}[]:,.\"'()-_"))
    words.update((" ", "\n"))
    numbers = [str(i) for i in range(MAX_COORD + 1)]
    tokens = [*SPECIAL_TOKENS, *literals, *numbers, *sorted(words - set(literals) - set(numbers))]
    return tokens, literals


def build_tokenizer():
    """The word-level :class:`~transformers.PreTrainedTokenizerFast` of the compact model."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tokens, literals = tokenizer_vocabulary()
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(_pre_tokenizer_pattern(literals)), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens={"image_token": "<image>"},
    )
