"""The paraphrase corpus: every instruction means what its entry says, or is refused/asked about with it."""

from __future__ import annotations

import pytest
from lark.exceptions import UnexpectedInput

from groundsight.knowledge import KnowledgeBase
from groundsight.reasoning import language
from groundsight.reasoning.language import InstructionError, Lexicon, parse
from groundsight.reasoning.logical_form import canonical
from tests.reasoning.corpus.model import CorpusEntry, load_corpus

CORPUS = load_corpus()


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    kb = KnowledgeBase()
    return Lexicon(nouns={**kb.type_words(), **kb.class_words()})


def test_the_corpus_is_large_and_covers_every_family():
    families = {e.family for e in CORPUS.entries}
    assert len(CORPUS.entries) >= 300
    assert {"pick_place", "handover", "stacking", "sorting", "refusals", "conjunctions"} <= families
    assert len({e.text for e in CORPUS.entries}) == len(CORPUS.entries), "duplicate instructions"


def test_an_entry_has_exactly_one_outcome():
    with pytest.raises(ValueError, match="exactly one"):
        CorpusEntry(family="x", source="y", text="put it", expect="a", refuse="b")


@pytest.mark.parametrize("entry", CORPUS.entries, ids=lambda e: e.text[:60])
def test_corpus_entry(entry: CorpusEntry, lexicon: Lexicon):
    if entry.expect is not None:
        assert canonical(parse(entry.text, lexicon)) == entry.expect
        return
    with pytest.raises(InstructionError) as err:
        parse(entry.text, lexicon)
    message = str(err.value)
    assert entry.refuse in message
    assert "\n" not in message and "'i'" not in message


def test_every_unknown_word_refusal_carries_a_phrasing_that_works(lexicon: Lexicon):
    unknown = [e for e in CORPUS.entries if e.refuse is not None and "know the word" in e.refuse + _said(e, lexicon)]
    assert len(unknown) >= 10
    for entry in unknown:
        message = _said(entry, lexicon)
        example = message.split("This works: '")[1].rstrip("'")
        parse(example, lexicon)  # the suggested phrasing parses


PROBES = [
    *(f"put the red block in the bowl {w}" for w in ("carefully", "table", "corner", "zorbly", "now", "cm")),
    *(f"{w} the red block" for w in ("frobnicate", "shove", "toss", "rotate", "tidy", "nudgify")),
    "put the crimson zorbly in the bowl",
    "put the red block under the bowl",
]


@pytest.mark.parametrize("text", [*PROBES, *(e.text for e in CORPUS.entries if e.refuse is not None)])
def test_every_unknown_word_refusal_carries_a_suggestion(text: str, lexicon: Lexicon):
    """A suggestion: other words ("did you mean"), leaving the word out, or a note that says what to say."""
    try:
        parse(text, lexicon)
    except InstructionError as exc:
        message = str(exc)
        if "know the word" in message:
            has_note = exc.word in language._NOTES
            assert "did you mean" in message or "leave it out?" in message or has_note, message
            assert "This works: '" in message


def _said(entry: CorpusEntry, lexicon: Lexicon) -> str:
    try:
        parse(entry.text, lexicon)
    except InstructionError as exc:
        return str(exc)
    return ""


def test_the_pruned_parser_gives_the_full_parsers_forest_on_every_instruction(lexicon: Lexicon):
    """The parser predicts only rules the sentence's words can complete (for speed): the same forest, readings
    and all, as lark's full Earley parser on every corpus instruction that is made of known words."""
    compiled = language._language(lexicon.key())
    compared = 0
    for entry in CORPUS.entries:
        words = language._words(entry.text)
        if any(w not in compiled.keywords and not w.isdigit() for w in words):
            continue
        sentence = " ".join(words)
        try:
            full = compiled.parser.parse(sentence)
        except UnexpectedInput:  # a sentence the grammar rejects: the pruned parser rejects it too
            with pytest.raises(UnexpectedInput):
                compiled.pruned.parse(sentence)
            continue
        assert compiled.pruned.parse(sentence) == full, sentence
        compared += 1
    assert compared >= 300
