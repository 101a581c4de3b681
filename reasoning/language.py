"""The instruction language: a lark grammar (``grammar.lark``) that parses robot instructions into a
:class:`~reasoning.logical_form.Program`.

    >>> lexicon = Lexicon(nouns={"block": "block", "cube": "block", "plate": "plate"})
    >>> parse("Put the red cube on the plate.", lexicon).steps[0].object.color
    'red'

Words: colours (:data:`COLOR_WORDS`), sizes (:data:`SIZE_WORDS`), numbers and ordinals are fixed here; nouns come
from the :class:`Lexicon` (the knowledge graph's type and class words), with plurals derived by
:func:`plural_of`. Every other word is a grammar keyword. A word outside the language, words in an order the
grammar has no construction for, and a sentence with two different readings all raise :class:`InstructionError`
with a one-line message: the agent asks or refuses, it never guesses. How ambiguity is handled is described at
the top of ``grammar.lark``.
"""

from __future__ import annotations

import copy
import difflib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.grammar import NonTerminal, Rule
from lark.visitors import CollapseAmbiguities
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from groundsight.perception.colors import COLOR_NAMES, COLOR_SYNONYMS
from groundsight.reasoning.logical_form import (
    Command,
    HandOver,
    Lift,
    NounPhrase,
    Program,
    Put,
    RelationFilter,
    Shift,
    Sort,
    Stack,
    Superlative,
    paraphrase,
)

log = logging.getLogger(__name__)

COLOR_WORDS: dict[str, str] = {**{c: c for c in COLOR_NAMES}, **COLOR_SYNONYMS}
"""Colour word -> canonical colour: the colour names perception reports and perception's synonyms for them
(one table, so a word the language accepts is a colour perception can name)."""
SIZE_WORDS: dict[str, str] = {
    "small": "small",
    "little": "small",
    "tiny": "small",
    "medium": "medium",
    "large": "large",
    "big": "large",
    "huge": "large",
}
"""Size word -> canonical size (logical_form.Size)."""
NUMBER_WORDS: dict[str, int] = {
    w: i + 1 for i, w in enumerate(("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"))
}
ORDINAL_WORDS: dict[str, int] = {
    w: i + 1
    for i, w in enumerate(
        ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
    )
}
CONTAINER_NOUNS: frozenset[str] = frozenset(
    {"bowl", "tray", "mug", "cup", "container", "box", "basket", "bin", "crate", "pot", "jar", "bag", "drawer"}
)
"""Canonical nouns that "to" means "in" for ("move the block to the bowl"); "to" anything else means "on". The
knowledge graph still checks that the destination affords it."""
GENERIC_NOUNS: frozenset[str] = frozenset({"object", "thing", "item"})
"""Nouns (and canonical nouns) that mean any object: they become ``NounPhrase.noun = None``."""
UNCOUNTABLE: frozenset[str] = frozenset({"kitchenware", "tableware", "cutlery", "silverware", "equipment", "stuff"})
_IRREGULAR_PLURALS = {"knife": "knives", "shelf": "shelves", "leaf": "leaves", "mouse": "mice", "child": "children"}
_MAX_READINGS = 256
GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")

_WORD = re.compile(r"[a-z0-9]+")
_SPLIT = re.compile(r"[\s,.;:!?\"()]+|-")


class InstructionError(ValueError):
    """One-line message; ``word`` names the unknown or unexpected word (or None)."""

    def __init__(self, message: str, word: str | None = None, construction: bool = False) -> None:
        super().__init__(message)
        self.word = word
        self.construction = construction
        """raised by a construction the grammar has only to refuse it helpfully ("push X to the left"): when no
        reading parses, its message is the one shown"""


def plural_of(noun: str) -> str:
    """The plural of an English noun: block -> blocks, dish -> dishes, kitchenware -> kitchenware."""
    if noun in UNCOUNTABLE or noun.endswith("ware"):
        return noun
    if noun in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and len(noun) > 1 and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


class Lexicon(BaseModel):
    """The nouns an instruction may use: every accepted (singular) noun word -> its canonical noun.

    Built by the agent from the knowledge graph (``kb.type_words() | kb.class_words()``). Canonical nouns in
    :data:`GENERIC_NOUNS` ("object") mean any object; "object", "thing" and "item" are always accepted.
    """

    model_config = ConfigDict(frozen=True)

    nouns: dict[str, str]

    @field_validator("nouns")
    @classmethod
    def _words(cls, nouns: dict[str, str]) -> dict[str, str]:
        for word, canonical in nouns.items():
            for w in (word, canonical):
                if not _WORD.fullmatch(w):
                    raise ValueError(f"noun {w!r} must be one lower-case word of letters and digits")
        return nouns

    def key(self) -> tuple[tuple[str, str], ...]:
        """A hashable, order-independent identity of the lexicon (the parser cache key)."""
        return tuple(sorted(self.nouns.items()))


# ---- the parser, built once per lexicon ----------------------------------------------------------------
class _Language:
    """A compiled grammar for one lexicon: the lark parser, its vocabulary, and noun forms."""

    def __init__(self, nouns: tuple[tuple[str, str], ...]) -> None:
        singular: dict[str, str | None] = {w: None for w in GENERIC_NOUNS}
        for word, canonical in nouns:
            singular[word] = None if canonical in GENERIC_NOUNS else canonical
        self.singular = singular
        self.plural: dict[str, str | None] = {plural_of(w): c for w, c in singular.items()}
        forms = sorted(set(self.singular) | set(self.plural))
        text = GRAMMAR_PATH.read_text(encoding="utf-8")
        base = _keywords(text)
        categories = {
            "noun": forms,
            "color": sorted(COLOR_WORDS),
            "size": sorted(SIZE_WORDS),
            "number": sorted(NUMBER_WORDS),
            "ordinal": sorted(ORDINAL_WORDS),
        }
        text += "\n// ---- generated by reasoning/language.py ----\n"
        for rule, words in categories.items():
            # a word also used elsewhere (a keyword, or a word of another category: "orange" the fruit) stays literal
            elsewhere = base.union(*(w for r, w in categories.items() if r != rule))
            text += _category(rule, words, elsewhere, extra="/[0-9]+/" if rule == "number" else "")
        self.grammar = text
        self.parser = Lark(
            text, start="start", parser="earley", lexer="basic", ambiguity="explicit", propagate_positions=True
        )
        self.keywords = frozenset(base.union(*categories.values()))
        self.pruned = _PrunedEarley(self.parser)

    def parse_tree(self, sentence: str) -> Tree:
        """The parse forest of ``sentence`` (ambiguities explicit), by the pruned Earley parser; when that
        fails, the full parser's own error (what the parser expected where it stopped names what is missing,
        and the pruned one expects only the sentence's own words)."""
        try:
            return self.pruned.parse(sentence)
        except UnexpectedInput:
            return self.parser.parse(sentence)


class _Predictions(dict):
    """lark's Earley predictions (nonterminal -> the rules predicted with it), restricted to live rules;
    each list is filtered the first time the parser asks for it."""

    def __init__(self, full: dict[NonTerminal, list[Rule]], live: set[Rule]) -> None:
        super().__init__()
        self.full = full
        self.live = live

    def __missing__(self, symbol: NonTerminal) -> list[Rule]:
        rules = [rule for rule in self.full[symbol] if rule in self.live]
        self[symbol] = rules
        return rules


