"""``groundsight kg``: query and list the knowledge graph (ontology + the user's Turtle files)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from groundsight.agent.cli.app import bad_input, console

if TYPE_CHECKING:
    from groundsight.knowledge import KnowledgeBase

kg_app = typer.Typer(help="Query and check the knowledge graph (ontology + your Turtle files).", no_args_is_help=True)


def _kb(files: list[Path] | None) -> KnowledgeBase:
    from groundsight.knowledge import KnowledgeBase, KnowledgeError

    try:
        return KnowledgeBase(files or [])
    except KnowledgeError as exc:
        raise bad_input(f"--kg: {exc}") from None


@kg_app.command("query")
def kg_query(
    query: Annotated[
        str, typer.Argument(help="A SPARQL SELECT query; prefixes gs:, rdf:, rdfs:, owl:, skos: are bound.")
    ],
    kg: Annotated[list[Path] | None, typer.Option(help="Extra Turtle file (repeatable).")] = None,
) -> None:
    """Run a SPARQL SELECT over the inferred knowledge graph and print the rows.

    Example: groundsight kg query 'SELECT ?t WHERE { ?t rdfs:subClassOf gs:Kitchenware }'
    """
    from groundsight.knowledge import GS, KnowledgeError

    try:
        rows = _kb(kg).sparql(query)
    except KnowledgeError as exc:
        raise bad_input(str(exc)) from None
    if not rows:
        print("no rows")
        return
    if "order by" not in query.lower():  # rdflib's row order is not stable between runs
        rows = sorted(rows, key=lambda r: tuple(r.values()))
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*(str(v).replace(str(GS), "gs:") for v in row.values()))
    console.print(table)


@kg_app.command("types")
def kg_types(kg: Annotated[list[Path] | None, typer.Option(help="Extra Turtle file (repeatable).")] = None) -> None:
    """List every object type with its categories and physical properties (after inference)."""
    kb = _kb(kg)
    table = Table("type", "words", "categories", "properties")
    words = kb.type_words()
    for t in kb.object_types():
        props = ", ".join(f"{k}={v}" for k, v in sorted(kb.properties(t).items()))
        table.add_row(t, ", ".join(sorted(w for w, c in words.items() if c == t)), ", ".join(kb.categories(t)), props)
    console.print(table)
