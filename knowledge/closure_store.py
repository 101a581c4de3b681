"""The OWL-RL closure of an ontology kept on disk, so that a new process (a CLI run, an eval worker) reads it
instead of running the reasoner again (about 0.6 s for the base ontology; reading it back takes milliseconds).

A closure is stored as JSON (never pickle: reading it runs no code) in :mod:`groundsight.cache`'s folder,
named by a hash of the asserted triples and the versions of rdflib and owlrl, so a changed file or library is a
different name. Ontologies with blank nodes are not stored (their labels differ from one parse to the next). A
missing, unreadable or damaged file is computed afresh; a cache folder that cannot be written is left alone.
``GROUNDSIGHT_CACHE=off`` turns the store off.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef

from groundsight.cache import cache_dir, write_atomically

FORMAT = 1
"""Bumped when the stored form or what the closure contains changes."""


def _term(node: Any) -> list[Any] | None:
    """A JSON form of an IRI or a literal; None for anything else (a blank node)."""
    if isinstance(node, URIRef):
        return ["u", str(node)]
    if isinstance(node, Literal):
        return ["l", str(node), None if node.datatype is None else str(node.datatype), node.language]
    return None


def _node(term: list[Any]) -> Any:
    if term[0] == "u":
        return URIRef(term[1])
    return Literal(term[1], datatype=None if term[2] is None else URIRef(term[2]), lang=term[3])


def _rows(triples: Iterable[tuple[Any, Any, Any]]) -> list[list[Any]] | None:
    rows = []
    for triple in triples:
        row = [_term(node) for node in triple]
        if any(t is None for t in row) or any(isinstance(n, BNode) for n in triple):
            return None
        rows.append(row)
    return sorted(rows, key=json.dumps)


class ClosureStore:
    """One ontology's stored closure."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Graph | None:
        """The stored closure, or None when there is none or it cannot be read."""
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
            graph = Graph()
            graph.addN((_node(s), _node(p), _node(o), graph) for s, p, o in rows)
        except (OSError, ValueError, TypeError, IndexError, KeyError):
            return None
        return graph

    def save(self, closure: Graph) -> None:
        """Store ``closure`` (atomically; silently not at all when the folder cannot be written)."""
        rows = _rows(closure)
        if rows is None:
            return
        text = json.dumps(rows).encode("utf-8")
        write_atomically(self.path, lambda out: out.write(text))


def closure_store(asserted: Iterable[tuple[Any, Any, Any]]) -> ClosureStore | None:
    """The store of the closure of ``asserted``, or None (store off, or blank nodes in the ontology)."""
    folder = cache_dir()
    rows = _rows(asserted) if folder is not None else None
    if folder is None or rows is None:
        return None
    import owlrl
    import rdflib

    versions = f"{FORMAT} rdflib {rdflib.__version__} owlrl {getattr(owlrl, '__version__', '?')}"
    digest = hashlib.sha256((versions + json.dumps(rows)).encode("utf-8")).hexdigest()[:32]
    return ClosureStore(folder / f"closure-{digest}.json")