class _PrunedEarley:
    """The grammar's Earley parser, predicting only the rules an instruction's words can complete.

    At every noun phrase lark's Earley parser predicts every rule reachable from it (hundreds: each modifier,
    clause and relation), and most of them need a word the instruction does not contain. A rule with a terminal
    absent from the sentence can never complete, nor can one that needs a nonterminal without such a live rule;
    leaving them out of the predictions leaves the parse forest from the root unchanged (every complete
    derivation uses live rules only) and creates a fraction of the items: about four times faster on the
    paraphrase corpus. ``tests/reasoning/test_paraphrase_corpus.py`` checks it gives the full parser's tree on
    every corpus instruction.
    """

    def __init__(self, parser: Lark) -> None:
        self.frontend = parser.parser
        self.earley = self.frontend.parser
        rules = self.earley.parser_conf.rules
        self.terminals = {rule: frozenset(s.name for s in rule.expansion if s.is_term) for rule in rules}
        self.needs = {rule: len({s for s in rule.expansion if not s.is_term}) for rule in rules}
        self.kinds: dict[str, str] = {}
        """word -> its terminal (filled as words are met)"""
        self.by_terminals: dict[frozenset[str], _Predictions] = {}
        self.users: dict[NonTerminal, list[Rule]] = {}
        for rule in rules:
            for symbol in {s for s in rule.expansion if not s.is_term}:
                self.users.setdefault(symbol, []).append(rule)

    def live(self, present: frozenset[str]) -> set[Rule]:
        """The rules that can complete on a sentence whose terminals are ``present``: every terminal present,
        and each nonterminal with a live rule (the productive rules, found bottom-up)."""
        pending = {rule: n for rule, n in self.needs.items() if self.terminals[rule] <= present}
        ready = [rule for rule, n in pending.items() if n == 0]
        live: set[Rule] = set()
        productive: set[NonTerminal] = set()
        while ready:
            rule = ready.pop()
            live.add(rule)
            if rule.origin in productive:
                continue
            productive.add(rule.origin)
            for user in self.users.get(rule.origin, ()):
                if user in pending:
                    pending[user] -= 1
                    if pending[user] == 0:
                        ready.append(user)
        return live

    def predictions(self, present: frozenset[str]) -> _Predictions:
        """The predictions for a sentence whose terminals are ``present`` (kept for the 256 latest sets: the
        instructions of one template share them)."""
        cached = self.by_terminals.pop(present, None)
        if cached is None:
            cached = _Predictions(self.earley.predictions, self.live(present))
        self.by_terminals[present] = cached
        while len(self.by_terminals) > 256:
            self.by_terminals.pop(next(iter(self.by_terminals)))
        return cached

    def tokens(self, sentence: str) -> list[Token]:
        """The sentence's tokens: each word lexed by the grammar's own lexer once, then looked up (a sentence is
        words joined by single spaces, and the lexer matches each word as itself)."""
        out, start = [], 0
        for word in sentence.split(" "):
            kind = self.kinds.get(word)
            if kind is None:
                (token,) = self.frontend._make_lexer_thread(word).lex(None)
                kind = self.kinds.setdefault(word, token.type)
            end = start + len(word)
            out.append(Token(kind, word, start, 1, start + 1, 1, end + 1, end))
            start = end + 1
        return out

    def parse(self, sentence: str) -> Tree:
        """The forest of ``sentence``; raises lark's UnexpectedInput where it does not parse."""
        tokens = self.tokens(sentence)
        earley = copy.copy(self.earley)  # a copy per parse: the shared parser keeps its full predictions
        earley.predictions = self.predictions(frozenset(t.type for t in tokens))
        return earley.parse(_TokenStream(tokens), "start")


