"""The knowledge base: the ontology plus perceived individuals, answering the verifier through SPARQL.

Loading: the base ontology and the user's Turtle files are merged, then closed once under OWL-RL (owlrl), so
subclass chains, ``owl:equivalentClass``, ``rdfs:subPropertyOf`` and ``rdfs:domain``/``rdfs:range`` facts apply.
Scene individuals (:meth:`KnowledgeBase.set_scene`) are expanded cheaply in Python against that closed
ontology (see :mod:`groundsight.knowledge.entailment`) instead of re-running the reasoner every time the agent looks.
World states are checked against SHACL shapes with pyshacl (:meth:`KnowledgeBase.validate_state`).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Any, Protocol
from typing import Literal as Literal_

import owlrl
import rdflib.plugins.sparql
from pydantic import BaseModel, ConfigDict
from rdflib import OWL, RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SH, SKOS, XSD

from groundsight.inputs import InputFileError, TimeLimitExceeded, one_line, read_text, time_limit
from groundsight.knowledge.closure_store import closure_store
from groundsight.knowledge.compiled_shapes import ontology_compilable
from groundsight.knowledge.compiled_shapes import violations as compiled_violations
from groundsight.knowledge.entailment import Entailment

log = logging.getLogger(__name__)

GS = Namespace("https://groundsight.dev/ontology#")
SCENE = Namespace("https://groundsight.dev/scene/")
BASE_ONTOLOGY = "groundsight.ttl"
BASE_SHAPES = "groundsight.shapes.ttl"
MAX_USER_TRIPLES = 20_000
"""Most triples one user Turtle file may hold (inference over more takes minutes)."""
INFERENCE_SECONDS = 60.0
"""Time limit of the OWL-RL closure over the ontology and the user's files."""
QUERY_SECONDS = 10.0
"""Time limit of one SPARQL query."""
MAX_ROWS = 10_000
"""Most rows a SPARQL query returns."""

rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False  # never fetch a graph named in FROM / FROM NAMED from the web

RELATION_NAMES = {"left_of": "leftOf", "right_of": "rightOf", "in": "inside", "on_top_of": "on"}
"""Scene relation words that differ from the ontology property's local name."""
_PROPERTY_KEYS = {"mass": GS.typicalMass, "fragile": GS.fragile, "material": GS.material, "capacity": GS.capacity}
_PROPERTY_KEYS["maxLoad"] = GS.maxLoad


class KnowledgeError(ValueError):
    """A knowledge-graph file or query is bad; the message is one line naming file and line (or the query)."""


class PerceivedObject(Protocol):
    """What the knowledge base needs of a perceived object."""

    id: str
    type: str
    color: str
    position: tuple[float, float, float]
    extent: tuple[float, float, float]
    confidence: float


class TypedObject(Protocol):
    """What :meth:`KnowledgeBase.validate_state` needs of an object: an id and a type word."""

    id: str
    type: str


