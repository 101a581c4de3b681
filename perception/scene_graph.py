"""A networkx scene graph built from perceived (or true) objects and geometric relations."""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from groundsight.perception.objects import SceneObject
from groundsight.perception.relations import RELATIONS

GRAPH_RELATIONS = ("on", "inside", "left_of", "near")
"""Relations stored as edges; the rest follow from these or are computed on demand."""


def build_scene_graph(objects: Sequence[SceneObject], relations: Sequence[str] = GRAPH_RELATIONS) -> nx.MultiDiGraph:
    """Nodes are object ids (with the object under ``obj``); an edge ``a -> b`` keyed by relation name."""
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