class _TokenStream:
    """The lexer interface lark's Earley parser reads tokens from, over tokens already made."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens

    def lex(self, expects: object) -> Iterator[Token]:
        return iter(self.tokens)


def _keywords(grammar: str) -> set[str]:
    """The quoted words of a grammar text, comments left out."""
    code = "\n".join(line.split("//")[0] for line in grammar.splitlines())
    return set(re.findall(r'"([a-z0-9]+)"', code))


def _category(rule: str, words: list[str], keywords: set[str], extra: str = "") -> str:
    """``rule`` matching any of ``words``: one terminal for the words the grammar does not use elsewhere (one Earley
    item instead of one per word), and a literal alternative for each word that is also a keyword ("can" is a
    noun and a modal, "first" an ordinal and a sequence opener)."""
    shared = [w for w in words if w in keywords]
    own = sorted((w for w in words if w not in keywords), key=lambda w: (-len(w), w))
    alternatives = [f'"{w}"' for w in shared]
    terminal = f"{rule.upper()}_WORD"
    if own or extra:
        alternatives.append(terminal)
    body = "|".join(own + ([extra.strip("/")] if extra else []))
    lines = f"!{rule}: " + " | ".join(alternatives) + "\n"
    if own or extra:
        lines += f"{terminal}: /(?:{body})\\b/\n"
    return lines


@lru_cache(maxsize=16)
def _language(nouns: tuple[tuple[str, str], ...]) -> _Language:
    return _Language(nouns)


# ---- parse -----------------------------------------------------------------------------------------------
def parse(text: str, lexicon: Lexicon) -> Program:
    """Parse one instruction into a Program; raise InstructionError naming the first word outside the language
    or the word where the construction breaks."""
    words = _words(text)
    # The agent parses the same instruction at every step: parses are cached; each caller gets its own copy.
    return _parse(tuple(words), lexicon.key()).model_copy(deep=True)


@lru_cache(maxsize=256)
def _parse(words: tuple[str, ...], nouns: tuple[tuple[str, str], ...]) -> Program:
    language = _language(nouns)
    if not words:
        raise InstructionError("The instruction is empty: say what to do, e.g. 'put the red block in the bowl'")
    for word in words:
        if word not in language.keywords and not word.isdigit():
            raise _unknown_word(word, words, language, nouns)
    sentence = " ".join(words)
    try:
        tree = language.parse_tree(sentence)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, list(words), sentence, language) from None
    except LarkError as exc:  # anything else lark raises: still one line, no traceback of lark's
        raise InstructionError(f"I can't follow the instruction: {str(exc).splitlines()[0]}") from None
    readings = CollapseAmbiguities().transform(tree)
    programs: dict[str, Program] = {}
    errors: list[InstructionError] = []
    if len(readings) > _MAX_READINGS:
        raise InstructionError(f"The instruction can be read {len(readings)} ways; please say it in shorter steps")
    for reading in readings:
        try:
            program = _Reader(language, sentence).program(reading)
        except InstructionError as exc:
            errors.append(exc)
            continue
        except ValidationError as exc:  # a logical-form constraint the reader did not check first
            errors.append(InstructionError(f"I can't follow the instruction: {exc.errors()[0]['msg']}"))
            continue
        programs.setdefault(program.model_dump_json(), program)
    if not programs:
        raise next((e for e in errors if e.construction), errors[0])
    if len(programs) > 1:
        options = " or ".join(f"'{paraphrase(p, _bracket)}'" for p in list(programs.values())[:3])
        raise InstructionError(f"The instruction can be read more than one way: {options}; please rephrase")
    return next(iter(programs.values()))


def _words(text: str) -> list[str]:
    """Lower-cased words; sentence punctuation dropped, hyphenated words split ("non-red" -> non red),
    contractions expanded ("isn't" -> is not) and other apostrophes dropped ("robot's" -> robot)."""
    words = []
    for word in _SPLIT.split(text.lower().replace("\u2019", "'").replace("\u2018", "'")):
        word = _CONTRACTIONS.get(word, word)
        if word.endswith("'s"):
            word = word[:-2]
        words += word.replace("'", "").split()
    return words


def _syntax_error(exc: UnexpectedInput, words: list[str], sentence: str, language: _Language) -> InstructionError:
    missing = _what_is_missing(_expected_words(exc, language), words)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        word = str(exc.token.value)
        index = sentence[: exc.token.start_pos].count(" ") + 1
        if index == 1:
            return InstructionError(
                f"I can't follow the instruction at '{_shown(word)}': start with what to do "
                f"(put, give, stack, sort, pick up ...), e.g. '{_EXAMPLE}'",
                word=word,
            )
        before = " ".join(_shown(w) for w in words[: index - 1])
        return InstructionError(
            f"I can't follow the instruction at '{_shown(word)}' (word {index} of {len(words)}): "
            f"no construction continues '{before}' with it; it needs {missing}",
            word=word,
        )
    if isinstance(exc, UnexpectedEOF | UnexpectedToken):
        return InstructionError(
            f"'{' '.join(_shown(w) for w in words)}' is incomplete after '{_shown(words[-1])}': it needs {missing}",
            word=words[-1],
        )
    word = sentence[exc.pos_in_stream :].split(" ")[0] if exc.pos_in_stream is not None else None
    return InstructionError(f"I can't follow the instruction at '{word}'", word=word)


# ---- words people use that the language does not have: what to say instead --------------------------------
_CONTRACTIONS: dict[str, str] = {
    "that's": "that is",
    "it's": "it is",
    "isn't": "is not",
    "aren't": "are not",
    "don't": "do not",
    "doesn't": "does not",
    "i'd": "i would",
    "i'm": "i am",
    "i'll": "i will",
    "you'd": "you would",
    "can't": "can not",
    "cannot": "can not",
    "won't": "will not",
    "let's": "let us",
    "what's": "what is",
    "there's": "there is",
    "wouldn't": "would not",
    "couldn't": "could not",
    "we'd": "we would",
    "they're": "they are",
    "which's": "which is",
    "who's": "who is",
    "here's": "here is",
}
"""Contractions expanded before the words are checked ("the ball that isn't blue" -> "that is not blue")."""

_SYNONYMS: dict[str, tuple[str, ...]] = {
    # verbs
    **dict.fromkeys(("throw", "toss", "dump", "stick", "plop", "chuck"), ("put", "drop")),
    **dict.fromkeys(("sweep", "roll", "scoot", "drag", "shove"), ("push", "slide")),
    **dict.fromkeys(("clear", "tidy", "clean", "organize", "organise", "arrange", "away"), ("put", "sort")),
    **dict.fromkeys(("elevate", "hoist"), ("lift",)),
    **dict.fromkeys(("deliver", "hands", "offer", "return"), ("give", "hand")),
    "build": ("stack",),
    "pile": ("stack",),
    "heap": ("stack",),
    "group": ("sort",),
    "separate": ("sort",),
    # nouns
    **dict.fromkeys(("box", "basket", "bin", "crate", "tub", "pan"), ("tray", "bowl")),
    **dict.fromkeys(("cuboid", "square", "lego", "dice", "die"), ("block", "cube")),
    **dict.fromkeys(("glass", "beaker", "tumbler"), ("mug", "cup")),
    **dict.fromkeys(("bottle", "jar", "tin", "tube", "pipe"), ("cylinder", "can")),
    **dict.fromkeys(("orb", "marble", "globe"), ("ball", "sphere")),
    **dict.fromkeys(("platter", "disc", "disk", "coaster"), ("plate", "dish")),
    **dict.fromkeys(("pot", "cauldron"), ("bowl",)),
    # colours and shades
    **dict.fromkeys(("gold", "golden", "amber", "lemon"), ("yellow",)),
    **dict.fromkeys(("crimson", "scarlet", "maroon", "ruby"), ("red",)),
    **dict.fromkeys(("navy", "azure", "cobalt", "sapphire"), ("blue",)),
    **dict.fromkeys(("lime", "olive", "emerald", "mint"), ("green",)),
    **dict.fromkeys(("lilac", "lavender", "indigo", "plum"), ("purple",)),
    "rose": ("pink",),
    **dict.fromkeys(("cerise", "hotpink"), ("magenta", "pink")),
    **dict.fromkeys(("silver", "silvery"), ("gray",)),
    **dict.fromkeys(("wooden", "wood", "chocolate"), ("brown",)),
    **dict.fromkeys(("cream", "sand", "sandy", "ivory"), ("beige", "white")),
    **dict.fromkeys(("ebony", "jet", "charcoal"), ("black",)),
    "brighter": ("lighter",),
    "brightest": ("lightest",),
    "palest": ("lightest",),
    "pale": ("light",),
    # places and relations
    **dict.fromkeys(("adjacent", "alongside", "nearby", "by"), ("next to", "near")),
    "between": ("next to",),
    "toward": ("to",),
    **dict.fromkeys(("this", "these", "those"), ("the",)),
    "towards": ("to",),
    "inward": ("into",),
    "heaviest": ("largest",),
    "huger": ("bigger",),
    "littlest": ("smallest",),
    "tallest": ("largest",),
    "shortest": ("smallest",),
    "highest": ("largest",),
}
"""Word -> what to say instead (the closest meaning the language has). Only suggested, never substituted."""

_NOTES: dict[str, str] = {
    **dict.fromkeys(
        ("clear", "tidy", "clean", "organize", "organise", "arrange", "away"),
        "I can't do that as one task; say where things go",
    ),
    **dict.fromkeys(
        ("under", "underneath", "below", "beneath"),
        "I put things on, in or beside an object; to put X under Y, put Y on X",
    ),
    **dict.fromkeys(
        ("middle", "center", "centre", "central"), "I pick objects by order: say e.g. 'the second block from the left'"
    ),
    **dict.fromkeys(("above", "over"), "say 'on' or 'on top of'"),
    "between": "I place next to one object at a time: say 'next to'",
    **dict.fromkeys(("rotate", "turn", "spin", "flip", "open", "pour", "wipe", "shake"), "I can't do that"),
    "do": "say what to do rather than what not to do",
    **dict.fromkeys(("this", "these", "those"), "I can't see where you point: name the object, e.g. 'the red block'"),
    **dict.fromkeys(
        ("meters", "metres", "meter", "metre", "feet", "foot"),
        "I move objects by centimetres, e.g. 'push the block 10 cm to the left'",
    ),
    "me": "I measure from the robot: say 'closest to you'",
}
"""Words for which the suggestion needs a reason."""

_EXAMPLE = "put the red block in the bowl"
_UNIT_METRES = {"centimetres": 0.01, "millimetres": 0.001, "inches": 0.0254}
_LIFT_VERBS = frozenset({"pick up", "pick", "lift", "lift up", "grab", "grasp", "hold", "raise", "hold up"})
"""Fetch verbs that alone mean "pick it up and hold it" (take, get, fetch ... alone suggest bringing it)."""


def _shown(word: str) -> str:
    """A word as a person writes it in a message ("I", not "i")."""
    return "I" if word == "i" else word


def _unknown_word(word: str, words: tuple[str, ...], language: _Language, nouns: tuple) -> InstructionError:
    """ "I don't know the word 'box': did you mean 'tray' or 'bowl'? This works: 'put the ball in the tray'".

    Every such message carries a suggestion: synonyms and close spellings; else, when the instruction parses
    without the word ("carefully"), leaving it out; else the verbs an instruction starts with (for a first
    word) or the nearest keywords by spelling."""
    known = [w for w in _SYNONYMS.get(word, ()) if all(x in language.keywords for x in w.split())]
    known += [w for w in _SYNONYMS.get(word, ()) if w not in known and " " in w]  # a phrase to say instead
    close = difflib.get_close_matches(word, sorted(language.keywords), n=3, cutoff=0.75)
    suggestions = list(dict.fromkeys([*known, *close]))[:3]
    message = f"I don't know the word '{_shown(word)}'"
    if word in _NOTES:
        message += f" ({_NOTES[word]})"
    without = _without(word, words, nouns) if not suggestions else None
    if without is not None:
        return InstructionError(f"{message}: leave it out? This works: '{without}'", word=word)
    if not suggestions:
        first = words.index(word) == next((i for i, w in enumerate(words) if w not in _OPENERS), 0)
        if first:
            suggestions = list(_VERBS)
        elif word not in _NOTES:  # a note says what to say instead
            suggestions = difflib.get_close_matches(word, sorted(language.keywords), n=3, cutoff=0.5)
    if suggestions:
        message += ": did you mean " + " or ".join(f"'{s}'" for s in suggestions) + "?"
    example = _working_example(word, words, suggestions, nouns)
    message += f"{'' if suggestions else '.'} This works: '{example}'"
    return InstructionError(message, word=word)


_VERBS = ("put", "give", "stack")
"""What an instruction starts with, suggested for an unknown first word ("frobnicate the block")."""
_OPENERS = frozenset({"please", "kindly", "now", "just", "hey", "hi", "robot", "okay", "ok", "i", "first"})


def _without(word: str, words: tuple[str, ...], nouns: tuple) -> str | None:
    """The instruction without the unknown word, when it is the only unknown word and the rest parses."""
    keywords = _language(nouns).keywords
    attempt = tuple(w for w in words if w != word)
    if not attempt or any(w not in keywords and not w.isdigit() for w in attempt):
        return None
    try:
        _parse(attempt, nouns)
    except InstructionError:
        return None
    return " ".join(_shown(w) for w in attempt)


def _working_example(word: str, words: tuple[str, ...], suggestions: list[str], nouns: tuple) -> str:
    """The instruction with the word replaced by a suggestion, when that parses; else a phrasing that works.
    Only tried when no other word is unknown (so one message costs at most three parses)."""
    keywords = _language(nouns).keywords
    for suggestion in suggestions:
        attempt = tuple(w for x in words for w in (suggestion.split() if x == word else [x]))
        if any(w not in keywords and not w.isdigit() for w in attempt):
            continue
        try:
            _parse(attempt, nouns)
        except InstructionError:
            continue
        return " ".join(_shown(w) for w in attempt)
    return _EXAMPLE


_MISSING: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"in", "on", "into", "onto"}), "where to put it: add a place, e.g. 'in the bowl' or 'on the plate'"),
    (frozenset({"NOUN_WORD"}), "which object: add a noun, e.g. 'block' or 'bowl'"),
    (frozenset({"at"}), "the order: e.g. 'with the red block at the bottom, then the blue block'"),
)


def _expected_words(exc: UnexpectedInput, language: _Language) -> set[str]:
    """The words (or category terminals) the parser could have taken where it stopped."""
    names = set(getattr(exc, "expected", None) or getattr(exc, "accepts", None) or ())
    terminals = {t.name: t for t in language.parser.terminals}
    out = set()
    for name in names:
        term = terminals.get(name)
        if term is not None and term.pattern.type == "str":
            out.add(term.pattern.value)
        else:
            out.add(name)
    return out


_GIVE_VERBS = frozenset({"give", "hand", "pass", "bring"})


def _what_is_missing(expected: set[str], words: list[str]) -> str:
    if words and words[0] in _GIVE_VERBS and ({"me", "over", "to"} & expected):
        return "who gets it: e.g. 'give me the ball' or 'give the ball to me'"
    for keys, text in _MISSING:
        if keys & expected:
            return text
    words = sorted(w for w in expected if w.islower())[:5]
    return "how it goes on: e.g. " + ", ".join(f"'{w}'" for w in words) if words else "the rest of the command"


def _bracket(phrase: NounPhrase) -> str:
    """``[the block left of [the bowl]]``: the phrase with each related object bracketed."""
    core = phrase.model_copy(update={"text": "", "relations": ()})
    if core.superlative is not None and core.superlative.reference is not None:
        reference = _bracket(core.superlative.reference)
        core = core.model_copy(update={"superlative": core.superlative.model_copy(update={"reference": None})})
        words = f"{core.describe()} nearest to {reference}".replace(" nearest ", " ", 1)
    else:
        words = core.describe()
    for r in phrase.relations:
        words += f" {'not ' if r.negated else ''}{r.relation.replace('_', ' ')} {_bracket(r.other)}"
    return f"[{words}]"


# ---- reading a parse tree --------------------------------------------------------------------------------
_SIDE_RANKING = {"left": "leftmost", "right": "rightmost", "front": "frontmost", "back": "backmost"}
_NP_KINDS = frozenset({"np", "np_ellipsis", "np_other", "np_partitive", "np_everything", "np_something", "pronoun"})
"""The tree kinds of one noun phrase (``noun_phrase`` reads each)."""


def _phrase_meaning(phrase: NounPhrase) -> dict:
    return phrase.model_dump(mode="json", exclude={"text"})


def _object_meaning(command: Command) -> dict | None:
    """The meaning of a command's object (a sort's objects; a stack has none)."""
    obj = getattr(command, "object", None) or getattr(command, "objects", None)
    return _phrase_meaning(obj) if obj is not None else None


_RANKINGS = (
    *("leftmost", "rightmost", "frontmost", "backmost", "largest", "smallest", "nearest", "farthest"),
    *("lightest", "darkest"),
)
"""The ranking rules of the grammar (logical_form.Ranking)."""


@dataclass
class _PhraseParts:
    """What the children of one noun-phrase tree say, collected before the phrase is checked and built."""

    text: str
    det: str | None = None
    number: int | None = None
    ordinal: Tree | None = None
    colors: list[str] = field(default_factory=list)
    not_colors: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    rankings: list[tuple[str, Tree]] = field(default_factory=list)
    relations: list[RelationFilter] = field(default_factory=list)
    side: str | None = None
    reference: NounPhrase | None = None
    ref_word: str | None = None
    """``to`` or ``from`` when the reference was named after the noun ("the nearest block to the bowl")."""
    noun_word: str | None = None
    one_word: str | None = None
    excluding: list[NounPhrase | _Elliptic] = field(default_factory=list)


def _colour_and_size(parts: _PhraseParts) -> dict:
    """color, not_colors and size of a noun phrase; one colour (not also excluded) and one size at most."""
    text, colors = parts.text, parts.colors
    if len(set(colors)) > 1:
        raise InstructionError(
            f"'{text}' names two colours ({' and '.join(colors)}): one object has one colour",
            word=_original(colors[1], text),
        )
    if colors and colors[0] in parts.not_colors:
        raise InstructionError(f"'{text}' is and is not {colors[0]}", word=colors[0])
    if len(set(parts.sizes)) > 1:
        raise InstructionError(f"'{text}' names two sizes ({' and '.join(parts.sizes)})")
    return {
        "color": colors[0] if colors else None,
        "not_colors": tuple(dict.fromkeys(parts.not_colors)),
        "size": parts.sizes[0] if parts.sizes else None,
    }


def _superlative(parts: _PhraseParts, tree: Tree) -> dict:
    """The noun phrase's superlative (``{}`` when none): one order, an ordinal only with an order, and a
    ``to``/``from`` reference only with nearest/farthest."""
    text, rankings, ordinal = parts.text, list(parts.rankings), parts.ordinal
    if parts.side is not None and ordinal is None:
        raise InstructionError(
            f"'{text}': say which one from the {parts.side}, e.g. 'the first' or 'the second'", word=parts.side
        )
    if parts.side is not None:
        rankings.append((_SIDE_RANKING[parts.side], tree))
    if len(rankings) > 1:
        names = " and ".join(r for r, _ in rankings)
        raise InstructionError(f"'{text}' has two orders ({names}): say one, e.g. 'the leftmost block'")
    rank = ORDINAL_WORDS[_word(ordinal)] if ordinal is not None else 1
    if ordinal is not None and not rankings:
        raise InstructionError(
            f"'{_word(ordinal)}' needs an order: say e.g. 'the {_word(ordinal)} block from the left' "
            f"or 'the {_word(ordinal)} largest block'",
            word=_word(ordinal),
        )
    if parts.ref_word is not None and not (rankings and rankings[0][0] in ("nearest", "farthest")):
        raise InstructionError(
            f"'{parts.ref_word}' in '{text}' needs 'nearest' or 'farthest', e.g. 'the nearest block to the bowl'",
            word=parts.ref_word,
        )
    if not rankings:
        return {}
    ranking = rankings[0][0]
    reference = parts.reference if ranking in ("nearest", "farthest") else None
    return {"superlative": Superlative(ranking=ranking, rank=rank, reference=reference)}


class _Elliptic(BaseModel):
    """A noun phrase without a noun ("gray", "the red one"): the noun comes from context."""

    model_config = ConfigDict(frozen=True)

    phrase: NounPhrase  # noun None, plural as written
    words: str  # the phrase's own words without "one"/"ones"


class _Reader:
    """Turns one (unambiguous) parse tree into a Program, checking what the grammar does not."""

    def __init__(self, language: _Language, sentence: str) -> None:
        self.language = language
        self.sentence = sentence
        self._part_readers: dict[str, Callable[[_PhraseParts, Tree], None]] = {
            "number": self._read_number,
            "ordinal": self._read_ordinal,
            "color": self._read_color,
            "non_color": self._read_non_color,
            "size": self._read_size,
            "noun": self._read_noun,
            "generic_one": self._read_generic_one,
            "rel_mod": self._read_relation_modifier,
            "clause_relation": self._read_relation_clause,
            "clause_not_color": self._read_not_color_clause,
            "clause_color": self._read_color_clause,
            "nearest_mod": self._read_distance_ranking,
            "farthest_mod": self._read_distance_ranking,
            "clause_superlative": self._read_distance_ranking,
            "to_ref": self._read_reference,
            "from_ref": self._read_reference,
            "from_side": self._read_side,
            "side_mod": self._read_side_ranking,
            "side_adj": self._read_side_ranking,
            "clause_side": self._read_side_ranking,
            "except_mod": self._read_except,
        }
        self.antecedents: list[NounPhrase] = []
        """the objects of the last command: what "it"/"them" stand for"""
        self.mentions: list[NounPhrase] = []
        """every object and destination named so far: what "the other one" is not"""

    def text(self, tree: Tree) -> str:
        if tree.meta.empty:  # a tree the reader built ("the red and blue blocks" -> "the red block")
            return ""
        return self.sentence[tree.meta.start_pos : tree.meta.end_pos]

    def program(self, tree: Tree) -> Program:
        steps: list[Command] = []
        fetched: tuple[Tree, list[NounPhrase]] | None = None
        for child in tree.children:
            if child.data == "fetch":
                self._check_fetch_used(fetched, None)
                objects = self.objects(child.children[0])
                fetched = (child, objects)
                self.antecedents = objects
                continue
            commands = self.command(child)
            self._check_fetch_used(fetched, commands)
            fetched = None
            steps.extend(commands)
        if fetched is not None and self._verb(fetched[0]) in _LIFT_VERBS:
            steps.append(self._lift(*fetched))  # "lift the red block", "pick up the ball": pick it and hold it
            fetched = None
        self._check_fetch_used(fetched, None)
        return Program(steps=steps)

    def _verb(self, tree: Tree) -> str:
        """The verb of a fetch ("pick up", "lift", "pick ... up" -> "pick up")."""
        first = tree.children[0]
        verb = self.sentence[tree.meta.start_pos : first.meta.start_pos].strip() if not first.meta.empty else "take"
        if self.text(tree).endswith(" up") and not verb.endswith("up"):  # "pick the block up"
            verb += " up"
        return verb

    def _lift(self, tree: Tree, objects: list[NounPhrase]) -> Lift:
        """ "lift the red block": hold one object (the robot has one hand)."""
        if len(objects) > 1 or objects[0].plural or (objects[0].count or 1) > 1:
            what = " and ".join(o.describe() for o in objects)
            raise InstructionError(
                f"'{self.text(tree)}': I can hold one object at a time, and '{what}' is more; "
                f"say one, e.g. '{self._verb(tree)} the red block'",
                word=self._verb(tree).split()[0],
            )
        return Lift(object=objects[0])

    def _check_fetch_used(self, fetched: tuple[Tree, list[NounPhrase]] | None, after: list[Command] | None) -> None:
        """ "pick up X" must be followed by a command on X ("... and put it in the bowl"): there is no program
        that only picks up and holds, so alone it is refused with phrasings that work."""
        if fetched is None:
            return
        tree, objects = fetched
        if after and all(_object_meaning(c) in [_phrase_meaning(o) for o in objects] for c in after):
            return
        verb = self._verb(tree)
        what = " and ".join(o.describe() for o in objects)
        pronoun = "them" if len(objects) > 1 or objects[0].plural else "it"
        raise InstructionError(
            f"'{self.text(tree)}' does not say what to do with {pronoun}: I can put {pronoun} somewhere, hand "
            f"{pronoun} to you or lift {pronoun}, e.g. '{verb} {what} and put {pronoun} in the bowl', "
            f"'give me {what}' or 'lift {what}'",
            word=verb,
        )

    def command(self, tree: Tree) -> list[Command]:
        """The commands of one command tree: one per object when the object is a list."""
        kind = tree.data
        if kind == "put":
            obj, relation, target_tree = tree.children
            objects = self.objects(obj)
            self.antecedents = objects  # "put the red block on the blue one": "one" is a block
            target = self.noun_phrase(target_tree)
            rel = self._destination(relation.data, target)
            self._mention(objects, target)
            return [Put(object=o, relation=rel, target=target) for o in objects]
        if kind == "put_list":
            triples = [tree.children[i : i + 3] for i in range(0, len(tree.children), 3)]
            return [c for triple in triples for c in self.command(Tree("put", triple, tree.meta))]
        if kind == "put_on_many":
            what = self.text(tree.children[-1])
            raise InstructionError(
                f"'{what}' is several places: I put things {tree.children[1].data.replace('_', ' ')} one object "
                f"at a time; say which, or one command per object",
                word=what.split()[-1],
            )
        if kind == "push_direction":
            what = " and ".join(o.describe() for o in self.objects(tree.children[0]))
            verb = self.sentence[tree.meta.start_pos :].split()[0]
            way = self.sentence[tree.children[0].meta.end_pos : tree.meta.end_pos].strip()
            way = "to the left" if way == "sideways" else way
            raise InstructionError(
                f"'{self.text(tree)}' does not say how far: e.g. '{verb} {what} 10 cm {way}', "
                f"or where to: e.g. '{verb} {what} to the plate'",
                word=verb,
                construction=True,
            )
        if kind == "shift":
            return self.shift(tree)
        if kind == "put_away":
            what = " and ".join(o.describe() for o in self.objects(tree.children[0]))
            raise InstructionError(
                f"'put away' does not say where: name the place, e.g. 'put {what} in the tray'",
                word="away",
                construction=True,
            )
        if kind == "handover":
            objects = self.objects(tree.children[0])
            self._mention(objects)
            return [HandOver(object=o) for o in objects]
        if kind == "sort":
            return [self.sort(tree)]
        if kind in ("stack", "tower_chain"):
            self.antecedents = []
            return [self.stack(tree) if kind == "stack" else self.tower_chain(tree)]
        raise InstructionError(f"I can't follow the instruction: no command '{kind}'")  # pragma: no cover

    def shift(self, tree: Tree) -> list[Command]:
        """ "push the red block 10 cm to the left": one object, a direction and a distance."""
        objects = self.objects(tree.children[0])
        direction = next(c.data.removeprefix("shift_") for c in tree.children if c.data.startswith("shift_"))
        distance_tree = next(c for c in tree.children if c.data == "distance")
        number, unit = distance_tree.children
        metres = _word_value(number) * _UNIT_METRES[unit.data]
        if len(objects) > 1 or objects[0].plural:
            raise InstructionError(
                f"'{self.text(tree)}': I move one object at a time by a distance; say one, e.g. 'the red block'",
                word=self.text(tree.children[0]).split()[-1],
            )
        if not 0.0 < metres <= 0.3:
            raise InstructionError(
                f"'{self.text(distance_tree)}': I move objects by 1 mm to 30 cm", word=self.text(distance_tree)
            )
        self._mention(objects)
        return [Shift(object=objects[0], direction=direction, distance=round(metres, 4))]

    def _mention(self, objects: list[NounPhrase], *others: NounPhrase) -> None:
        """Remember the objects for a later "it"/"them" and every phrase for a later "the other one"."""
        self.antecedents = objects
        self.mentions.extend([*objects, *others])

    def _destination(self, relation: str, target: NounPhrase) -> str:
        """The relation of a put; "to" a container means in it, to anything else on it."""
        if relation != "to_dest":
            return relation
        if target.noun is None:
            raise InstructionError(f"'to {target.describe()}': say in or on, e.g. 'in {target.describe()}'", word="to")
        return "inside" if target.noun in CONTAINER_NOUNS else "on"

    def sort(self, tree: Tree) -> Sort:
        nps = [c for c in tree.children if c.data in _NP_KINDS]
        relation = next((c.data for c in tree.children if c.data in ("inside", "on")), None)
        containers = self.noun_phrase(nps[1]).model_copy(update={"quantity": "all", "count": None})
        if relation is None:  # "match the blocks with the bowls"
            relation = self._destination("to_dest", containers)
        objects = self.noun_phrase(nps[0])
        self._mention([objects], containers)
        return Sort(objects=objects, relation=relation, containers=containers)

    # ---- stacking
    def stack(self, tree: Tree) -> Stack:
        head = next((self.noun_phrase(c, elliptic_ok=False) for c in tree.children if c.data in _NP_KINDS), None)
        items = [c for c in tree.children if c.data == "stack_item"]
        if len(items) < 2:
            return self._stack_in_any_order(head, items)
        ends = [next((e.data for e in item.children[1:]), None) for item in items]
        if ends[0] is None and ends[-1] is None:
            raise InstructionError(
                "Say which end the stack starts from, e.g. 'with the red block at the bottom, then ...'"
            )
        if any(e is not None for e in ends[1:-1]) or (ends[0] is not None and ends[0] == ends[-1]):
            raise InstructionError("Only the first and the last block of a stack may say 'at the bottom'/'on top'")
        bottom_up = ends[0] == "at_bottom" or ends[-1] == "at_top"
        order = self._stack_items([item.children[0] for item in items], head.noun if head is not None else None)
        return Stack(order=order if bottom_up else order[::-1])

    def _stack_items(self, trees: list[Tree], noun: str | None) -> list[NounPhrase]:
        """The phrases of a stack's items; one without a noun ("then gray") takes the noun before it."""
        order: list[NounPhrase] = []
        for item in trees:
            phrase = self.noun_phrase(item, elliptic_ok=True)
            if isinstance(phrase, _Elliptic):
                if noun is None:
                    raise InstructionError(
                        f"'{phrase.words}' has no noun: say which object, e.g. '{phrase.words} block'",
                        word=phrase.words.split()[-1],
                    )
                words = f"{phrase.words} {plural_of(noun) if phrase.phrase.plural else noun}"
                phrase = phrase.phrase.model_copy(update={"noun": noun, "text": words})
            else:
                noun = phrase.noun or noun
            order.append(phrase)
        return order

    def tower_chain(self, tree: Tree) -> Stack:
        """ "stack A on B on C", "make a tower: A on B": the items from the top down."""
        order = self._stack_items([c for c in tree.children if c.data in _NP_KINDS], None)
        return Stack(order=order[::-1])

    def _stack_in_any_order(self, head: NounPhrase | None, items: list[Tree]) -> Stack:
        """ "stack the three blocks (with the blue one at the bottom)": the named end, then any of the rest.
        "stack the blocks (with the blue one at the bottom / the red one on top)": the named end and every other
        block, in the order :func:`~reasoning.referents.stacking_order` gives (the largest at the bottom)."""
        what = head.describe() if head is not None else "the blocks"
        first = self._stack_items([items[0].children[0]], head.noun if head else None) if items else []
        on_top = bool(items) and len(items[0].children) > 1 and items[0].children[1].data == "at_top"
        if head is None and len(items) == 1 and len(items[0].children) == 1:  # "build a tower with the blocks"
            head, first = first[0], []
        if head is None:
            raise InstructionError(f"Say which objects to stack, e.g. 'stack {what} with the red block at the bottom'")
        if head.quantity == "all" or (head.plural and head.count is None):
            rest = head.model_copy(update={"quantity": "all", "count": None, "plural": True})
            return Stack(order=[rest, *first] if on_top else [*first, rest])
        if on_top:
            raise InstructionError(
                f"Say the order from the bottom, e.g. 'stack {what} with the red block at the bottom, then ...'"
            )
        if head.count is None:
            raise InstructionError(f"A stack needs at least two objects; '{what}' is one")
        any_one = head.model_copy(update={"quantity": "any", "count": 1, "plural": False, "text": ""})
        rest_any = [any_one.model_copy(update={"text": f"any {any_one.describe().split(' ', 1)[1]}"})]
        rest_any *= head.count - len(first)
        if not rest_any and len(first) < 2:
            raise InstructionError(f"A stack needs at least two objects; '{what}' is one")
        return Stack(order=[*first, *rest_any])

    def objects(self, tree: Tree) -> list[NounPhrase]:
        """The phrases of an object position: one, a list ("X and Y"), colours of one noun ("the red and
        blue blocks", all of each colour) or a pronoun for the objects before."""
        if tree.data == "np_list":
            return [p for c in tree.children for p in self.objects(c)]
        if tree.data == "np_colors":
            return self._colour_list(tree)
        if tree.data == "pronoun":
            return self._pronoun(tree)
        return [self.noun_phrase(tree)]

    def _pronoun(self, tree: Tree) -> list[NounPhrase]:
        word = self.text(tree)
        if not self.antecedents:
            raise InstructionError(
                f"I don't know what '{word}' is here: name the object, e.g. 'the red block'", word=word
            )
        return list(self.antecedents)

    def _colour_list(self, tree: Tree) -> list[NounPhrase]:
        colours = [c for c in tree.children if c.data == "color"]
        rest = [c for c in tree.children if c.data not in ("color",) and not c.data.startswith("det_")]
        det = next((c.data[4:] for c in tree.children if c.data.startswith("det_")), None)
        noun_tree = next(c for c in rest if c.data == "noun")
        if _word(noun_tree) in self.language.singular and _word(noun_tree) not in self.language.plural:
            raise InstructionError(
                f"'{self.text(tree)}': two colours of one object; say e.g. 'the red and blue blocks'",
                word=_word(noun_tree),
            )
        phrases = []
        for colour in colours:
            words = f"{'the ' if det in ('the', None) else det + ' '}{_word(colour)} {_word(noun_tree)}"
            one = Tree("np", [Tree(f"det_{det or 'the'}", []), colour, *rest])
            phrase = self.noun_phrase(one).model_copy(update={"text": words})
            phrases.append(phrase)
        return phrases

    # ---- noun phrases
    def noun_phrase(self, tree: Tree, elliptic_ok: bool = False) -> NounPhrase:
        """The :class:`NounPhrase` of a noun-phrase tree, with what the grammar does not check checked (one
        colour, one size, one order, number agreement, ...).

        With ``elliptic_ok`` (a stack item), a phrase without a noun ("gray", "the red one") comes back as an
        :class:`_Elliptic` whose noun the caller supplies; elsewhere one without "one"/"ones" is an error.
        """
        special = {
            "pronoun": self._single_pronoun,
            "np_other": self._other,
            "np_partitive": self._partitive,
            "np_everything": self._everything,
            "np_something": self._something,
        }
        if tree.data in special:
            return special[tree.data](tree)
        parts = self._read_parts(tree)
        fields: dict = {"text": parts.text, **_colour_and_size(parts), **_superlative(parts, tree)}
        fields["relations"] = tuple(parts.relations)
        fields.update(self._noun_and_quantity(tree, parts))
        fields["excluding"] = self._excluded(parts, fields["noun"])
        phrase = NounPhrase(**fields)
        if tree.data == "np_ellipsis" and parts.one_word is None:
            if elliptic_ok:
                return _Elliptic(phrase=phrase, words=parts.text)
            raise InstructionError(
                f"'{parts.text}' has no noun: say which object, e.g. '{parts.text} block'",
                word=parts.text.split()[-1],
            )
        if tree.data == "np_ellipsis" and elliptic_ok:
            words = " ".join(w for w in parts.text.split() if w not in ("one", "ones"))
            return _Elliptic(phrase=phrase, words=words)
        if tree.data == "np_ellipsis" and self.antecedents and self.antecedents[-1].noun is not None:
            # "put the red block in the bowl, then the green one ...": "one" is the kind named before
            phrase = phrase.model_copy(update={"noun": self.antecedents[-1].noun})
        return phrase

    def _read_parts(self, tree: Tree) -> _PhraseParts:
        parts = _PhraseParts(text=self.text(tree))
        for child in tree.children:
            kind = child.data
            if kind.startswith("det_"):
                parts.det = kind[4:]
            elif kind in _RANKINGS:
                parts.rankings.append((kind, child))
            elif kind in self._part_readers:
                self._part_readers[kind](parts, child)
        return parts

    def _excluded(self, parts: _PhraseParts, noun: str | None) -> tuple[NounPhrase, ...]:
        """The "except ..." phrases; one without a noun ("except the red one") takes the phrase's noun."""
        out = []
        for phrase in parts.excluding:
            if isinstance(phrase, _Elliptic):
                words = f"{phrase.words} {plural_of(noun) if phrase.phrase.plural else noun}" if noun else phrase.words
                phrase = phrase.phrase.model_copy(update={"noun": noun, "text": words})
            out.append(phrase)
        return tuple(out)

    def _single_pronoun(self, tree: Tree) -> NounPhrase:
        objects = self._pronoun(tree)
        if len(objects) > 1:
            raise InstructionError(
                f"'{self.text(tree)}' stands for {len(objects)} objects here: name one, e.g. '{objects[0].describe()}'",
                word=self.text(tree),
            )
        return objects[0]

    def _other(self, tree: Tree) -> NounPhrase:
        """ "the other one", "the other blocks", "the others", "the rest": the kind of the objects named
        before, except those named."""
        parts = self._read_parts(tree)
        words = parts.text.split()
        objects = [m for m in self.antecedents] or self.mentions
        noun = self._noun_of(parts.noun_word) if parts.noun_word else next((m.noun for m in objects[::-1]), None)
        named = tuple(m for m in self.mentions if m.noun == noun)
        if not named:
            raise InstructionError(
                f"'{parts.text}': other than what? Name the object, e.g. 'the red block'", word="other"
            )
        plural = bool({"ones", "others", "rest"} & set(words)) or (
            parts.noun_word is not None and parts.noun_word not in self.language.singular
        )
        fields = {**_colour_and_size(parts), **_superlative(parts, tree), "relations": tuple(parts.relations)}
        quantity = "all" if plural else "the"
        return NounPhrase(text=parts.text, noun=noun, quantity=quantity, plural=plural, excluding=named, **fields)

    def _noun_of(self, word: str) -> str | None:
        return self.language.singular[word] if word in self.language.singular else self.language.plural[word]

    def _partitive(self, tree: Tree) -> NounPhrase:
        """ "one of the blocks" (any one), "two of the red blocks", "either of the bowls", "each of the balls"."""
        text = self.text(tree)
        first = text.split()[0]
        inner = self.noun_phrase(tree.children[-1])
        if not inner.plural:
            raise InstructionError(f"'{text}': '{first} of' needs a plural, e.g. '{first} of the blocks'", word=first)
        if first == "some":
            raise InstructionError(f"'{text}': say how many, e.g. 'two of {inner.describe()}'", word="some")
        if first == "each":
            return inner.model_copy(update={"quantity": "all", "count": None, "text": text})
        count = 1 if first in ("any", "either") else _word_value(tree.children[0])
        return inner.model_copy(update={"quantity": "any", "count": count, "plural": count > 1, "text": text})

    def _something(self, tree: Tree) -> NounPhrase:
        """ "something red": any one object that fits."""
        parts = self._read_parts(tree)
        fields = {**_colour_and_size(parts), **_superlative(parts, tree), "relations": tuple(parts.relations)}
        return NounPhrase(text=parts.text, noun=None, quantity="any", count=1, **fields)

    def _everything(self, tree: Tree) -> NounPhrase:
        """ "everything (except the cylinders)": every object."""
        parts = self._read_parts(tree)
        fields = {**_superlative(parts, tree), "relations": tuple(parts.relations)}
        return NounPhrase(
            text=parts.text, noun=None, quantity="all", plural=True, excluding=self._excluded(parts, None), **fields
        )

    def _noun_and_quantity(self, tree: Tree, parts: _PhraseParts) -> dict:
        """noun, quantity, count and plural: the noun's canonical form (None without one) and its number."""
        if tree.data == "np":
            word = parts.noun_word
            plural_form = word not in self.language.singular
            singular_form = word in self.language.singular and word not in self.language.plural
            noun = self.language.singular[word] if word in self.language.singular else self.language.plural[word]
        else:
            plural_form = parts.one_word == "ones"
            singular_form = parts.one_word == "one"
            noun = None
        return {"noun": noun, **self.quantity(parts.det, parts.number, plural_form, singular_form, parts.text)}

    # What each child of a noun-phrase tree adds (determiners and rankings are read in noun_phrase itself).
    def _read_number(self, parts: _PhraseParts, child: Tree) -> None:
        parts.number = _word_value(child)
        if parts.number < 1:
            raise InstructionError(f"'{parts.text}': say how many, at least one", word=_word(child))

    def _read_ordinal(self, parts: _PhraseParts, child: Tree) -> None:
        parts.ordinal = child

    def _read_color(self, parts: _PhraseParts, child: Tree) -> None:
        parts.colors.append(COLOR_WORDS[_word(child)])

    def _read_non_color(self, parts: _PhraseParts, child: Tree) -> None:
        parts.not_colors.append(COLOR_WORDS[_word(child.children[0])])

    def _read_size(self, parts: _PhraseParts, child: Tree) -> None:
        parts.sizes.append(SIZE_WORDS[_word(child)])

    def _read_noun(self, parts: _PhraseParts, child: Tree) -> None:
        parts.noun_word = _word(child)

    def _read_generic_one(self, parts: _PhraseParts, child: Tree) -> None:
        parts.one_word = _word(child)

    def _read_relation_modifier(self, parts: _PhraseParts, child: Tree) -> None:
        """``the block behind the tray``."""
        other = self.noun_phrase(child.children[1])
        parts.relations.append(RelationFilter(relation=child.children[0].data, other=other))

    def _read_relation_clause(self, parts: _PhraseParts, child: Tree) -> None:
        """``the block that is not on the plate``."""
        negated = child.children[0].data == "negation"
        rel, other = child.children[-2:]
        parts.relations.append(RelationFilter(relation=rel.data, other=self.noun_phrase(other), negated=negated))

    def _read_not_color_clause(self, parts: _PhraseParts, child: Tree) -> None:
        parts.not_colors += [COLOR_WORDS[_word(c)] for c in child.children]

    def _read_color_clause(self, parts: _PhraseParts, child: Tree) -> None:
        parts.colors.append(COLOR_WORDS[_word(child.children[0])])

    def _read_distance_ranking(self, parts: _PhraseParts, child: Tree) -> None:
        """``nearest (to) X`` / ``farthest from X``, as a modifier or in a clause: the ranking and its reference."""
        mod = child.children[0] if child.data == "clause_superlative" else child
        parts.rankings.append(("nearest" if mod.data == "nearest_mod" else "farthest", mod))
        parts.reference = self._reference(mod.children[0])

    def _read_reference(self, parts: _PhraseParts, child: Tree) -> None:
        """``to X`` / ``from X`` after ``the nearest block``: the reference object."""
        if parts.reference is not None:
            raise InstructionError(f"'{parts.text}' names two reference objects")
        parts.reference = self._reference(child.children[0])
        parts.ref_word = "to" if child.data == "to_ref" else "from"

    def _read_side(self, parts: _PhraseParts, child: Tree) -> None:
        parts.side = child.children[0].data

    def _read_side_ranking(self, parts: _PhraseParts, child: Tree) -> None:
        """``the block on the left``, ``the left bowl``: the leftmost one."""
        parts.rankings.append((_SIDE_RANKING[child.children[0].data], child))

    def _read_except(self, parts: _PhraseParts, child: Tree) -> None:
        """``all blocks except the red one``."""
        parts.excluding.append(self.noun_phrase(child.children[0], elliptic_ok=True))

    def _reference(self, tree: Tree) -> NounPhrase | None:
        """What nearest/farthest is measured to; None for the robot ("closest to you")."""
        if tree.data == "person":
            raise InstructionError(
                "I measure distances from the robot, not from you: say e.g. 'closest to you'", word="me"
            )
        return None if tree.data == "robot" else self.noun_phrase(tree)

    @staticmethod
    def quantity(det: str | None, number: int | None, plural: bool, singular: bool, text: str) -> dict:
        """quantity, count and plural from the determiner, the number and the noun's form.

        ``plural``/``singular``: the noun's form is only plural/only singular (both False: uncountable,
        "kitchenware", or an elliptical phrase; then the determiner and number decide).
        """
        if number is not None and number > 1:
            if singular:
                raise InstructionError(f"'{text}': {number} needs a plural noun", word=text.split()[-1])
            plural = True
        if number == 1 and plural:
            raise InstructionError(f"'{text}': one needs a singular noun", word=text.split()[-1])
        if det in ("a", "every") and plural:
            raise InstructionError(f"'{text}': '{text.split()[0]}' needs a singular noun", word=text.split()[0])
        if det == "a" and number is not None:
            raise InstructionError(f"'{text}': 'a' and a number", word=text.split()[1])
        if det == "every":
            if number is not None:
                raise InstructionError(f"'{text}': '{text.split()[0]}' and a number", word=text.split()[1])
            return {"quantity": "all", "count": None, "plural": False}
        if det == "both":
            if number is not None or singular:
                raise InstructionError(f"'{text}': 'both' needs a plural noun and no number", word="both")
            return {"quantity": "the", "count": 2, "plural": True}
        if det == "any" and plural and number is None:
            raise InstructionError(f"'{text}': say how many, e.g. 'any two ...'", word="any")
        if det in ("a", "any") or (det is None and number is not None):
            return {"quantity": "any", "count": number or 1, "plural": plural}
        if det == "all":
            if number is not None:  # "all three blocks" = the three blocks
                return {"quantity": "the", "count": number, "plural": True}
            if singular:
                raise InstructionError(f"'{text}': 'all' needs a plural noun", word=text.split()[-1])
            return {"quantity": "all", "count": None, "plural": plural}
        # "the" or no determiner
        if number is not None:
            return {"quantity": "the", "count": number if number > 1 else None, "plural": plural}
        if plural:
            return {"quantity": "all", "count": None, "plural": True}
        return {"quantity": "the", "count": None, "plural": False}


def _word(tree: Tree) -> str:
    token = tree.children[0]
    assert isinstance(token, Token)
    return str(token.value)


def _word_value(tree: Tree) -> int:
    word = _word(tree)
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def _original(canonical: str, text: str) -> str:
    """The word in ``text`` that means colour ``canonical`` (grey for gray)."""
    return next((w for w in text.split() if COLOR_WORDS.get(w) == canonical), canonical)