@dataclass(frozen=True)
class Answer:
    """A query result with the SPARQL that produced it and the facts it rests on, for the trace."""

    value: bool
    query: str
    facts: tuple[str, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return self.value


class Violation(BaseModel):
    """One SHACL violation of a world state: which shape, which object, and a sentence saying why."""

    model_config = ConfigDict(frozen=True)

    shape: str
    """Short name of the shape (its IRI's local name), e.g. ``nothing_on_ball``."""
    focus: str
    """Id of the object the violation is about (the ball, the full container, the fragile object)."""
    message: str
    """Human sentence with object ids, e.g. ``red_block is on green_ball ...``."""
    value: str | None = None
    """The other object involved (what rests on / in the focus), or the offending value, if any."""


def _describe_parse_error(exc: Exception) -> str:
    """``line N: invalid Turtle: why`` from an rdflib parser exception (its own line count is unreliable)."""
    text, index, why = getattr(exc, "_str", None), getattr(exc, "_i", None), getattr(exc, "_why", None)
    if text is not None and index is not None:
        newline = b"\n" if isinstance(text, bytes) else "\n"
        return f"line {text[:index].count(newline) + 1}: invalid Turtle: {why}"
    message = " ".join(str(exc).split())
    line = re.search(r"line (\d+)", message)
    return f"{'line ' + line.group(1) if line else 'syntax'}: invalid Turtle: {message[:160]}"


def _parse_turtle(text: str, source: str) -> Graph:
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle")
    except Exception as exc:  # rdflib raises several parser exception types
        raise KnowledgeError(f"{source}: {_describe_parse_error(exc)}") from None
    return graph


def _read(path: Path) -> str:
    try:
        return read_text(path)
    except InputFileError as exc:
        raise KnowledgeError(str(exc)) from None


_REMOTE = re.compile(r"(?<![?$:\w-])(SERVICE|LOAD|FROM)\b(?![:-])", re.IGNORECASE)
_STRINGS_AND_COMMENTS = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|<[^>\s]*>|#[^\n]*")


def _refuse_remote(query: str) -> None:
    """Refuse SERVICE, LOAD and FROM: the knowledge graph never reaches the network or loads other graphs."""
    found = _REMOTE.search(_STRINGS_AND_COMMENTS.sub(" ", query))
    if found:
        raise KnowledgeError(
            f"SPARQL query: {found.group(1).upper()} is not allowed (queries run on the local graph only, "
            "never over the network)"
        )


def _has_shapes(graph: Graph) -> bool:
    return any(graph.triples((None, RDF.type, SH.NodeShape))) or any(graph.triples((None, RDF.type, SH.PropertyShape)))


_PREFIXES = f"PREFIX gs: <{GS}>\nPREFIX rdfs: <{RDFS}>\nPREFIX skos: <{SKOS}>\n"
_SPARQL_PREFIXES = (
    _PREFIXES + f"PREFIX rdf: <{RDF}>\nPREFIX owl: <{OWL}>\nPREFIX xsd: <{XSD}>\nPREFIX scene: <{SCENE}>\n"
)
_WORD_PREDICATES = (RDFS.label, SKOS.altLabel)


class KnowledgeBase:
    """rdflib graph of the base ontology, user Turtle files (OWL-RL closed), and the current scene's individuals.

    ``extra_files`` are Turtle files merged into the ontology (``--kg FILE``). A file that declares a
    ``sh:NodeShape`` or ``sh:PropertyShape`` is also added to the SHACL shapes; ``shape_files`` are shapes only.
    ``self.graph`` is the closed ontology plus the scene: what :meth:`sparql` queries.
    """

    def __init__(self, extra_files: Iterable[str | Path] = (), shape_files: Iterable[str | Path] = ()) -> None:
        self._asserted = Graph()
        base = _package_graph("ontology", BASE_ONTOLOGY)
        self._base_labels = _base_labels(base)
        self._asserted += base
        self._base = base
        self.shapes = Graph()
        self.shapes += _package_graph("shapes", BASE_SHAPES)
        self._user_shapes = False
        self._scene_input: tuple[list[Any], list[tuple[str, str, str]]] = ([], [])
        self._scene_triples: list[tuple[Any, Any, Any]] = []
        for path in extra_files:
            self._merge(Path(path))
        for path in shape_files:
            self.shapes += _parse_turtle(_read(Path(path)), str(path))
            self._user_shapes = True
        self._rebuild()

    # ---- loading --------------------------------------------------------------------------------
    def load(self, path: str | Path) -> None:
        """Merge a user Turtle file; raise :class:`KnowledgeError` naming the file and line on bad syntax.

        The OWL-RL closure is recomputed and the current scene re-expanded against it.
        """
        self._merge(Path(path))
        self._rebuild()

    def _merge(self, path: Path) -> None:
        graph = _parse_turtle(_read(path), str(path))
        if len(graph) > MAX_USER_TRIPLES:
            raise KnowledgeError(f"{path}: too many triples ({len(graph):,}; the limit is {MAX_USER_TRIPLES:,})")
        self._asserted += graph
        if _has_shapes(graph):
            self.shapes += graph
            self._user_shapes = True
        log.info("loaded %s (%d triples)", path, len(graph))

    def _rebuild(self) -> None:
        """OWL-RL closure of ontology + user files, the vocabulary caches, and the query graph with the scene."""
        self._closure = _closed(self._asserted)
        tbox, self._entailment = self._closure.tbox, self._closure.entailment
        self.ontology = tbox
        self._word_class = self._build_word_index()
        properties = set(tbox.subjects(RDF.type, OWL.ObjectProperty)) | set(tbox.subjects(RDFS.subPropertyOf, None))
        self._relation_words = {
            str(label): prop
            for prop in sorted(p for p in properties if isinstance(p, URIRef))
            for label in sorted(tbox.objects(prop, RDFS.label), key=str, reverse=True)
            if isinstance(label, Literal)
        }
        self.graph = Graph()
        self.graph.bind("gs", GS)
        self.graph.bind("scene", SCENE)
        self.graph += tbox
        self._scene_triples = []
        if self._scene_input[0] or self._scene_input[1]:
            self.set_scene(*self._scene_input)

    def _build_word_index(self) -> dict[str, URIRef]:
        """Word -> class, preferring object types, then the class with the smallest IRI (deterministic)."""
        candidates: dict[str, list[tuple[int, str, URIRef]]] = {}
        types = self._object_type_classes()
        for predicate in _WORD_PREDICATES:
            for cls, word in self.ontology.subject_objects(predicate):
                if isinstance(cls, URIRef) and isinstance(word, Literal):
                    candidates.setdefault(str(word), []).append((0 if cls in types else 1, str(cls), cls))
        return {word: min(options)[2] for word, options in candidates.items()}

    def _object_type_classes(self) -> set[URIRef]:
        return {c for c in self.ontology.subjects(RDF.type, GS.ObjectType) if isinstance(c, URIRef)}

    def _label(self, cls: URIRef) -> str:
        """Canonical label: the base ontology's, else the smallest of the class's labels, else its local name."""
        if cls in self._base_labels:
            return self._base_labels[cls]
        labels = sorted(str(label) for label in self.ontology.objects(cls, RDFS.label))
        return labels[0] if labels else re.split(r"[#/]", str(cls))[-1]

    def _resolve_class(self, name: str) -> URIRef | None:
        """A class by word (label or synonym, e.g. "kitchenware", "cup") or by gs: local name ("Container")."""
        if name in self._word_class:
            return self._word_class[name]
        candidate = GS[name]
        if (candidate, RDFS.subClassOf, None) in self.ontology or (candidate, RDF.type, OWL.Class) in self.ontology:
            return candidate
        return None

    # ---- vocabulary -----------------------------------------------------------------------------
    def type_class(self, type_name: str) -> URIRef | None:
        """The class whose label or synonym is ``type_name`` (object types preferred), or None."""
        return self._word_class.get(type_name)

    def type_words(self) -> dict[str, str]:
        """Every noun naming a concrete object type (labels and synonyms) mapped to that type's label.

        Object types are the classes declared ``a gs:ObjectType``; categories (toy, kitchenware) and
        affordance classes (Container, ...) are not among them. Sub-properties of ``rdfs:label`` and
        ``skos:altLabel`` in a user file count too (inference).
        """
        types = self._object_type_classes()
        return {word: self._label(cls) for word, cls in sorted(self._word_class.items()) if cls in types}

    def class_words(self) -> dict[str, str]:
        """Every noun naming a class that is not an object type (toy, kitchenware, container, object, thing, ...).

        Maps label and synonym words of the (inferred) subclasses of ``gs:PhysicalObject`` that are not object
        types to the class's canonical label, e.g. ``{"thing": "object", "vessel": "container", ...}``. Words
        that also name an object type are left out (the type wins).
        """
        types = self._object_type_classes()
        physical = set(self.ontology.subjects(RDFS.subClassOf, GS.PhysicalObject)) | {GS.PhysicalObject}
        return {
            word: self._label(cls)
            for word, cls in sorted(self._word_class.items())
            if cls not in types and cls in physical and cls != OWL.Nothing
        }

    def object_types(self) -> list[str]:
        """Labels of the concrete object types, sorted."""
        return sorted(set(self.type_words().values()))

    def types_of_class(self, word: str) -> list[str]:
        """Labels of the object types that are (inferred) subclasses of the class named ``word``, sorted.

        ``word`` is a label or synonym ("kitchenware", "container", "thing") or a gs: local name ("Toy"). For a
        type word ("cup") the answer is that type alone (["mug"]). An unknown word gives [].
        """
        cls = self._resolve_class(word)
        if cls is None:
            return []
        types = self._object_type_classes()
        if cls in types:
            return [self._label(cls)]
        return sorted({self._label(t) for t in types if cls in self._entailment.superclasses(t)})

    def categories(self, type_name: str) -> list[str]:
        """Labels of the category classes above ``type_name`` (e.g. ``toy``), sorted.

        Categories are labelled classes that are not object types, not affordance classes (``a gs:Affordance``,
        e.g. Container, or equivalent to one) and not ``gs:PhysicalObject`` itself.
        """
        cls = self.type_class(type_name)
        if cls is None:
            return []
        q = _SPARQL_PREFIXES + (
            "SELECT DISTINCT ?c WHERE { ?t rdfs:subClassOf+ ?c . ?c rdfs:label ?label . "
            "FILTER NOT EXISTS { ?c a gs:ObjectType } FILTER NOT EXISTS { ?c a gs:Affordance } "
            "FILTER NOT EXISTS { ?c owl:equivalentClass ?a . ?a a gs:Affordance } "
            "FILTER(?c != gs:PhysicalObject && ?c != ?t) }"
        )
        return sorted({self._label(row[0]) for row in self.ontology.query(q, initBindings={"t": cls})})

    # ---- questions the verifier asks ------------------------------------------------------------
    def is_a(self, type_name: str, class_name: str) -> Answer:
        """Is every ``type_name`` (e.g. "bowl") a ``class_name`` (e.g. "Container", or a word like "kitchenware")?

        Answered from the closed ontology's subclass table, without a SPARQL round trip; the answer carries the
        equivalent ASK query for the trace (``tests/knowledge/test_base.py`` asks rdflib both ways)."""
        cls = self.type_class(type_name)
        target = GS[class_name] if self._resolve_class(class_name) is None else self._resolve_class(class_name)
        query = _PREFIXES + f"ASK {{ <{cls}> rdfs:subClassOf* <{target}> }}"
        if cls is None:
            return Answer(False, query, (f"no class is labelled {type_name!r}",))
        value = target in self._entailment.superclasses(cls)  # the ASK's answer, from the closure's tables
        fact = f"{type_name} {'is' if value else 'is not'} a {class_name}"
        return Answer(value, query, (fact,))

    def affords(self, type_name: str, relation: str) -> Answer:
        """Can an object be put ``relation`` (inside / on) an object of ``type_name``? (From the closure's tables,
        carrying the equivalent ASK query, as :meth:`is_a`.)"""
        cls = self.type_class(type_name)
        query = _PREFIXES + f"ASK {{ <{cls}> rdfs:subClassOf* ?a . ?a gs:affords gs:{relation} }}"
        if cls is None:
            return Answer(False, query, (f"no class is labelled {type_name!r}",))
        affordance = GS[relation]
        value = any((a, GS.affords, affordance) in self.ontology for a in self._entailment.superclasses(cls))
        fact = f"a {type_name} {'affords' if value else 'does not afford'} '{relation}'"
        return Answer(value, query, (fact,))

    def graspable(self, type_name: str) -> Answer:
        """Is ``type_name`` a graspable type?"""
        return self.is_a(type_name, "Graspable")

    def stackable(self, type_name: str) -> Answer:
        """Does a ``type_name`` rest stably on top of another object (``gs:Stackable``)? A ball does not."""
        answer = self.is_a(type_name, "Stackable")
        if self.type_class(type_name) is None:
            return answer
        fact = f"a {type_name} {'rests' if answer.value else 'does not rest'} stably on top of another object"
        return Answer(answer.value, answer.query, (fact,))

    def properties(self, type_name: str) -> dict[str, Any]:
        """Physical properties of a type: ``mass`` (kg), ``fragile``, ``material``, ``capacity``, ``maxLoad`` (kg).

        Only the keys the ontology states (for the type or, failing that, its most specific superclass that
        states one) are present; a value from a user file wins over the base ontology's; an unknown type
        gives {}. E.g. ``properties("mug")`` -> ``{"mass": 0.15, "fragile": True, "material": "ceramic",
        "capacity": 1, "maxLoad": 0.2}``.
        """
        cls = self.type_class(type_name)
        return {} if cls is None else self._class_properties(cls)

    def _class_properties(self, cls: URIRef) -> dict[str, Any]:
        ranked = sorted(self._entailment.superclasses(cls), key=lambda c: (-len(self._entailment.superclasses(c)), c))
        found: dict[str, Any] = {}
        for key, predicate in _PROPERTY_KEYS.items():
            for c in ranked:
                values = sorted(
                    self.ontology.objects(c, predicate), key=lambda v: ((c, predicate, v) in self._base, str(v))
                )
                if values:
                    found[key] = values[0].toPython() if isinstance(values[0], Literal) else str(values[0])
                    break
        for key in ("mass", "maxLoad"):
            if key in found:
                found[key] = float(found[key])
        if "capacity" in found:
            found["capacity"] = int(found["capacity"])
        if "fragile" in found:
            found["fragile"] = found["fragile"] in (True, "true", "1")
        if "material" in found:
            found["material"] = str(found["material"])
        return found

    # ---- scene individuals ----------------------------------------------------------------------
    def set_scene(self, objects: Sequence[PerceivedObject], relations: Iterable[tuple[str, str, str]] = ()) -> None:
        """Replace the scene individuals with these perceived objects and relation triples.

        Each object becomes ``scene:<id>`` with its type class and every inferred superclass; each relation
        ``(a, rel, b)`` becomes ``scene:a gs:rel scene:b`` plus what sub-properties, inverse and symmetric
        properties and domains/ranges of the closed ontology entail.
        """
        objects, relations = list(objects), list(relations)
        for triple in self._scene_triples:
            self.graph.remove(triple)
        asserted: list[tuple[Any, Any, Any]] = []
        for obj in objects:
            node = SCENE[obj.id]
            cls = self.type_class(obj.type)
            asserted.append((node, RDF.type, GS.PhysicalObject))
            if cls is not None:
                asserted.append((node, RDF.type, cls))
            asserted.append((node, GS.color, Literal(obj.color)))
            for name, value in zip(("x", "y", "z"), obj.position, strict=True):
                asserted.append((node, GS[name], Literal(round(float(value), 4), datatype=XSD.double)))
            asserted.append((node, GS.width, Literal(round(float(min(obj.extent[:2])), 4), datatype=XSD.double)))
            asserted.append((node, GS.confidence, Literal(round(float(obj.confidence), 3), datatype=XSD.double)))
        asserted += [(SCENE[a], self._relation(rel), SCENE[b]) for a, rel, b in relations]
        added = [t for t in sorted(self._entailment.expand(asserted)) if t not in self.graph]
        for triple in added:
            self.graph.add(triple)
        self._scene_triples = added
        self._scene_input = (objects, relations)

    def _relation(self, rel: str) -> URIRef:
        """A relation word -> property: a property's rdfs:label ("left_of"), a full IRI, or a gs: local name."""
        if rel in self._relation_words:
            return self._relation_words[rel]
        if rel.startswith(("http://", "https://", "urn:")):
            return URIRef(rel)
        return GS[RELATION_NAMES.get(rel, rel)]

    def objects_of_class(self, class_name: str) -> list[str]:
        """Ids of scene individuals whose type is (an inferred subclass of) a class, sorted.

        ``class_name`` is a gs: local name ("Container") or a word ("kitchenware", "cup"); unknown -> [].
        """
        cls = self._resolve_class(class_name)
        if cls is None:
            return []
        prefix = str(SCENE)
        return sorted(
            str(o).removeprefix(prefix)
            for o in set(self.graph.subjects(RDF.type, cls))
            if isinstance(o, URIRef) and str(o).startswith(prefix)
        )

    def sparql(self, query: str) -> list[dict[str, str]]:
        """Run a SELECT query over the closed ontology plus the scene and return rows as dicts.

        The prefixes gs:, rdfs:, skos:, rdf:, owl:, xsd: and scene: are predeclared. A query that does not
        parse, or is not a SELECT, raises :class:`KnowledgeError` with a one-line message.
        """
        _refuse_remote(query)
        try:
            with time_limit(QUERY_SECONDS, "SPARQL query"):
                result = self.graph.query(_SPARQL_PREFIXES + query)
                if result.type != "SELECT":
                    raise KnowledgeError(f"SPARQL query: only SELECT is supported, not {result.type}")
                return [{str(k): str(v) for k, v in row.asdict().items()} for row in islice(result, MAX_ROWS)]
        except TimeLimitExceeded as exc:
            raise KnowledgeError(f"{exc}; narrow it (a cross product of unbound patterns?)") from None
        except KnowledgeError:
            raise
        except Exception as exc:  # pyparsing / rdflib raise several exception types
            raise KnowledgeError(f"SPARQL query: invalid: {_query_error(exc)}") from None

    # ---- SHACL validation of world states ---------------------------------------------------------
    def state_graph(
        self, objects: Sequence[TypedObject] | Mapping[str, str], relations: Iterable[tuple[str, str, str]]
    ) -> Graph:
        """The SHACL data graph of a world state: typed individuals, their physical values, and relations.

        ``objects`` are objects with ``id`` and ``type`` (optionally ``mass`` in kg, overriding the type's), or a
        mapping id -> type word. Raises :class:`KnowledgeError` for an unknown type or a relation naming an
        unknown object.
        """
        return _data_graph(self._state_triples(objects, relations))

    def _state_triples(
        self, objects: Sequence[TypedObject] | Mapping[str, str], relations: Iterable[tuple[str, str, str]]
    ) -> set[tuple[Any, Any, Any]]:
        """The triples of :meth:`state_graph`, with what the closed ontology entails of them."""
        items = (
            [(oid, typ, None) for oid, typ in objects.items()]
            if isinstance(objects, Mapping)
            else [(o.id, o.type, getattr(o, "mass", None)) for o in objects]
        )
        asserted: list[tuple[Any, Any, Any]] = []
        ids = set()
        for oid, typ, mass in items:
            cls = self.type_class(typ)
            if cls is None:
                raise KnowledgeError(f"object {oid!r}: unknown type {typ!r}")
            ids.add(oid)
            asserted += self._individual(SCENE[oid], cls, mass)
        for a, rel, b in relations:
            for oid in (a, b):
                if oid not in ids:
                    raise KnowledgeError(f"relation ({a}, {rel}, {b}): unknown object {oid!r}")
            asserted.append((SCENE[a], self._relation(rel), SCENE[b]))
        return self._entailment.expand(asserted)

    def _individual(self, node: URIRef, cls: URIRef, mass: float | None) -> list[tuple[Any, Any, Any]]:
        """One object of a state: its type and its type's physical values (``mass`` overriding the type's)."""
        out: list[tuple[Any, Any, Any]] = [(node, RDF.type, GS.PhysicalObject), (node, RDF.type, cls)]
        props = self._class_properties(cls)
        if mass is not None:
            props["mass"] = float(mass)
        for key, predicate in (("mass", GS.mass), ("maxLoad", GS.maxLoad)):
            if key in props:
                out.append((node, predicate, Literal(props[key], datatype=XSD.double)))
        if "capacity" in props:
            out.append((node, GS.capacity, Literal(props["capacity"], datatype=XSD.integer)))
        if "fragile" in props:
            out.append((node, GS.fragile, Literal(props["fragile"], datatype=XSD.boolean)))
        return out

    @property
    def shapes_compiled(self) -> bool:
        """Whether :meth:`validate_state` checks the compiled base shapes instead of running pyshacl: the shapes
        are the base shapes alone and the ontology adds nothing they could see (see
        :mod:`groundsight.knowledge.compiled_shapes`)."""
        return not self._user_shapes and self._closure.compilable

    def validate_state(
        self,
        objects: Sequence[TypedObject] | Mapping[str, str],
        relations: Iterable[tuple[str, str, str]] = (),
        engine: Literal_["auto", "pyshacl"] = "auto",
    ) -> list[Violation]:
        """Check a world state against the SHACL shapes.

        ``relations`` are ``(a, rel, b)`` triples such as ``("red_block", "on", "green_ball")``. Returns the
        violations sorted by shape, focus and value; [] when the state is valid. Shapes: nothing_on_ball,
        on_needs_support, inside_needs_container, container_capacity, fragile_under_heavy, plus user shapes.
        With the base shapes alone (:attr:`shapes_compiled`) they are checked in plain Python with the same
        verdicts and messages; with user shapes, or ``engine="pyshacl"``, pyshacl runs them (the closed ontology
        as ``ont_graph``).
        """
        triples = self._state_triples(objects, relations)
        if engine == "auto" and self.shapes_compiled:
            found = [
                Violation(shape=shape, focus=_short(focus), message=message, value=_short(value))
                for shape, focus, message, value in set(compiled_violations(triples))
            ]
        else:
            found = self._pyshacl(triples)
        return sorted(found, key=lambda v: (v.shape, v.focus, v.value or "", v.message))

    def _pyshacl(self, triples: set[tuple[Any, Any, Any]]) -> list[Violation]:
        """The state's violations as pyshacl finds them."""
        from pyshacl import validate  # imported here: pyshacl is slow to import and only needed for this

        conforms, report, _ = validate(
            _data_graph(triples),
            shacl_graph=self.shapes,
            ont_graph=self.ontology,
            inference="none",
            advanced=True,
            abort_on_first=False,
        )
        return [] if conforms else self._violations(report)

    def _violations(self, report: Graph) -> list[Violation]:
        found = set()
        for result in report.subjects(RDF.type, SH.ValidationResult):
            shape = report.value(result, SH.sourceShape)
            if shape is not None and not isinstance(shape, URIRef):
                parent = self.shapes.value(None, SH.property, shape)
                shape = parent if parent is not None else shape
            focus, value = report.value(result, SH.focusNode), report.value(result, SH.value)
            message = str(report.value(result, SH.resultMessage) or "")
            found.add(
                Violation(
                    shape=_short(shape),
                    focus=_short(focus),
                    message=_shorten_iris(message) or f"{_short(focus)} violates {_short(shape)}",
                    value=None if value is None else _short(value),
                )
            )
        return list(found)


def _query_error(exc: Exception) -> str:
    """One line from a SPARQL parse error, with line numbers counted in the user's query (our prefixes removed)."""
    prefix_lines = _SPARQL_PREFIXES.count("\n")
    text = re.sub(r"\s*\(at char \d+\),?", "", one_line(exc, 200))
    return re.sub(r"\(line:(\d+), col:(\d+)\)", lambda m: f"(line {int(m[1]) - prefix_lines}, column {m[2]})", text)


def _short(node: Any) -> str:
    """Local name of an IRI (object id for scene individuals), or the literal's text."""
    text = str(node)
    if text.startswith(str(SCENE)):
        return text.removeprefix(str(SCENE))
    return re.split(r"[#/]", text)[-1] if isinstance(node, URIRef) else text


def _shorten_iris(message: str) -> str:
    """Scene IRIs (bare, <...> or scene:...) in a SHACL message -> object ids; typed literals -> their text."""
    message = re.sub(r"<?" + re.escape(str(SCENE)) + r"([^\s>]+)>?", r"\1", message)
    message = re.sub(r"\bscene:(\S+)", r"\1", message)
    return re.sub(r'"([^"]*)"\^\^\S+', r"\1", message)


@functools.lru_cache(maxsize=4)
def _package_graph(folder: str, name: str) -> Graph:
    """A Turtle file shipped in the package, parsed once per process (callers copy it; never modify it)."""
    return _parse_turtle(_package_text(folder, name), name)


def _base_labels(base: Graph) -> dict[URIRef, str]:
    labels: dict[URIRef, str] = {}
    for cls, label in base.subject_objects(RDFS.label):
        if isinstance(cls, URIRef):
            labels.setdefault(cls, str(label))
    return labels


@dataclass
class _Closure:
    """A closed ontology with what is computed from it once per process: its entailment tables and whether the
    compiled shapes (:mod:`groundsight.knowledge.compiled_shapes`) give pyshacl's verdicts over it."""

    tbox: Graph
    entailment: Entailment
    compilable: bool = False


_CLOSURES: dict[frozenset, _Closure] = {}
"""Closed ontologies by their asserted triples: the same files are closed once per process (eval workers run many
episodes). The closed graphs are shared and never modified."""
_MAX_CLOSURES = 8


def _closed(asserted: Graph) -> _Closure:
    """The OWL-RL closure of ``asserted`` and its entailment tables, computed once per distinct triple set."""
    key = frozenset(asserted)
    if key not in _CLOSURES:
        stored = closure_store(key)
        tbox = stored.load() if stored is not None else None
        if tbox is None:
            tbox = _owl_rl(asserted)
            if stored is not None:
                stored.save(tbox)
        if len(_CLOSURES) >= _MAX_CLOSURES:
            del _CLOSURES[next(iter(_CLOSURES))]
        _CLOSURES[key] = _Closure(tbox, Entailment(tbox), compilable=ontology_compilable(tbox))
    return _CLOSURES[key]


def _data_graph(triples: Iterable[tuple[Any, Any, Any]]) -> Graph:
    """A state's triples as a graph (added in sorted order, so its serialisation is deterministic)."""
    data = Graph()
    data.bind("gs", GS)
    data.bind("scene", SCENE)
    for triple in sorted(triples):
        data.add(triple)
    return data


def _owl_rl(asserted: Graph) -> Graph:
    """A copy of ``asserted`` closed under OWL-RL (within :data:`INFERENCE_SECONDS`)."""
    tbox = Graph()
    tbox += asserted
    closure = owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False)
    try:
        with time_limit(INFERENCE_SECONDS, "OWL-RL inference over the knowledge graph"):
            closure.expand(tbox)
    except TimeLimitExceeded as exc:
        raise KnowledgeError(f"{exc}; simplify the Turtle files (a long subClassOf cycle?)") from None
    return tbox


def _package_text(folder: str, name: str) -> str:
    return resources.files("groundsight.knowledge").joinpath(folder, name).read_text(encoding="utf-8")
