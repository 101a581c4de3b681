"""Knowledge: an rdflib knowledge base over the groundsight ontology, queried with SPARQL.

Depends on no other groundsight package.
"""

from knowledge.base import GS, Answer, KnowledgeBase, KnowledgeError

__all__ = ["GS", "Answer", "KnowledgeBase", "KnowledgeError"]
