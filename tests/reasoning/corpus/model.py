"""The paraphrase corpus file (paraphrases.yaml): each instruction with its expected meaning or refusal."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

CORPUS_PATH = Path(__file__).with_name("paraphrases.yaml")


class CorpusEntry(BaseModel):
    """One instruction: ``expect`` is ``logical_form.canonical`` of its parse, ``refuse`` a part of the
    one-line message it is refused or asked about with; exactly one of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str
    source: str
    text: str
    expect: str | None = None
    refuse: str | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> CorpusEntry:
        if (self.expect is None) == (self.refuse is None):
            raise ValueError(f"{self.text!r}: give exactly one of expect and refuse")
        return self


class Corpus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[CorpusEntry]


def load_corpus(path: Path = CORPUS_PATH) -> Corpus:
    """The corpus file, validated."""
    return Corpus.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
