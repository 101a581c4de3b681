"""The base SHACL shapes (``shapes/groundsight.shapes.ttl``) compiled to plain Python over a state's triples.

pyshacl validates a world state in about 150 ms: it copies the closed ontology into the data graph and runs each
shape's SPARQL constraint through rdflib's query engine. The five base shapes are simple patterns over the
state's ``gs:on`` / ``gs:inside`` triples and the individuals' types and values, so they are written here once
more as set lookups (well under a millisecond) that give the same violations with the same messages.
:meth:`KnowledgeBase.validate_state` uses them when the shapes are exactly the base shapes and the ontology adds
nothing the shapes could see besides the state (:func:`ontology_compilable`); otherwise it runs pyshacl.
``tests/knowledge/test_compiled_shapes.py`` holds the two equal on every scenario's states and on states made to
break each shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from rdflib import RDF, Graph, Literal, Namespace, URIRef

GS = Namespace("https://groundsight.dev/ontology#")
SCENE = Namespace("https://groundsight.dev/scene/")
Triple = tuple[Any, Any, Any]
Found = tuple[str, Any, str, Any]
"""One violation as (shape local name, focus node, message, value node or literal)."""


def ontology_compilable(ontology: Graph) -> bool:
    """True when pyshacl, which merges the ontology into the data graph, could find no violation through the
    ontology's own triples: it places nothing on or inside anything and says nothing about scene individuals.
    (The base ontology states capacities and loads on classes, which no shape can break without an ``on`` or
    ``inside`` triple.)"""
    if any(ontology.triples((None, GS.on, None))) or any(ontology.triples((None, GS.inside, None))):
        return False
    scene = str(SCENE)
    return not any(isinstance(s, URIRef) and str(s).startswith(scene) for s in ontology.subjects(unique=True))


class _State:
    """The state's triples indexed the way the shapes read them."""

    def __init__(self, triples: Iterable[Triple]) -> None:
        self.types: dict[Any, set[Any]] = defaultdict(set)
        self.on: list[tuple[Any, Any]] = []
        self.inside: list[tuple[Any, Any]] = []
        self.values: dict[tuple[Any, Any], list[Any]] = defaultdict(list)
        for s, p, o in triples:
            if p == RDF.type:
                self.types[s].add(o)
            elif p == GS.on:
                self.on.append((s, o))
            elif p == GS.inside:
                self.inside.append((s, o))
            elif isinstance(o, Literal):
                self.values[(s, p)].append(o)

    def subjects_of(self, predicate: Any) -> list[Any]:
        return sorted({s for s, p in self.values if p == predicate})


def _text(node: Any) -> str:
    """How a node appears in a message once the IRIs are shortened: an object id, or a literal's lexical form."""
    text = str(node)
    return text.removeprefix(str(SCENE)) if isinstance(node, URIRef) else text


def _number(literal: Any) -> float | None:
    value = literal.toPython() if isinstance(literal, Literal) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _nothing_on_ball(state: _State) -> list[Found]:
    return [
        ("nothing_on_ball", this, f"nothing can rest on a ball, but {_text(v)} is on {_text(this)}", v)
        for v, this in state.on
        if GS.Ball in state.types.get(this, ())
    ]


def _on_needs_support(state: _State) -> list[Found]:
    out = []
    for v, this in state.on:
        types = state.types.get(this, set())
        if GS.SupportSurface not in types and GS.Ball not in types:
            out.append(("on_needs_support", this, f"{_text(v)} is on {_text(this)}, which is not a support surface", v))
    return out


def _inside_needs_container(state: _State) -> list[Found]:
    return [
        ("inside_needs_container", this, f"{_text(v)} is inside {_text(this)}, which is not a container", v)
        for v, this in state.inside
        if GS.Container not in state.types.get(this, ())
    ]


def _container_capacity(state: _State) -> list[Found]:
    out = []
    for this in state.subjects_of(GS.capacity):
        count = len({inner for inner, holder in state.inside if holder == this})
        if count == 0:
            continue
        for capacity in state.values[(this, GS.capacity)]:
            limit = _number(capacity)
            if limit is not None and count > limit:
                message = f"{_text(this)} holds {count} objects but its capacity is {_text(capacity)}"
                out.append(("container_capacity", this, message, Literal(count)))
    return out


def _fragile_under_heavy(state: _State) -> list[Found]:
    out = []
    for this in state.subjects_of(GS.fragile):
        if Literal(True) not in state.values[(this, GS.fragile)]:
            continue
        resting = {v for v, holder in [*state.on, *state.inside] if holder == this}
        for limit in state.values[(this, GS.maxLoad)]:
            for v in sorted(resting):
                for mass in state.values[(v, GS.mass)]:
                    m, most = _number(mass), _number(limit)
                    if m is not None and most is not None and m > most:
                        message = (
                            f"{_text(v)} ({_text(mass)} kg) rests on fragile {_text(this)}, "
                            f"which bears at most {_text(limit)} kg"
                        )
                        out.append(("fragile_under_heavy", this, message, v))
    return out


SHAPES = (_nothing_on_ball, _on_needs_support, _inside_needs_container, _container_capacity, _fragile_under_heavy)
"""The base shapes, one function each, in the order of the shapes file."""


def violations(triples: Iterable[Triple]) -> list[Found]:
    """Every violation of the base shapes in a state's (already entailment-expanded) triples."""
    state = _State(triples)
    return [found for shape in SHAPES for found in shape(state)]
