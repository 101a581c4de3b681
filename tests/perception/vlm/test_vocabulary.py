"""The VLM's words (:mod:`groundsight.perception.vlm.vocabulary`): one source for the perceiver, the compact
model's tokenizer and the training data."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from groundsight.perception.colors import COLOR_NAMES  # noqa: E402
from groundsight.perception.vlm import perceiver  # noqa: E402
from groundsight.perception.vlm.vocabulary import (  # noqa: E402
    PROMPT,
    PROMPT_COLORS,
    TYPES,
    build_tokenizer,
    match_word,
    prompt_text,
)


def test_the_shipped_model_was_trained_with_this_tokenizer() -> None:
    from transformers import AutoTokenizer

    shipped = AutoTokenizer.from_pretrained(str(perceiver.DEFAULT_VLM))
    assert shipped.get_vocab() == build_tokenizer().get_vocab()


def test_the_prompt_names_every_type_and_the_shipped_models_colours() -> None:
    """The prompt lists the ten colours the shipped model was trained with (its tokenizer holds the whole prompt
    as one token); cyan, magenta, black and beige are understood in answers, not asked for."""
    text = prompt_text(320, 240)
    assert text.startswith(PROMPT.split("{")[0]) and "320x240" in text
    assert COLOR_NAMES[:10] == PROMPT_COLORS
    assert all(t in text for t in TYPES) and all(c in text for c in PROMPT_COLORS)
    assert not any(c in text for c in COLOR_NAMES[10:])
    assert perceiver.PROMPT is PROMPT and perceiver.TYPES is TYPES  # still importable where tests import them


@pytest.mark.parametrize(
    ("value", "words", "expected"),
    [
        (" Grey ", COLOR_NAMES, "gray"),
        ("Teal", COLOR_NAMES, "cyan"),
        ("turquoise", COLOR_NAMES, "cyan"),
        ("tan", COLOR_NAMES, "beige"),
        ("magenta", COLOR_NAMES, "magenta"),
        ("black", COLOR_NAMES, "black"),
        ("cube", TYPES, "block"),
        ("CUP", TYPES, "mug"),
        ("lamp", TYPES, None),
        (3, TYPES, None),
    ],
)
def test_answer_words_are_matched_through_synonyms(value, words, expected) -> None:
    assert match_word(value, words) == expected
