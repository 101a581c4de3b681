"""A networkx scene graph built from perceived (or true) objects and geometric relations.

networkx (a third of a second to import) is loaded on the first graph built, not when the agent starts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from groundsight.perception.objects import SceneObject
from groundsight.perception.relations import RELATIONS

if TYPE_CHECKING:
    import networkx as nx

GRAPH_RELATIONS = ("on", "inside", "left_of", "near")
"""Relations stored as edges; the rest follow from these or are computed on demand."""


def scene_relations(
    objects: Sequence[SceneObject], relations: Sequence[str] = GRAPH_RELATIONS
) -> list[tuple[str, str, str]]:
    """Sorted ``(subject, relation, object)`` triples of the scene graph's edges, without building the graph
    (what the agent keeps in its state and trace; equal to ``relation_triples(build_scene_graph(...))``)."""
    pairs = [(a, b) for a in objects for b in objects if a.id != b.id]
    return sorted((a.id, name, b.id) for a, b in pairs for name in relations if RELATIONS[name](a, b))


def build_scene_graph(objects: Sequence[SceneObject], relations: Sequence[str] = GRAPH_RELATIONS) -> nx.MultiDiGraph:
    """Nodes are object ids (with the object under ``obj``); an edge ``a -> b`` keyed by relation name."""
    import networkx as nx

    graph = nx.MultiDiGraph()
    for obj in objects:
        graph.add_node(obj.id, obj=obj, type=obj.type, color=obj.color)
    for a in objects:
        for b in objects:
            if a.id == b.id:
                continue
            for name in relations:
                if RELATIONS[name](a, b):
                    graph.add_edge(a.id, b.id, key=name, relation=name)
    return graph


def relation_triples(graph: nx.MultiDiGraph) -> list[tuple[str, str, str]]:
    """Sorted ``(subject, relation, object)`` triples, for traces and tests."""
    return sorted((a, k, b) for a, b, k in graph.edges(keys=True))
