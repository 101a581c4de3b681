"""The fuzzing campaign of benchmarks/fuzz.py on a few hundred inputs per group: every hostile or damaged input is
either accepted or refused with the loader's own one-line error; no traceback, no hang (issue 15)."""

from __future__ import annotations

import pytest

from benchmarks import fuzz
from groundsight.knowledge import KnowledgeBase

PER_GROUP = {"scenario": 200, "calibration": 200, "turtle": 16, "query": 80, "instruction": 300, "camera": 120}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase()


@pytest.mark.parametrize("group", fuzz.GROUPS)
def test_no_traceback_and_no_hang(group, kb, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("groundsight.knowledge.base.QUERY_SECONDS", 1.0)  # the cross products stop sooner
    tally = fuzz.run_group(group, PER_GROUP[group], seed=7, workdir=tmp_path, kb=kb)
    assert sum(tally.counts.values()) == PER_GROUP[group]
    assert tally.defects == []
    assert tally.counts["clean"] > 0  # the generator really produced bad inputs


def test_classify_tells_a_traceback_from_a_clean_error() -> None:
    def crash() -> None:
        raise KeyError("boom")

    def refuse() -> None:
        raise ValueError("file.yaml: field: bad")

    def long_refusal() -> None:
        raise ValueError("x" * 1000)

    assert fuzz.classify(crash, (ValueError,))[0] == "traceback"
    assert fuzz.classify(refuse, (ValueError,))[0] == "clean"
    assert fuzz.classify(long_refusal, (ValueError,))[0] == "traceback"
    assert fuzz.classify(lambda: None, (ValueError,))[0] == "accepted"
