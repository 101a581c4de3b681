"""The knowledge base: the ontology plus perceived individuals, answering the verifier through SPARQL."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SKOS, XSD

log = logging.getLogger(__name__)

GS = Namespace("https://groundsight.dev/ontology#")
SCENE = Namespace("https://groundsight.dev/scene/")
BASE_ONTOLOGY = "groundsight.ttl"


class KnowledgeError(ValueError):
    """A knowledge-graph file could not be loaded; the message is one line naming file and line."""


class PerceivedObject(Protocol):
    """What the knowledge base needs of a perceived object."""

    id: str
    type: str
    color: str
    position: tuple[float, float, float]
    extent: tuple[float, float, float]
    confidence: float


@dataclass(frozen=True)
class Answer:
    """A query result with the SPARQL that produced it and the facts it rests on, for the trace."""

    value: bool
    query: str
    facts: tuple[str, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return self.value


def _describe_parse_error(exc: Exception) -> str:
    """``line N: invalid Turtle: why`` from an rdflib parser exception (its own line count is unreliable)."""
    text, index, why = getattr(exc, "_str", None), getattr(exc, "_i", None), getattr(exc, "_why", None)
    if text is not None and index is not None:
        newline = b"\n" if isinstance(text, bytes) else "\n"
        return f"line {text[:index].count(newline) + 1}: invalid Turtle: {why}"
    message = " ".join(str(exc).split())
    line = re.search(r"line (\d+)", message)
    return f"{'line ' + line.group(1) if line else 'syntax'}: invalid Turtle: {message[:160]}"


_PREFIXES = f"PREFIX gs: <{GS}>\nPREFIX rdfs: <{RDFS}>\nPREFIX skos: <{SKOS}>\n"


class KnowledgeBase:
    """rdflib graph of the base ontology, user Turtle files, and the current scene's individuals."""

    def __init__(self, extra_files: Iterable[str | Path] = ()) -> None:
        self.graph = Graph()
        self.graph.bind("gs", GS)
        self.graph.bind("scene", SCENE)
        text = resources.files("knowledge").joinpath("ontology", BASE_ONTOLOGY).read_text(encoding="utf-8")
        self._parse(text, BASE_ONTOLOGY)
        for path in extra_files:
            self.load(path)

    # ---- loading --------------------------------------------------------------------------------
    def load(self, path: str | Path) -> None:
        """Merge a user Turtle file; raise :class:`KnowledgeError` naming the file and line on bad syntax."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KnowledgeError(f"{path}: cannot read: {exc.strerror or exc}") from None
        self._parse(text, str(path))

    def _parse(self, text: str, source: str) -> None:
        try:
            self.graph.parse(data=text, format="turtle")
        except Exception as exc:  # rdflib raises several parser exception types
            raise KnowledgeError(f"{source}: {_describe_parse_error(exc)}") from None

    # ---- vocabulary -----------------------------------------------------------------------------
    def type_class(self, type_name: str) -> URIRef | None:
        """The class whose label or synonym is ``type_name``, or None."""
        q = _PREFIXES + "SELECT ?c WHERE { { ?c rdfs:label ?l } UNION { ?c skos:altLabel ?l } FILTER(STR(?l) = ?w) }"
        rows = list(self.graph.query(q, initBindings={"w": Literal(type_name)}))
        return rows[0][0] if rows else None

    def type_words(self) -> dict[str, str]:
        """Every noun naming a concrete object type (labels and synonyms) mapped to that type's label.

        Object types are the classes declared ``a gs:ObjectType``; categories (toy, kitchenware) and
        affordance classes (Container, ...) are not among them.
        """
        q = _PREFIXES + (
            "SELECT ?word ?label WHERE { ?c a gs:ObjectType ; rdfs:label ?label . "
            "{ ?c rdfs:label ?word } UNION { ?c skos:altLabel ?word } }"
        )
        return {str(w): str(lbl) for w, lbl in self.graph.query(q)}

    def object_types(self) -> list[str]:
        """Labels of the concrete object types, sorted."""
        return sorted(set(self.type_words().values()))

    def categories(self, type_name: str) -> list[str]:
        """Labels of the labelled classes above ``type_name`` that are not object types (e.g. ``toy``), sorted."""
        cls = self.type_class(type_name)
        if cls is None:
            return []
        q = _PREFIXES + (
            "SELECT DISTINCT ?label WHERE { ?t rdfs:subClassOf+ ?c . ?c rdfs:label ?label . "
            "FILTER NOT EXISTS { ?c a gs:ObjectType } FILTER(?c != gs:PhysicalObject) }"
        )
        return sorted(str(row[0]) for row in self.graph.query(q, initBindings={"t": cls}))

    # ---- questions the verifier asks ------------------------------------------------------------
    def is_a(self, type_name: str, class_name: str) -> Answer:
        """Is every ``type_name`` (e.g. "bowl") a ``class_name`` (e.g. "Container")?"""
        cls = self.type_class(type_name)
        query = _PREFIXES + f"ASK {{ <{cls}> rdfs:subClassOf* gs:{class_name} }}"
        if cls is None:
            return Answer(False, query, (f"no class is labelled {type_name!r}",))
        value = bool(self.graph.query(query).askAnswer)
        fact = f"{type_name} {'is' if value else 'is not'} a {class_name}"
        return Answer(value, query, (fact,))

    def affords(self, type_name: str, relation: str) -> Answer:
        """Can an object be put ``relation`` (inside / on) an object of ``type_name``?"""
        cls = self.type_class(type_name)
        query = _PREFIXES + f"ASK {{ <{cls}> rdfs:subClassOf* ?a . ?a gs:affords gs:{relation} }}"
        if cls is None:
            return Answer(False, query, (f"no class is labelled {type_name!r}",))
        value = bool(self.graph.query(query).askAnswer)
        fact = f"a {type_name} {'affords' if value else 'does not afford'} '{relation}'"
        return Answer(value, query, (fact,))

    def graspable(self, type_name: str) -> Answer:
        """Is ``type_name`` a graspable type?"""
        return self.is_a(type_name, "Graspable")

    # ---- scene individuals ----------------------------------------------------------------------
    def set_scene(self, objects: Sequence[PerceivedObject], relations: Iterable[tuple[str, str, str]] = ()) -> None:
        """Replace the scene individuals with these perceived objects and relation triples."""
        for s in {s for s in self.graph.subjects() if isinstance(s, URIRef) and s.startswith(str(SCENE))}:
            self.graph.remove((s, None, None))
        for obj in objects:
            node = SCENE[obj.id]
            cls = self.type_class(obj.type)
            if cls is not None:
                self.graph.add((node, RDF.type, cls))
            self.graph.add((node, GS.color, Literal(obj.color)))
            for name, value in zip(("x", "y", "z"), obj.position, strict=True):
                self.graph.add((node, GS[name], Literal(round(float(value), 4), datatype=XSD.double)))
            self.graph.add((node, GS.width, Literal(round(float(min(obj.extent[:2])), 4), datatype=XSD.double)))
            self.graph.add((node, GS.confidence, Literal(round(float(obj.confidence), 3), datatype=XSD.double)))
        names = {"left_of": "leftOf"}
        for a, rel, b in relations:
            self.graph.add((SCENE[a], GS[names.get(rel, rel)], SCENE[b]))

    def objects_of_class(self, class_name: str) -> list[str]:
        """Ids of scene individuals whose type is (a subclass of) ``class_name``, sorted."""
        q = _PREFIXES + f"SELECT ?o WHERE {{ ?o a ?c . ?c rdfs:subClassOf* gs:{class_name} }}"
        return sorted(str(row[0]).removeprefix(str(SCENE)) for row in self.graph.query(q))

    def sparql(self, query: str) -> list[dict[str, str]]:
        """Run a SELECT query (with the gs:, rdfs:, skos: prefixes predeclared) and return rows as dicts."""
        result = self.graph.query(_PREFIXES + query)
        return [{str(k): str(v) for k, v in row.asdict().items()} for row in result]
