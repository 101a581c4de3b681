"""Knowledge: an rdflib knowledge base over the groundsight ontology, queried with SPARQL.

The ontology plus user Turtle files are closed under OWL-RL (owlrl); world states are checked against SHACL
shapes (pyshacl). Depends on no other groundsight package.
"""

from groundsight.knowledge.base import GS, SCENE, Answer, KnowledgeBase, KnowledgeError, Violation

__all__ = ["GS", "SCENE", "Answer", "KnowledgeBase", "KnowledgeError", "Violation"]
