"""Cheap A-box entailment against an already closed ontology, for scene individuals.

The ontology (base + user files) is closed once under OWL-RL. Scene facts change every time the agent looks,
so instead of re-running the reasoner, :class:`Entailment` reads the closed T-box into lookup tables and
applies the instance-level rules that matter for a scene: class membership goes up the (already transitive)
``rdfs:subClassOf`` hierarchy, relation triples up ``rdfs:subPropertyOf``, ``rdfs:domain``/``rdfs:range``
type their subject/object, and symmetric and inverse properties add the reversed triple.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rdflib import OWL, RDF, RDFS, Graph, URIRef

Triple = tuple[Any, Any, Any]


class Entailment:
    """Lookup tables of a closed ontology and the instance rules that use them."""

    def __init__(self, closed: Graph) -> None:
        self._supers: dict[Any, frozenset] = _closure(closed, RDFS.subClassOf)
        self._superprops: dict[Any, frozenset] = _closure(closed, RDFS.subPropertyOf)
        self._domains = _table(closed, RDFS.domain)
        self._ranges = _table(closed, RDFS.range)
        self._inverse = _table(closed, OWL.inverseOf)
        for p, qs in list(self._inverse.items()):
            for q in qs:
                self._inverse.setdefault(q, set()).add(p)
        self._symmetric = set(closed.subjects(RDF.type, OWL.SymmetricProperty))

    def superclasses(self, cls: Any) -> frozenset:
        """``cls`` and every class it is an (inferred) subclass of."""
        return self._supers.get(cls, frozenset()) | {cls}

    def superproperties(self, prop: Any) -> frozenset:
        """``prop`` and every property it is an (inferred) sub-property of."""
        return self._superprops.get(prop, frozenset()) | {prop}

    def expand(self, triples: Iterable[Triple]) -> set[Triple]:
        """The triples plus everything the instance rules entail from them (a fixpoint; T-box left alone)."""
        done: set[Triple] = set()
        todo = list(triples)
        while todo:
            s, p, o = triple = todo.pop()
            if triple in done:
                continue
            done.add(triple)
            if p == RDF.type:
                todo.extend((s, RDF.type, c) for c in self.superclasses(o))
                continue
            for q in self.superproperties(p):
                todo.append((s, q, o))
                todo.extend((s, RDF.type, c) for c in self._domains.get(q, ()))
                if isinstance(o, URIRef):
                    todo.extend((o, RDF.type, c) for c in self._ranges.get(q, ()))
                    if q in self._symmetric:
                        todo.append((o, q, s))
                    todo.extend((o, inv, s) for inv in self._inverse.get(q, ()))
        return done


def _table(graph: Graph, predicate: URIRef) -> dict[Any, set]:
    table: dict[Any, set] = {}
    for s, o in graph.subject_objects(predicate):
        table.setdefault(s, set()).add(o)
    return table


def _closure(graph: Graph, predicate: URIRef) -> dict[Any, frozenset]:
    """Transitive closure of ``predicate`` (OWL-RL already made it transitive; this makes sure)."""
    direct = _table(graph, predicate)
    result: dict[Any, frozenset] = {}
    for start in direct:
        seen: set = set()
        stack = list(direct[start])
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(direct.get(node, ()))
        result[start] = frozenset(seen)
    return result
