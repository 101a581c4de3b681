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

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.visitors import CollapseAmbiguities
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from groundsight.reasoning.logical_form import (
    Command,
    HandOver,
    NounPhrase,
    Program,
    Put,
    RelationFilter,
    Sort,
    Stack,
    Superlative,
    paraphrase,
)

log = logging.getLogger(__name__)

COLOR_WORDS: dict[str, str] = {
    **{c: c for c in ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "white", "gray", "black")},
    "grey": "gray",
    "violet": "purple",
}
"""Colour word -> canonical colour."""
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

    def __init__(self, message: str, word: str | None = None) -> None:
        super().__init__(message)
        self.word = word


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
            raise InstructionError(f"I don't know the word '{word}'", word=word)
    sentence = " ".join(words)
    try:
        tree = language.parser.parse(sentence)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, list(words), sentence) from None
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
        raise errors[0]
    if len(programs) > 1:
        options = " or ".join(f"'{paraphrase(p, _bracket)}'" for p in list(programs.values())[:3])
        raise InstructionError(f"The instruction can be read more than one way: {options}; please rephrase")
    return next(iter(programs.values()))


def _words(text: str) -> list[str]:
    """Lower-cased words; sentence punctuation dropped, hyphenated words split ("non-red" -> non red)."""
    return [w for w in _SPLIT.split(text.lower().replace("\u2019", "'")) if w]


def _syntax_error(exc: UnexpectedInput, words: list[str], sentence: str) -> InstructionError:
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        word = str(exc.token.value)
        index = sentence[: exc.token.start_pos].count(" ") + 1
        if index == 1:
            return InstructionError(
                f"I can't follow the instruction at '{word}': start with what to do (put, give, stack, sort, ...)",
                word=word,
            )
        return InstructionError(
            f"I can't follow the instruction at '{word}' (word {index} of {len(words)}): "
            f"no construction continues '{' '.join(words[: index - 1])}' with it",
            word=word,
        )
    if isinstance(exc, UnexpectedEOF | UnexpectedToken):
        return InstructionError(
            f"The instruction stops too early after '{words[-1]}': '{sentence}' is not a complete command",
            word=words[-1],
        )
    word = sentence[exc.pos_in_stream :].split(" ")[0] if exc.pos_in_stream is not None else None
    return InstructionError(f"I can't follow the instruction at '{word}'", word=word)


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


_RANKINGS = ("leftmost", "rightmost", "frontmost", "backmost", "largest", "smallest", "nearest", "farthest")
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
        }

    def text(self, tree: Tree) -> str:
        return self.sentence[tree.meta.start_pos : tree.meta.end_pos]

    def program(self, tree: Tree) -> Program:
        return Program(steps=[self.command(c) for c in tree.children])

    def command(self, tree: Tree) -> Command:
        kind = tree.data
        if kind == "put":
            obj, relation, target = tree.children
            return Put(object=self.noun_phrase(obj), relation=relation.data, target=self.noun_phrase(target))
        if kind == "handover":
            return HandOver(object=self.noun_phrase(tree.children[0]))
        if kind == "sort":
            nps = [c for c in tree.children if c.data in ("np", "np_ellipsis")]
            relation = next(c.data for c in tree.children if c.data in ("inside", "on"))
            containers = self.noun_phrase(nps[1]).model_copy(update={"quantity": "all", "count": None})
            return Sort(objects=self.noun_phrase(nps[0]), relation=relation, containers=containers)
        if kind == "stack":
            return self.stack(tree)
        raise InstructionError(f"I can't follow the instruction: no command '{kind}'")  # pragma: no cover

    # ---- stacking
    def stack(self, tree: Tree) -> Stack:
        head = next(
            (self.noun_phrase(c, elliptic_ok=False) for c in tree.children if c.data in ("np", "np_ellipsis")), None
        )
        items = [c for c in tree.children if c.data == "stack_item"]
        ends = [next((e.data for e in item.children[1:]), None) for item in items]
        if ends[0] is None and ends[-1] is None:
            raise InstructionError(
                "Say which end the stack starts from, e.g. 'with the red block at the bottom, then ...'"
            )
        if any(e is not None for e in ends[1:-1]) or (ends[0] is not None and ends[0] == ends[-1]):
            raise InstructionError("Only the first and the last block of a stack may say 'at the bottom'/'on top'")
        bottom_up = ends[0] == "at_bottom" or ends[-1] == "at_top"
        order: list[NounPhrase] = []
        noun = head.noun if head is not None else None
        for item in items:
            phrase = self.noun_phrase(item.children[0], elliptic_ok=True)
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
        return Stack(order=order if bottom_up else order[::-1])

    # ---- noun phrases
    def noun_phrase(self, tree: Tree, elliptic_ok: bool = False) -> NounPhrase:
        """The :class:`NounPhrase` of an ``np`` (or ``np_ellipsis``) tree, with what the grammar does not check
        checked (one colour, one size, one order, number agreement, ...).

        With ``elliptic_ok`` (a stack item), a phrase without a noun ("gray", "the red one") comes back as an
        :class:`_Elliptic` whose noun the caller supplies; elsewhere one without "one"/"ones" is an error.
        """
        parts = _PhraseParts(text=self.text(tree))
        for child in tree.children:
            kind = child.data
            if kind.startswith("det_"):
                parts.det = kind[4:]
            elif kind in _RANKINGS:
                parts.rankings.append((kind, child))
            elif kind in self._part_readers:
                self._part_readers[kind](parts, child)
        fields: dict = {"text": parts.text, **_colour_and_size(parts), **_superlative(parts, tree)}
        fields["relations"] = tuple(parts.relations)
        fields.update(self._noun_and_quantity(tree, parts))
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
        return phrase

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
        parts.reference = self.noun_phrase(mod.children[0])

    def _read_reference(self, parts: _PhraseParts, child: Tree) -> None:
        """``to X`` / ``from X`` after ``the nearest block``: the reference object."""
        if parts.reference is not None:
            raise InstructionError(f"'{parts.text}' names two reference objects")
        parts.reference = self.noun_phrase(child.children[0])
        parts.ref_word = "to" if child.data == "to_ref" else "from"

    def _read_side(self, parts: _PhraseParts, child: Tree) -> None:
        parts.side = child.children[0].data

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
