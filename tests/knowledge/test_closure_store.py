"""The OWL-RL closure kept on disk reads back as the same triples, and a damaged file is computed afresh."""

from __future__ import annotations

from rdflib import Graph

from groundsight.knowledge import base
from groundsight.knowledge.closure_store import closure_store


def _asserted() -> Graph:
    graph = Graph()
    graph += base._package_graph("ontology", base.BASE_ONTOLOGY)
    return graph


def test_a_stored_closure_reads_back_as_the_same_triples(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GROUNDSIGHT_CACHE", str(tmp_path))
    asserted = _asserted()
    store = closure_store(asserted)
    assert store is not None and store.load() is None
    closed = base._owl_rl(asserted)
    store.save(closed)
    assert set(store.load()) == set(closed)
    assert len(closed) > len(asserted)
    assert [p.name for p in tmp_path.iterdir()] == [store.path.name]


def test_a_damaged_or_missing_store_is_no_store(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GROUNDSIGHT_CACHE", str(tmp_path))
    store = closure_store(_asserted())
    assert store is not None
    store.path.write_text('[["u", "x"', encoding="utf-8")
    assert store.load() is None
    monkeypatch.setenv("GROUNDSIGHT_CACHE", "off")
    assert closure_store(_asserted()) is None
