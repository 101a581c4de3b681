"""``report.md``: the headline, every table as a pipe table, and the episodes that did not pass."""

from __future__ import annotations

from typing import Any

from groundsight.agent.evaluation.report.tables import Table, headline


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def table_markdown(table: Table) -> list[str]:
    """A table as Markdown lines (a heading, the note, the pipe table)."""
    lines = [f"## {table.title}", ""]
    if table.note:
        lines += [_md_cell(table.note), ""]
    if table.rows:
        right = table.right or (False,) * len(table.columns)
        lines.append("| " + " | ".join(table.columns) + " |")
        lines.append("| " + " | ".join("---:" if r else "---" for r in right) + " |")
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
        lines.append("")
    return lines


def render_markdown(results: list[dict[str, Any]], tables: list[Table]) -> str:
    """``report.md``: a headline, every table, and the list of episodes that did not pass."""
    lines = ["# groundsight evaluation", "", headline(results), ""]
    for table in tables:
        lines += table_markdown(table)
    failures = [r for r in results if not r["passed"]]
    if failures:
        lines += ["## Episodes that did not pass", ""]
        lines += [_md_cell(f"- {r['scenario']} seed {r['seed']}: {r['status']} -- {r['reason']}") for r in failures]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
